package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/countersign/countersign/internal/denial"
	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/policy"
)

// want is one expected finding: its id, severity and statement index (-1
// for none).
type want struct {
	id        string
	severity  Severity
	statement int
}

func runFake(t *testing.T, f *fakeS3, cfg Config) *Report {
	t.Helper()

	rep, err := Run(context.Background(), f, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}

	return rep
}

func checkFindings(t *testing.T, got []Finding, wants []want) {
	t.Helper()

	for _, f := range got {
		t.Logf("%s %s %v: %s", f.Severity, f.ID, f.Statement, f.Message)
	}

	if len(got) != len(wants) {
		t.Fatalf("got %d findings, want %d", len(got), len(wants))
	}

	for _, w := range wants {
		found := slices.ContainsFunc(got, func(f Finding) bool {
			index := -1
			if f.Statement != nil {
				index = f.Statement.Index
			}

			return f.ID == w.id && f.Severity == w.severity && index == w.statement
		})
		if !found {
			t.Errorf("missing finding %s (%s) on statement %d", w.id, w.severity, w.statement)
		}
	}
}

func TestAuditPolicyFixtures(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		cfg     func(*Config)
		want    []want
	}{
		{name: "clean", fixture: "clean.json"},
		{name: "listLimitedToPrefix", fixture: "list-prefix.json"},
		{name: "noPolicy", fixture: "", want: []want{{IDNoPolicy, High, -1}, {IDTLSNotEnforced, Medium, -1}}},
		{name: "invalid", fixture: "invalid.json", want: []want{{IDPolicyInvalid, High, -1}}},
		{name: "noTLS", fixture: "no-tls.json", want: []want{{IDTLSNotEnforced, Medium, -1}}},
		{name: "tlsOnlyUnderPrefix", fixture: "tls-prefix-only.json", want: []want{{IDTLSNotEnforced, Medium, -1}}},
		{name: "stalePrincipal", fixture: "stale-principal.json", want: []want{
			{IDStalePrincipal, Medium, 0}, {IDStalePrincipal, Medium, 1},
			{IDRoleNotGranted, High, -1}, {IDRoleNotGranted, High, -1}, {IDRoleNotGranted, High, -1}, {IDRoleNotGranted, High, -1},
		}},
		{name: "staleDeny", fixture: "stale-deny.json", want: []want{{IDStalePrincipal, High, 2}}},
		{name: "denyShadowsRole", fixture: "deny-shadows.json", want: []want{{IDDenyShadowsRole, High, 2}}},
		{name: "publicGrant", fixture: "public-grant.json", want: []want{{IDPublicGrant, Critical, 2}}},
		{name: "publicLimitedByOrg", fixture: "public-limited.json", want: []want{{IDBroadAction, Medium, 2}}[:0]},
		{name: "publicNegatedCondition", fixture: "public-negated.json", want: []want{{IDPublicGrant, Critical, 2}}},
		{name: "notPrincipal", fixture: "not-principal.json", want: []want{{IDPublicGrant, Critical, 2}}},
		// S3 calls an aws:SourceIp range broader than /8 (IPv4) public.
		{name: "publicWideIPRange", fixture: "public-wide-ip.json", want: []want{{IDPublicGrant, Critical, 2}}},
		// Only fixed values limit: "vpc-*" has a wildcard.
		{name: "publicVpcWildcard", fixture: "public-vpc-wildcard.json", want: []want{{IDPublicGrant, Critical, 2}}},
		// aws:PrincipalOrgPaths is not among the keys S3 lists as limiting.
		{name: "publicOrgPaths", fixture: "public-org-paths.json", want: []want{{IDPublicGrant, Critical, 2}}},
		// S3 calls a grant to a Federated identity provider public, and the
		// provider names no account, so it is also a foreign grantee.
		{name: "publicFederated", fixture: "public-federated.json", want: []want{{IDPublicGrant, Critical, 2}, {IDForeignGrantee, High, 2}}},
		// A principal value with a wildcard is not fixed, and its account "*"
		// is not the bucket owner's.
		{name: "publicPrincipalWildcard", fixture: "public-principal-wildcard.json", want: []want{{IDPublicGrant, Critical, 2}, {IDForeignGrantee, High, 2}}},
		{name: "limitedToForeignAccount", fixture: "limited-foreign-account.json", want: []want{{IDForeignGrantee, High, 2}}},
		{name: "limitedToForeignAllowed", fixture: "limited-foreign-account.json", cfg: func(c *Config) { c.AllowedAccounts = []string{"999999999999"} }},
		{name: "limitedToOwnerAccount", fixture: "limited-owner-account.json"},
		{name: "foreignGrantee", fixture: "foreign-grantee.json", want: []want{{IDForeignGrantee, High, 2}}},
		{name: "wholeToolsAccount", fixture: "whole-account.json", want: []want{{IDForeignGrantee, High, 0}}},
		{name: "wholeToolsAccountAllowed", fixture: "whole-account.json", cfg: func(c *Config) { c.AllowedAccounts = []string{"111111111111"} }},
		{name: "ownerPrincipals", fixture: "owner-principals.json"},
		{name: "allowedAccount", fixture: "allowed-account.json", cfg: func(c *Config) { c.AllowedAccounts = []string{"444444444444"} }},
		{name: "accountNotAllowed", fixture: "allowed-account.json", want: []want{{IDForeignGrantee, High, 2}}},
		{name: "broadAction", fixture: "broad-action.json", want: []want{{IDBroadAction, High, 0}}},
		{name: "broadPut", fixture: "broad-put.json", want: []want{{IDBroadAction, High, 1}}},
		{name: "broadObject", fixture: "broad-object.json", want: []want{{IDBroadAction, Medium, 1}}},
		{name: "bucketWrite", fixture: "bucket-write.json", want: []want{{IDBroadAction, High, 2}}},
		{name: "bucketWriteRequired", fixture: "bucket-write.json", cfg: func(c *Config) {
			c.RequiredActions = []string{"s3:ListBucket", "s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:PutLifecycleConfiguration"}
		}},
		{name: "notAction", fixture: "not-action.json", want: []want{{IDBroadAction, High, 2}}},
		{name: "missingDelete", fixture: "missing-delete.json", want: []want{{IDRoleNotGranted, High, -1}}},
		{name: "otherRole", fixture: "other-role.json", want: []want{
			{IDForeignGrantee, High, 0},
			{IDRoleNotGranted, High, -1}, {IDRoleNotGranted, High, -1}, {IDRoleNotGranted, High, -1}, {IDRoleNotGranted, High, -1},
		}},
		{name: "combined", fixture: "combined.json", want: []want{
			{IDPublicGrant, Critical, 1},
			{IDDenyShadowsRole, High, 2},
			{IDBroadAction, High, 0},
			{IDStalePrincipal, Medium, 0},
			{IDTLSNotEnforced, Medium, -1},
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			if tt.cfg != nil {
				tt.cfg(&cfg)
			}

			rep := runFake(t, hardened(t, tt.fixture), cfg)
			checkFindings(t, rep.Findings, tt.want)
		})
	}
}

