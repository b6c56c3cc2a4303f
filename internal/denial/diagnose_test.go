package denial

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testSession   = "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-4f6c"
	testRole      = "arn:aws:iam::111111111111:role/service-role/CodeBuildRole"
	testTools     = "111111111111"
	testDev       = "222222222222"
	testBucket    = "dev-artifacts"
	testBucketARN = "arn:aws:s3:::dev-artifacts"
	testKey       = "releases/app/v1.tgz"
	testObjectARN = "arn:aws:s3:::dev-artifacts/releases/app/v1.tgz"
	testScope     = "arn:aws:s3:::dev-artifacts/releases/app/*"
	testKeyARN    = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

// readMessage returns a fixture message without its trailing newline.
func readMessage(t testing.TB, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "messages", name+".txt"))
	if err != nil {
		t.Fatalf("read fixture %s: %v", name, err)
	}
	return strings.TrimRight(string(data), "\n")
}

// buildRequest is a denied call from the build role to the dev bucket.
func buildRequest(operation string) Request {
	return Request{
		Operation:           operation,
		Bucket:              testBucket,
		Key:                 testKey,
		Prefix:              "releases/app/",
		ExpectedBucketOwner: testDev,
		CallerARN:           testSession,
		RoleARN:             testRole,
		StatusCode:          403,
		ErrorCode:           "AccessDenied",
	}
}

