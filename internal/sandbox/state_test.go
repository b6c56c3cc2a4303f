package sandbox

import (
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
)

func testState() *State {
	return &State{
		Version:          stateVersion,
		Endpoint:         "http://127.0.0.1:4566",
		Region:           "us-east-1",
		Bucket:           "dev-artifacts",
		BucketOwner:      "222222222222",
		RoleARN:          "arn:aws:iam::111111111111:role/CodeBuildRole",
		DefaultPrincipal: "build",
		Principals: []StatePrincipal{
			{Name: "build", AccessKeyID: "ASIAX", SecretAccessKey: "it's/a+secret", SessionToken: "tok'en"},
			{Name: "dev-admin", AccessKeyID: "AKIAX", SecretAccessKey: "plain"},
		},
	}
}

func TestEnvLinesRoundTrip(t *testing.T) {
	lines, err := testState().EnvLines("build")
	if err != nil {
		t.Fatal(err)
	}

	set, unset, err := ParseEnvLines(lines)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, lines)
	}

	want := map[string]string{
		"AWS_ENDPOINT_URL_S3":         "http://127.0.0.1:4566",
		"AWS_ENDPOINT_URL_STS":        "http://127.0.0.1:4566",
		"AWS_ACCESS_KEY_ID":           "ASIAX",
		"AWS_SECRET_ACCESS_KEY":       "it's/a+secret",
		"AWS_SESSION_TOKEN":           "tok'en",
		"AWS_REGION":                  "us-east-1",
		"AWS_DEFAULT_REGION":          "us-east-1",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             "/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
		"COUNTERSIGN_BUCKET":          "dev-artifacts",
		"COUNTERSIGN_BUCKET_OWNER":    "222222222222",
		"COUNTERSIGN_ROLE_ARN":        "arn:aws:iam::111111111111:role/CodeBuildRole",
	}
	for name, value := range want {
		if set[name] != value {
			t.Errorf("%s = %q, want %q", name, set[name], value)
		}
	}
	if len(set) != len(want) {
		t.Errorf("set %d variables, want %d: %v", len(set), len(want), set)
	}
	for _, name := range []string{"AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"} {
		if !strings.Contains(" "+strings.Join(unset, " ")+" ", " "+name+" ") {
			t.Errorf("%s is not unset", name)
		}
	}
}

func TestEnvLinesShell(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh to check the quoting: %v", err)
	}
	lines, err := testState().EnvLines("build")
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(sh, "-c", lines+`printf '%s|%s' "$AWS_SECRET_ACCESS_KEY" "$AWS_SESSION_TOKEN"`)
	cmd.Env = []string{"AWS_PROFILE=elsewhere", "AWS_ENDPOINT_URL=http://example.invalid"}
	out, err := cmd.Output()

	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	if got, want := string(out), "it's/a+secret|tok'en"; got != want {
		t.Errorf("sh saw %q, want %q", got, want)
	}
}

func TestEnvLinesNoToken(t *testing.T) {
	lines, err := testState().EnvLines("dev-admin")
	if err != nil {
		t.Fatal(err)
	}

	set, unset, err := ParseEnvLines(lines)
	if err != nil {
		t.Fatal(err)
	}

	if _, ok := set["AWS_SESSION_TOKEN"]; ok {
		t.Error("dev-admin has no session token, but one is exported")
	}
	if !strings.Contains(strings.Join(unset, " "), "AWS_SESSION_TOKEN") {
		t.Error("an inherited AWS_SESSION_TOKEN is not unset")
	}
	if set["AWS_ACCESS_KEY_ID"] != "AKIAX" {
		t.Errorf("AWS_ACCESS_KEY_ID = %q", set["AWS_ACCESS_KEY_ID"])
	}
}

func TestEnvLinesUnknownPrincipal(t *testing.T) {
	_, err := testState().EnvLines("nobody")

	if !errors.Is(err, exitcode.ErrUsage) {
		t.Errorf("err = %v, want a usage error", err)
	}
	if err == nil || !strings.Contains(err.Error(), "build, dev-admin") {
		t.Errorf("err = %v, want the principal names listed", err)
	}
}

func TestParseEnvLinesRejects(t *testing.T) {
	for _, text := range []string{"AWS_REGION=us-east-1", "export AWS_REGION=us-east-1", "export AWS_REGION='open"} {
		if _, _, err := ParseEnvLines(text); err == nil {
			t.Errorf("ParseEnvLines(%q) = nil error", text)
		}
	}
}

func TestCheckListen(t *testing.T) {
	tests := []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:0", true},
		{"127.0.0.1:9000", true},
		{"[::1]:0", true},
		{"localhost:0", false},
		{"0.0.0.0:0", false},
		{":0", false},
		{"10.0.0.1:80", false},
		{"127.0.0.1", false},
		{"127.0.0.1:http-alt-x", false},
	}
	for _, tt := range tests {
		err := CheckListen(tt.addr)
		if (err == nil) != tt.ok {
			t.Errorf("CheckListen(%q) = %v, want ok %v", tt.addr, err, tt.ok)
		}
		if err != nil && !errors.Is(err, exitcode.ErrUsage) {
			t.Errorf("CheckListen(%q) = %v, want a usage error", tt.addr, err)
		}
	}
}

func TestEnvLinesWorldEnv(t *testing.T) {
	st := testState()
	st.Env = map[string]string{"COUNTERSIGN_ACL": "bucket-owner-read", "BUILD_NOTE": "it's quoted"}

	lines, err := st.EnvLines("dev-admin")
	if err != nil {
		t.Fatal(err)
	}
	set, _, err := ParseEnvLines(lines)
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, lines)
	}

	if set["COUNTERSIGN_ACL"] != "bucket-owner-read" {
		t.Errorf("COUNTERSIGN_ACL = %q, want the world's bucket-owner-read", set["COUNTERSIGN_ACL"])
	}
	if set["BUILD_NOTE"] != "it's quoted" {
		t.Errorf("BUILD_NOTE = %q, want the world's value", set["BUILD_NOTE"])
	}
	// Sorted by name, so that the file is the same at every start.
	if note, acl := strings.Index(lines, "BUILD_NOTE="), strings.Index(lines, "COUNTERSIGN_ACL="); note > acl {
		t.Errorf("BUILD_NOTE is exported after COUNTERSIGN_ACL:\n%s", lines)
	}
}
