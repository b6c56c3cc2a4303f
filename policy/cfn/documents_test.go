package cfn

import (
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/countersign/countersign/policy"
)

func loadDocuments(t *testing.T) Stack {
	t.Helper()

	a, err := LoadCloudAssembly(filepath.Join("testdata", "documents"))
	if err != nil {
		t.Fatalf("LoadCloudAssembly: %v", err)
	}

	if len(a.Stacks) != 1 {
		t.Fatalf("got %d stacks, want 1", len(a.Stacks))
	}

	return a.Stacks[0]
}

func TestStackNameFromManifest(t *testing.T) {
	s := loadDocuments(t)

	if s.Name != "countersign-docs" || s.ArtifactID != "Docs" {
		t.Errorf("got name %q artifact id %q, want countersign-docs and Docs", s.Name, s.ArtifactID)
	}
}

func TestUnnamedRolePolicies(t *testing.T) {
	s := loadDocuments(t)

	role := s.Roles[0]
	if role.LogicalID != "UnnamedBuildRole" {
		t.Fatalf("first role: got %q, want UnnamedBuildRole", role.LogicalID)
	}

	if role.Name != "" || role.ARN != "" || role.Path != "/" {
		t.Errorf("got name %q ARN %q path %q, want no name or ARN and path /", role.Name, role.ARN, role.Path)
	}

	if role.Trust == nil {
		t.Fatal("trust policy is nil")
	}

	if got := role.Trust.Statements[0].Principal.Values(policy.PrincipalService); !reflect.DeepEqual(got, []string{"codebuild.amazonaws.com"}) {
		t.Errorf("trust principal: got %q", got)
	}

	var got []string
	for _, np := range role.Policies {
		got = append(got, np.LogicalID+"/"+np.Name)
	}

	// Inline policies come first, then attached ones in template order,
	// including one listed before the role.
	want := []string{"UnnamedBuildRole/inline-logs", "AttachedFirst/AttachedFirst", "SharedManaged/shared"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("policies: got %q, want %q", got, want)
	}

	inline := role.Policies[0].Policy.Statements[0].Resource[0].Raw
	if inline != "arn:aws:logs:us-east-1:333333333333:log-group:countersign-docs:*" {
		t.Errorf("inline policy resource: got %q", inline)
	}

	if role.Policies[0].Path != "Resources.UnnamedBuildRole.Properties.Policies[0].PolicyDocument" {
		t.Errorf("inline policy path: got %q", role.Policies[0].Path)
	}

	if !reflect.DeepEqual(role.ManagedPolicyARNs, []string{"arn:aws:iam::aws:policy/ReadOnlyAccess"}) {
		t.Errorf("managed policy ARNs: got %q", role.ManagedPolicyARNs)
	}
}

func TestRoleAttachedByName(t *testing.T) {
	s := loadDocuments(t)

	role := s.Roles[1]
	if role.Name != "deployer" || role.ARN != "arn:aws:iam::333333333333:role/deployer" {
		t.Fatalf("second role: got name %q ARN %q", role.Name, role.ARN)
	}

	if len(role.Policies) != 1 || role.Policies[0].LogicalID != "SharedManaged" {
		t.Errorf("policies: got %+v, want SharedManaged only", role.Policies)
	}

	if got := role.Trust.Statements[0].Principal.Values(policy.PrincipalAWS); !reflect.DeepEqual(got, []string{"arn:aws:iam::333333333333:root"}) {
		t.Errorf("trust principal: got %q", got)
	}
}

func TestDocumentProblems(t *testing.T) {
	s := loadDocuments(t)

	if len(s.Problems) != 2 {
		t.Fatalf("got %d problems, want 2: %v", len(s.Problems), s.Problems)
	}

	var ue *UnresolvedError
	if !errors.As(s.Problems[0], &ue) || ue.LogicalID != "UnnamedBuildRole" || !strings.Contains(ue.Reason, "has no RoleName") {
		t.Errorf("problem 0: got %v, want the unnamed role reported", s.Problems[0])
	}

	parseErr := s.Problems[1]
	if !errors.Is(parseErr, policy.ErrInvalid) {
		t.Errorf("problem 1: got %v, want an error wrapping policy.ErrInvalid", parseErr)
	}

	for _, part := range []string{`stack "countersign-docs"`, "LiteralBucketPolicy", "Effect"} {
		if !strings.Contains(parseErr.Error(), part) {
			t.Errorf("problem 1 %q does not name %s", parseErr, part)
		}
	}

	if len(s.BucketPolicies) != 0 {
		t.Errorf("got bucket policies %+v, want none because the only one fails to parse", s.BucketPolicies)
	}
}

func TestNestedAssemblyStage(t *testing.T) {
	a, err := LoadCloudAssembly(filepath.Join("testdata", "stages"))
	if err != nil {
		t.Fatalf("LoadCloudAssembly: %v", err)
	}

	if len(a.Stacks) != 1 {
		t.Fatalf("got %d stacks, want 1", len(a.Stacks))
	}

	s := a.Stacks[0]
	got := []string{s.Name, s.ArtifactID, s.TemplateFile, s.Partition}
	want := []string{"Prod-Dev", "ProdDevStack8C3A51F0", filepath.Join("assembly-Prod", "ProdDevStack8C3A51F0.template.json"), "aws-us-gov"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stack: got %q, want %q", got, want)
	}

	bp, ok := a.BucketPolicyFor("prod-artifacts")
	if !ok {
		t.Fatalf("BucketPolicyFor(prod-artifacts) found nothing; problems %v", a.Problems())
	}

	st := bp.Policy.Statements[0]
	if got := st.Principal.Values(policy.PrincipalAWS); !reflect.DeepEqual(got, []string{"arn:aws-us-gov:iam::111111111111:role/service-role/CodeBuildRole"}) {
		t.Errorf("principal: got %q", got)
	}

	if got := st.Resource[0].Raw; got != "arn:aws-us-gov:s3:::prod-artifacts/*" {
		t.Errorf("resource: got %q", got)
	}
}
