package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
)

const (
	explainFixtures = "../internal/explain/testdata/"
	explainRoleARN  = "arn:aws:iam::111111111111:role/service-role/CodeBuildRole"
	explainBucket   = "countersign-dev-artifacts-222222222222"
)

func runExplain(t *testing.T, args ...string) (string, error) {
	t.Helper()

	var stdout, stderr bytes.Buffer
	err := run(context.Background(), append([]string{"--log-format", "json", "explain"}, args...), &stdout, &stderr)

	return stdout.String(), err
}

func TestExplainUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"noFlags", nil, "--role-arn"},
		{"missingBucketPolicy", []string{"--role-arn", explainRoleARN, "--role-policy", explainFixtures + "role.json", "--bucket", explainBucket}, "--bucket-policy"},
		{"missingRolePolicy", []string{"--role-arn", explainRoleARN, "--bucket-policy", explainFixtures + "bucket.json", "--bucket", explainBucket}, "--role-policy"},
		{"missingBucket", []string{"--role-arn", explainRoleARN, "--role-policy", explainFixtures + "role.json", "--bucket-policy", explainFixtures + "bucket.json"}, "--bucket"},
		{"actionWithoutService", []string{"--role-arn", explainRoleARN, "--role-policy", explainFixtures + "role.json", "--bucket-policy", explainFixtures + "bucket.json", "--bucket", explainBucket, "--action", "PutObject"}, "PutObject"},
		{"roleARNNotRole", []string{"--role-arn", "arn:aws:iam::111111111111:user/alice", "--role-policy", explainFixtures + "role.json", "--bucket-policy", explainFixtures + "bucket.json", "--bucket", explainBucket}, "user/alice"},
		{"unknownOutput", []string{"--role-arn", explainRoleARN, "--role-policy", explainFixtures + "role.json", "--bucket-policy", explainFixtures + "bucket.json", "--bucket", explainBucket, "--output", "yaml"}, "yaml"},
		{"cdkOutWithFiles", []string{"--cdk-out", explainFixtures + "cdk-good", "--bucket-policy", explainFixtures + "bucket.json"}, "--cdk-out"},
		{"cdkOutUnknownRole", []string{"--cdk-out", explainFixtures + "cdk-good", "--role-arn", "NoSuchRole"}, "NoSuchRole"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runExplain(t, tt.args...)

			if got := exitcode.For(err); got != exitcode.Usage {
				t.Fatalf("got exit code %d (%v), want %d", got, err, exitcode.Usage)
			}

			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got error %q, want it to name %s", err, tt.want)
			}
		})
	}
}

func TestExplainExitCodes(t *testing.T) {
	tests := []struct {
		name   string
		bucket string
		want   int
	}{
		{"allowed", "bucket.json", exitcode.OK},
		{"denied", "bucket-other-role.json", exitcode.AccessDenied},
		{"unparsable", "not-json.json", exitcode.Failure},
		{"unreadable", "missing.json", exitcode.Failure},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := runExplain(t, "--role-arn", explainRoleARN, "--role-policy", explainFixtures+"role.json",
				"--bucket-policy", explainFixtures+tt.bucket, "--bucket", explainBucket, "--bucket-owner", "222222222222")

			if got := exitcode.For(err); got != tt.want {
				t.Errorf("got exit code %d (%v), want %d", got, err, tt.want)
			}
		})
	}
}

func TestExplainRepeatedFlags(t *testing.T) {
	out, err := runExplain(t, "--role-arn", explainRoleARN,
		"--role-policy", explainFixtures+"role-no-delete.json", "--role-policy", explainFixtures+"role.json",
		"--bucket-policy", explainFixtures+"bucket.json", "--bucket", explainBucket, "--bucket-owner", "222222222222",
		"--action", "s3:DeleteObject", "--action", "s3:ListBucket", "--output", "json")
	if err != nil {
		t.Fatalf("explain: %v", err)
	}

	if got := strings.Count(out, `"action":`); got != 2 {
		t.Errorf("got %d results, want 2:\n%s", got, out)
	}

	if !strings.Contains(out, "role-no-delete.json") || !strings.Contains(out, explainFixtures+"role.json") {
		t.Errorf("output does not name both role policies:\n%s", out)
	}
}

// TestExplainCDKOutProjectDefaults runs explain with --cdk-out alone on an
// assembly whose bucket policy limits listing to the prefix and whose trust
// policy limits the role to the project, so it passes only with the
// project's values.
func TestExplainCDKOutProjectDefaults(t *testing.T) {
	out, err := runExplain(t, "--cdk-out", explainFixtures+"cdk-good", "--output", "json")
	if got := exitcode.For(err); got != exitcode.OK {
		t.Fatalf("got exit code %d (%v), want %d:\n%s", got, err, exitcode.OK, out)
	}

	var report struct {
		Prefix     string `json:"prefix"`
		ProjectARN string `json:"project_arn"`
		Defaults   []struct {
			Flag      string `json:"flag"`
			Value     string `json:"value"`
			Source    string `json:"source"`
			Project   string `json:"project"`
			Stack     string `json:"stack"`
			LogicalID string `json:"logical_id"`
		} `json:"defaults"`
		Notes []string `json:"notes"`
	}

	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("decode output: %v\n%s", err, out)
	}

	if report.Prefix != "app" {
		t.Errorf("prefix: got %q, want app", report.Prefix)
	}

	if want := "arn:aws:codebuild:eu-west-1:111111111111:project/countersign-deliver"; report.ProjectARN != want {
		t.Errorf("project_arn: got %q, want %s", report.ProjectARN, want)
	}

	sources := map[string]string{}
	for _, d := range report.Defaults {
		sources[d.Flag] = d.Source

		if d.Project != "countersign-deliver" || d.Stack != "CountersignTools" || d.LogicalID != "ProjectC78D97AD" {
			t.Errorf("default %s names project %q stack %q logical id %q, want countersign-deliver, CountersignTools, ProjectC78D97AD", d.Flag, d.Project, d.Stack, d.LogicalID)
		}
	}

	wantSources := map[string]string{"--project-arn": "Name", "--prefix": "COUNTERSIGN_PREFIX", "--bucket": "COUNTERSIGN_BUCKET", "--bucket-owner": "COUNTERSIGN_BUCKET_OWNER"}
	for flag, want := range wantSources {
		if sources[flag] != want {
			t.Errorf("source of %s: got %q, want %s", flag, sources[flag], want)
		}
	}

	if !strings.Contains(strings.Join(report.Notes, "\n"), "prefix app from COUNTERSIGN_PREFIX of project countersign-deliver (stack CountersignTools)") {
		t.Errorf("notes do not say where the prefix came from: %q", report.Notes)
	}
}

func TestExplainCDKOutFlagsWin(t *testing.T) {
	out, err := runExplain(t, "--cdk-out", explainFixtures+"cdk-good", "--prefix", "other")
	if got := exitcode.For(err); got != exitcode.AccessDenied {
		t.Fatalf("got exit code %d (%v), want %d: the bucket policy lists only under app/:\n%s", got, err, exitcode.AccessDenied, out)
	}

	if !strings.Contains(out, "key:       other/countersign-explain-probe") {
		t.Errorf("the key is not under the --prefix given:\n%s", out)
	}

	if strings.Contains(out, "COUNTERSIGN_PREFIX") {
		t.Errorf("output names COUNTERSIGN_PREFIX, but --prefix was given:\n%s", out)
	}
}
