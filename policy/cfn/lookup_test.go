package cfn

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// loadProperties loads testdata/properties, a stack in 444444444444 and
// eu-central-1 with a bucket, a CodeBuild project, a log group, a Lambda
// function and the build role's default policy that refers to them.
func loadProperties(t *testing.T) *Stack {
	t.Helper()

	a, err := LoadCloudAssembly(filepath.Join("testdata", "properties"))
	if err != nil {
		t.Fatalf("LoadCloudAssembly: %v", err)
	}

	if len(a.Stacks) != 1 {
		t.Fatalf("got %d stacks, want 1", len(a.Stacks))
	}

	return &a.Stacks[0]
}

func TestResourceIDs(t *testing.T) {
	s := loadProperties(t)

	tests := []struct {
		typ  string
		want []string
	}{
		{"AWS::IAM::Role", []string{"AuditRole", "BuildRole"}},
		{"AWS::CodeBuild::Project", []string{"Deliver"}},
		{"AWS::KMS::Key", []string{"Key"}},
		{"AWS::SQS::Queue", nil},
	}

	for _, tt := range tests {
		t.Run(strings.ReplaceAll(tt.typ, "::", "_"), func(t *testing.T) {
			if got := s.ResourceIDs(tt.typ); !slices.Equal(got, tt.want) {
				t.Errorf("ResourceIDs(%q): got %q, want %q", tt.typ, got, tt.want)
			}
		})
	}
}

func TestResolveProperty(t *testing.T) {
	s := loadProperties(t)

	tests := []struct {
		name      string
		logicalID string
		path      string
		want      any
		found     bool
	}{
		{"SubName", "Bucket", "BucketName", "artifacts-444444444444", true},
		{"NestedKey", "Bucket", "OwnershipControls.Rules[0].ObjectOwnership", "BucketOwnerEnforced", true},
		{"BooleanKept", "Bucket", "PublicAccessBlockConfiguration.BlockPublicAcls", true, true},
		{"BooleanStringKept", "Bucket", "PublicAccessBlockConfiguration.BlockPublicPolicy", "false", true},
		{"NumberKept", "Bucket", "LifecycleConfiguration.Rules[0].ExpirationInDays", json.Number("1"), true},
		{"SelectFromParameter", "Bucket", "LifecycleConfiguration.Rules[0].Prefix", "builds", true},
		{"IndexIntoParameterList", "Bucket", "CorsConfiguration.CorsRules[0].AllowedOrigins[1]", "https://b.example", true},
		{"ObjectAsMap", "Bucket", "OwnershipControls", map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}}, true},
		{"RoleArn", "Deliver", "ServiceRole", "arn:aws:iam::444444444444:role/build", true},
		{"ProjectRefInJoin", "DeliverLogs", "LogGroupName", "/aws/codebuild/deliver", true},
		{"MissingProperty", "Bucket", "WebsiteConfiguration", nil, false},
		{"MissingNestedKey", "Bucket", "OwnershipControls.Rules[0].Other", nil, false},
		{"IndexOutOfRange", "Bucket", "OwnershipControls.Rules[3]", nil, false},
		{"ResourceWithoutProperties", "Key", "KeyPolicy", nil, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := s.ResolveProperty(tt.logicalID, tt.path)
			if err != nil {
				t.Fatalf("ResolveProperty(%s, %s): %v", tt.logicalID, tt.path, err)
			}

			if found != tt.found {
				t.Errorf("found: got %v, want %v", found, tt.found)
			}

			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("value: got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestResolvePropertyUnresolved(t *testing.T) {
	s := loadProperties(t)

	// found is true only where the template has a value at the path.
	tests := []struct {
		name      string
		logicalID string
		path      string
		found     bool
		wantPath  string
		reason    string
	}{
		{"KeyArn", "Deliver", "EncryptionKey", true, "Resources.Deliver.Properties.EncryptionKey.Fn::GetAtt", "attribute Arn of Key (type AWS::KMS::Key) is known only at deploy time"},
		{"KeyIntoString", "Bucket", "BucketName.Inner", false, "Resources.Bucket.Properties.BucketName", "is a string; expected an object with the key Inner"},
		{"IndexIntoObject", "Bucket", "OwnershipControls[0]", false, "Resources.Bucket.Properties.OwnershipControls", "is an object; expected an array"},
		{"IndexIntoString", "Bucket", "OwnershipControls.Rules[0].ObjectOwnership[0]", false, "Resources.Bucket.Properties.OwnershipControls.Rules[0].ObjectOwnership", "is a string; expected an array"},
		{"IndexIntoUnresolved", "Deliver", "EncryptionKey[0]", false, "Resources.Deliver.Properties.EncryptionKey.Fn::GetAtt", "known only at deploy time"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, found, err := s.ResolveProperty(tt.logicalID, tt.path)
			if err == nil {
				t.Fatalf("got %#v (found %v), want an error", got, found)
			}

			if found != tt.found {
				t.Errorf("found: got %v, want %v", found, tt.found)
			}

			var ue *UnresolvedError
			if !errors.As(err, &ue) {
				t.Fatalf("got %T %v, want *UnresolvedError", err, err)
			}

			if ue.Stack != "countersign-props" || ue.LogicalID != tt.logicalID {
				t.Errorf("got stack %q logical id %q, want countersign-props and %s", ue.Stack, ue.LogicalID, tt.logicalID)
			}

			if ue.Path != tt.wantPath {
				t.Errorf("got path %q, want %q", ue.Path, tt.wantPath)
			}

			if !strings.Contains(ue.Reason, tt.reason) {
				t.Errorf("got reason %q, want it to contain %q", ue.Reason, tt.reason)
			}
		})
	}
}

