package denial

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestFormatBare(t *testing.T) {
	req := buildRequest("PutObject")
	req.Message = "Access Denied"

	got := Diagnose(req).String()

	for _, want := range []string{
		"kind: bare, policy: unknown, side: unknown",
		"Likely causes, most likely first:\n  1. the bucket policy of dev-artifacts",
		"\n  2. the identity policy of role CodeBuildRole",
		"Fixes:\n  1. In the bucket policy of dev-artifacts (account 222222222222), add this statement:\n       {\n",
		`           "AWS": "` + testRole + `"`,
		`         "Resource": "` + testScope + `"`,
		"  2. In the identity policy of role CodeBuildRole (account 111111111111), add this statement:",
		"Notes:\n  - ",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
}

func TestFormatAdviceFix(t *testing.T) {
	req := buildRequest("PutObject")
	req.Message = readMessage(t, "scp_explicit")

	got := Diagnose(req).String()

	for _, want := range []string{
		"denying policy: arn:aws:organizations::999999999999:policy/",
		"managed from account 999999999999:\n     Find the Deny statement",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "Likely causes") {
		t.Errorf("output lists causes for a message that names the policy:\n%s", got)
	}
}

// failingWriter fails every write, as a closed pipe does.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestFormatWriteError(t *testing.T) {
	err := Diagnose(buildRequest("PutObject")).Format(failingWriter{})

	if err == nil || !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("Format error = %v, want the write error wrapped", err)
	}
}

func TestDiagnosisJSON(t *testing.T) {
	req := buildRequest("PutObject")
	req.Message = readMessage(t, "resource_implicit")
	d := Diagnose(req)

	data, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}

	var got struct {
		Kind       string `json:"kind"`
		PolicyType string `json:"policy_type"`
		Side       string `json:"side"`
		Account    string `json:"account"`
		Fixes      []struct {
			Document  string          `json:"document"`
			Statement json.RawMessage `json:"statement"`
		} `json:"fixes"`
	}
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatalf("unmarshal: %v\n%s", err, data)
	}
	if got.Kind != "implicit-deny" || got.PolicyType != "resource-based policy" || got.Side != "dev-account" || got.Account != testDev {
		t.Errorf("got kind %q, policy %q, side %q, account %q", got.Kind, got.PolicyType, got.Side, got.Account)
	}
	if len(got.Fixes) != 1 {
		t.Fatalf("got %d fixes, want 1: %s", len(got.Fixes), data)
	}
	stmt := decodeStatement(t, got.Fixes[0].Statement)
	if stmt.Principal["AWS"] != testRole {
		t.Errorf("statement Principal.AWS = %q, want %q", stmt.Principal["AWS"], testRole)
	}
}
