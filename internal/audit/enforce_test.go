package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/countersign/countersign/internal/audit/audittest"
	"github.com/countersign/countersign/policy"
)

func enforceConfig() Config {
	cfg := testConfig()
	cfg.Mode = ModeEnforce

	return cfg
}

// otherStatements returns the bytes of every statement whose Sid is not
// one that enforce owns, as written in doc.
func otherStatements(t *testing.T, doc []byte) []string {
	t.Helper()

	raw, err := splitPolicy(doc)
	if err != nil {
		t.Fatalf("policy does not split: %v\n%s", err, doc)
	}

	var out []string
	for _, st := range raw.Statement {
		parsed, err := parseStatement(st)
		if err != nil {
			t.Fatalf("statement does not parse: %v\n%s", err, st)
		}

		if !isManagedSid(parsed.Sid) {
			out = append(out, string(st))
		}
	}

	return out
}

func managedStatements(t *testing.T, doc []byte) []policy.Statement {
	t.Helper()

	p, err := policy.Parse(doc)
	if err != nil {
		t.Fatalf("policy does not parse: %v", err)
	}

	var out []policy.Statement
	for _, st := range p.Statements {
		if isManagedSid(st.Sid) {
			out = append(out, st)
		}
	}

	return out
}

func TestEnforceHealsStalePrincipal(t *testing.T) {
	f := hardened(t, "stale-managed.json")
	before := append([]byte(nil), f.policy...)

	rep := runFake(t, f, enforceConfig())

	if rep.Enforce == nil || !rep.Enforce.Changed {
		t.Fatalf("enforce = %+v, want a write", rep.Enforce)
	}

	if len(f.puts) != 1 {
		t.Fatalf("got %d writes, want 1", len(f.puts))
	}

	if rep.Enforce.PreviousPolicy != string(before) {
		t.Errorf("previous policy = %q, want the policy before the write", rep.Enforce.PreviousPolicy)
	}

	if rep.Enforce.CountsBefore[High] == 0 {
		t.Errorf("counts before = %v, want the high ROLE_NOT_GRANTED findings", rep.Enforce.CountsBefore)
	}

	checkFindings(t, rep.Findings, nil)

	if got, want := otherStatements(t, f.policy), otherStatements(t, before); !slices.Equal(got, want) {
		t.Errorf("other statements changed:\ngot  %v\nwant %v", got, want)
	}

	managed := managedStatements(t, f.policy)
	if len(managed) != 2 || managed[0].Index != 0 || managed[1].Index != 1 {
		t.Fatalf("got managed statements %+v, want two, in the old one's place", managed)
	}

	for _, st := range managed {
		if got := st.Principal.Values(policy.PrincipalAWS); !slices.Equal(got, []string{testRole}) {
			t.Errorf("%s principal = %v, want the role", st.Label(), got)
		}
	}
}

func TestEnforceSecondRunWritesNothing(t *testing.T) {
	f := hardened(t, "stale-managed.json")

	runFake(t, f, enforceConfig())
	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 1 {
		t.Errorf("got %d writes over two runs, want 1", len(f.puts))
	}

	if rep.Enforce == nil || rep.Enforce.Changed || rep.Enforce.Skipped != "" {
		t.Errorf("second enforce = %+v, want no change", rep.Enforce)
	}
}

func TestEnforceEquivalentStatementUnchanged(t *testing.T) {
	f := hardened(t, "managed-equivalent.json")

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 0 {
		t.Errorf("got %d writes, want none for a statement that grants the same", len(f.puts))
	}

	checkFindings(t, rep.Findings, nil)
}

func TestEnforceWithoutPolicy(t *testing.T) {
	f := hardened(t, "")

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 1 {
		t.Fatalf("got %d writes, want 1", len(f.puts))
	}

	if rep.Enforce.PreviousPolicy != "" {
		t.Errorf("previous policy = %q, want empty", rep.Enforce.PreviousPolicy)
	}

	checkFindings(t, rep.Findings, []want{{IDTLSNotEnforced, Medium, -1}})
}

