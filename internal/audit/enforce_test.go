package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/countersign/countersign/policy"
)

func enforceConfig() Config {
	cfg := testConfig()
	cfg.Mode = ModeEnforce

	return cfg
}

// otherStatements returns the canonical JSON of every statement whose Sid
// is not ManagedSid.
func otherStatements(t *testing.T, doc []byte) []string {
	t.Helper()

	p, err := policy.Parse(doc)
	if err != nil {
		t.Fatalf("policy does not parse: %v\n%s", err, doc)
	}

	var out []string
	for _, st := range p.Statements {
		if st.Sid != ManagedSid {
			out = append(out, string(statementJSON(st)))
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
		if st.Sid == ManagedSid {
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
	if len(managed) != 1 || managed[0].Index != 0 {
		t.Fatalf("got managed statements %+v, want one, in its old place", managed)
	}

	if got := managed[0].Principal.Values(policy.PrincipalAWS); !slices.Equal(got, []string{testRole}) {
		t.Errorf("managed principal = %v, want the role", got)
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

func TestEnforceKeepsOwnerPrincipals(t *testing.T) {
	f := hardened(t, "managed-owner.json")

	runFake(t, f, enforceConfig())

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

	if got := managedStatements(t, f.policy); len(got) != 1 {
		t.Errorf("got %d managed statements, want 1", len(got))
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

func TestEnforceSkipsOversizePolicy(t *testing.T) {
	var statements []string
	for i := 0; len(strings.Join(statements, ",")) < maxPolicySize-200; i++ {
		statements = append(statements, fmt.Sprintf(`{"Sid":"Filler%d","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/Reader%d"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::dev-artifacts/filler/%d/*"}`, i, i, i))
	}

	f := hardened(t, "")
	f.policy = []byte(`{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`)

	rep := runFake(t, f, enforceConfig())

	if len(f.puts) != 0 {
		t.Errorf("got %d writes, want none", len(f.puts))
	}

	if rep.Enforce == nil || !strings.Contains(rep.Enforce.Skipped, "limit") {
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
