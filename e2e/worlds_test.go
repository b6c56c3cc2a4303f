package e2e

import (
	"bytes"
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

	"github.com/countersign/countersign/internal/denial"
	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/sandboxtest"
)

// worldPath returns the path of a world under examples/worlds.
func worldPath(t *testing.T, name string) string {
	t.Helper()
	path := filepath.Join(sandboxtest.ModuleRoot(t), "examples", "worlds", name+".json")
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("example world: %v", err)
	}
	return path
}

// preflightReport is the part of `preflight --output json` these tests read.
type preflightReport struct {
	Passed bool `json:"passed"`
	Steps  []struct {
		Step      string `json:"step"`
		Status    string `json:"status"`
		Diagnosis *struct {
			Kind  string `json:"kind"`
			Side  string `json:"side"`
			Fixes []struct {
				Account string `json:"account"`
			} `json:"fixes"`
		} `json:"diagnosis"`
	} `json:"steps"`
}

func TestExampleWorldDefaultMatchesBuiltIn(t *testing.T) {
	binary := filepath.Join(sandboxtest.ModuleRoot(t), "bin", "countersign-sandbox")
	var stdout bytes.Buffer
	cmd := exec.Command(binary, "world")
	cmd.Stdout = &stdout
	if err := cmd.Run(); err != nil {
		t.Fatalf("countersign-sandbox world: %v", err)
	}
	file, err := os.ReadFile(worldPath(t, "default"))
	if err != nil {
		t.Fatal(err)
	}

	var got, want any
	if err := json.Unmarshal(file, &got); err != nil {
		t.Fatalf("parse examples/worlds/default.json: %v", err)
	}
	if err := json.Unmarshal(stdout.Bytes(), &want); err != nil {
		t.Fatalf("parse countersign-sandbox world output: %v", err)
	}
	gotJSON, _ := json.Marshal(got)
	wantJSON, _ := json.Marshal(want)
	if !bytes.Equal(gotJSON, wantJSON) {
		t.Errorf("examples/worlds/default.json differs from `countersign-sandbox world`:\ngot  %s\nwant %s", gotJSON, wantJSON)
	}
}

func TestExampleWorldsPreflight(t *testing.T) {
	// The bucket is in another account, so S3 names no policy type in a
	// denial and the diagnosis cannot tell which side denied.
	tests := []struct {
		world    string
		wantCode int
		wantStep string // the first DENIED step; empty when preflight passes
		wantKind string
		wantSide string
	}{
		{"default", exitcode.OK, "", "", ""},
		{"other-role", exitcode.AccessDenied, "head-bucket", "bare", "unknown"},
		{"stale-principal", exitcode.AccessDenied, "head-bucket", "bare", "unknown"},
		{"no-delete", exitcode.AccessDenied, "delete-canary", "bare", "unknown"},
		{"tls-deny", exitcode.AccessDenied, "head-bucket", "bare", "unknown"},
		{"list-on-objects", exitcode.AccessDenied, "head-bucket", "bare", "unknown"},
		{"org-deny", exitcode.AccessDenied, "head-bucket", "bare", "unknown"},
		// S3 names the cause of a rejected ACL, so the side is known.
		{"acl-rejected", exitcode.AccessDenied, "put-canary", "acl-rejected", "dev-account"},
	}
	for _, tt := range tests {
		t.Run(tt.world, func(t *testing.T) {
			sb := sandboxtest.Start(t, sandboxtest.Options{World: worldPath(t, tt.world), LogLevel: "info"})

			res := runAgent(t, sb.Env(t, "build"), "preflight", "--prefix", "app", "--output", "json")
			if res.code != tt.wantCode {
				t.Errorf("exit code = %d, want %d", res.code, tt.wantCode)
			}
			var report preflightReport
			if err := json.Unmarshal([]byte(res.stdout), &report); err != nil {
				t.Fatalf("parse preflight json: %v", err)
			}
			if got, want := report.Passed, tt.wantStep == ""; got != want {
				t.Errorf("passed = %v, want %v", got, want)
			}

			denied := -1
			for i, s := range report.Steps {
				if s.Status == "DENIED" {
					denied = i
					break
				}
			}
			if tt.wantStep == "" {
				if denied >= 0 {
					t.Errorf("step %s is DENIED, want every step OK", report.Steps[denied].Step)
				}
				return
			}
			if denied < 0 {
				t.Fatal("no step is DENIED")
			}
			step := report.Steps[denied]
			if step.Step != tt.wantStep {
				t.Errorf("first DENIED step = %s, want %s", step.Step, tt.wantStep)
			}
			if step.Diagnosis == nil {
				t.Fatal("the DENIED step has no diagnosis")
			}
			if step.Diagnosis.Kind != tt.wantKind {
				t.Errorf("diagnosis kind = %s, want %s", step.Diagnosis.Kind, tt.wantKind)
			}
			if step.Diagnosis.Side != tt.wantSide {
				t.Errorf("diagnosis side = %s, want %s", step.Diagnosis.Side, tt.wantSide)
			}
			if tt.wantKind == "bare" {
				accounts := map[string]bool{}
				for _, f := range step.Diagnosis.Fixes {
					accounts[f.Account] = true
				}
				if !accounts["111111111111"] || !accounts["222222222222"] {
					t.Errorf("a bare denial's fixes are for accounts %v, want the tools and the dev account", accounts)
				}
			}
		})
	}
}

