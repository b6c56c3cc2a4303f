package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/sandboxtest"
)

// startPrefixDeleteSandbox starts the built-in world with a role policy
// that allows s3:DeleteObject only under app/tmp/, and puts the objects
// app/tmp/old-1, app/tmp/old-2 and app/keep/config as dev-admin.
func startPrefixDeleteSandbox(t *testing.T) (build, admin []string) {
	t.Helper()
	world, err := sandbox.DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	world.Accounts[0].Roles[0].Policies["artifacts"] = json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::dev-artifacts"},
		{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::dev-artifacts/*"},
		{"Sid": "DeleteTmpOnly", "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::dev-artifacts/app/tmp/*"}]}`)
	path := sandboxtest.WriteWorld(t, world)

	sb := sandboxtest.Start(t, sandboxtest.Options{World: path, LogLevel: "info"})
	build, admin = sb.Env(t, "build"), sb.Env(t, "dev-admin")
	for _, key := range []string{"app/tmp/old-1", "app/tmp/old-2", "app/keep/config"} {
		putObject(t, s3Client(t, admin), bucket, key, []byte(key))
	}
	return build, admin
}

func TestDeleteObjectsPerKeySDK(t *testing.T) {
	build, admin := startPrefixDeleteSandbox(t)

	out, err := s3Client(t, build).DeleteObjects(context.Background(), &s3.DeleteObjectsInput{
		Bucket: aws.String(bucket),
		Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
			{Key: aws.String("app/tmp/old-1")}, {Key: aws.String("app/keep/config")}, {Key: aws.String("app/tmp/old-2")},
		}},
		ExpectedBucketOwner: aws.String(devAcct),
	})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}

	var deleted []string
	for _, d := range out.Deleted {
		deleted = append(deleted, aws.ToString(d.Key))
	}
	if got := strings.Join(deleted, ","); got != "app/tmp/old-1,app/tmp/old-2" {
		t.Errorf("deleted %s, want the two keys under app/tmp/", got)
	}
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Key) != "app/keep/config" || aws.ToString(out.Errors[0].Code) != "AccessDenied" {
		t.Errorf("errors %+v, want AccessDenied for app/keep/config only", out.Errors)
	}

	keys := listKeys(t, s3Client(t, admin), bucket, "app/")
	if got := strings.Join(sortedKeys(keys), ","); got != "app/keep/config" {
		t.Errorf("keys left %s, want only app/keep/config", got)
	}
}

func TestDeleteObjectsPerKeyAWSCLI(t *testing.T) {
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the AWS CLI is missing: %v", err)
	}
	build, admin := startPrefixDeleteSandbox(t)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "--endpoint-url", envValue(build, "AWS_ENDPOINT_URL_S3"), "--output", "json",
		"s3api", "delete-objects", "--bucket", bucket,
		"--delete", `{"Objects": [{"Key": "app/keep/config"}, {"Key": "app/tmp/old-1"}]}`)
	cmd.Env = append(build, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("aws s3api delete-objects: %v\n%s", err, out)
	}

	var result struct {
		Deleted []struct{ Key string }
		Errors  []struct{ Key, Code string }
	}
	if err := json.Unmarshal(out, &result); err != nil {
		t.Fatalf("parse the CLI's output %s: %v", out, err)
	}
	if len(result.Deleted) != 1 || result.Deleted[0].Key != "app/tmp/old-1" {
		t.Errorf("deleted %+v, want app/tmp/old-1", result.Deleted)
	}
	if len(result.Errors) != 1 || result.Errors[0].Key != "app/keep/config" || result.Errors[0].Code != "AccessDenied" {
		t.Errorf("errors %+v, want AccessDenied for app/keep/config", result.Errors)
	}

	keys := listKeys(t, s3Client(t, admin), bucket, "app/")
	if got := strings.Join(sortedKeys(keys), ","); got != "app/keep/config,app/tmp/old-2" {
		t.Errorf("keys left %s, want app/keep/config and app/tmp/old-2", got)
	}
}

func TestDeleteObjectsPerKeySync(t *testing.T) {
	build, admin := startPrefixDeleteSandbox(t)
	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"new.txt": []byte("new")})
	report := filepath.Join(t.TempDir(), "report.json")

	res := runAgent(t, build, "sync", src, "s3://"+bucket+"/app", "--delete", "--max-delete-percent", "0", "--progress", "none", "--report", report)

	if res.code != exitcode.AccessDenied {
		t.Errorf("exit code = %d, want %d for the key the role may not delete", res.code, exitcode.AccessDenied)
	}
	r := readReport(t, report)
	if got := strings.Join(r.Deleted, ","); got != "app/tmp/old-1,app/tmp/old-2" {
		t.Errorf("report deleted %s, want the two keys under app/tmp/", got)
	}
	if len(r.Failed) != 1 || r.Failed[0].Key != "app/keep/config" {
		t.Errorf("report failed %+v, want app/keep/config", r.Failed)
	}

	keys := listKeys(t, s3Client(t, admin), bucket, "app/")
	if got := strings.Join(sortedKeys(keys), ","); got != "app/keep/config,app/new.txt" {
		t.Errorf("keys left %s, want app/keep/config and the uploaded app/new.txt", got)
	}
}