func TestDiagnoseForms(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		// edit adjusts the request built by buildRequest.
		edit         func(*Request)
		kind         Kind
		policy       PolicyType
		side         Side
		account      string
		action       string
		resource     string
		policyARN    string
		fixDocument  string // a substring of the first fix's document
		fixResource  string // Resource of the first fix's statement; "" when it has none
		fixPrincipal string // Principal.AWS of the first statement; "" when it has none
		minCauses    int
	}{
		{
			name: "IdentityImplicit", fixture: "identity_implicit",
			kind: KindImplicitDeny, policy: PolicyIdentity, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "identity policy of role CodeBuildRole (account 111111111111)", fixResource: testScope,
		},
		{
			name: "IdentityExplicitWithPolicyARN", fixture: "identity_explicit",
			kind: KindExplicitDeny, policy: PolicyIdentity, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN, policyARN: "arn:aws:iam::111111111111:policy/DataPerimeter",
			fixDocument: "identity policies attached to role CodeBuildRole",
		},
		{
			name: "ResourceImplicit", fixture: "resource_implicit",
			kind: KindImplicitDeny, policy: PolicyResource, side: SideDev, account: testDev,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "bucket policy of dev-artifacts (account 222222222222)", fixResource: testScope, fixPrincipal: testRole,
		},
		{
			name: "ResourceExplicitWithNote", fixture: "resource_explicit",
			kind: KindExplicitDeny, policy: PolicyResource, side: SideDev, account: testDev,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "bucket policy of dev-artifacts (account 222222222222)",
		},
		{
			name: "SCPImplicit", fixture: "scp_implicit",
			kind: KindImplicitDeny, policy: PolicySCP, side: SideOrganization,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "service control policies",
		},
		{
			name: "SCPExplicitWithPolicyARN", fixture: "scp_explicit",
			kind: KindExplicitDeny, policy: PolicySCP, side: SideOrganization, account: "999999999999",
			action: "s3:PutObject", resource: testObjectARN,
			policyARN:   "arn:aws:organizations::999999999999:policy/o-a1b2c3d4e5/service_control_policy/p-examplepol",
			fixDocument: "managed from account 999999999999",
		},
		{
			name: "RCPImplicit", fixture: "rcp_implicit",
			kind: KindImplicitDeny, policy: PolicyRCP, side: SideOrganization,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "resource control policies",
		},
		{
			name: "RCPExplicit", fixture: "rcp_explicit",
			kind: KindExplicitDeny, policy: PolicyRCP, side: SideOrganization,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "resource control policies of the organization that contains the bucket owner (account 222222222222)",
		},
		{
			name: "BoundaryImplicit", fixture: "boundary_implicit",
			kind: KindImplicitDeny, policy: PolicyPermissionsBoundary, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "permissions boundary of role CodeBuildRole", fixResource: testScope,
		},
		{
			name: "BoundaryExplicit", fixture: "boundary_explicit",
			kind: KindExplicitDeny, policy: PolicyPermissionsBoundary, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "permissions boundary of role CodeBuildRole",
		},
		{
			name: "SessionImplicit", fixture: "session_implicit",
			kind: KindImplicitDeny, policy: PolicySession, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "session policy", fixResource: testScope,
		},
		{
			name: "SessionExplicit", fixture: "session_explicit",
			kind: KindExplicitDeny, policy: PolicySession, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "session policy",
		},
		{
			name: "VPCEndpointImplicit", fixture: "vpce_implicit",
			kind: KindImplicitDeny, policy: PolicyVPCEndpoint, side: SideThirdParty, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "VPC endpoint policy", fixResource: testScope, fixPrincipal: testRole,
		},
		{
			name: "VPCEndpointExplicit", fixture: "vpce_explicit",
			kind: KindExplicitDeny, policy: PolicyVPCEndpoint, side: SideThirdParty, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "VPC endpoint policy",
		},
		{
			name: "ListIdentityImplicit", fixture: "list_identity_implicit",
			edit: func(r *Request) { r.Operation, r.Key = "ListObjectsV2", "" },
			kind: KindImplicitDeny, policy: PolicyIdentity, side: SideTools, account: testTools,
			action: "s3:ListBucket", resource: testBucketARN,
			fixDocument: "identity policy of role CodeBuildRole", fixResource: testBucketARN,
		},
		{
			name: "ListResourceImplicit", fixture: "list_resource_implicit",
			edit: func(r *Request) { r.Operation, r.Key = "ListObjectsV2", "" },
			kind: KindImplicitDeny, policy: PolicyResource, side: SideDev, account: testDev,
			action: "s3:ListBucket", resource: testBucketARN,
			fixDocument: "bucket policy of dev-artifacts", fixResource: testBucketARN, fixPrincipal: testRole,
		},
		{
			name: "DeleteIdentityImplicit", fixture: "delete_identity_implicit",
			edit: func(r *Request) { r.Operation, r.Key = "DeleteObject", "releases/app/.countersign/canary" },
			kind: KindImplicitDeny, policy: PolicyIdentity, side: SideTools, account: testTools,
			action: "s3:DeleteObject", resource: "arn:aws:s3:::dev-artifacts/releases/app/.countersign/canary",
			fixDocument: "identity policy of role CodeBuildRole", fixResource: testScope,
		},
		{
			name: "UnquotedResourceTrailingPeriod", fixture: "unquoted_resource",
			kind: KindImplicitDeny, policy: PolicyIdentity, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "identity policy of role CodeBuildRole", fixResource: testScope,
		},
		{
			name: "WholeSDKErrorString", fixture: "sdk_error_string",
			kind: KindImplicitDeny, policy: PolicyIdentity, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "identity policy of role CodeBuildRole", fixResource: testScope,
		},
		{
			name: "GovCloudPartition", fixture: "govcloud",
			edit: func(r *Request) {
				r.CallerARN = "arn:aws-us-gov:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-4f6c"
				r.RoleARN = "arn:aws-us-gov:iam::111111111111:role/service-role/CodeBuildRole"
			},
			kind: KindImplicitDeny, policy: PolicyResource, side: SideDev, account: testDev,
			action: "s3:PutObject", resource: "arn:aws-us-gov:s3:::dev-artifacts/releases/app/v1.tgz",
			fixDocument:  "bucket policy of dev-artifacts",
			fixResource:  "arn:aws-us-gov:s3:::dev-artifacts/releases/app/*",
			fixPrincipal: "arn:aws-us-gov:iam::111111111111:role/service-role/CodeBuildRole",
		},
		{
			name: "ExplicitWithoutType", fixture: "explicit_untyped",
			kind: KindExplicitDeny, policy: PolicyUnknown, side: SideUnknown,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "bucket policy of dev-artifacts", minCauses: 3,
		},
		{
			name: "UnknownPolicyType", fixture: "unknown_type",
			kind: KindImplicitDeny, policy: PolicyUnknown, side: SideUnknown,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "bucket policy of dev-artifacts", fixResource: testScope, fixPrincipal: testRole, minCauses: 2,
		},
		{
			name: "TrustPolicyCodeBuild", fixture: "trust_codebuild",
			edit: func(r *Request) {
				*r = Request{Operation: "AssumeRole", RoleARN: testRole, StatusCode: 403, ErrorCode: "AccessDenied",
					BuildARN: "arn:aws:codebuild:eu-west-1:111111111111:build/deliver:0b6c-44"}
			},
			kind: KindImplicitDeny, policy: PolicyTrust, side: SideTools, account: testTools,
			action: "sts:AssumeRole", resource: testRole,
			fixDocument: "trust policy of role CodeBuildRole (account 111111111111)", minCauses: 2,
		},
		{
			name: "TrustPolicyCaller", fixture: "trust_sts",
			edit: func(r *Request) {
				*r = Request{Operation: "AssumeRole", RoleARN: testRole, StatusCode: 403, ErrorCode: "AccessDenied"}
			},
			kind: KindImplicitDeny, policy: PolicyTrust, side: SideTools, account: testTools,
			action: "sts:AssumeRole", resource: testRole,
			fixDocument: "trust policy of role CodeBuildRole", fixPrincipal: "arn:aws:iam::111111111111:role/Deployer", minCauses: 3,
		},
		{
			name: "TrustPolicyExplicit", fixture: "trust_explicit",
			edit: func(r *Request) {
				*r = Request{Operation: "AssumeRole", RoleARN: testRole, StatusCode: 403, ErrorCode: "AccessDenied"}
			},
			kind: KindExplicitDeny, policy: PolicyTrust, side: SideTools, account: testTools,
			action: "sts:AssumeRole", resource: testRole,
			fixDocument: "trust policy of role CodeBuildRole",
		},
		{
			name: "AssumeRoleIdentityImplicit", fixture: "assumerole_identity_implicit",
			edit: func(r *Request) {
				*r = Request{Operation: "AssumeRole", StatusCode: 403, ErrorCode: "AccessDenied"}
			},
			kind: KindImplicitDeny, policy: PolicyIdentity, side: SideTools, account: testTools,
			action: "sts:AssumeRole", resource: testRole,
			fixDocument: "identity policy of role Deployer", fixResource: testRole,
		},
		{
			name: "KMSKeyPolicy", fixture: "kms_key_policy",
			kind: KindKMS, policy: PolicyKMSKey, side: SideThirdParty, account: testDev,
			action: "kms:GenerateDataKey", resource: testKeyARN,
			fixDocument: "key policy of KMS key " + testKeyARN, fixResource: "*", fixPrincipal: testRole,
		},
		{
			name: "KMSIdentity", fixture: "kms_identity",
			edit: func(r *Request) { r.Operation = "GetObject" },
			kind: KindKMS, policy: PolicyIdentity, side: SideTools, account: testTools,
			action: "kms:Decrypt", resource: testKeyARN,
			fixDocument: "identity policy of role CodeBuildRole", fixResource: testKeyARN,
		},
		{
			name: "KMSExplicit", fixture: "kms_explicit",
			kind: KindKMS, policy: PolicyKMSKey, side: SideThirdParty, account: testDev,
			action: "kms:GenerateDataKey", resource: testKeyARN,
			fixDocument: "key policy of KMS key",
		},
		{
			name: "KMSExplicitSCP", fixture: "kms_scp_explicit",
			kind: KindExplicitDeny, policy: PolicySCP, side: SideOrganization,
			action: "kms:GenerateDataKey", resource: testKeyARN,
			fixDocument: "service control policies",
		},
		{
			name: "KMSExceptionCode",
			edit: func(r *Request) {
				r.StatusCode, r.ErrorCode, r.Message = 400, "KMS.AccessDeniedException", "The ciphertext refers to a key the caller cannot use"
				r.SSE, r.SSEKMSKeyID = "aws:kms", testKeyARN
			},
			kind: KindKMS, policy: PolicyKMSKey, side: SideThirdParty, account: testDev,
			action: "kms:GenerateDataKey", resource: testKeyARN,
			fixDocument: "key policy of KMS key " + testKeyARN, fixResource: "*", fixPrincipal: testRole,
		},
		{
			name: "BareCrossAccount", fixture: "bare",
			kind: KindBare, policy: PolicyUnknown, side: SideUnknown,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "bucket policy of dev-artifacts (account 222222222222)", fixResource: testScope, fixPrincipal: testRole,
			minCauses: 3,
		},
		{
			name: "BareTrailingPeriod", fixture: "bare_period",
			kind: KindBare, policy: PolicyUnknown, side: SideUnknown,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "bucket policy of dev-artifacts", fixResource: testScope, fixPrincipal: testRole, minCauses: 3,
		},
		{
			name: "HeadObjectBodiless",
			edit: func(r *Request) {
				r.Operation, r.ErrorCode, r.Message, r.ExpectedBucketOwner = "HeadObject", "Forbidden", "Forbidden", ""
			},
			kind: KindBare, policy: PolicyUnknown, side: SideUnknown,
			action: "s3:GetObject", resource: testObjectARN,
			fixDocument: "bucket policy of dev-artifacts", fixResource: testScope, fixPrincipal: testRole, minCauses: 4,
		},
		{
			name: "HeadBucketOwnerProbeSucceeded",
			edit: func(r *Request) {
				r.Operation, r.Key, r.ErrorCode, r.Message, r.OwnerProbe = "HeadBucket", "", "", "", ProbeSucceeded
			},
			kind: KindOwnerMismatch, policy: PolicyNone, side: SideTools, account: testTools,
			action: "s3:ListBucket", resource: testBucketARN,
			fixDocument: "--bucket-owner",
		},
		{
			name: "HeadBucketOwnerProbeUnknown",
			edit: func(r *Request) { r.Operation, r.Key, r.ErrorCode, r.Message = "HeadBucket", "", "Forbidden", "" },
			kind: KindBare, policy: PolicyUnknown, side: SideUnknown,
			action: "s3:ListBucket", resource: testBucketARN,
			fixDocument: "--bucket-owner", minCauses: 4,
		},
		{
			name: "ACLNotSupported", fixture: "acl_not_supported",
			edit: func(r *Request) {
				r.StatusCode, r.ErrorCode, r.ACL = 400, "AccessControlListNotSupported", "public-read"
			},
			kind: KindACLRejected, policy: PolicyNone, side: SideDev, account: testDev,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "--acl",
		},
		{
			name: "AllAccessDisabled", fixture: "all_access_disabled",
			edit: func(r *Request) { r.ErrorCode = "AllAccessDisabled" },
			kind: KindAllAccessDisabled, policy: PolicyNone, side: SideDev, account: testDev,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "AWS account that owns dev-artifacts",
		},
		{
			name: "AnonymousCaller", fixture: "anonymous",
			kind: KindCredentials, policy: PolicyNone, side: SideTools, account: testTools,
			action: "s3:PutObject", resource: testObjectARN,
			fixDocument: "credentials of the build",
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := buildRequest("PutObject")
			if tt.edit != nil {
				tt.edit(&req)
			}
			if tt.fixture != "" {
				req.Message = readMessage(t, tt.fixture)
			}

			got := Diagnose(req)

			if got.Kind != tt.kind {
				t.Errorf("Kind = %q, want %q", got.Kind, tt.kind)
			}
			if got.PolicyType != tt.policy {
				t.Errorf("PolicyType = %q, want %q", got.PolicyType, tt.policy)
			}
			if got.Side != tt.side {
				t.Errorf("Side = %q, want %q", got.Side, tt.side)
			}
			if got.Account != tt.account {
				t.Errorf("Account = %q, want %q", got.Account, tt.account)
			}
			if got.Action != tt.action {
				t.Errorf("Action = %q, want %q", got.Action, tt.action)
			}
			if got.Resource != tt.resource {
				t.Errorf("Resource = %q, want %q", got.Resource, tt.resource)
			}
			if got.PolicyARN != tt.policyARN {
				t.Errorf("PolicyARN = %q, want %q", got.PolicyARN, tt.policyARN)
			}
			if got.Summary == "" {
				t.Error("Summary is empty")
			}
			if len(got.Causes) < tt.minCauses {
				t.Errorf("len(Causes) = %d, want at least %d: %q", len(got.Causes), tt.minCauses, got.Causes)
			}
			if len(got.Fixes) == 0 {
				t.Fatal("no fixes")
			}
			if !strings.Contains(got.Fixes[0].Document, tt.fixDocument) {
				t.Errorf("Fixes[0].Document = %q, want it to contain %q", got.Fixes[0].Document, tt.fixDocument)
			}

			checkStatements(t, got)

			first := got.Fixes[0]
			if tt.fixResource == "" && tt.fixPrincipal == "" {
				if len(first.Statement) == 0 && first.Advice == "" {
					t.Error("first fix has neither a statement nor advice")
				}
				return
			}
			stmt := decodeStatement(t, first.Statement)
			if tt.fixResource != "" && stmt.Resource != tt.fixResource {
				t.Errorf("first statement Resource = %v, want %q", stmt.Resource, tt.fixResource)
			}
			if tt.fixPrincipal != "" && stmt.Principal["AWS"] != tt.fixPrincipal {
				t.Errorf("first statement Principal.AWS = %q, want %q", stmt.Principal["AWS"], tt.fixPrincipal)
			}
		})
	}
}