func TestEnforceLimitsOldListGrant(t *testing.T) {
	f := hardened(t, "managed-unlimited-list.json")
	before := append([]byte(nil), f.policy...)

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 1 {
		t.Fatalf("got %d writes, want 1 that limits the listing to the prefix", len(f.puts))
	}

	checkFindings(t, rep.Findings, nil)

	if got, want := otherStatements(t, f.policy), otherStatements(t, before); !slices.Equal(got, want) {
		t.Errorf("other statements changed:\ngot  %v\nwant %v", got, want)
	}

	managed := managedStatements(t, f.policy)
	if len(managed) != 2 {
		t.Fatalf("got %d managed statements, want 2", len(managed))
	}

	if managed[1].Sid != ManagedListSid || len(managed[1].Condition) != 1 {
		t.Errorf("got %s with conditions %+v, want %s with the s3:prefix condition", managed[1].Label(), managed[1].Condition, ManagedListSid)
	}
}

func TestEnforceListGrantLimitedToPrefix(t *testing.T) {
	f := hardened(t, "")

	runFake(t, f, enforceConfig())

	written, err := policy.Parse(f.policy)
	if err != nil {
		t.Fatalf("written policy does not parse: %v", err)
	}

	tests := []struct {
		name    string
		context map[string][]string
		want    policy.Decision
	}{
		{"underPrefix", map[string][]string{"s3:prefix": {"app/"}}, policy.Allowed},
		{"deeperUnderPrefix", map[string][]string{"s3:prefix": {"app/v1/"}}, policy.Allowed},
		{"otherPrefix", map[string][]string{"s3:prefix": {"secrets/"}}, policy.ImplicitDeny},
		{"wholeBucket", map[string][]string{"s3:prefix": {""}}, policy.ImplicitDeny},
		{"noPrefixKey", nil, policy.ImplicitDeny},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := policy.Request{
				Principal:        "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/build",
				PrincipalRoleARN: testRole,
				Action:           "s3:ListBucket",
				Resource:         "arn:aws:s3:::dev-artifacts",
				ResourceAccount:  testOwner,
				Context:          tt.context,
			}

			res, err := policy.Evaluate(req, policy.PolicySet{Identity: []*policy.Policy{allowAll}, Resource: written})
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}

			if res.Decision != tt.want {
				t.Errorf("got %s, want %s", res.Decision, tt.want)
			}
		})
	}
}

func TestEnforceWithoutPrefixOneStatement(t *testing.T) {
	f := hardened(t, "")
	cfg := enforceConfig()
	cfg.Prefix = ""

	rep := runFake(t, f, cfg)

	checkFindings(t, rep.Findings, []want{{IDTLSNotEnforced, Medium, -1}})

	managed := managedStatements(t, f.policy)
	if len(managed) != 1 || managed[0].Sid != ManagedSid {
		t.Fatalf("got managed statements %+v, want only %s", managed, ManagedSid)
	}

	if len(managed[0].Condition) != 0 {
		t.Errorf("conditions = %+v, want none without a prefix", managed[0].Condition)
	}
}

func TestEnforceSkipsOwnerListLoss(t *testing.T) {
	f := hardened(t, "managed-owner.json")

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 0 {
		t.Errorf("got %d writes, want none", len(f.puts))
	}

	// The owner's Admin role listed the whole bucket through the managed
	// statement, and the rewrite limits the listing to the prefix.
	if rep.Enforce == nil || !strings.Contains(rep.Enforce.Skipped, "s3:ListBucket") || !strings.Contains(rep.Enforce.Skipped, "role/Admin") {
		t.Errorf("enforce = %+v, want a skipped write naming s3:ListBucket and the Admin role", rep.Enforce)
	}
}

