package awsclient

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/exitcode"
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

// isolateSDK clears every SDK setting this process inherited, so New reads
// only what the test sets, and keeps the SDK off the metadata service.
func isolateSDK(t *testing.T) {
	t.Helper()
	for _, name := range []string{
		"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
		"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
	} {
		t.Setenv(name, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	t.Setenv("AWS_REGION", "us-east-1")
}

func TestNewRejectsBadSettings(t *testing.T) {
	tests := []struct {
		name     string
		opts     Options
		env      map[string]string
		wantCode int
		wantText []string
	}{
		{
			name:     "endpointWithoutScheme",
			opts:     Options{EndpointURL: "127.0.0.1:9"},
			wantCode: exitcode.Usage,
			wantText: []string{`"127.0.0.1:9"`, "--endpoint-url", "http://"},
		},
		{
			name:     "endpointVariableWithoutScheme",
			env:      map[string]string{"AWS_ENDPOINT_URL_STS": "localhost:9"},
			wantCode: exitcode.Usage,
			wantText: []string{`"localhost:9"`, "AWS_ENDPOINT_URL_STS"},
		},
		{
			name:     "profileFlagMissing",
			opts:     Options{Profile: "nope", EndpointURL: "http://127.0.0.1:9"},
			wantCode: exitcode.Usage,
			wantText: []string{`profile "nope" (from --profile) not found`, "AWS_PROFILE"},
		},
		{
			name:     "profileVariableMissing",
			opts:     Options{EndpointURL: "http://127.0.0.1:9"},
			env:      map[string]string{"AWS_PROFILE": "nope"},
			wantCode: exitcode.Usage,
			wantText: []string{`profile "nope" (from AWS_PROFILE) not found`},
		},
		{
			name:     "noCredentials",
			opts:     Options{EndpointURL: "http://127.0.0.1:9"},
			env:      map[string]string{"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""},
			wantCode: exitcode.Failure,
			wantText: []string{"no AWS credentials found", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "--profile", "CodeBuild"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateSDK(t)
			t.Setenv("AWS_ACCESS_KEY_ID", "AKIAFAKEFAKEFAKE0000")
			t.Setenv("AWS_SECRET_ACCESS_KEY", "fake")
			for name, value := range tt.env {
				t.Setenv(name, value)
			}

			_, err := New(context.Background(), tt.opts)
			if err == nil {
				t.Fatal("New returned no error")
			}
			if got := exitcode.For(err); got != tt.wantCode {
				t.Errorf("exit code = %d, want %d (%v)", got, tt.wantCode, err)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}

func TestNewReportsMissingCredentialsByType(t *testing.T) {
	isolateSDK(t)

	_, err := New(context.Background(), Options{EndpointURL: "http://127.0.0.1:9"})
	var missing *MissingCredentialsError
	if !errors.As(err, &missing) {
		t.Fatalf("error %v is not a *MissingCredentialsError", err)
	}
}

// stsErrorServer returns an STS error with code for every request.
func stsErrorServer(t *testing.T, code, message string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, code, message)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestRejectedCredentialsNameKeyAndFix(t *testing.T) {
	const (
		keyID  = "AKIAFAKEFAKEFAKE0000"
		secret = "fakeSecretThatMustNotBePrinted"
		token  = "fakeSessionTokenThatMustNotBePrinted"
	)
	tests := []struct {
		name     string
		code     string
		wantText []string
	}{
		{"unknownKey", "InvalidClientTokenId", []string{"InvalidClientTokenId", "AWS does not recognise access key " + keyID, "AWS_ACCESS_KEY_ID", "--profile"}},
		{"wrongSecret", "SignatureDoesNotMatch", []string{"SignatureDoesNotMatch", "secret key does not belong to access key " + keyID, "AWS_SECRET_ACCESS_KEY"}},
		{"expiredToken", "ExpiredToken", []string{"ExpiredToken", "session token", "AWS_SESSION_TOKEN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateSDK(t)
			t.Setenv("AWS_ACCESS_KEY_ID", keyID)
			t.Setenv("AWS_SECRET_ACCESS_KEY", secret)
			t.Setenv("AWS_SESSION_TOKEN", token)

			cl, err := New(context.Background(), Options{EndpointURL: stsErrorServer(t, tt.code, "rejected")})
			if err != nil {
				t.Fatal(err)
			}
			_, err = cl.STS.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})

			var rejected *RejectedCredentialsError
			if !errors.As(err, &rejected) {
				t.Fatalf("error %v is not a *RejectedCredentialsError", err)
			}
			if got := rejected.Source; !strings.Contains(got, "AWS_ACCESS_KEY_ID") {
				t.Errorf("source = %q, want the environment variables", got)
			}
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) || apiErr.ErrorCode() != tt.code {
				t.Errorf("error no longer unwraps to the SDK's %s: %v", tt.code, err)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
			for _, secretValue := range []string{secret, token} {
				if strings.Contains(err.Error(), secretValue) {
					t.Errorf("error %q contains a secret", err)
				}
			}
		})
	}
}
