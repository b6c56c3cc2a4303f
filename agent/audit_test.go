package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
)

// TestAuditUsageErrors covers flag errors, which fail before any AWS
// client is built, so no credentials or endpoint are needed.
func TestAuditUsageErrors(t *testing.T) {
	role := "arn:aws:iam::111111111111:role/CodeBuildRole"

	tests := []struct {
		name string
		args []string
		flag string
	}{
		{"noBucket", []string{"audit", "--expect-role", role}, "--bucket"},
		{"noRole", []string{"audit", "--bucket", "dev-artifacts"}, "--expect-role"},
		{"badRole", []string{"audit", "--bucket", "dev-artifacts", "--expect-role", "CodeBuildRole"}, "--expect-role"},
		{"badOwner", []string{"audit", "--bucket", "dev-artifacts", "--expect-role", role, "--bucket-owner", "dev"}, "--bucket-owner"},
		{"badAction", []string{"audit", "--bucket", "dev-artifacts", "--expect-role", role, "--required-action", "s3:*"}, "--required-action"},
		{"badAccount", []string{"audit", "--bucket", "dev-artifacts", "--expect-role", role, "--allowed-account", "12"}, "--allowed-account"},
		{"badMode", []string{"audit", "--bucket", "dev-artifacts", "--expect-role", role, "--mode", "fix"}, "--mode"},
		{"badFailOn", []string{"audit", "--bucket", "dev-artifacts", "--expect-role", role, "--fail-on", "severe"}, "--fail-on"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"COUNTERSIGN_BUCKET", "COUNTERSIGN_ROLE_ARN", "COUNTERSIGN_ROLE_ARNS", "COUNTERSIGN_BUCKET_OWNER", "COUNTERSIGN_MODE"} {
				// Setenv restores the variable after the test. The
				// variable must be absent, because kong rejects an
				// empty --mode.
				t.Setenv(name, "")
				os.Unsetenv(name)
			}

			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)

			if got := exitcode.For(err); got != exitcode.Usage {
				t.Fatalf("exit code %d (%v), want %d", got, err, exitcode.Usage)
			}

			if !strings.Contains(err.Error()+stderr.String(), tt.flag) {
				t.Errorf("error %q does not name %s", err, tt.flag)
			}
		})
	}
}