// decodedStatement is a statement read back from a fix.
type decodedStatement struct {
	Sid       string
	Effect    string
	Principal map[string]string
	Action    any
	Resource  any
	Condition map[string]map[string]any
}

func decodeStatement(t *testing.T, raw json.RawMessage) decodedStatement {
	t.Helper()
	if len(raw) == 0 {
		t.Fatal("fix has no statement")
	}
	var s decodedStatement
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatalf("statement is not valid JSON: %v\n%s", err, raw)
	}
	return s
}

// checkStatements asserts what every statement of every fix must satisfy:
// valid JSON, an Allow with a Sid AWS accepts, and never a session ARN,
// which would grant only the one session that failed.
func checkStatements(t *testing.T, d Diagnosis) {
	t.Helper()
	for i, fix := range d.Fixes {
		if fix.Document == "" {
			t.Errorf("Fixes[%d].Document is empty", i)
		}
		if len(fix.Statement) == 0 {
			continue
		}
		s := decodeStatement(t, fix.Statement)
		if s.Effect != "Allow" {
			t.Errorf("Fixes[%d] Effect = %q, want Allow", i, s.Effect)
		}
		for _, r := range s.Sid {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
				t.Errorf("Fixes[%d] Sid %q has %q, which AWS rejects", i, s.Sid, r)
			}
		}
		if strings.Contains(string(fix.Statement), ":assumed-role/") {
			t.Errorf("Fixes[%d] statement names a session ARN:\n%s", i, fix.Statement)
		}
		if p := s.Principal["AWS"]; p != "" && isSessionARN(p) {
			t.Errorf("Fixes[%d] Principal.AWS = %q, a session ARN", i, p)
		}
	}
}

