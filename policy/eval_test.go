package policy

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func loadEvalPolicy(t testing.TB, name string) *Policy {
	t.Helper()

	data, err := os.ReadFile(filepath.Join("testdata", "eval", name+".json"))
	if err != nil {
		t.Fatal(err)
	}

	p, err := Parse(data)
	if err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}

	return p
}

// fixtureSet names the fixtures of a PolicySet.
type fixtureSet struct {
	identity []string
	resource string
	scps     [][]string
	rcps     [][]string
	boundary string
	session  []string
}

func (f fixtureSet) load(t testing.TB) PolicySet {
	t.Helper()

	var set PolicySet

	for _, n := range f.identity {
		set.Identity = append(set.Identity, loadEvalPolicy(t, n))
	}

	for _, n := range f.session {
		set.Session = append(set.Session, loadEvalPolicy(t, n))
	}

	if f.resource != "" {
		set.Resource = loadEvalPolicy(t, f.resource)
	}

	if f.boundary != "" {
		set.Boundary = loadEvalPolicy(t, f.boundary)
	}

	levels := func(names [][]string) [][]*Policy {
		var out [][]*Policy

		for _, level := range names {
			var ps []*Policy
			for _, n := range level {
				ps = append(ps, loadEvalPolicy(t, n))
			}

			out = append(out, ps)
		}

		return out
	}

	set.SCPs = levels(f.scps)
	set.RCPs = levels(f.rcps)

	return set
}

func crossAccountPut() Request {
	return Request{
		Principal:        buildSession,
		PrincipalRoleARN: buildRole,
		Action:           "s3:PutObject",
		Resource:         artifact,
		ResourceAccount:  devAccount,
		Context:          map[string][]string{"s3:x-amz-acl": {"bucket-owner-full-control"}},
	}
}

func devRequest(principal, action, resource string) Request {
	return Request{Principal: principal, Action: action, Resource: resource, ResourceAccount: devAccount}
}

