package cfn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// newTestResolver builds a resolver over testdata/intrinsics.template.json
// for the stack "Tools" in the given account and region ("" for unknown).
func newTestResolver(t testing.TB, account, region string) *resolver {
	t.Helper()

	data, err := os.ReadFile(filepath.Join("testdata", "intrinsics.template.json"))
	if err != nil {
		t.Fatal(err)
	}

	template, err := decodeJSON(data)
	if err != nil {
		t.Fatal(err)
	}

	root := template.(*object)
	resources, _ := root.get("Resources")
	parameters, _ := root.get("Parameters")

	r := &resolver{
		stack:      "Tools",
		account:    account,
		region:     region,
		parameters: parameters.(*object),
		resources:  resources.(*object),
		logicalID:  "Subject",
	}

	if region != "" {
		r.partition = partitionFor(region)
		r.urlSuffix = urlSuffixFor(r.partition)
	}

	return r
}

func mustDecode(t testing.TB, text string) any {
	t.Helper()

	v, err := decodeJSON([]byte(text))
	if err != nil {
		t.Fatalf("decode %s: %v", text, err)
	}

	return v
}

func TestResolveIntrinsics(t *testing.T) {
	tests := []struct {
		name   string
		region string
		input  string
		want   any
	}{
		{"RefAccountId", "eu-west-1", `{"Ref": "AWS::AccountId"}`, "111111111111"},
		{"RefRegion", "eu-west-1", `{"Ref": "AWS::Region"}`, "eu-west-1"},
		{"RefPartitionAws", "eu-west-1", `{"Ref": "AWS::Partition"}`, "aws"},
		{"RefPartitionChina", "cn-north-1", `{"Ref": "AWS::Partition"}`, "aws-cn"},
		{"RefPartitionGovCloud", "us-gov-west-1", `{"Ref": "AWS::Partition"}`, "aws-us-gov"},
		{"RefURLSuffix", "eu-west-1", `{"Ref": "AWS::URLSuffix"}`, "amazonaws.com"},
		{"RefURLSuffixChina", "cn-northwest-1", `{"Ref": "AWS::URLSuffix"}`, "amazonaws.com.cn"},
		{"RefStackName", "eu-west-1", `{"Ref": "AWS::StackName"}`, "Tools"},
		{"RefParameterDefault", "eu-west-1", `{"Ref": "BucketName"}`, "artifacts"},
		{"RefNumberParameter", "eu-west-1", `{"Ref": "Retries"}`, "3"},
		{"RefListParameter", "eu-west-1", `{"Ref": "Prefixes"}`, []any{"builds", "logs"}},
		{"RefBucket", "eu-west-1", `{"Ref": "NamedBucket"}`, "named-bucket"},
		{"RefRole", "eu-west-1", `{"Ref": "NamedRole"}`, "deliver"},
		{"RefRoleSubName", "eu-west-1", `{"Ref": "SubNamedRole"}`, "Tools-builder"},
		{"GetAttBucketArn", "eu-west-1", `{"Fn::GetAtt": ["NamedBucket", "Arn"]}`, "arn:aws:s3:::named-bucket"},
		{"GetAttBucketArnGovCloud", "us-gov-east-1", `{"Fn::GetAtt": ["NamedBucket", "Arn"]}`, "arn:aws-us-gov:s3:::named-bucket"},
		{"GetAttShortForm", "eu-west-1", `{"Fn::GetAtt": "NamedBucket.Arn"}`, "arn:aws:s3:::named-bucket"},
		{"GetAttRoleArnWithPath", "eu-west-1", `{"Fn::GetAtt": ["NamedRole", "Arn"]}`, "arn:aws:iam::111111111111:role/service-role/deliver"},
		{"GetAttRoleArnDefaultPath", "eu-west-1", `{"Fn::GetAtt": ["SubNamedRole", "Arn"]}`, "arn:aws:iam::111111111111:role/Tools-builder"},
		{"GetAttRoleArnChina", "cn-north-1", `{"Fn::GetAtt": ["NamedRole", "Arn"]}`, "arn:aws-cn:iam::111111111111:role/service-role/deliver"},
		{"RefProject", "eu-west-1", `{"Ref": "NamedProject"}`, "Tools-deliver"},
		{"GetAttProjectArn", "eu-west-1", `{"Fn::GetAtt": ["NamedProject", "Arn"]}`, "arn:aws:codebuild:eu-west-1:111111111111:project/Tools-deliver"},
		{"GetAttProjectArnChina", "cn-north-1", `{"Fn::GetAtt": ["NamedProject", "Arn"]}`, "arn:aws-cn:codebuild:cn-north-1:111111111111:project/Tools-deliver"},
		{"SubProjectArn", "eu-west-1", `{"Fn::Sub": "${NamedProject.Arn}/*"}`, "arn:aws:codebuild:eu-west-1:111111111111:project/Tools-deliver/*"},
		{"RefLogGroup", "eu-west-1", `{"Ref": "NamedLogGroup"}`, "/aws/codebuild/deliver"},
		{"GetAttLogGroupArn", "eu-west-1", `{"Fn::GetAtt": ["NamedLogGroup", "Arn"]}`, "arn:aws:logs:eu-west-1:111111111111:log-group:/aws/codebuild/deliver:*"},
		{"GetAttLogGroupArnGovCloud", "us-gov-west-1", `{"Fn::GetAtt": "NamedLogGroup.Arn"}`, "arn:aws-us-gov:logs:us-gov-west-1:111111111111:log-group:/aws/codebuild/deliver:*"},
		{"RefFunction", "eu-west-1", `{"Ref": "NamedFunction"}`, "countersign-audit"},
		{"GetAttFunctionArn", "eu-west-1", `{"Fn::GetAtt": ["NamedFunction", "Arn"]}`, "arn:aws:lambda:eu-west-1:111111111111:function:countersign-audit"},
		{"JoinProjectRef", "eu-west-1", `{"Fn::Join": ["", ["arn:aws:codebuild:eu-west-1:111111111111:report-group/", {"Ref": "NamedProject"}, "-*"]]}`, "arn:aws:codebuild:eu-west-1:111111111111:report-group/Tools-deliver-*"},
		{"JoinEmpty", "eu-west-1", `{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "BucketName"}, "/*"]]}`, "arn:aws:s3:::artifacts/*"},
		{"JoinDelimiter", "eu-west-1", `{"Fn::Join": [":", ["a", "b", "c"]]}`, "a:b:c"},
		{"JoinNoValues", "eu-west-1", `{"Fn::Join": ["-", []]}`, ""},
		{"JoinGetAtt", "eu-west-1", `{"Fn::Join": ["", [{"Fn::GetAtt": ["NamedBucket", "Arn"]}, "/*"]]}`, "arn:aws:s3:::named-bucket/*"},
		{"JoinListParameter", "eu-west-1", `{"Fn::Join": ["/", {"Ref": "Prefixes"}]}`, "builds/logs"},
		{"SubPseudo", "eu-west-1", `{"Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:*"}`, "arn:aws:logs:eu-west-1:111111111111:*"},
		{"SubParameter", "eu-west-1", `{"Fn::Sub": "arn:aws:s3:::${BucketName}/*"}`, "arn:aws:s3:::artifacts/*"},
		{"SubResourceRef", "eu-west-1", `{"Fn::Sub": "${NamedBucket}-copy"}`, "named-bucket-copy"},
		{"SubResourceArn", "eu-west-1", `{"Fn::Sub": "${NamedRole.Arn}"}`, "arn:aws:iam::111111111111:role/service-role/deliver"},
		{"SubLiteral", "eu-west-1", `{"Fn::Sub": "arn:aws:s3:::b/${!aws:username}/*"}`, "arn:aws:s3:::b/${aws:username}/*"},
		{"SubNoVariables", "eu-west-1", `{"Fn::Sub": "plain"}`, "plain"},
		{"SubVariablesMap", "eu-west-1", `{"Fn::Sub": ["${Prefix}/${AWS::Region}/${Name}", {"Prefix": "p", "Name": {"Ref": "BucketName"}}]}`, "p/eu-west-1/artifacts"},
		{"SubVariableShadowsParameter", "eu-west-1", `{"Fn::Sub": ["${BucketName}", {"BucketName": "override"}]}`, "override"},
		{"SelectLiteral", "eu-west-1", `{"Fn::Select": ["1", ["a", "b", "c"]]}`, "b"},
		{"SelectNumberIndex", "eu-west-1", `{"Fn::Select": [0, ["a"]]}`, "a"},
		{"SelectSplit", "eu-west-1", `{"Fn::Select": [1, {"Fn::Split": ["/", "a/b/c"]}]}`, "b"},
		{"SplitRef", "eu-west-1", `{"Fn::Split": [",", {"Ref": "CSV"}]}`, []any{"x", "y"}},
		{"PlainString", "eu-west-1", `"s3:GetObject"`, "s3:GetObject"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestResolver(t, "111111111111", tt.region)

			got, err := r.resolve(mustDecode(t, tt.input), "Value")
			if err != nil {
				t.Fatalf("resolve %s: %v", tt.input, err)
			}

			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("resolve %s: got %#v, want %#v", tt.input, got, tt.want)
			}
		})
	}
}