func TestDiagnoseListPrefixCondition(t *testing.T) {
	req := buildRequest("ListObjectsV2")
	req.Key = ""
	req.Message = readMessage(t, "list_identity_implicit")

	got := Diagnose(req)

	stmt := decodeStatement(t, got.Fixes[0].Statement)
	if gotPrefix := stmt.Condition["StringLike"]["s3:prefix"]; gotPrefix != "releases/app/*" {
		t.Errorf("s3:prefix condition = %v, want %q", gotPrefix, "releases/app/*")
	}
}

func TestDiagnoseObjectScopeWithoutPrefix(t *testing.T) {
	req := buildRequest("PutObject")
	req.Prefix = ""
	req.Message = readMessage(t, "resource_implicit")

	got := Diagnose(req)

	stmt := decodeStatement(t, got.Fixes[0].Statement)
	if stmt.Resource != "arn:aws:s3:::dev-artifacts/*" {
		t.Errorf("Resource = %v, want %q", stmt.Resource, "arn:aws:s3:::dev-artifacts/*")
	}
}

func TestDiagnoseKeyOutsidePrefix(t *testing.T) {
	req := buildRequest("PutObject")
	req.Key = "elsewhere/v1.tgz"
	req.Message = "Access Denied"

	got := Diagnose(req)

	stmt := decodeStatement(t, got.Fixes[0].Statement)
	if stmt.Resource != "arn:aws:s3:::dev-artifacts/*" {
		t.Errorf("Resource = %v, want the whole bucket because the key is outside the prefix", stmt.Resource)
	}
}