func TestEnforceKeepsOwnerPrincipals(t *testing.T) {
	f := hardened(t, "managed-owner.json")
	cfg := enforceConfig()
	cfg.Prefix = ""

	runFake(t, f, cfg)

	managed := managedStatements(t, f.policy)
	if len(managed) != 1 {
		t.Fatalf("got %d managed statements, want 1", len(managed))
	}

	got := managed[0].Principal.Values(policy.PrincipalAWS)
	if want := []string{testRole, "arn:aws:iam::222222222222:role/Admin"}; !slices.Equal(got, want) {
		t.Errorf("principals = %v, want %v: the old role goes, the owner's role stays", got, want)
	}
}

func TestEnforceSkipsOwnerLoss(t *testing.T) {
	f := hardened(t, "managed-owner-extra.json")

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 0 {
		t.Errorf("got %d writes, want none", len(f.puts))
	}

	if rep.Enforce == nil || !strings.Contains(rep.Enforce.Skipped, "s3:PutBucketPolicy") {
		t.Errorf("enforce = %+v, want a skipped write naming s3:PutBucketPolicy", rep.Enforce)
	}
}

func TestEnforceDuplicatesAndVersion(t *testing.T) {
	f := hardened(t, "managed-duplicates-no-version.json")
	before := append([]byte(nil), f.policy...)

	runFake(t, f, enforceConfig())

	if len(f.puts) != 1 {
		t.Fatalf("got %d writes, want 1", len(f.puts))
	}

	var sids []string
	for _, st := range managedStatements(t, f.policy) {
		sids = append(sids, st.Sid)
	}

	if want := []string{ManagedSid, ManagedListSid}; !slices.Equal(sids, want) {
		t.Errorf("managed statements %v, want %v: one of each, duplicates gone", sids, want)
	}

	written, err := policy.Parse(f.policy)
	if err != nil {
		t.Fatal(err)
	}

	// Adding a Version would turn ${aws:username} in HomeFolders from
	// literal text into a variable.
	if written.Version != "" || written.ID != "KeepThisId" {
		t.Errorf("version %q id %q, want no version and id KeepThisId", written.Version, written.ID)
	}

	if got, want := otherStatements(t, f.policy), otherStatements(t, before); !slices.Equal(got, want) {
		t.Errorf("other statements changed:\ngot  %v\nwant %v", got, want)
	}
}

func TestEnforceSkipsInvalidPolicy(t *testing.T) {
	f := hardened(t, "invalid.json")

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 0 {
		t.Errorf("got %d writes, want none", len(f.puts))
	}

	if rep.Enforce == nil || rep.Enforce.Skipped == "" {
		t.Errorf("enforce = %+v, want a skipped write", rep.Enforce)
	}
}

func TestEnforceKeepsCompactPolicyCompact(t *testing.T) {
	f := hardened(t, "")
	f.policy = []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::dev-artifacts","arn:aws:s3:::dev-artifacts/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
	before := append([]byte(nil), f.policy...)

	runFake(t, f, enforceConfig())

	if len(f.puts) != 1 {
		t.Fatalf("got %d writes, want 1", len(f.puts))
	}

	if bytes.ContainsAny(f.policy, "\n\t") || bytes.Contains(f.policy, []byte(": ")) {
		t.Errorf("written policy is not compact:\n%s", f.policy)
	}

	if got, want := otherStatements(t, f.policy), otherStatements(t, before); !slices.Equal(got, want) {
		t.Errorf("other statements changed:\ngot  %v\nwant %v", got, want)
	}
}