func TestAuditSettings(t *testing.T) {
	tests := []struct {
		name   string
		change func(*fakeS3)
		want   []want
	}{
		{"ownershipMissing", func(f *fakeS3) { f.ownership = "" }, []want{{IDACLsEnabled, Medium, -1}}},
		{"ownershipPreferred", func(f *fakeS3) { f.ownership = types.ObjectOwnershipBucketOwnerPreferred }, []want{{IDACLsEnabled, Medium, -1}}},
		{"publicAccessBlockMissing", func(f *fakeS3) { f.pab = nil }, []want{{IDPublicAccessBlockOff, High, -1}}},
		{"publicAccessBlockPartial", func(f *fakeS3) { f.pab.RestrictPublicBuckets = aws.Bool(false) }, []want{{IDPublicAccessBlockOff, High, -1}}},
		{"noDefaultEncryption", func(f *fakeS3) { f.encryption = nil }, nil},
		{"customerKey", func(f *fakeS3) {
			f.encryption = []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
				SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
			}}}
		}, []want{{IDKMSKeyPolicyNeeded, Info, -1}}},
		{"awsManagedKey", func(f *fakeS3) {
			f.encryption = []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAwsKms}}}
		}, []want{{IDKMSKeyPolicyNeeded, Medium, -1}}},
		{"everythingOff", func(f *fakeS3) { f.ownership, f.pab = types.ObjectOwnershipObjectWriter, nil }, []want{
			{IDACLsEnabled, Medium, -1}, {IDPublicAccessBlockOff, High, -1},
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := hardened(t, "clean.json")
			tt.change(f)

			rep := runFake(t, f, testConfig())
			checkFindings(t, rep.Findings, tt.want)
		})
	}
}