func TestEvaluateDecision(t *testing.T) {
	withRoleARN := func(r Request, roleARN string) Request {
		r.PrincipalRoleARN = roleARN

		return r
	}

	withContext := func(r Request, key string, values ...string) Request {
		ctx := map[string][]string{key: values}
		for k, v := range r.Context {
			if k != key {
				ctx[k] = v
			}
		}

		r.Context = ctx

		return r
	}

	noACL := crossAccountPut()
	noACL.Context = nil

	tests := []struct {
		name         string
		req          Request
		set          fixtureSet
		want         Decision
		wantDeniedBy []PolicyType
		wantCross    bool
	}{
		{name: "SameAccountIdentityOnly", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}}, want: Allowed},
		{name: "SameAccountResourceOnly", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_session"}, want: Allowed},
		{name: "SameAccountNoPolicy", req: devRequest(aliceSession, "s3:GetObject", artifact),
			want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity}},
		{name: "SameAccountNeitherAllows", req: devRequest(bobSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_session"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity, TypeResource}},
		{name: "ActionCaseInsensitive", req: devRequest(aliceSession, "S3:putOBJECT", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}}, want: Allowed},
		{name: "ResourceCaseSensitive", req: devRequest(aliceSession, "s3:PutObject", "arn:aws:s3:::Dev-Artifacts/x"),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity}},

		{name: "CrossAccountBothAllow", req: crossAccountPut(),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role"}, want: Allowed, wantCross: true},
		{name: "CrossAccountIdentityOnly", req: crossAccountPut(),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeResource}, wantCross: true},
		{name: "CrossAccountResourceOnly", req: crossAccountPut(),
			set: fixtureSet{resource: "bucket_cross_account_role"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity}, wantCross: true},
		{name: "CrossAccountConditionMissing", req: noACL,
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeResource}, wantCross: true},
		{name: "CrossAccountBoundaryBlocks", req: crossAccountPut(),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role", boundary: "boundary_read_only"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeBoundary}, wantCross: true},

		{name: "RolePathWithoutRoleARN", req: withRoleARN(crossAccountPut(), ""),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role"}, want: Allowed, wantCross: true},
		{name: "RolePathDiffers", req: withRoleARN(crossAccountPut(), "arn:aws:iam::111111111111:role/other-path/build-role"),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeResource}, wantCross: true},
		{name: "AccountRootDelegation", req: crossAccountPut(),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_account_root"}, want: Allowed, wantCross: true},
		{name: "AccountRootDelegationNoIdentity", req: crossAccountPut(),
			set: fixtureSet{resource: "bucket_account_root"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity}, wantCross: true},
		{name: "UniqueIDMatchesNobody", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_unique_id"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity, TypeResource}},

		{name: "ExplicitDenyIdentity", req: devRequest(aliceSession, "s3:PutObject", "arn:aws:s3:::dev-artifacts/secret/key"),
			set: fixtureSet{identity: []string{"identity_put_artifacts", "identity_deny_secret"}}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity}},
		{name: "ExplicitDenyResource", req: withContext(devRequest(aliceSession, "s3:PutObject", artifact), "aws:SecureTransport", "false"),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_deny_insecure"}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeResource}},
		{name: "SecureTransportFilled", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_deny_insecure"}, want: Allowed},
		{name: "ExplicitDenySCP", req: devRequest(aliceSession, "s3:DeleteObject", artifact),
			set: fixtureSet{identity: []string{"identity_not_action"}, scps: [][]string{{"scp_allow_all", "scp_deny_delete"}}}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeSCP}},
		{name: "ExplicitDenyRCPOutsideOrg", req: withContext(crossAccountPut(), "aws:PrincipalOrgID", "o-elsewhere"),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role", rcps: [][]string{{"rcp_allow_all", "rcp_org_only"}}}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeRCP}, wantCross: true},
		{name: "RCPInsideOrg", req: withContext(crossAccountPut(), "aws:PrincipalOrgID", "o-countersign"),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role", rcps: [][]string{{"rcp_allow_all", "rcp_org_only"}}}, want: Allowed, wantCross: true},
		{name: "RCPLevelWithoutAllow", req: crossAccountPut(),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role", rcps: [][]string{{"rcp_allow_all"}, {"scp_deny_delete"}}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeRCP}, wantCross: true},
		{name: "ExplicitDenyBoundary", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, boundary: "boundary_deny_put"}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeBoundary}},
		{name: "ExplicitDenySession", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, session: []string{"boundary_deny_put"}}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeSession}},

		{name: "SCPLevelNotAllowing", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, scps: [][]string{{"scp_allow_all"}, {"scp_only_ec2"}}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeSCP}},
		{name: "SCPEveryLevelAllows", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, scps: [][]string{{"scp_allow_all"}, {"scp_allow_all"}}}, want: Allowed},
		{name: "BoundaryBlocksIdentity", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, boundary: "boundary_read_only"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeBoundary}},
		{name: "BoundaryAllowsIdentity", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, boundary: "boundary_read_only"}, want: Allowed},
		{name: "SessionPolicyBlocks", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, session: []string{"session_list_only"}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeSession}},

		{name: "ResourceNamesSessionPastBoundary", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_session", boundary: "session_list_only"}, want: Allowed},
		{name: "ResourceNamesRoleBoundaryBlocks", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_role_same", boundary: "session_list_only"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeBoundary}},
		{name: "ResourceNamesSessionPastSession", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_session", session: []string{"session_list_only"}}, want: Allowed},
		{name: "ResourceNamesRoleSessionBlocks", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_role_same", session: []string{"session_list_only"}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeSession}},
		{name: "ResourceNamesRoleNoBoundary", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_role_same"}, want: Allowed},

		{name: "NotPrincipalListed", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_not_principal"}, want: Allowed},
		{name: "NotPrincipalUnlisted", req: devRequest(bobSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_not_principal"}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeResource}},
		{name: "NotPrincipalWithBoundary", req: devRequest(aliceSession, "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_not_principal", boundary: "scp_allow_all"}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeResource}},
		{name: "NotActionAllows", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{identity: []string{"identity_not_action"}}, want: Allowed},
		{name: "NotActionExcludes", req: devRequest(aliceSession, "iam:CreateRole", "arn:aws:iam::222222222222:role/x"),
			set: fixtureSet{identity: []string{"identity_not_action"}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity}},
		{name: "NotResourceDenies", req: devRequest(aliceSession, "s3:GetObject", "arn:aws:s3:::other-bucket/x"),
			set: fixtureSet{identity: []string{"identity_not_action"}}, want: ExplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity}},

		{name: "AnonymousPublicRead", req: devRequest("", "s3:GetObject", "arn:aws:s3:::dev-artifacts/public/index.html"),
			set: fixtureSet{resource: "bucket_public_read"}, want: Allowed},
		{name: "AnonymousPrivate", req: devRequest("*", "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_public_read"}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeResource}},
		{name: "AnonymousIgnoresIdentity", req: devRequest("", "s3:PutObject", artifact),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeResource}},
		{name: "RootUserOwnAccount", req: devRequest(devRoot, "s3:PutObject", artifact), want: Allowed},
		{name: "RootUserSCP", req: devRequest(devRoot, "s3:PutObject", artifact),
			set: fixtureSet{scps: [][]string{{"scp_only_ec2"}}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeSCP}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.req, tt.set.load(t))
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}

			if got.Decision != tt.want {
				t.Errorf("Decision = %v, want %v\n%s", got.Decision, tt.want, got)
			}

			if tt.wantDeniedBy != nil && !slices.Equal(got.DeniedBy, tt.wantDeniedBy) {
				t.Errorf("DeniedBy = %v, want %v", got.DeniedBy, tt.wantDeniedBy)
			}

			if got.CrossAccount != tt.wantCross {
				t.Errorf("CrossAccount = %t, want %t", got.CrossAccount, tt.wantCross)
			}
		})
	}
}