func TestResolveObjects(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"NestedDocument", `{"Resource": [{"Ref": "BucketName"}, "*"], "Effect": "Allow"}`, `{"Resource":["artifacts","*"],"Effect":"Allow"}`},
		{"TwoKeysNotIntrinsic", `{"Ref": "AWS::Region", "Other": 1}`, `{"Ref":"AWS::Region","Other":1}`},
		{"KeyOrderKept", `{"b": {"Ref": "AWS::Region"}, "a": [true, null, 1.5]}`, `{"b":"eu-west-1","a":[true,null,1.5]}`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestResolver(t, "111111111111", "eu-west-1")

			resolved, err := r.resolve(mustDecode(t, tt.input), "Doc")
			if err != nil {
				t.Fatal(err)
			}

			data, err := encodeJSON(resolved)
			if err != nil {
				t.Fatal(err)
			}

			if got := compact(string(data)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

// compact removes the indentation that encodeJSON writes. The test inputs
// have no spaces inside strings.
func compact(s string) string {
	return strings.NewReplacer("\n", "", " ", "").Replace(s)
}

func TestResolveUnresolved(t *testing.T) {
	tests := []struct {
		name    string
		account string
		region  string
		input   string
		path    string
		reason  string
	}{
		{"RefUnnamedBucket", "111111111111", "eu-west-1", `{"Ref": "UnnamedBucket"}`, "Value.Ref", "has no BucketName"},
		{"GetAttUnnamedBucket", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["UnnamedBucket", "Arn"]}`, "Value.Fn::GetAtt", "has no BucketName"},
		{"GetAttUnnamedRole", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["UnnamedRole", "Arn"]}`, "Value.Fn::GetAtt", "has no RoleName"},
		{"SubUnnamedRoleArn", "111111111111", "eu-west-1", `{"Fn::Sub": "${UnnamedRole.Arn}"}`, "Value.Fn::Sub", "has no RoleName"},
		{"JoinUnnamedInside", "111111111111", "eu-west-1", `{"Fn::Join": ["", [{"Fn::GetAtt": ["UnnamedBucket", "Arn"]}, "/*"]]}`, "Value.Fn::Join[1][0].Fn::GetAtt", "has no BucketName"},
		{"RefUnnamedProject", "111111111111", "eu-west-1", `{"Ref": "UnnamedProject"}`, "Value.Ref", "resource UnnamedProject has no Name"},
		{"GetAttUnnamedProject", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["UnnamedProject", "Arn"]}`, "Value.Fn::GetAtt", "has no Name"},
		{"RefUnnamedLogGroup", "111111111111", "eu-west-1", `{"Ref": "UnnamedLogGroup"}`, "Value.Ref", "has no LogGroupName"},
		{"SubUnnamedLogGroupArn", "111111111111", "eu-west-1", `{"Fn::Sub": "${UnnamedLogGroup.Arn}"}`, "Value.Fn::Sub", "set LogGroupName in the CDK app"},
		{"RefUnnamedFunction", "111111111111", "eu-west-1", `{"Ref": "UnnamedFunction"}`, "Value.Ref", "has no FunctionName"},
		{"GetAttUnnamedFunction", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["UnnamedFunction", "Arn"]}`, "Value.Fn::GetAtt", "has no FunctionName"},
		{"ProjectArnUnknownRegion", "111111111111", "", `{"Fn::GetAtt": ["NamedProject", "Arn"]}`, "Value.Fn::GetAtt", "AWS::Partition is unknown"},
		{"FunctionArnUnknownAccount", "", "eu-west-1", `{"Fn::GetAtt": ["NamedFunction", "Arn"]}`, "Value.Fn::GetAtt", "AWS::AccountId is unknown"},
		{"GetAttProjectOtherAttribute", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["NamedProject", "Name"]}`, "Value.Fn::GetAtt", "attribute Name of NamedProject"},
		{"GetAttLogGroupOtherAttribute", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["NamedLogGroup", "LogGroupName"]}`, "Value.Fn::GetAtt", "known only at deploy time"},
		{"ImportValue", "111111111111", "eu-west-1", `{"Fn::ImportValue": "Other:BucketArn"}`, "Value.Fn::ImportValue", "Fn::ImportValue"},
		{"UnknownAccount", "", "eu-west-1", `{"Ref": "AWS::AccountId"}`, "Value.Ref", "environment is not set"},
		{"UnknownRegion", "111111111111", "", `{"Ref": "AWS::Region"}`, "Value.Ref", "environment is not set"},
		{"UnknownPartition", "111111111111", "", `{"Fn::GetAtt": ["NamedBucket", "Arn"]}`, "Value.Fn::GetAtt", "AWS::Partition is unknown"},
		{"RoleArnUnknownAccount", "", "eu-west-1", `{"Fn::GetAtt": ["NamedRole", "Arn"]}`, "Value.Fn::GetAtt", "AWS::AccountId is unknown"},
		{"SubUnknownAccount", "", "eu-west-1", `{"Fn::Sub": "${AWS::AccountId}"}`, "Value.Fn::Sub", "AWS::AccountId is unknown"},
		{"PseudoStackId", "111111111111", "eu-west-1", `{"Ref": "AWS::StackId"}`, "Value.Ref", "known only at deploy time"},
		{"PseudoNoValue", "111111111111", "eu-west-1", `{"Ref": "AWS::NoValue"}`, "Value.Ref", "known only at deploy time"},
		{"ParameterNoDefault", "111111111111", "eu-west-1", `{"Ref": "NoDefault"}`, "Value.Ref", "has no Default"},
		{"ParameterSSM", "111111111111", "eu-west-1", `{"Ref": "BootstrapVersion"}`, "Value.Ref", "read from SSM"},
		{"RefMissing", "111111111111", "eu-west-1", `{"Ref": "Nothing"}`, "Value.Ref", "names no parameter or resource"},
		{"RefOtherResource", "111111111111", "eu-west-1", `{"Ref": "Queue"}`, "Value.Ref", "AWS::SQS::Queue"},
		{"GetAttOtherAttribute", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["NamedRole", "RoleId"]}`, "Value.Fn::GetAtt", "attribute RoleId"},
		{"GetAttMissingResource", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["Nothing", "Arn"]}`, "Value.Fn::GetAtt", "not in the template"},
		{"FnIf", "111111111111", "eu-west-1", `{"Fn::If": ["IsProd", "a", "b"]}`, "Value.Fn::If", "not supported"},
		{"FnFindInMap", "111111111111", "eu-west-1", `{"Fn::FindInMap": ["M", "a", "b"]}`, "Value.Fn::FindInMap", "not supported"},
		{"SelectOutOfRange", "111111111111", "eu-west-1", `{"Fn::Select": [3, ["a"]]}`, "Value.Fn::Select[0]", "out of range"},
		{"SelectBadIndex", "111111111111", "eu-west-1", `{"Fn::Select": ["x", ["a"]]}`, "Value.Fn::Select[0]", "not a non-negative integer"},
		{"JoinNotList", "111111111111", "eu-west-1", `{"Fn::Join": ["", "a"]}`, "Value.Fn::Join[1]", "expected an array"},
		{"JoinObjectItem", "111111111111", "eu-west-1", `{"Fn::Join": ["", [{"a": 1}]]}`, "Value.Fn::Join[1][0]", "expected a string"},
		{"SubUnclosed", "111111111111", "eu-west-1", `{"Fn::Sub": "arn:${AWS::Region"}`, "Value.Fn::Sub", "without a closing"},
		{"SubVariableInPath", "111111111111", "eu-west-1", `{"Fn::Sub": ["${X}", {"X": {"Fn::ImportValue": "E"}}]}`, "Value.Fn::Sub[1].X.Fn::ImportValue", "Fn::ImportValue"},
		{"RefNotString", "111111111111", "eu-west-1", `{"Ref": 1}`, "Value.Ref", "takes a string"},
		{"SelfReferentialRole", "111111111111", "eu-west-1", `{"Ref": "LoopRole"}`, "Resources.LoopRole.Properties.RoleName.Ref", "refers back to itself"},
		{"BadRolePath", "111111111111", "eu-west-1", `{"Fn::GetAtt": ["BadPathRole", "Arn"]}`, "Resources.BadPathRole.Properties.Path", "begin and end with a slash"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newTestResolver(t, tt.account, tt.region)

			got, err := r.resolve(mustDecode(t, tt.input), "Value")
			if err == nil {
				t.Fatalf("resolve %s: got %#v, want an error", tt.input, got)
			}

			var ue *UnresolvedError
			if !errors.As(err, &ue) {
				t.Fatalf("got %T %v, want *UnresolvedError", err, err)
			}

			if !errors.Is(err, ErrUnresolved) {
				t.Errorf("errors.Is(err, ErrUnresolved) is false for %v", err)
			}

			if ue.Stack != "Tools" || ue.LogicalID != "Subject" {
				t.Errorf("got stack %q logical id %q, want Tools and Subject", ue.Stack, ue.LogicalID)
			}

			if tt.path != "" && ue.Path != tt.path {
				t.Errorf("got path %q, want %q", ue.Path, tt.path)
			}

			if !strings.Contains(ue.Reason, tt.reason) {
				t.Errorf("got reason %q, want it to contain %q", ue.Reason, tt.reason)
			}
		})
	}
}

