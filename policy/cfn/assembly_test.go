package cfn

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/countersign/countersign/policy"
)

const (
	roleARN      = "arn:aws:iam::111111111111:role/service-role/CodeBuildRole"
	bucketName   = "countersign-dev-artifacts-222222222222"
	bucketARN    = "arn:aws:s3:::" + bucketName
	bucketObject = bucketARN + "/*"
)

func loadFixture(t *testing.T) *Assembly {
	t.Helper()

	a, err := LoadCloudAssembly(filepath.Join("testdata", "cdk.out"))
	if err != nil {
		t.Fatalf("LoadCloudAssembly: %v", err)
	}

	return a
}

func TestLoadCloudAssemblyStacks(t *testing.T) {
	a := loadFixture(t)

	if got := len(a.Stacks); got != 2 {
		t.Fatalf("got %d stacks, want 2", got)
	}

	tools, dev := a.Stacks[0], a.Stacks[1]

	got := []string{tools.Name, tools.Account, tools.Region, tools.Partition, tools.TemplateFile}
	want := []string{"CountersignTools", "111111111111", "eu-west-1", "aws", "CountersignTools.template.json"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tools stack: got %q, want %q", got, want)
	}

	got = []string{dev.Name, dev.Account, dev.Region, dev.Partition}
	want = []string{"CountersignDev", "222222222222", "eu-west-1", "aws"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("dev stack: got %q, want %q", got, want)
	}

	if problems := a.Problems(); len(problems) != 0 {
		t.Errorf("got problems %v, want none", problems)
	}
}

func TestLoadCloudAssemblyRole(t *testing.T) {
	a := loadFixture(t)

	role, ok := a.FindRole(roleARN)
	if !ok {
		t.Fatalf("FindRole(%q) found nothing", roleARN)
	}

	if byName, ok := a.FindRole("CodeBuildRole"); !ok || byName != role {
		t.Errorf("FindRole by name: got %v, %v, want the same role as by ARN", byName, ok)
	}

	got := []string{role.Stack, role.LogicalID, role.Name, role.ARN, role.Path}
	want := []string{"CountersignTools", "CodeBuildRole3C5D2F7A", "CodeBuildRole", roleARN, "/service-role/"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("role: got %q, want %q", got, want)
	}

	if role.Trust == nil {
		t.Fatalf("trust policy is nil; TrustJSON:\n%s", role.TrustJSON)
	}

	st := role.Trust.Statements[0]
	if got := st.Principal.Values(policy.PrincipalService); !reflect.DeepEqual(got, []string{"codebuild.amazonaws.com"}) {
		t.Errorf("trust principal: got %q, want codebuild.amazonaws.com", got)
	}

	conditions := map[string][]string{}
	for _, c := range st.Condition {
		conditions[c.Base+" "+c.Key] = c.Values
	}

	wantConditions := map[string][]string{
		"StringEquals aws:SourceAccount": {"111111111111"},
		"ArnLike aws:SourceArn":          {"arn:aws:codebuild:eu-west-1:111111111111:project/countersign-deliver"},
	}
	if !reflect.DeepEqual(conditions, wantConditions) {
		t.Errorf("trust conditions: got %v, want %v", conditions, wantConditions)
	}

	// The resolved JSON keeps the template's key order.
	if i, j := strings.Index(string(role.TrustJSON), "StringEquals"), strings.Index(string(role.TrustJSON), "ArnLike"); i < 0 || j < i {
		t.Errorf("trust JSON lost the template's condition order:\n%s", role.TrustJSON)
	}

	if got := len(role.Policies); got != 1 {
		t.Fatalf("got %d role policies, want 1", got)
	}

	np := role.Policies[0]
	if np.LogicalID != "CodeBuildRoleDefaultPolicy5E2A1B9C" || np.Name != "CodeBuildRoleDefaultPolicy5E2A1B9C" {
		t.Errorf("role policy: got logical id %q name %q", np.LogicalID, np.Name)
	}

	var resources []string
	for _, s := range np.Policy.Statements {
		for _, r := range s.Resource {
			resources = append(resources, r.Raw)
		}
	}

	wantResources := []string{bucketObject, bucketARN, "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/codebuild/countersign-deliver:*"}
	if !reflect.DeepEqual(resources, wantResources) {
		t.Errorf("role policy resources: got %q, want %q", resources, wantResources)
	}
}