func TestExampleWorldNoDeleteSync(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{World: worldPath(t, "no-delete"), LogLevel: "info"})
	admin := s3Client(t, sb.Env(t, "dev-admin"))
	ctx := context.Background()

	// An object only in the bucket, which sync --delete would remove.
	if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("app/stale.txt"), Body: strings.NewReader("old")}); err != nil {
		t.Fatalf("put the extra object: %v", err)
	}
	src := t.TempDir()
	if err := os.WriteFile(filepath.Join(src, "new.txt"), []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}

	res := runAgent(t, sb.Env(t, "build"), "sync", src, "s3://"+bucket+"/app", "--delete", "--max-delete-percent", "0", "--progress", "none")
	if res.code != exitcode.AccessDenied {
		t.Errorf("exit code = %d, want %d", res.code, exitcode.AccessDenied)
	}
	if !strings.Contains(res.stdout+res.stderr, "app/stale.txt") {
		t.Error("the output does not name the object that could not be deleted")
	}

	keys := listKeys(t, admin, bucket, "app/")
	if _, ok := keys["app/new.txt"]; !ok {
		t.Errorf("keys %v lack app/new.txt, which the role may upload", sortedKeys(keys))
	}
	if _, ok := keys["app/stale.txt"]; !ok {
		t.Errorf("keys %v lack app/stale.txt, which the role may not delete", sortedKeys(keys))
	}
}

func TestExampleWorldNoDeleteAWSCLI(t *testing.T) {
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the AWS CLI is missing: %v", err)
	}
	sb := sandboxtest.Start(t, sandboxtest.Options{World: worldPath(t, "no-delete"), LogLevel: "info"})
	env := append(sb.Env(t, "build"), "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	endpoint := envValue(env, "AWS_ENDPOINT_URL_S3")
	file := filepath.Join(t.TempDir(), "cli.txt")
	if err := os.WriteFile(file, []byte("from the cli"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		cliArgs []string
		wantOK  bool
	}{
		{"PutObject", []string{"s3api", "put-object", "--bucket", bucket, "--key", "app/cli.txt", "--body", file}, true},
		{"DeleteObject", []string{"s3api", "delete-object", "--bucket", bucket, "--key", "app/cli.txt"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			cmd := exec.CommandContext(ctx, cli, append([]string{"--endpoint-url", endpoint}, tt.cliArgs...)...)
			cmd.Env = env
			out, err := cmd.CombinedOutput()
			t.Logf("aws %s: %v\n%s", strings.Join(tt.cliArgs, " "), err, out)
			if got := err == nil; got != tt.wantOK {
				t.Errorf("aws CLI succeeded = %v, want %v", got, tt.wantOK)
			}
			if !tt.wantOK && !strings.Contains(string(out), "AccessDenied") {
				t.Error("the AWS CLI's error is not AccessDenied")
			}
		})
	}

	// The agent's preflight makes the same two calls on its canary.
	res := runAgent(t, sb.Env(t, "build"), "preflight", "--prefix", "app", "--output", "json")
	var report preflightReport
	if err := json.Unmarshal([]byte(res.stdout), &report); err != nil {
		t.Fatalf("parse preflight json: %v", err)
	}
	status := map[string]string{}
	for _, s := range report.Steps {
		status[s.Step] = s.Status
	}
	if status["put-canary"] != "OK" {
		t.Errorf("agent put-canary = %q, want OK like the AWS CLI's put-object", status["put-canary"])
	}
	if status["delete-canary"] != "DENIED" {
		t.Errorf("agent delete-canary = %q, want DENIED like the AWS CLI's delete-object", status["delete-canary"])
	}
}

// TestExampleWorldACLRejected runs the world whose build sends the canned
// ACL bucket-owner-read to a bucket whose Object Ownership is bucket owner
// enforced, which rejects every ACL but bucket-owner-full-control. The
// preflight table above checks the agent's verdict. This test checks that
// the SDK and the AWS CLI get the same response and that the fix works.
func TestExampleWorldACLRejected(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{World: worldPath(t, "acl-rejected"), LogLevel: "info"})
	env := sb.Env(t, "build")
	const acl = "bucket-owner-read"

	if got := envValue(env, "COUNTERSIGN_ACL"); got != acl {
		t.Fatalf("COUNTERSIGN_ACL = %q, want the world's %q", got, acl)
	}

	res := runAgent(t, env, "preflight", "--prefix", "app")
	if res.code != exitcode.AccessDenied {
		t.Errorf("preflight exit code = %d, want %d", res.code, exitcode.AccessDenied)
	}
	if !strings.Contains(res.stdout, "Object Ownership") || !strings.Contains(res.stdout, "bucket-owner-full-control") {
		t.Errorf("preflight's diagnosis does not name Object Ownership and the ACL to use:\n%s", res.stdout)
	}

	// The same PutObject that preflight's canary would send.
	_, err := s3Client(t, env).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String("app/.countersign/canary"), Body: strings.NewReader("canary"),
		ACL: s3types.ObjectCannedACL(acl), ExpectedBucketOwner: aws.String(devAcct),
	})
	code, message, status, _ := denial.FromError(err)
	if code != "AccessControlListNotSupported" || status != 400 {
		t.Fatalf("PutObject with %s: %v, want AccessControlListNotSupported 400", acl, err)
	}
	d := denial.Diagnose(denial.Request{
		Operation: "PutObject", Bucket: bucket, Key: "app/.countersign/canary", ExpectedBucketOwner: devAcct,
		CallerARN: envValue(env, "COUNTERSIGN_ROLE_ARN"), RoleARN: roleARN,
		StatusCode: status, ErrorCode: code, Message: message, ACL: acl,
	})
	checkACLRejectedDiagnosis(t, d, acl)

	out, cliErr := awsCLIPutObject(t, env, "--acl", acl)
	if cliErr == nil || !strings.Contains(string(out), "AccessControlListNotSupported") {
		t.Errorf("aws s3api put-object --acl %s: %v\n%s\nwant AccessControlListNotSupported", acl, cliErr, out)
	}

	// The fix the diagnosis proposes makes preflight pass.
	res = runAgent(t, append(append([]string{}, env...), "COUNTERSIGN_ACL=bucket-owner-full-control"), "preflight", "--prefix", "app")
	if res.code != exitcode.OK {
		t.Errorf("preflight with bucket-owner-full-control: exit code = %d, want 0", res.code)
	}
}