func TestDiagnoseACLAddsPutObjectAcl(t *testing.T) {
	req := buildRequest("PutObject")
	req.ACL = "bucket-owner-full-control"
	req.Message = readMessage(t, "resource_implicit")

	got := Diagnose(req)

	stmt := decodeStatement(t, got.Fixes[0].Statement)
	actions, ok := stmt.Action.([]any)
	if !ok || len(actions) != 2 || actions[0] != "s3:PutObject" || actions[1] != "s3:PutObjectAcl" {
		t.Errorf("Action = %v, want [s3:PutObject s3:PutObjectAcl]", stmt.Action)
	}
}

func TestDiagnoseBareCauseOrder(t *testing.T) {
	req := buildRequest("PutObject")
	req.Message = "Access Denied"
	req.SSE = "aws:kms"
	req.ACL = "bucket-owner-full-control"
	req.ExpectedBucketOwner = testDev

	got := Diagnose(req)

	wantOrder := []string{"bucket policy of dev-artifacts", "identity policy of role CodeBuildRole", "explicit Deny", "KMS key", "ACL"}
	if len(got.Causes) < len(wantOrder) {
		t.Fatalf("got %d causes, want at least %d: %q", len(got.Causes), len(wantOrder), got.Causes)
	}
	for i, want := range wantOrder {
		if !strings.Contains(got.Causes[i], want) {
			t.Errorf("Causes[%d] = %q, want it to mention %q", i, got.Causes[i], want)
		}
	}
	if len(got.Fixes) < 2 || !strings.HasPrefix(got.Fixes[1].Document, "identity policy") {
		t.Errorf("Fixes = %+v, want the bucket policy fix then the identity policy fix", got.Fixes)
	}
	if !containsText(got.Notes, "countersign explain") {
		t.Errorf("Notes = %q, want a pointer to countersign explain", got.Notes)
	}
}