func TestEnforceKeepsIndentAndStatementBytes(t *testing.T) {
	f := hardened(t, "")
	// Four-space indent, keys out of the usual order, an escaped character
	// and a compact statement inside the indented document.
	f.policy = []byte("{\n    \"Statement\": [\n        {\"Effect\":\"Deny\",\"Sid\":\"DenyInsecureTransport\",\"Principal\":\"*\",\"Action\":\"s3:*\",\"Resource\":[\"arn:aws:s3:::dev-artifacts\",\"arn:aws:s3:::dev-artifacts/*\"],\"Condition\":{\"Bool\":{\"aws:SecureTransport\":\"false\"}}},\n        {\n            \"Resource\" : \"arn:aws:s3:::dev-artifacts/reports/*\",\n            \"Sid\": \"Read\\u0052eports\",\n            \"Effect\": \"Allow\",\n            \"Principal\": {\"AWS\": \"arn:aws:iam::222222222222:role/Auditor\"},\n            \"Action\": \"s3:GetObject\"\n        }\n    ],\n    \"Version\": \"2012-10-17\"\n}\n")
	before := append([]byte(nil), f.policy...)

	runFake(t, f, enforceConfig())

	if len(f.puts) != 1 {
		t.Fatalf("got %d writes, want 1", len(f.puts))
	}

	if got, want := otherStatements(t, f.policy), otherStatements(t, before); !slices.Equal(got, want) {
		t.Errorf("other statements changed:\ngot  %v\nwant %v", got, want)
	}

	if !bytes.Contains(f.policy, []byte("\n        {\n            \"Sid\": \""+ManagedSid+"\"")) {
		t.Errorf("managed statement is not indented as the policy is:\n%s", f.policy)
	}
}

func TestEnforceFitsCompactPolicyNearLimit(t *testing.T) {
	f := hardened(t, "")
	f.policy = audittest.CompactPolicy(t, 19932)
	before := append([]byte(nil), f.policy...)

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 1 {
		t.Fatalf("got %d writes, want 1; enforce %+v", len(f.puts), rep.Enforce)
	}

	if len(f.policy) > maxPolicySize {
		t.Errorf("wrote %d bytes, over the limit of %d", len(f.policy), maxPolicySize)
	}

	if got, want := otherStatements(t, f.policy), otherStatements(t, before); !slices.Equal(got, want) {
		t.Error("other statements changed")
	}
}

func TestEnforceSkipsOversizePolicy(t *testing.T) {
	f := hardened(t, "")
	// The managed statements alone take more than 100 bytes.
	f.policy = audittest.CompactPolicy(t, maxPolicySize-100)

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 0 {
		t.Errorf("got %d writes, want none", len(f.puts))
	}

	if rep.Enforce == nil || !strings.Contains(rep.Enforce.Skipped, "over the S3 limit of 20480") {
		t.Errorf("enforce = %+v, want a skipped write over the size limit", rep.Enforce)
	}
}

func TestEnforceWriteErrorFailsRun(t *testing.T) {
	f := hardened(t, "stale-managed.json")
	f.errs = map[string]error{"PutBucketPolicy": &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}}

	_, err := Run(context.Background(), f, enforceConfig())

	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
		t.Errorf("got %v, want the AccessDenied of the write", err)
	}
}

func TestEnforceStopsAfterDeadline(t *testing.T) {
	f := hardened(t, "stale-managed.json")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	_, err := Run(ctx, f, enforceConfig())
	if !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}

	if len(f.puts) != 0 {
		t.Errorf("got %d writes after the deadline, want none", len(f.puts))
	}
}

func TestReportModeNeverWrites(t *testing.T) {
	f := hardened(t, "stale-managed.json")

	rep := runFake(t, f, testConfig())

	if len(f.puts) != 0 || rep.Enforce != nil {
		t.Errorf("report mode wrote %d times, enforce %+v; want no write", len(f.puts), rep.Enforce)
	}
}

func TestWrittenPolicyIsIndentedJSON(t *testing.T) {
	f := hardened(t, "")

	runFake(t, f, enforceConfig())

	var doc map[string]any
	if err := json.Unmarshal(f.policy, &doc); err != nil {
		t.Fatalf("written policy is not JSON: %v", err)
	}

	if !bytes.HasPrefix(f.policy, []byte("{\n  \"Version\": \"2012-10-17\"")) {
		t.Errorf("written policy starts %q, want indented JSON with the Version first", f.policy[:min(40, len(f.policy))])
	}
}
