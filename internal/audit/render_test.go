package audit

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestWriteTextTable(t *testing.T) {
	rep := runFake(t, hardened(t, "public-grant.json"), testConfig())

	var out bytes.Buffer
	if err := WriteText(&out, rep); err != nil {
		t.Fatal(err)
	}

	text := out.String()
	t.Log(text)

	for _, want := range []string{
		"Audit of s3://dev-artifacts (owner 222222222222), mode report",
		"SEVERITY  ID            STATEMENT",
		"critical  PUBLIC_GRANT  2 (PublicRead)",
		"    fix: name the principals",
		`      "Sid": "PublicRead"`,
		"1 finding: 1 critical, 0 high, 0 medium, 0 low, 0 info",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestWriteTextNoFindings(t *testing.T) {
	rep := runFake(t, hardened(t, "clean.json"), testConfig())

	var out bytes.Buffer
	if err := WriteText(&out, rep); err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(out.String(), "No findings.") || !strings.Contains(out.String(), "0 findings:") {
		t.Errorf("output %q lacks the empty report lines", out.String())
	}
}

func TestWriteTextEnforce(t *testing.T) {
	cfg := testConfig()
	cfg.Mode = ModeEnforce

	rep := runFake(t, hardened(t, "stale-managed.json"), cfg)

	var out bytes.Buffer
	if err := WriteText(&out, rep); err != nil {
		t.Fatal(err)
	}

	if !strings.Contains(out.String(), "Enforce: wrote the statements it manages") {
		t.Errorf("output %q does not say enforce wrote the statements", out.String())
	}
}

func TestManagedSidsFollowPrefix(t *testing.T) {
	if got, want := managedSids(""), "Sid "+ManagedSid; got != want {
		t.Errorf("managedSids(\"\") = %q, want %q", got, want)
	}

	if got, want := managedSids("app/"), "Sids "+ManagedSid+" and "+ManagedListSid; got != want {
		t.Errorf("managedSids(\"app/\") = %q, want %q", got, want)
	}
}

func TestWriteJSONReport(t *testing.T) {
	rep := runFake(t, hardened(t, "deny-shadows.json"), testConfig())

	var out bytes.Buffer
	if err := WriteJSON(&out, rep); err != nil {
		t.Fatal(err)
	}

	var got struct {
		Bucket   string         `json:"bucket"`
		Counts   map[string]int `json:"counts"`
		Findings []struct {
			ID        string `json:"id"`
			Severity  string `json:"severity"`
			Statement struct {
				Index int    `json:"index"`
				Sid   string `json:"sid"`
			} `json:"statement"`
			Fix struct {
				Advice    string          `json:"advice"`
				Statement json.RawMessage `json:"statement"`
			} `json:"fix"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}

	if got.Bucket != testBucket || len(got.Counts) != len(Severities) || got.Counts["high"] != 1 {
		t.Errorf("bucket %q counts %v, want %s with five counts and one high", got.Bucket, got.Counts, testBucket)
	}

	if len(got.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(got.Findings))
	}

	f := got.Findings[0]
	if f.ID != IDDenyShadowsRole || f.Severity != "high" || f.Statement.Index != 2 || f.Statement.Sid != "NoDeletes" {
		t.Errorf("finding = %+v, want DENY_SHADOWS_ROLE on statement 2 NoDeletes", f)
	}

	if len(f.Fix.Statement) == 0 || f.Fix.Advice == "" {
		t.Errorf("fix = %+v, want advice and a statement", f.Fix)
	}
}

func TestBroadActionMessageNamesLiteralOnce(t *testing.T) {
	rep := runFake(t, hardened(t, "bucket-write.json"), testConfig())

	for _, f := range rep.Findings {
		if f.ID != IDBroadAction {
			continue
		}

		if strings.Contains(f.Message, "which includes") {
			t.Errorf("message %q repeats literal actions as what they include", f.Message)
		}

		return
	}

	t.Fatal("no BROAD_ACTION finding for bucket-write.json")
}
