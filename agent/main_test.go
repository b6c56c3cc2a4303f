package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/s3sync"
)

func TestFiltersKeepOrder(t *testing.T) {
	var c cli
	parser, err := kong.New(&c, filterMappers(&c.Sync.filters)...)
	if err != nil {
		t.Fatal(err)
	}
	_, err = parser.Parse([]string{"sync", "src", "s3://b/p", "--exclude", "*.log", "--include", "keep.log", "--exclude=tmp/", "--include", "tmp/x"})
	if err != nil {
		t.Fatalf("parse: %v", err)
	}

	want := []s3sync.Filter{
		{Exclude: true, Pattern: "*.log"},
		{Exclude: false, Pattern: "keep.log"},
		{Exclude: true, Pattern: "tmp/"},
		{Exclude: false, Pattern: "tmp/x"},
	}
	if len(c.Sync.filters) != len(want) {
		t.Fatalf("filters = %+v, want %+v", c.Sync.filters, want)
	}
	for i := range want {
		if c.Sync.filters[i] != want[i] {
			t.Errorf("filter %d = %+v, want %+v", i, c.Sync.filters[i], want[i])
		}
	}
}

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		name, in, bucket, prefix string
		wantErr                  bool
	}{
		{"bucketAndPrefix", "s3://dev-artifacts/app/build-1", "dev-artifacts", "app/build-1", false},
		{"trailingSlash", "s3://dev-artifacts/app/", "dev-artifacts", "app", false},
		{"bucketOnly", "s3://dev-artifacts", "dev-artifacts", "", false},
		{"noScheme", "dev-artifacts/app", "", "", true},
		{"noBucket", "s3:///app", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket, prefix, err := parseS3URL(tt.in)
			if tt.wantErr {
				if exitcode.For(err) != exitcode.Usage {
					t.Fatalf("parseS3URL(%q) error = %v, want a usage error", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if bucket != tt.bucket || prefix != tt.prefix {
				t.Errorf("got %q %q, want %q %q", bucket, prefix, tt.bucket, tt.prefix)
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"8MiB", 8 << 20, false},
		{"1GiB", 1 << 30, false},
		{"5MB", 5_000_000, false},
		{"1048576", 1 << 20, false},
		{"0", 0, true},
		{"-8MiB", 0, true},
		{"8 MiB", 0, true},
		{"eight", 0, true},
		{"8.5MiB", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseSize("--part-size", tt.in)
			if tt.wantErr {
				if exitcode.For(err) != exitcode.Usage {
					t.Fatalf("parseSize(%q) = %d, %v; want a usage error", tt.in, got, err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("parseSize(%q) = %d, %v; want %d", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestRunUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"unknownCommand", []string{"frobnicate"}},
		{"unknownFlag", []string{"whoami", "--no-such-flag"}},
		{"badLogLevel", []string{"--log-level", "loud", "version"}},
		{"badOutput", []string{"whoami", "--output", "yaml"}},
		{"syncMissingDestination", []string{"sync", "."}},
		{"syncBadDestination", []string{"sync", ".", "dev-artifacts/app"}},
		{"syncBadPartSize", []string{"sync", ".", "s3://b/p", "--part-size", "big"}},
		{"syncBadACL", []string{"sync", ".", "s3://b/p", "--acl", "owner-only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			if got := exitcode.For(err); got != exitcode.Usage {
				t.Errorf("exit code = %d (err %v), want %d", got, err, exitcode.Usage)
			}
		})
	}
}

func TestRunHelpAndVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &stdout, &stderr); err != nil {
		t.Fatalf("--help: %v", err)
	}
	if !bytes.Contains(stdout.Bytes(), []byte("Exit codes")) {
		t.Error("help does not list the exit codes")
	}

	stdout.Reset()
	if err := run(context.Background(), []string{"version"}, &stdout, &stderr); err != nil {
		t.Fatalf("version: %v", err)
	}
	if !bytes.HasPrefix(stdout.Bytes(), []byte("countersign ")) {
		t.Errorf("version printed %q", stdout.String())
	}
}

// TestRunRejectsBeforeRequests covers flags that must fail as usage errors
// before any AWS request. The endpoint is a closed loopback port, so a
// check that let a request through would fail with another exit code.
func TestRunRejectsBeforeRequests(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE0000")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
	t.Setenv("AWS_ENDPOINT_URL_S3", "")
	t.Setenv("AWS_ENDPOINT_URL_STS", "")
	src := t.TempDir()
	missingDir := filepath.Join(t.TempDir(), "missing")

	tests := []struct {
		name     string
		args     []string
		wantText string
	}{
		{"preflightShortBucketOwner", []string{"preflight", "--bucket", "b", "--bucket-owner", "12"}, `"12"`},
		{"syncShortBucketOwner", []string{"sync", src, "s3://b/p", "--bucket-owner", "12"}, `"12"`},
		{"explainShortBucketOwner", []string{"explain", "--role-arn", "arn:aws:iam::111111111111:role/R", "--bucket", "b", "--bucket-owner", "12"}, `"12"`},
		{"syncReportInMissingDirectory", []string{"sync", src, "s3://b/p", "--report", filepath.Join(missingDir, "report.json")}, missingDir + " does not exist"},
		{"endpointWithoutScheme", []string{"whoami", "--endpoint-url", "127.0.0.1:9"}, `"127.0.0.1:9"`},
		{"missingProfile", []string{"whoami", "--profile", "nope"}, `profile "nope"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tt.args, &stdout, &stderr)
			if got := exitcode.For(err); got != exitcode.Usage {
				t.Fatalf("exit code = %d (err %v), want %d", got, err, exitcode.Usage)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q lacks %q", err, tt.wantText)
			}
		})
	}
}