func TestLoadCloudAssemblyBucketPolicy(t *testing.T) {
	a := loadFixture(t)

	bp, ok := a.BucketPolicyFor(bucketName)
	if !ok {
		t.Fatalf("BucketPolicyFor(%q) found nothing", bucketName)
	}

	if byARN, ok := a.BucketPolicyFor(bucketARN); !ok || byARN != bp {
		t.Errorf("BucketPolicyFor by ARN: got %v, %v, want the same policy", byARN, ok)
	}

	if bp.Stack != "CountersignDev" || bp.LogicalID != "ArtifactBucketPolicy4B7A1C2D" {
		t.Errorf("bucket policy: got stack %q logical id %q", bp.Stack, bp.LogicalID)
	}

	if got := len(bp.Policy.Statements); got != 3 {
		t.Fatalf("got %d statements, want 3", got)
	}

	deny := bp.Policy.Statements[0]
	if deny.Effect != policy.Deny || !deny.Principal.IsWildcard() {
		t.Errorf("statement 0: got effect %s wildcard %v, want a Deny for everyone", deny.Effect, deny.Principal.IsWildcard())
	}

	if got := []string{deny.Resource[0].Raw, deny.Resource[1].Raw}; !reflect.DeepEqual(got, []string{bucketARN, bucketObject}) {
		t.Errorf("statement 0 resources: got %q", got)
	}

	for _, i := range []int{1, 2} {
		st := bp.Policy.Statements[i]
		if got := st.Principal.Values(policy.PrincipalAWS); !reflect.DeepEqual(got, []string{roleARN}) {
			t.Errorf("statement %d principal: got %q, want %q", i, got, roleARN)
		}
	}

	if got := bp.Policy.Statements[1].Resource[0].Raw; got != bucketObject {
		t.Errorf("statement 1 resource: got %q, want %q", got, bucketObject)
	}

	if got := bp.Policy.Statements[2].Resource[0].Raw; got != bucketARN {
		t.Errorf("statement 2 resource: got %q, want %q", got, bucketARN)
	}

	// The JSON bytes are the same document that was parsed.
	again, err := policy.Parse(bp.JSON)
	if err != nil {
		t.Fatalf("Parse of BucketPolicy.JSON: %v", err)
	}

	if !reflect.DeepEqual(again, bp.Policy) {
		t.Errorf("Parse of BucketPolicy.JSON differs from BucketPolicy.Policy")
	}
}

func TestFindMissing(t *testing.T) {
	a := loadFixture(t)

	if role, ok := a.FindRole("arn:aws:iam::111111111111:role/CodeBuildRole"); ok {
		t.Errorf("FindRole matched an ARN without the role's path: %+v", role)
	}

	if role, ok := a.FindRole(""); ok {
		t.Errorf("FindRole matched an empty name: %+v", role)
	}

	if bp, ok := a.BucketPolicyFor("other-bucket"); ok {
		t.Errorf("BucketPolicyFor matched another bucket: %+v", bp)
	}
}

func TestUnknownEnvironment(t *testing.T) {
	a, err := LoadCloudAssembly(filepath.Join("testdata", "unknown-env"))
	if err != nil {
		t.Fatalf("LoadCloudAssembly: %v", err)
	}

	s := a.Stacks[0]
	if s.Account != "" || s.Region != "" || s.Partition != "" {
		t.Errorf("got account %q region %q partition %q, want all empty", s.Account, s.Region, s.Partition)
	}

	if len(s.Problems) == 0 || !errors.Is(s.Problems[0], ErrUnknownEnvironment) {
		t.Fatalf("first problem: got %v, want ErrUnknownEnvironment", s.Problems)
	}

	wantPaths := map[string]bool{
		// The role's ARN needs the account.
		"Resources.BuildRole.Properties": false,
		// Ref AWS::AccountId in the trust policy's condition.
		"Resources.BuildRole.Properties.AssumeRolePolicyDocument.Statement[0].Condition.StringEquals.aws:SourceAccount.Ref": false,
		// The bucket has no BucketName.
		"Resources.BucketPolicy.Properties.Bucket.Ref": false,
		// Fn::ImportValue in the bucket policy's principal.
		"Resources.BucketPolicy.Properties.PolicyDocument.Statement[0].Principal.AWS.Fn::ImportValue": false,
	}

	for _, p := range s.Problems[1:] {
		var ue *UnresolvedError
		if !errors.As(p, &ue) {
			t.Errorf("problem %v is not an *UnresolvedError", p)
			continue
		}

		if ue.Stack != "Anywhere" {
			t.Errorf("problem %v: got stack %q, want Anywhere", p, ue.Stack)
		}

		if _, ok := wantPaths[ue.Path]; !ok {
			t.Errorf("unexpected problem at %s: %v", ue.Path, p)
			continue
		}

		wantPaths[ue.Path] = true
	}

	for path, seen := range wantPaths {
		if !seen {
			t.Errorf("no problem reported at %s; got %v", path, s.Problems)
		}
	}

	if len(s.Roles) != 1 || s.Roles[0].Name != "BuildRole" || s.Roles[0].ARN != "" || s.Roles[0].Trust != nil {
		t.Errorf("role: got %+v, want name BuildRole with no ARN and no trust policy", s.Roles)
	}

	if len(s.BucketPolicies) != 0 {
		t.Errorf("got bucket policies %+v, want none because the principal is an import", s.BucketPolicies)
	}
}