// checkACLRejectedDiagnosis checks that a rejected ACL is put on the dev
// account's Object Ownership setting, and that a fix drops the ACL.
func checkACLRejectedDiagnosis(t *testing.T, d denial.Diagnosis, acl string) {
	t.Helper()

	if d.Kind != denial.KindACLRejected || d.Side != denial.SideDev || d.Account != devAcct {
		t.Errorf("diagnosis %s on %s account %s, want %s on %s account %s", d.Kind, d.Side, d.Account, denial.KindACLRejected, denial.SideDev, devAcct)
	}
	if !strings.Contains(d.Summary, acl) || !strings.Contains(d.Summary, "Object Ownership") {
		t.Errorf("summary %q, want the ACL sent and the Object Ownership setting named", d.Summary)
	}

	var ownership, flag bool
	for _, fix := range d.Fixes {
		if strings.Contains(fix.Document, "Object Ownership setting of "+bucket) && fix.Account == devAcct {
			ownership = true
		}
		if strings.Contains(fix.Document, "--acl") && strings.Contains(fix.Advice, "bucket-owner-full-control") {
			flag = true
		}
	}
	if !ownership {
		t.Errorf("fixes %+v name no Object Ownership setting of %s in account %s", d.Fixes, bucket, devAcct)
	}
	if !flag {
		t.Errorf("fixes %+v do not propose dropping --acl or using bucket-owner-full-control", d.Fixes)
	}
}

// awsCLIPutObject puts app/cli-acl.txt with Debian's AWS CLI v2 and the
// extra arguments, and returns the CLI's combined output and error.
func awsCLIPutObject(t *testing.T, env []string, args ...string) ([]byte, error) {
	t.Helper()
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the AWS CLI is missing: %v", err)
	}
	file := filepath.Join(t.TempDir(), "cli-acl.txt")
	if err := os.WriteFile(file, []byte("from the cli"), 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	full := append([]string{"--endpoint-url", envValue(env, "AWS_ENDPOINT_URL_S3"), "s3api", "put-object",
		"--bucket", bucket, "--key", "app/cli-acl.txt", "--body", file}, args...)
	cmd := exec.CommandContext(ctx, cli, full...)
	cmd.Env = append(env, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	return cmd.CombinedOutput()
}