func TestCleanPolicyNothingAtLow(t *testing.T) {
	rep := runFake(t, hardened(t, "clean.json"), testConfig())

	if got := rep.AtOrAbove(Low); len(got) != 0 {
		t.Errorf("got %d findings at low or above, want none: %+v", len(got), got)
	}

	for _, s := range Severities {
		if rep.Counts[s] != 0 {
			t.Errorf("count of %s = %d, want 0", s, rep.Counts[s])
		}
	}
}

func TestEveryCallSendsExpectedOwner(t *testing.T) {
	f := hardened(t, "stale-managed.json")
	cfg := testConfig()
	cfg.Mode = ModeEnforce

	runFake(t, f, cfg)

	if len(f.calls) < 9 {
		t.Fatalf("got %d calls, want two reads of four settings and one put", len(f.calls))
	}

	for _, c := range f.calls {
		if c.expectedOwner != testOwner {
			t.Errorf("%s sent ExpectedBucketOwner %q, want %q", c.operation, c.expectedOwner, testOwner)
		}

		if c.bucket != testBucket {
			t.Errorf("%s addressed bucket %q, want %q", c.operation, c.bucket, testBucket)
		}
	}
}

func TestFindingsSortedBySeverity(t *testing.T) {
	f := hardened(t, "combined.json")
	f.pab = nil

	rep := runFake(t, f, testConfig())

	for i := 1; i < len(rep.Findings); i++ {
		if rep.Findings[i].Severity.Rank() > rep.Findings[i-1].Severity.Rank() {
			t.Errorf("finding %d (%s) is more serious than finding %d (%s)", i, rep.Findings[i].Severity, i-1, rep.Findings[i-1].Severity)
		}
	}

	if got := rep.Worst(); got != Critical {
		t.Errorf("Worst() = %q, want critical", got)
	}
}

func TestRoleNotGrantedNamesAction(t *testing.T) {
	rep := runFake(t, hardened(t, "missing-delete.json"), testConfig())

	if len(rep.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(rep.Findings))
	}

	f := rep.Findings[0]
	if f.Action != "s3:DeleteObject" || f.Principal != testRole {
		t.Errorf("got action %q principal %q, want s3:DeleteObject by %s", f.Action, f.Principal, testRole)
	}

	fix := parseFixStatement(t, f.Fix.Statement)
	if got := fix.Resource[0].Raw; got != "arn:aws:s3:::dev-artifacts/app/*" {
		t.Errorf("fix resource = %q, want the prefix's objects", got)
	}

	if got := fix.Principal.Values(policy.PrincipalAWS); !slices.Equal(got, []string{testRole}) {
		t.Errorf("fix principal = %v, want the role", got)
	}

	if !strings.Contains(f.Message, "AllowBuildRoleObjects") {
		t.Errorf("message %q does not name the closest statement", f.Message)
	}
}

func TestRoleNotGrantedNamesClosest(t *testing.T) {
	rep := runFake(t, hardened(t, "other-role.json"), testConfig())

	var found int
	for _, f := range rep.Findings {
		if f.ID != IDRoleNotGranted {
			continue
		}

		found++

		// Statement 0 grants every required action, but to another role.
		if !strings.Contains(f.Message, `the closest, statement 0 (Sid "AllowOtherRole")`) {
			t.Errorf("%s: message %q does not name statement 0 as the closest", f.Action, f.Message)
		}

		if !strings.Contains(f.Message, "principal: the caller is not named") {
			t.Errorf("%s: message %q does not say the principal kept it from applying", f.Action, f.Message)
		}
	}

	if found != 4 {
		t.Errorf("got %d ROLE_NOT_GRANTED findings, want 4", found)
	}
}

