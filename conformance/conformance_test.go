package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDivergenceCovers(t *testing.T) {
	tc := &testCase{
		Set:       "notprincipal",
		Principal: "alice",
		Action:    "s3:PutObject",
		Resource:  "arn:aws:s3:::shared-bucket/blue/report.csv",
		Context:   map[string][]string{"aws:TagKeys": {"env", "team"}},
	}

	tests := []struct {
		name        string
		d           divergence
		countersign string
		oracle      string
		want        bool
	}{
		{"AllSelectorsMatch", divergence{Set: "notprincipal", Principal: "alice", Action: "s3:PutObject", Countersign: "ExplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", true},
		{"NoSelectorsMatchesAny", divergence{Countersign: "ExplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", true},
		{"OtherPrincipal", divergence{Principal: "bob-in-b", Countersign: "ExplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", false},
		{"OtherCountersignDecision", divergence{Principal: "alice", Countersign: "ImplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", false},
		{"OtherOracleDecision", divergence{Principal: "alice", Countersign: "ExplicitDeny", Oracle: "ImplicitDeny"}, "ExplicitDeny", "Allowed", false},
		{"ContextValuePresent", divergence{ContextKey: "aws:TagKeys", ContextValue: "team", Countersign: "ExplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", true},
		{"ContextValueMissing", divergence{ContextKey: "aws:TagKeys", ContextValue: "owner", Countersign: "ExplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", false},
		{"ContextKeyMissing", divergence{ContextKey: "aws:SourceIp", Countersign: "ExplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", false},
		{"ContextAbsentHolds", divergence{ContextAbsent: "aws:SourceIp", Countersign: "ExplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", true},
		{"ContextAbsentFails", divergence{ContextAbsent: "aws:TagKeys", Countersign: "ExplicitDeny", Oracle: "Allowed"}, "ExplicitDeny", "Allowed", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.d.covers(tc, tt.countersign, tt.oracle)
			if got != tt.want {
				t.Errorf("covers() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOracleDecisionMapping(t *testing.T) {
	tests := []struct {
		name string
		in   oracleResult
		want string
	}{
		{"Allowed", oracleResult{Decision: "Allowed"}, "Allowed"},
		{"ImplicitlyDenied", oracleResult{Decision: "ImplicitlyDenied"}, "ImplicitDeny"},
		{"ExplicitlyDenied", oracleResult{Decision: "ExplicitlyDenied"}, "ExplicitDeny"},
		{"ValidationError", oracleResult{Error: "invalid.action"}, "error: invalid.action"},
		{"UnknownName", oracleResult{Decision: "Maybe"}, "unknown result Maybe"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.in.decision()
			if got != tt.want {
				t.Errorf("decision() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestGenerateDeterministic(t *testing.T) {
	c, err := loadCorpus("testdata")
	if err != nil {
		t.Fatal(err)
	}

	first, err := json.Marshal(generate(c, 7, 300))
	if err != nil {
		t.Fatal(err)
	}

	second, err := json.Marshal(generate(c, 7, 300))
	if err != nil {
		t.Fatal(err)
	}

	other, err := json.Marshal(generate(c, 8, 300))
	if err != nil {
		t.Fatal(err)
	}

	if string(first) != string(second) {
		t.Error("two runs with seed 7 generated different cases")
	}

	if string(first) == string(other) {
		t.Error("seeds 7 and 8 generated the same cases")
	}
}

func TestGenerateConsistentCases(t *testing.T) {
	c, err := loadCorpus("testdata")
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range generate(c, 1, 500) {
		if got, want := tc.Account, c.Resources[tc.Resource]; got != want {
			t.Errorf("%s: resource account %q, want %q for %s", tc.ID, got, want, tc.Resource)
		}

		actions := actionsFor(tc.Resource)
		if !strings.Contains(strings.Join(actions, ","), tc.Action) {
			t.Errorf("%s: action %s does not fit resource %s", tc.ID, tc.Action, tc.Resource)
		}

		current, err := time.Parse(time.RFC3339, tc.Context["aws:CurrentTime"][0])
		if err != nil {
			t.Fatalf("%s: aws:CurrentTime: %v", tc.ID, err)
		}

		if got, want := tc.Context["aws:EpochTime"][0], strconv.FormatInt(current.Unix(), 10); got != want {
			t.Errorf("%s: aws:EpochTime %s, want %s to match aws:CurrentTime", tc.ID, got, want)
		}

		if tc.spec.RoleARN != "" && tc.Context["aws:PrincipalArn"][0] != tc.spec.RoleARN {
			t.Errorf("%s: aws:PrincipalArn %v, want the role ARN %s", tc.ID, tc.Context["aws:PrincipalArn"], tc.spec.RoleARN)
		}
	}
}

func TestLoadCorpusRejectsUnknownPolicy(t *testing.T) {
	dir := t.TempDir()

	if err := os.MkdirAll(filepath.Join(dir, "policies"), 0o755); err != nil {
		t.Fatal(err)
	}

	sets := `{"principals": {"alice": {"arn": "arn:aws:iam::111111111111:user/alice"}},
		"resources": {"arn:aws:s3:::home-bucket": "111111111111"},
		"sets": [{"name": "broken", "identity": ["missing-policy"], "principals": ["alice"], "resources": ["s3:home"]}]}`

	if err := os.WriteFile(filepath.Join(dir, "sets.json"), []byte(sets), 0o644); err != nil {
		t.Fatal(err)
	}

	_, err := loadCorpus(dir)
	if err == nil || !strings.Contains(err.Error(), `policy "missing-policy" not found`) {
		t.Errorf("loadCorpus() error = %v, want one naming the missing policy", err)
	}
}

func TestLoadDivergences(t *testing.T) {
	tests := []struct {
		name    string
		content string
		wantErr string
	}{
		{"Valid", `{"divergences": [{"name": "n", "countersign": "Allowed", "oracle": "ImplicitDeny", "correct": "countersign", "docTitle": "t", "docPoint": "p"}]}`, ""},
		{"MissingDocPoint", `{"divergences": [{"name": "n", "countersign": "Allowed", "oracle": "ImplicitDeny", "correct": "countersign", "docTitle": "t"}]}`, "docPoint"},
		{"InvalidCorrect", `{"divergences": [{"name": "n", "countersign": "Allowed", "oracle": "ImplicitDeny", "correct": "both", "docTitle": "t", "docPoint": "p"}]}`, `invalid correct "both"`},
		{"NotJSON", `{`, "parse"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "divergences.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}

			got, err := loadDivergences(path)

			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("loadDivergences() error = %v, want nil", err)
			case tt.wantErr == "" && len(got) != 1:
				t.Errorf("loadDivergences() returned %d divergences, want 1", len(got))
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("loadDivergences() error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}