func TestEvaluateVariables(t *testing.T) {
	home := func(rest string) string { return "arn:aws:s3:::dev-artifacts/" + rest }

	tests := []struct {
		name string
		req  Request
		want Decision
	}{
		{name: "UsernameOwnFolder", req: devRequest(carolUser, "s3:GetObject", home("home/carol/notes.txt")), want: Allowed},
		{name: "UsernameOtherFolder", req: devRequest(carolUser, "s3:GetObject", home("home/dave/notes.txt")), want: ImplicitDeny},
		{name: "UsernameMissingForRole", req: devRequest(aliceSession, "s3:GetObject", home("home/alice/notes.txt")), want: ImplicitDeny},
		{name: "TagDefaultUsed", req: devRequest(aliceSession, "s3:PutObject", home("team/shared/x")), want: Allowed},
		{name: "TagValueUsed", req: Request{Principal: aliceSession, Action: "s3:PutObject", Resource: home("team/blue/x"),
			Context: map[string][]string{"aws:PrincipalTag/team": {"blue"}}}, want: Allowed},
		{name: "TagValueReplacesDefault", req: Request{Principal: aliceSession, Action: "s3:PutObject", Resource: home("team/shared/x"),
			Context: map[string][]string{"AWS:principaltag/TEAM": {"blue"}}}, want: ImplicitDeny},
		{name: "LiteralStarMatchesStar", req: devRequest(aliceSession, "s3:DeleteObject", home("odd/*")), want: Allowed},
		{name: "LiteralStarNotWildcard", req: devRequest(aliceSession, "s3:DeleteObject", home("odd/abc")), want: ImplicitDeny},
	}

	set := PolicySet{Identity: []*Policy{loadEvalPolicy(t, "identity_home_folder")}}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.req, set)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}

			if got.Decision != tt.want {
				t.Errorf("Decision = %v, want %v\n%s", got.Decision, tt.want, got)
			}
		})
	}
}

func TestEvaluateVariablesVersion2008(t *testing.T) {
	p, err := Parse([]byte(`{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject",
		"Resource": "arn:aws:s3:::dev-artifacts/home/${aws:username}/*"}]}`))
	if err != nil {
		t.Fatal(err)
	}

	set := PolicySet{Identity: []*Policy{p}}

	literal, err := Evaluate(devRequest(carolUser, "s3:GetObject", "arn:aws:s3:::dev-artifacts/home/${aws:username}/x"), set)
	if err != nil {
		t.Fatal(err)
	}

	if literal.Decision != Allowed {
		t.Errorf("literal path: Decision = %v, want Allowed", literal.Decision)
	}

	substituted, err := Evaluate(devRequest(carolUser, "s3:GetObject", "arn:aws:s3:::dev-artifacts/home/carol/x"), set)
	if err != nil {
		t.Fatal(err)
	}

	if substituted.Decision != ImplicitDeny {
		t.Errorf("user path: Decision = %v, want ImplicitDeny", substituted.Decision)
	}
}