func TestClosestPrefersMatchingGrant(t *testing.T) {
	doc := []byte(`{"Version":"2012-10-17","Statement":[
		{"Sid":"Unrelated","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/Auditor"},"Action":"s3:GetBucketTagging","Resource":"arn:aws:s3:::dev-artifacts"},
		{"Sid":"OtherRoleDelete","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/OtherRole"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::dev-artifacts/app/*"}]}`)

	f := hardened(t, "")
	f.policy = doc
	cfg := testConfig()
	cfg.RequiredActions = []string{"s3:DeleteObject"}

	rep := runFake(t, f, cfg)

	for _, finding := range rep.Findings {
		if finding.ID == IDRoleNotGranted && !strings.Contains(finding.Message, `statement 1 (Sid "OtherRoleDelete")`) {
			t.Errorf("message %q does not name the grant of the same action to another role", finding.Message)
		}
	}
}

func TestRoleNotGrantedListFix(t *testing.T) {
	tests := []struct {
		name      string
		prefix    string
		condition string
	}{
		{"withPrefix", "app", `"Condition":{"StringLike":{"s3:prefix":"app/*"}}`},
		{"withoutPrefix", "", ""},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.Prefix = tt.prefix

			rep := runFake(t, hardened(t, "other-role.json"), cfg)

			fixed := readFixture(t, "other-role.json")
			for _, f := range rep.Findings {
				if f.ID != IDRoleNotGranted {
					continue
				}

				var compact bytes.Buffer
				if err := json.Compact(&compact, f.Fix.Statement); err != nil {
					t.Fatalf("%s: fix statement is not JSON: %v", f.Action, err)
				}

				hasCondition := strings.Contains(compact.String(), `"Condition"`)

				switch {
				case f.Action == "s3:ListBucket" && tt.condition != "" && !strings.Contains(compact.String(), tt.condition):
					t.Errorf("list fix %s lacks %s", compact.String(), tt.condition)
				case (f.Action != "s3:ListBucket" || tt.condition == "") && hasCondition:
					t.Errorf("%s fix %s has a condition, want none", f.Action, compact.String())
				}

				fixed = appendStatement(t, fixed, f.Fix.Statement)
			}

			// The fix statements together grant what the audit checks.
			after := hardened(t, "")
			after.policy = fixed

			for _, f := range runFake(t, after, cfg).Findings {
				if f.ID == IDRoleNotGranted {
					t.Errorf("after the fixes: %s", f.Message)
				}
			}
		})
	}
}

func TestRoleNotGrantedFixMatchesPreflight(t *testing.T) {
	rep := runFake(t, hardened(t, "other-role.json"), testConfig())

	for _, f := range rep.Findings {
		if f.ID != IDRoleNotGranted {
			continue
		}

		operation := map[string]string{"s3:ListBucket": "ListObjectsV2", "s3:PutObject": "PutObject", "s3:GetObject": "GetObject", "s3:DeleteObject": "DeleteObject"}[f.Action]
		key := ""
		if operation != "ListObjectsV2" {
			key = "app/build.zip"
		}

		d := denial.Diagnose(denial.Request{
			Operation: operation, Bucket: testBucket, Key: key, Prefix: "app", ExpectedBucketOwner: testOwner,
			CallerARN: "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/build", RoleARN: testRole,
			StatusCode: 403, ErrorCode: "AccessDenied",
			Message: "User: arn:aws:sts::111111111111:assumed-role/CodeBuildRole/build is not authorized to perform: " + f.Action + " on resource: arn:aws:s3:::dev-artifacts because no resource-based policy allows the " + f.Action + " action",
		})

		var preflight json.RawMessage
		for _, fix := range d.Fixes {
			if fix.Account == testOwner && len(fix.Statement) > 0 {
				preflight = fix.Statement
			}
		}

		if preflight == nil {
			t.Fatalf("%s: preflight's diagnosis has no bucket policy fix: %+v", f.Action, d)
		}

		if got, want := compactJSON(t, f.Fix.Statement), compactJSON(t, preflight); got != want {
			t.Errorf("%s fix:\ngot  %s\nwant %s", f.Action, got, want)
		}
	}
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	t.Helper()

	var out bytes.Buffer
	if err := json.Compact(&out, raw); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, raw)
	}

	return out.String()
}

