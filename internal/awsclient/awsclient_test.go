package awsclient

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
	"github.com/rs/zerolog"
)

func TestEndpointOverridden(t *testing.T) {
	tests := []struct {
		name     string
		flag     string
		env      map[string]string
		wantPath bool
	}{
		{"none", "", nil, false},
		{"flag", "http://127.0.0.1:9000", nil, true},
		{"serviceVariable", "", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"}, true},
		{"globalVariable", "", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, true},
		{"ignored", "", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, name := range []string{"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
				t.Setenv(name, tt.env[name])
			}
			if got := endpointOverridden(tt.flag, "S3"); got != tt.wantPath {
				t.Errorf("endpointOverridden = %v, want %v", got, tt.wantPath)
			}
		})
	}
}

func TestNewUsesPathStyleForEndpoint(t *testing.T) {
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE0000")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_REGION", "")

	cl, err := New(context.Background(), Options{EndpointURL: "http://127.0.0.1:9", Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !cl.S3.Options().UsePathStyle {
		t.Error("S3 client is not path-style with an endpoint override")
	}
	if got := cl.Config.Region; got != "eu-west-1" {
		t.Errorf("region = %q, want eu-west-1", got)
	}
}

func TestSDKLoggerLevels(t *testing.T) {
	var out bytes.Buffer
	log := zerolog.New(&out).Level(zerolog.DebugLevel)
	l := sdkLogger{log: &log}

	l.Logf(logging.Warn, "falling back to %s", "IMDSv1")
	l.Logf(logging.Debug, "retrying request %s, attempt %d", "S3/PutObject", 2)

	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2: %q", len(lines), out.String())
	}
	if !strings.Contains(lines[0], `"level":"warn"`) || !strings.Contains(lines[0], "falling back to IMDSv1") {
		t.Errorf("warn line = %s", lines[0])
	}
	if !strings.Contains(lines[1], `"level":"debug"`) || !strings.Contains(lines[1], "attempt 2") {
		t.Errorf("debug line = %s", lines[1])
	}
}