func TestDiagnoseHeadOwnerFirstCause(t *testing.T) {
	req := buildRequest("HeadBucket")
	req.Key, req.ErrorCode, req.Message = "", "Forbidden", ""

	got := Diagnose(req)

	if len(got.Causes) == 0 || !strings.Contains(got.Causes[0], "ExpectedBucketOwner 222222222222") {
		t.Errorf("Causes[0] = %q, want the owner mismatch first", got.Causes)
	}
}

func TestDiagnoseOwnerProbeDenied(t *testing.T) {
	req := buildRequest("HeadBucket")
	req.Key, req.ErrorCode, req.Message, req.OwnerProbe = "", "Forbidden", "", ProbeDenied

	got := Diagnose(req)

	if got.Kind != KindBare {
		t.Errorf("Kind = %q, want %q", got.Kind, KindBare)
	}
	if containsText(got.Causes, "ExpectedBucketOwner") {
		t.Errorf("Causes = %q, want no owner cause because the probe was denied too", got.Causes)
	}
	if !containsText(got.Notes, "without ExpectedBucketOwner was denied too") {
		t.Errorf("Notes = %q, want the denied probe noted", got.Notes)
	}
}

func TestDiagnoseSameAccountBare(t *testing.T) {
	req := buildRequest("PutObject")
	req.ExpectedBucketOwner = testTools
	req.Message = "Access Denied"

	got := Diagnose(req)

	if !strings.HasPrefix(got.Fixes[0].Document, "identity policy") {
		t.Errorf("Fixes[0].Document = %q, want the identity policy first within one account", got.Fixes[0].Document)
	}
}