func TestEvaluateTrust(t *testing.T) {
	codebuild := func(ctx map[string][]string) Request {
		return Request{Principal: "codebuild.amazonaws.com", Resource: deliveryRole, Context: ctx}
	}

	source := map[string][]string{
		"aws:SourceAccount": {toolsAccount},
		"aws:SourceArn":     {"arn:aws:codebuild:eu-west-1:111111111111:project/countersign"},
	}
	wrongAccount := map[string][]string{
		"aws:SourceAccount": {"333333333333"},
		"aws:SourceArn":     {"arn:aws:codebuild:eu-west-1:333333333333:project/countersign"},
	}
	noArn := map[string][]string{"aws:SourceAccount": {toolsAccount}}

	crossCaller := Request{Principal: buildSession, PrincipalRoleARN: buildRole, Resource: deliveryRole}

	tests := []struct {
		name         string
		req          Request
		trust        string
		caller       fixtureSet
		want         Decision
		wantDeniedBy []PolicyType
	}{
		{name: "CodeBuildSourceMatches", req: codebuild(source), trust: "trust_codebuild", want: Allowed},
		{name: "CodeBuildWrongAccount", req: codebuild(wrongAccount), trust: "trust_codebuild", want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeTrust}},
		{name: "CodeBuildSourceArnMissing", req: codebuild(noArn), trust: "trust_codebuild", want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeTrust}},
		{name: "OtherServiceRejected", req: Request{Principal: "lambda.amazonaws.com", Resource: deliveryRole, Context: source}, trust: "trust_codebuild", want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeTrust}},
		{name: "CrossAccountBothSides", req: crossCaller, trust: "trust_tools_account",
			caller: fixtureSet{identity: []string{"identity_assume_delivery"}}, want: Allowed},
		{name: "CrossAccountNoIdentity", req: crossCaller, trust: "trust_tools_account", want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeIdentity}},
		{name: "CrossAccountTrustSilent", req: crossCaller, trust: "trust_codebuild",
			caller: fixtureSet{identity: []string{"identity_assume_delivery"}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeTrust}},
		{name: "CallerSCPApplies", req: crossCaller, trust: "trust_tools_account",
			caller: fixtureSet{identity: []string{"identity_assume_delivery"}, scps: [][]string{{"scp_only_ec2"}}}, want: ImplicitDeny, wantDeniedBy: []PolicyType{TypeSCP}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := EvaluateTrust(tt.req, loadEvalPolicy(t, tt.trust), tt.caller.load(t))
			if err != nil {
				t.Fatalf("EvaluateTrust: %v", err)
			}

			if got.Decision != tt.want {
				t.Errorf("Decision = %v, want %v\n%s", got.Decision, tt.want, got)
			}

			if tt.wantDeniedBy != nil && !slices.Equal(got.DeniedBy, tt.wantDeniedBy) {
				t.Errorf("DeniedBy = %v, want %v", got.DeniedBy, tt.wantDeniedBy)
			}
		})
	}
}

func TestEvaluateInvalidRequest(t *testing.T) {
	tests := []struct {
		name string
		req  Request
	}{
		{name: "ActionWithoutPrefix", req: devRequest(aliceSession, "PutObject", artifact)},
		{name: "ActionEmptyName", req: devRequest(aliceSession, "s3:", artifact)},
		{name: "ResourceEmpty", req: devRequest(aliceSession, "s3:PutObject", "")},
		{name: "PrincipalNotARN", req: devRequest("alice", "s3:PutObject", artifact)},
		{name: "PrincipalSessionWithoutName", req: devRequest("arn:aws:sts::222222222222:assumed-role/deployer", "s3:PutObject", artifact)},
		{name: "PrincipalUnknownARN", req: devRequest("arn:aws:s3:::bucket", "s3:PutObject", artifact)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Evaluate(tt.req, PolicySet{})
			if !errors.Is(err, ErrInvalidRequest) {
				t.Errorf("error = %v, want ErrInvalidRequest", err)
			}
		})
	}

	if _, err := EvaluateTrust(devRequest(aliceSession, "", deliveryRole), nil, PolicySet{}); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("EvaluateTrust with nil trust: error = %v, want ErrInvalidRequest", err)
	}
}

func TestEvaluateExplanation(t *testing.T) {
	req := crossAccountPut()
	req.Context = nil

	set := fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role"}.load(t)

	got, err := Evaluate(req, set)
	if err != nil {
		t.Fatal(err)
	}

	var resource *PolicyResult

	for i := range got.Policies {
		if got.Policies[i].Type == TypeResource {
			resource = &got.Policies[i]
		}
	}

	if resource == nil {
		t.Fatalf("no resource policy in result:\n%s", got)
	}

	if resource.ID != "CrossAccountDelivery" {
		t.Errorf("resource policy ID = %q, want CrossAccountDelivery", resource.ID)
	}

	st := resource.Statements[0]

	if st.Failed != ElementCondition {
		t.Errorf("Failed = %q, want condition", st.Failed)
	}

	if st.Principal != PrincipalMatchRole {
		t.Errorf("Principal = %v, want role", st.Principal)
	}

	if st.Condition == nil {
		t.Fatal("Condition = nil, want the failed condition")
	}

	if !st.Condition.KeyMissing {
		t.Error("Condition.KeyMissing = false, want true")
	}

	if st.Condition.Key != "s3:x-amz-acl" {
		t.Errorf("Condition.Key = %q, want s3:x-amz-acl", st.Condition.Key)
	}

	if reason := st.Reason(); !strings.Contains(reason, "key missing") {
		t.Errorf("Reason() = %q, want it to say key missing", reason)
	}

	if text := got.String(); !strings.Contains(text, "denied by resource") {
		t.Errorf("String() = %q, want it to name the resource side", text)
	}

	identity := got.Policies[0]
	if identity.Type != TypeIdentity || !identity.Allows || !identity.Statements[0].Matched {
		t.Errorf("identity policy result = %+v, want an applying Allow", identity)
	}
}