func TestResolvePropertyBadInput(t *testing.T) {
	s := loadProperties(t)

	tests := []struct {
		name      string
		stack     *Stack
		logicalID string
		path      string
		want      string
	}{
		{"UnknownLogicalID", s, "Nothing", "BucketName", `no resource with logical id "Nothing"`},
		{"EmptyPath", s, "Bucket", "", "it is empty"},
		{"EmptyKey", s, "Bucket", "OwnershipControls..Rules", "a key is empty"},
		{"LeadingIndex", s, "Bucket", "[0]", "a key is empty"},
		{"UnclosedIndex", s, "Bucket", "OwnershipControls.Rules[", "has no closing ]"},
		{"NegativeIndex", s, "Bucket", "OwnershipControls.Rules[-1]", `index "-1"`},
		{"WordIndex", s, "Bucket", "OwnershipControls.Rules[first]", `index "first"`},
		{"TextAfterIndex", s, "Bucket", "OwnershipControls.Rules[0]x", `"x" follows an index`},
		{"StackNotLoaded", &Stack{Name: "Bare"}, "Bucket", "BucketName", "has no template loaded"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := tt.stack.ResolveProperty(tt.logicalID, tt.path)
			if err == nil {
				t.Fatal("got no error")
			}

			if errors.Is(err, ErrUnresolved) {
				t.Errorf("got an unresolved-value error %v, want a plain error for bad input", err)
			}

			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

// TestLoadProjectReferences loads a build role whose default policy refers
// to the project, its log group and a function by Ref and Fn::GetAtt, as
// CDK writes for a codebuild.Project that updates its role's policy.
func TestLoadProjectReferences(t *testing.T) {
	s := loadProperties(t)

	if len(s.Problems) != 0 {
		t.Fatalf("got problems %v, want none", s.Problems)
	}

	var build *Role
	for i := range s.Roles {
		if s.Roles[i].LogicalID == "BuildRole" {
			build = &s.Roles[i]
		}
	}

	if build == nil || len(build.Policies) != 1 {
		t.Fatalf("got role %+v, want BuildRole with its default policy", build)
	}

	var got []string
	for _, st := range build.Policies[0].Policy.Statements {
		got = append(got, st.Resource[0].Raw)
	}

	want := []string{
		"arn:aws:logs:eu-central-1:444444444444:log-group:/aws/codebuild/deliver:*",
		"arn:aws:codebuild:eu-central-1:444444444444:report-group/deliver-*",
		"arn:aws:codebuild:eu-central-1:444444444444:project/deliver",
		"arn:aws:lambda:eu-central-1:444444444444:function:countersign-audit",
	}
	if !slices.Equal(got, want) {
		t.Errorf("resources:\ngot  %q\nwant %q", got, want)
	}
}

func TestResolveAttribute(t *testing.T) {
	s := loadProperties(t)

	tests := []struct {
		name      string
		logicalID string
		attribute string
		want      string
		wantErr   string // empty when the attribute resolves
	}{
		{"ProjectArn", "Deliver", "Arn", "arn:aws:codebuild:eu-central-1:444444444444:project/deliver", ""},
		{"BucketArn", "Bucket", "Arn", "arn:aws:s3:::artifacts-444444444444", ""},
		{"LogGroupArn", "DeliverLogs", "Arn", "arn:aws:logs:eu-central-1:444444444444:log-group:/aws/codebuild/deliver:*", ""},
		{"KeyArn", "Key", "Arn", "", "known only at deploy time"},
		{"OtherAttribute", "Bucket", "DomainName", "", "attribute DomainName of Bucket"},
		{"UnknownResource", "Missing", "Arn", "", `no resource with logical id "Missing"`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ResolveAttribute(tt.logicalID, tt.attribute)

			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %q, %v; want an error containing %q", got, err, tt.wantErr)
				}

				return
			}

			if err != nil {
				t.Fatalf("ResolveAttribute: %v", err)
			}

			if got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}