func TestDiagnoseRoleWithoutPath(t *testing.T) {
	req := buildRequest("PutObject")
	req.RoleARN = ""
	req.Message = readMessage(t, "resource_implicit")

	got := Diagnose(req)

	want := "arn:aws:iam::111111111111:role/CodeBuildRole"
	if got.Principal != want {
		t.Errorf("Principal = %q, want %q", got.Principal, want)
	}
	if !containsText(got.Notes, "drops the role's path") {
		t.Errorf("Notes = %q, want a note that the path is unknown", got.Notes)
	}
	stmt := decodeStatement(t, got.Fixes[0].Statement)
	if stmt.Principal["AWS"] != want {
		t.Errorf("Principal.AWS = %q, want %q", stmt.Principal["AWS"], want)
	}
}

func TestDiagnoseCallerIsAnotherRole(t *testing.T) {
	req := buildRequest("PutObject")
	req.Message = readMessage(t, "other_role")

	got := Diagnose(req)

	if got.Principal != "arn:aws:iam::111111111111:role/SomeOtherRole" {
		t.Errorf("Principal = %q, want the role AWS evaluated", got.Principal)
	}
	if !containsText(got.Notes, "not as the expected role") {
		t.Errorf("Notes = %q, want an identity mismatch note", got.Notes)
	}
}

func TestDiagnoseTrustStatement(t *testing.T) {
	req := Request{
		Operation:  "AssumeRole",
		RoleARN:    testRole,
		ProjectARN: "arn:aws:codebuild:eu-west-1:111111111111:project/deliver",
		StatusCode: 403,
		ErrorCode:  "AccessDenied",
		Message:    readMessage(t, "trust_codebuild"),
	}

	got := Diagnose(req)

	stmt := decodeStatement(t, got.Fixes[0].Statement)
	if stmt.Principal["Service"] != "codebuild.amazonaws.com" {
		t.Errorf("Principal = %v, want the CodeBuild service", stmt.Principal)
	}
	if stmt.Action != "sts:AssumeRole" {
		t.Errorf("Action = %v, want sts:AssumeRole", stmt.Action)
	}
	if got := stmt.Condition["StringEquals"]["aws:SourceAccount"]; got != testTools {
		t.Errorf("aws:SourceAccount = %v, want %q", got, testTools)
	}
	if got := stmt.Condition["ArnLike"]["aws:SourceArn"]; got != req.ProjectARN {
		t.Errorf("aws:SourceArn = %v, want %q", got, req.ProjectARN)
	}
}

func TestDiagnoseTrustPlaceholder(t *testing.T) {
	req := Request{Operation: "AssumeRole", RoleARN: testRole, StatusCode: 403, ErrorCode: "AccessDenied",
		Message: readMessage(t, "trust_codebuild")}

	got := Diagnose(req)

	stmt := decodeStatement(t, got.Fixes[0].Statement)
	if got := stmt.Condition["ArnLike"]["aws:SourceArn"]; got != placeholderProjectARN {
		t.Errorf("aws:SourceArn = %v, want the placeholder %q", got, placeholderProjectARN)
	}
	if !containsText(got.Notes, "project ARN is unknown") {
		t.Errorf("Notes = %q, want the placeholder explained", got.Notes)
	}
}