// appendStatement returns doc with st added at the end.
func appendStatement(t *testing.T, doc []byte, st json.RawMessage) []byte {
	t.Helper()

	raw, err := splitPolicy(doc)
	if err != nil {
		t.Fatal(err)
	}

	raw.Statement = append(raw.Statement, st)

	return encodePolicy(raw, policyIndent(doc))
}

func TestDenyFixExemptsRole(t *testing.T) {
	rep := runFake(t, hardened(t, "deny-shadows.json"), testConfig())

	if len(rep.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(rep.Findings))
	}

	fix := parseFixStatement(t, rep.Findings[0].Fix.Statement)
	if fix.Effect != policy.Deny || len(fix.Condition) != 1 || fix.Condition[0].Operator != "ArnNotEquals" {
		t.Fatalf("fix = %+v, want the Deny with an ArnNotEquals condition", fix)
	}

	if !slices.Equal(fix.Condition[0].Values, []string{testRole}) {
		t.Errorf("exempted %v, want the role", fix.Condition[0].Values)
	}

	// The fixed policy must let the role delete.
	fixed := replaceStatement(t, readFixture(t, "deny-shadows.json"), 2, rep.Findings[0].Fix.Statement)
	f := hardened(t, "")
	f.policy = fixed

	after := runFake(t, f, testConfig())
	checkFindings(t, after.Findings, nil)
}

func TestBroadFixNarrowsActions(t *testing.T) {
	rep := runFake(t, hardened(t, "broad-action.json"), testConfig())

	if len(rep.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(rep.Findings))
	}

	fix := parseFixStatement(t, rep.Findings[0].Fix.Statement)

	var got []string
	for _, a := range fix.Action {
		got = append(got, a.Raw)
	}

	if want := []string{"s3:ListBucket", "s3:PutObject", "s3:GetObject", "s3:DeleteObject"}; !slices.Equal(got, want) {
		t.Errorf("fix actions = %v, want %v", got, want)
	}
}

func TestForeignFixKeepsOwnerPrincipal(t *testing.T) {
	rep := runFake(t, hardened(t, "foreign-grantee.json"), testConfig())

	if len(rep.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(rep.Findings))
	}

	f := rep.Findings[0]
	if f.Principal != "arn:aws:iam::333333333333:role/Partner" {
		t.Errorf("principal = %q, want only the partner role", f.Principal)
	}

	fix := parseFixStatement(t, f.Fix.Statement)
	if got := fix.Principal.Values(policy.PrincipalAWS); !slices.Equal(got, []string{"arn:aws:iam::222222222222:role/Auditor"}) {
		t.Errorf("fix principals = %v, want the owner's auditor role only", got)
	}
}

func TestSettingFixesAreJSON(t *testing.T) {
	f := hardened(t, "clean.json")
	f.ownership, f.pab = "", nil

	rep := runFake(t, f, testConfig())

	for _, finding := range rep.Findings {
		var v map[string]any
		if err := json.Unmarshal(finding.Fix.Setting, &v); err != nil {
			t.Errorf("%s: setting %s is not a JSON object: %v", finding.ID, finding.Fix.Setting, err)
		}

		if !strings.Contains(finding.Fix.Advice, "--expected-bucket-owner 222222222222") {
			t.Errorf("%s: advice %q does not pass the expected owner", finding.ID, finding.Fix.Advice)
		}
	}
}

