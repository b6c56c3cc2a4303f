package e2e

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/sandboxtest"
)

const (
	explainRoleARN = "arn:aws:iam::111111111111:role/service-role/CodeBuildRole"
	explainBucket  = "countersign-dev-artifacts-222222222222"
	explainProject = "arn:aws:codebuild:eu-west-1:111111111111:project/countersign-deliver"
)

// explainEnv is the environment of an explain run. explain builds no AWS
// client; the fake credentials and the disabled metadata endpoint make
// sure nothing could reach AWS if it did.
var explainEnv = []string{
	"AWS_ACCESS_KEY_ID=AKIAEXPLAINFAKE",
	"AWS_SECRET_ACCESS_KEY=fake-secret-for-explain",
	"AWS_REGION=eu-west-1",
	"AWS_EC2_METADATA_DISABLED=true",
}

func explainFixture(t *testing.T, name string) string {
	t.Helper()

	return filepath.Join(sandboxtest.ModuleRoot(t), "internal", "explain", "testdata", name)
}

func TestExplainFiles(t *testing.T) {
	tests := []struct {
		name   string
		role   string
		bucket string
		extra  []string
		want   int
	}{
		{"allowed", "role.json", "bucket.json", nil, exitcode.OK},
		{"deniedOtherRole", "role.json", "bucket-other-role.json", nil, exitcode.AccessDenied},
		{"deniedNoDelete", "role-no-delete.json", "bucket.json", nil, exitcode.AccessDenied},
		{"usageBadAction", "role.json", "bucket.json", []string{"--action", "s3:Put*"}, exitcode.Usage},
		{"unparsablePolicy", "role.json", "not-json.json", nil, exitcode.Failure},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"explain", "--role-arn", explainRoleARN,
				"--role-policy", explainFixture(t, tt.role), "--bucket-policy", explainFixture(t, tt.bucket),
				"--bucket", explainBucket, "--bucket-owner", "222222222222"}, tt.extra...)

			res := runAgent(t, explainEnv, args...)
			if res.code != tt.want {
				t.Errorf("got exit code %d, want %d", res.code, tt.want)
			}
		})
	}
}

func TestExplainDeniedNamesBucketPolicy(t *testing.T) {
	res := runAgent(t, explainEnv, "explain", "--role-arn", explainRoleARN,
		"--role-policy", explainFixture(t, "role.json"), "--bucket-policy", explainFixture(t, "bucket-other-role.json"),
		"--bucket", explainBucket, "--bucket-owner", "222222222222", "--action", "s3:PutObject")

	if res.code != exitcode.AccessDenied {
		t.Fatalf("got exit code %d, want %d", res.code, exitcode.AccessDenied)
	}

	if !strings.Contains(res.stdout, "the dev account's bucket policy (account 222222222222)") {
		t.Errorf("output does not name the dev account's bucket policy:\n%s", res.stdout)
	}

	if !strings.Contains(res.stdout, `"AWS": "`+explainRoleARN+`"`) {
		t.Errorf("output has no fix statement naming the role ARN:\n%s", res.stdout)
	}

	if !strings.Contains(res.stdout, "principal: the caller is not named") {
		t.Errorf("output does not say why the closest statement failed:\n%s", res.stdout)
	}
}

func TestExplainParseErrorNamesFile(t *testing.T) {
	res := runAgent(t, explainEnv, "explain", "--role-arn", explainRoleARN,
		"--role-policy", explainFixture(t, "not-json.json"), "--bucket-policy", explainFixture(t, "bucket.json"),
		"--bucket", explainBucket)

	if res.code != exitcode.Failure {
		t.Fatalf("got exit code %d, want %d", res.code, exitcode.Failure)
	}

	if !strings.Contains(res.stderr, "not-json.json") {
		t.Errorf("stderr does not name the file:\n%s", res.stderr)
	}
}

func TestExplainCDKOut(t *testing.T) {
	tests := []struct {
		name  string
		dir   string
		extra []string
		want  int
	}{
		{"allowed", "cdk-good", []string{"--project-arn", explainProject}, exitcode.OK},
		{"deniedNoDelete", "cdk-denied", []string{"--project-arn", explainProject}, exitcode.AccessDenied},
		{"ambiguousRole", "cdk-two-roles", nil, exitcode.Usage},
		{"unresolvedPrincipal", "cdk-unresolved", nil, exitcode.Failure},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"explain", "--cdk-out", explainFixture(t, tt.dir)}, tt.extra...)

			res := runAgent(t, explainEnv, args...)
			if res.code != tt.want {
				t.Errorf("got exit code %d, want %d", res.code, tt.want)
			}
		})
	}
}

func TestExplainCDKOutJSON(t *testing.T) {
	res := runAgent(t, explainEnv, "explain", "--cdk-out", explainFixture(t, "cdk-denied"), "--output", "json")
	if res.code != exitcode.AccessDenied {
		t.Fatalf("got exit code %d, want %d", res.code, exitcode.AccessDenied)
	}

	var report struct {
		BucketOwner string `json:"bucket_owner"`
		Results     []struct {
			Action   string   `json:"action"`
			Decision string   `json:"decision"`
			DeniedBy []string `json:"denied_by"`
			Fix      *struct {
				Changes []struct {
					Side      string          `json:"side"`
					Statement json.RawMessage `json:"statement"`
				} `json:"changes"`
			} `json:"fix"`
		} `json:"results"`
		Findings []json.RawMessage `json:"findings"`
	}

	if err := json.Unmarshal([]byte(res.stdout), &report); err != nil {
		t.Fatalf("decode output: %v", err)
	}

	if report.BucketOwner != "222222222222" {
		t.Errorf("got bucket owner %q, want the dev stack's account", report.BucketOwner)
	}

	decisions := map[string]string{}
	for _, r := range report.Results {
		decisions[r.Action] = r.Decision
	}

	if decisions["s3:DeleteObject"] != "implicit_deny" {
		t.Errorf("s3:DeleteObject: got %q, want implicit_deny", decisions["s3:DeleteObject"])
	}

	if decisions["s3:PutObject"] != "allowed" {
		t.Errorf("s3:PutObject: got %q, want allowed", decisions["s3:PutObject"])
	}

	for _, r := range report.Results {
		if r.Action != "s3:DeleteObject" {
			continue
		}

		if r.Fix == nil || len(r.Fix.Changes) != 2 {
			t.Fatalf("got fix %+v, want changes to both sides", r.Fix)
		}

		if !strings.Contains(string(r.Fix.Changes[1].Statement), explainRoleARN) {
			t.Errorf("bucket policy fix does not name the role ARN: %s", r.Fix.Changes[1].Statement)
		}
	}
}
