package main

import (
	"bytes"
	"context"
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