func TestPartitionFor(t *testing.T) {
	tests := []struct {
		region, partition, suffix string
	}{
		{"us-east-1", "aws", "amazonaws.com"},
		{"ap-southeast-2", "aws", "amazonaws.com"},
		{"cn-north-1", "aws-cn", "amazonaws.com.cn"},
		{"us-gov-west-1", "aws-us-gov", "amazonaws.com"},
		{"us-iso-east-1", "aws-iso", "c2s.ic.gov"},
		{"us-isob-east-1", "aws-iso-b", "sc2s.sgov.gov"},
	}

	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			partition := partitionFor(tt.region)
			if partition != tt.partition {
				t.Errorf("partitionFor(%q): got %q, want %q", tt.region, partition, tt.partition)
			}

			if got := urlSuffixFor(partition); got != tt.suffix {
				t.Errorf("urlSuffixFor(%q): got %q, want %q", partition, got, tt.suffix)
			}
		})
	}
}

// TestResolveFanOut checks that names referring twice to the previous name
// resolve once each and stop at the length limit instead of growing 2^n.
func TestResolveFanOut(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Resources": {"Role0": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "ab"}}`)

	for i := 1; i <= 60; i++ {
		fmt.Fprintf(&b, `, "Role%d": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Fn::Sub": "${Role%d}${Role%d}"}}}`, i, i-1, i-1)
	}

	b.WriteString(`}}`)

	root := mustDecode(t, b.String()).(*object)
	resources, _ := root.get("Resources")
	r := &resolver{stack: "Tools", parameters: newObject(), resources: resources.(*object), logicalID: "Subject"}

	got, err := r.resolve(mustDecode(t, `{"Ref": "Role8"}`), "Value")
	if err != nil || got != strings.Repeat("ab", 256) {
		t.Errorf("Role8: got %d bytes, %v, want 512 bytes", len(fmt.Sprint(got)), err)
	}

	_, err = r.resolve(mustDecode(t, `{"Ref": "Role60"}`), "Value")
	if err == nil || !strings.Contains(err.Error(), "byte limit") {
		t.Errorf("Role60: got %v, want the length limit error", err)
	}
}

// TestResolveLongChain checks that a chain of names each referring to the
// next stops at the depth limit instead of exhausting the stack.
func TestResolveLongChain(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"Resources": {"Role0": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": "end"}}`)

	for i := 1; i <= 300; i++ {
		fmt.Fprintf(&b, `, "Role%d": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": {"Ref": "Role%d"}}}`, i, i-1)
	}

	b.WriteString(`}}`)

	root := mustDecode(t, b.String()).(*object)
	resources, _ := root.get("Resources")

	r := &resolver{stack: "Tools", parameters: newObject(), resources: resources.(*object), logicalID: "Subject"}
	if got, err := r.resolve(mustDecode(t, `{"Ref": "Role100"}`), "Value"); err != nil || got != "end" {
		t.Errorf("Role100: got %v, %v, want end", got, err)
	}

	r = &resolver{stack: "Tools", parameters: newObject(), resources: resources.(*object), logicalID: "Subject"}
	if _, err := r.resolve(mustDecode(t, `{"Ref": "Role300"}`), "Value"); err == nil || !strings.Contains(err.Error(), "nest deeper than") {
		t.Errorf("Role300: got %v, want the depth limit error", err)
	}
}