func TestDiagnoseKMSKeyCondition(t *testing.T) {
	req := buildRequest("PutObject")
	req.Message = readMessage(t, "kms_key_policy")

	got := Diagnose(req)

	stmt := decodeStatement(t, got.Fixes[0].Statement)
	if got := stmt.Condition["StringEquals"]["kms:ViaService"]; got != "s3.eu-west-1.amazonaws.com" {
		t.Errorf("kms:ViaService = %v, want s3.eu-west-1.amazonaws.com", got)
	}
	actions, ok := stmt.Action.([]any)
	if !ok || len(actions) != 2 || actions[0] != "kms:GenerateDataKey" || actions[1] != "kms:Decrypt" {
		t.Errorf("Action = %v, want [kms:GenerateDataKey kms:Decrypt] for a write", stmt.Action)
	}
	if len(got.Fixes) < 2 || decodeStatement(t, got.Fixes[1].Statement).Resource != testKeyARN {
		t.Errorf("want a second fix granting the key ARN in the identity policy, got %+v", got.Fixes)
	}
}

func TestDiagnoseCredentialCodes(t *testing.T) {
	tests := []struct {
		name string
		code string
		want string // a word the advice must contain
	}{
		{name: "InvalidAccessKeyId", code: "InvalidAccessKeyId", want: "AWS_ACCESS_KEY_ID"},
		{name: "SignatureDoesNotMatch", code: "SignatureDoesNotMatch", want: "secret key"},
		{name: "ExpiredToken", code: "ExpiredToken", want: "AWS_SESSION_TOKEN"},
		{name: "InvalidToken", code: "InvalidToken", want: "session token"},
		{name: "ExpiredTokenException", code: "ExpiredTokenException", want: "expired"},
		{name: "InvalidClientTokenId", code: "InvalidClientTokenId", want: "STS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := buildRequest("PutObject")
			req.ErrorCode, req.Message = tt.code, "The provided token has expired."

			got := Diagnose(req)

			if got.Kind != KindCredentials {
				t.Errorf("Kind = %q, want %q", got.Kind, KindCredentials)
			}
			if got.Side != SideTools || got.Account != testTools {
				t.Errorf("Side = %q (account %q), want %q (account %q)", got.Side, got.Account, SideTools, testTools)
			}
			if len(got.Fixes) != 1 || !strings.Contains(got.Fixes[0].Advice, tt.want) {
				t.Errorf("Fixes = %+v, want advice mentioning %q", got.Fixes, tt.want)
			}
		})
	}
}

func TestDiagnoseNotDenied(t *testing.T) {
	req := buildRequest("GetObject")
	req.StatusCode, req.ErrorCode, req.Message = 404, "NoSuchKey", "The specified key does not exist."

	got := Diagnose(req)

	if got.Kind != KindNotDenied {
		t.Errorf("Kind = %q, want %q", got.Kind, KindNotDenied)
	}
	if len(got.Fixes) != 0 {
		t.Errorf("Fixes = %+v, want none", got.Fixes)
	}
}

func TestDiagnoseEmptyRequest(t *testing.T) {
	got := Diagnose(Request{})

	if got.Kind != KindNotDenied {
		t.Errorf("Kind = %q, want %q", got.Kind, KindNotDenied)
	}
	if got.Summary == "" {
		t.Error("Summary is empty")
	}
}

func TestDiagnoseBareWithoutAnything(t *testing.T) {
	got := Diagnose(Request{StatusCode: 403})

	if got.Kind != KindBare {
		t.Errorf("Kind = %q, want %q", got.Kind, KindBare)
	}
	checkStatements(t, got)
	if !containsText(got.Notes, "<ROLE_ARN>") {
		t.Errorf("Notes = %q, want the role placeholder explained", got.Notes)
	}
}

func TestDiagnoseInvalidBucketOwner(t *testing.T) {
	req := buildRequest("HeadBucket")
	req.ExpectedBucketOwner = "dev"
	req.Message = ""

	got := Diagnose(req)

	if !containsText(got.Notes, "not a 12-digit account id") {
		t.Errorf("Notes = %q, want the malformed owner named", got.Notes)
	}
}

func containsText(items []string, text string) bool {
	for _, item := range items {
		if strings.Contains(item, text) {
			return true
		}
	}
	return false
}