func TestEvaluateExplanationPrincipal(t *testing.T) {
	req := devRequest(bobSession, "s3:GetObject", artifact)

	got, err := Evaluate(req, PolicySet{Resource: loadEvalPolicy(t, "bucket_session")})
	if err != nil {
		t.Fatal(err)
	}

	st := got.Policies[0].Statements[0]

	if st.Failed != ElementPrincipal {
		t.Errorf("Failed = %q, want principal", st.Failed)
	}

	if reason := st.Reason(); !strings.HasPrefix(reason, "principal") {
		t.Errorf("Reason() = %q, want it to start with principal", reason)
	}
}

func TestEvaluateAllowedBy(t *testing.T) {
	tests := []struct {
		name string
		req  Request
		set  fixtureSet
		want []PolicyType
	}{
		{name: "CrossAccountBothSides", req: crossAccountPut(),
			set: fixtureSet{identity: []string{"identity_put_artifacts"}, resource: "bucket_cross_account_role"}, want: []PolicyType{TypeIdentity, TypeResource}},
		{name: "ResourceOnly", req: devRequest(aliceSession, "s3:GetObject", artifact),
			set: fixtureSet{resource: "bucket_session"}, want: []PolicyType{TypeResource}},
		{name: "RootUserImplicit", req: devRequest(devRoot, "s3:GetObject", artifact), want: []PolicyType{TypeIdentity}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.req, tt.set.load(t))
			if err != nil {
				t.Fatal(err)
			}

			if got.Decision != Allowed {
				t.Fatalf("Decision = %v, want Allowed\n%s", got.Decision, got)
			}

			if !slices.Equal(got.AllowedBy, tt.want) {
				t.Errorf("AllowedBy = %v, want %v", got.AllowedBy, tt.want)
			}
		})
	}
}

func TestEvaluateSameAccountDelegation(t *testing.T) {
	req := Request{Principal: buildSession, PrincipalRoleARN: buildRole, Action: "s3:PutObject",
		Resource: "arn:aws:s3:::tools-cache/x", ResourceAccount: toolsAccount}
	set := PolicySet{Resource: loadEvalPolicy(t, "bucket_account_root")}
	set.Resource.Statements[0].Resource[0].Raw = "arn:aws:s3:::tools-cache/*"

	got, err := Evaluate(req, set)
	if err != nil {
		t.Fatal(err)
	}

	if got.Decision != ImplicitDeny {
		t.Errorf("Decision = %v, want ImplicitDeny because naming the account only delegates", got.Decision)
	}

	if !slices.Equal(got.DeniedBy, []PolicyType{TypeIdentity}) {
		t.Errorf("DeniedBy = %v, want [identity]", got.DeniedBy)
	}
}

func TestEvaluateTrustSameAccount(t *testing.T) {
	names := func(principal string) *Policy {
		p, err := Parse([]byte(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "` + principal + `"}, "Action": "sts:AssumeRole"}]}`))
		if err != nil {
			t.Fatal(err)
		}

		return p
	}

	req := Request{Principal: carolUser, Resource: deliveryRole}

	direct, err := EvaluateTrust(req, names(carolUser), PolicySet{})
	if err != nil {
		t.Fatal(err)
	}

	if direct.Decision != Allowed {
		t.Errorf("trust naming the user: Decision = %v, want Allowed\n%s", direct.Decision, direct)
	}

	delegated, err := EvaluateTrust(req, names(devRoot), PolicySet{})
	if err != nil {
		t.Fatal(err)
	}

	if delegated.Decision != ImplicitDeny {
		t.Errorf("trust naming the account without identity policy: Decision = %v, want ImplicitDeny", delegated.Decision)
	}

	if !slices.Equal(delegated.DeniedBy, []PolicyType{TypeIdentity}) {
		t.Errorf("trust naming the account: DeniedBy = %v, want [identity]", delegated.DeniedBy)
	}
}