func TestKMSFixStatement(t *testing.T) {
	f := hardened(t, "clean.json")
	f.encryption = []types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
		SSEAlgorithm: types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String("arn:aws:kms:eu-west-1:222222222222:key/k1"),
	}}}

	rep := runFake(t, f, testConfig())
	if len(rep.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(rep.Findings))
	}

	var st struct {
		Principal map[string]string
		Action    []string
		Condition map[string]map[string]string
	}
	if err := json.Unmarshal(rep.Findings[0].Fix.Statement, &st); err != nil {
		t.Fatalf("fix statement: %v", err)
	}

	if st.Principal["AWS"] != testRole {
		t.Errorf("principal = %v, want the role", st.Principal)
	}

	if got := st.Condition["StringEquals"]["kms:ViaService"]; got != "s3.eu-west-1.amazonaws.com" {
		t.Errorf("kms:ViaService = %q, want s3.eu-west-1.amazonaws.com", got)
	}
}

func TestReadErrorsFailAudit(t *testing.T) {
	for _, op := range []string{"GetBucketPolicy", "GetBucketOwnershipControls", "GetPublicAccessBlock", "GetBucketEncryption"} {
		t.Run(op, func(t *testing.T) {
			f := hardened(t, "clean.json")
			f.errs = map[string]error{op: &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}}

			_, err := Run(context.Background(), f, testConfig())
			if err == nil {
				t.Fatal("got no error, want the audit to fail")
			}

			if !strings.Contains(err.Error(), "dev-artifacts") || !strings.Contains(err.Error(), "222222222222") {
				t.Errorf("error %q does not name the bucket and owner", err)
			}

			if errors.Is(err, exitcode.ErrUsage) {
				t.Errorf("error %q is a usage error, want a failure", err)
			}
		})
	}
}

func TestConfigErrorsNameField(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Config)
		field  Field
	}{
		{"noBucket", func(c *Config) { c.Bucket = "" }, FieldBucket},
		{"badBucket", func(c *Config) { c.Bucket = "Dev_Artifacts" }, FieldBucket},
		{"badOwner", func(c *Config) { c.BucketOwner = "2222" }, FieldBucketOwner},
		{"noRoles", func(c *Config) { c.RoleARNs = []string{" "} }, FieldRoleARNs},
		{"badRole", func(c *Config) { c.RoleARNs = []string{"arn:aws:iam::111111111111:user/x"} }, FieldRoleARNs},
		{"wildcardAction", func(c *Config) { c.RequiredActions = []string{"s3:Put*"} }, FieldRequiredActions},
		{"wildcardPrefix", func(c *Config) { c.Prefix = "app/*" }, FieldPrefix},
		{"badAccount", func(c *Config) { c.AllowedAccounts = []string{"abc"} }, FieldAllowedAccounts},
		{"badMode", func(c *Config) { c.Mode = "fix" }, FieldMode},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig()
			tt.change(&cfg)

			_, err := Run(context.Background(), hardened(t, "clean.json"), cfg)

			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a ConfigError", err)
			}

			if ce.Field != tt.field {
				t.Errorf("field = %s, want %s", ce.Field, tt.field)
			}

			if !errors.Is(err, exitcode.ErrUsage) {
				t.Errorf("error %v does not wrap ErrUsage", err)
			}
		})
	}
}

func TestParseSeverity(t *testing.T) {
	for _, s := range Severities {
		if got, err := ParseSeverity(string(s)); err != nil || got != s {
			t.Errorf("ParseSeverity(%q) = %q, %v", s, got, err)
		}
	}

	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("ParseSeverity(severe) succeeded, want an error")
	}
}

func TestSplitList(t *testing.T) {
	got := SplitList(" a, ,b,")
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("SplitList = %v, want %v", got, want)
	}
}

func parseFixStatement(t *testing.T, raw json.RawMessage) *policy.Statement {
	t.Helper()

	st, err := parseStatement(raw)
	if err != nil {
		t.Fatalf("fix statement %s does not parse: %v", raw, err)
	}

	return st
}

// replaceStatement returns doc with statement i replaced by st.
func replaceStatement(t *testing.T, doc []byte, i int, st json.RawMessage) []byte {
	t.Helper()

	raw, err := splitPolicy(doc)
	if err != nil {
		t.Fatal(err)
	}

	raw.Statement[i] = st

	return encodePolicy(raw, policyIndent(doc))
}
