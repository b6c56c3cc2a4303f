package policy

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func readFixture(t testing.TB, path string) []byte {
	t.Helper()

	data, err := os.ReadFile(filepath.Join("testdata", path))
	if err != nil {
		t.Fatalf("read fixture: %v", err)
	}

	return data
}

func mustParse(t testing.TB, data []byte) *Policy {
	t.Helper()

	p, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}

	return p
}

func TestParseValidFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.json"))
	if err != nil {
		t.Fatal(err)
	}

	if len(files) == 0 {
		t.Fatal("no fixtures in testdata/valid")
	}

	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}

			p, err := Parse(data)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}

			if len(p.Statements) == 0 {
				t.Errorf("got no statements")
			}

			for i, st := range p.Statements {
				if st.Index != i {
					t.Errorf("statement %d has Index %d", i, st.Index)
				}
			}
		})
	}
}

func TestParseBucketPolicy(t *testing.T) {
	p := mustParse(t, readFixture(t, "valid/bucket_cross_account.json"))

	if p.Version != Version2012 {
		t.Errorf("Version = %q, want %q", p.Version, Version2012)
	}

	if !p.VariablesEnabled {
		t.Errorf("VariablesEnabled = false, want true")
	}

	if p.ID != "DevArtifactsPolicy" {
		t.Errorf("ID = %q, want %q", p.ID, "DevArtifactsPolicy")
	}

	if len(p.Statements) != 3 {
		t.Fatalf("got %d statements, want 3", len(p.Statements))
	}

	list := p.Statements[0]
	if list.Sid != "ToolsRoleList" {
		t.Errorf("statement 0 Sid = %q, want %q", list.Sid, "ToolsRoleList")
	}

	if list.Effect != Allow {
		t.Errorf("statement 0 Effect = %q, want Allow", list.Effect)
	}

	gotAWS := list.Principal.Values(PrincipalAWS)
	wantAWS := []string{"arn:aws:iam::444455556666:role/service-role/build-role"}
	if !reflect.DeepEqual(gotAWS, wantAWS) {
		t.Errorf("statement 0 AWS principals = %q, want %q", gotAWS, wantAWS)
	}

	if list.Resource[0].Service != "s3" {
		t.Errorf("resource service = %q, want s3", list.Resource[0].Service)
	}

	if list.Resource[0].ResourceID != "dev-artifacts" {
		t.Errorf("resource id = %q, want dev-artifacts", list.Resource[0].ResourceID)
	}

	write := p.Statements[1]
	gotActions := []string{write.Action[0].Pattern, write.Action[1].Pattern}
	wantActions := []string{"s3:putobject", "s3:getobject"}
	if !reflect.DeepEqual(gotActions, wantActions) {
		t.Errorf("statement 1 action patterns = %q, want %q", gotActions, wantActions)
	}

	deny := p.Statements[2]
	if !deny.Principal.IsWildcard() {
		t.Errorf("statement 2 principal is not a wildcard")
	}

	if len(deny.Condition) != 1 {
		t.Fatalf("statement 2 has %d conditions, want 1", len(deny.Condition))
	}

	// The JSON boolean false becomes the string "false".
	gotValues := deny.Condition[0].Values
	if !reflect.DeepEqual(gotValues, []string{"false"}) {
		t.Errorf("Bool values = %q, want [false]", gotValues)
	}
}

func TestParseSingleStatementWithoutVersion(t *testing.T) {
	p := mustParse(t, readFixture(t, "valid/single_statement_no_version.json"))

	if p.Version != "" {
		t.Errorf("Version = %q, want empty", p.Version)
	}

	if p.EffectiveVersion() != Version2008 {
		t.Errorf("EffectiveVersion = %q, want %q", p.EffectiveVersion(), Version2008)
	}

	if p.VariablesEnabled {
		t.Errorf("VariablesEnabled = true, want false without Version 2012-10-17")
	}

	if len(p.Statements) != 1 {
		t.Fatalf("got %d statements, want 1", len(p.Statements))
	}

	if !p.Statements[0].Resource[0].HasVariable() {
		t.Errorf("HasVariable = false for %q", p.Statements[0].Resource[0].Raw)
	}
}

func TestParseConditionOrder(t *testing.T) {
	p := mustParse(t, readFixture(t, "valid/conditions_all_forms.json"))
	conds := p.Statements[0].Condition

	var got []string
	for _, c := range conds {
		got = append(got, c.Operator+" "+c.Key)
	}

	want := []string{
		"ForAnyValue:StringLike aws:TagKeys",
		"ForAllValues:StringEquals aws:TagKeys",
		"NumericLessThanEquals ec2:VolumeSize",
		"NumericGreaterThanIfExists aws:MultiFactorAuthAge",
		"DateGreaterThan aws:CurrentTime",
		"Null aws:RequestTag/team",
		"Bool aws:ViaAWSService",
		"IpAddress aws:SourceIp",
		"NotIpAddress aws:VpcSourceIp",
		"StringNotEqualsIgnoreCase aws:PrincipalTag/Role",
		"StringNotEqualsIgnoreCase aws:RequestedRegion",
		"BinaryEquals s3:ExampleBinaryKey",
		"ArnNotLikeIfExists aws:PrincipalArn",
	}

	if !reflect.DeepEqual(got, want) {
		t.Errorf("conditions in order:\n got %q\nwant %q", got, want)
	}
}

func TestParseConditionOperatorParts(t *testing.T) {
	p := mustParse(t, readFixture(t, "valid/conditions_all_forms.json"))
	conds := p.Statements[0].Condition

	tests := []struct {
		name     string
		index    int
		base     string
		set      SetQualifier
		ifExists bool
		values   []string
	}{
		{"ForAnyValueStringLike", 0, "StringLike", ForAnyValue, false, []string{"team-*", "cost-center"}},
		{"ForAllValuesStringEquals", 1, "StringEquals", ForAllValues, false, []string{"team-a", "team-b", "cost-center"}},
		{"NumberKeepsLiteral", 2, "NumericLessThanEquals", "", false, []string{"100"}},
		{"IfExistsSuffix", 3, "NumericGreaterThan", "", true, []string{"3600"}},
		{"ArnNotLikeIfExists", 12, "ArnNotLike", "", true, []string{"arn:aws:iam::*:role/admin-*"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := conds[tt.index]

			if c.Base != tt.base {
				t.Errorf("Base = %q, want %q", c.Base, tt.base)
			}

			if c.Set != tt.set {
				t.Errorf("Set = %q, want %q", c.Set, tt.set)
			}

			if c.IfExists != tt.ifExists {
				t.Errorf("IfExists = %v, want %v", c.IfExists, tt.ifExists)
			}

			if !reflect.DeepEqual(c.Values, tt.values) {
				t.Errorf("Values = %q, want %q", c.Values, tt.values)
			}
		})
	}
}

func TestParseConditionKeyLowered(t *testing.T) {
	p := mustParse(t, readFixture(t, "valid/trust_codebuild.json"))

	got := p.Statements[0].Condition[0].KeyLower
	if got != "aws:sourceaccount" {
		t.Errorf("KeyLower = %q, want %q", got, "aws:sourceaccount")
	}
}

func TestParseNotPrincipalEntries(t *testing.T) {
	p := mustParse(t, readFixture(t, "valid/not_principal_deny.json"))
	np := p.Statements[0].NotPrincipal

	if np == nil {
		t.Fatal("NotPrincipal is nil")
	}

	if len(np.Entries) != 2 {
		t.Fatalf("got %d entries, want 2", len(np.Entries))
	}

	if np.Entries[0].Type != PrincipalAWS {
		t.Errorf("entry 0 type = %q, want AWS", np.Entries[0].Type)
	}

	if np.Entries[1].Type != PrincipalCanonicalUser {
		t.Errorf("entry 1 type = %q, want CanonicalUser", np.Entries[1].Type)
	}

	if np.IsWildcard() {
		t.Errorf("IsWildcard = true for named principals")
	}
}

func TestParseInvalidFixtures(t *testing.T) {
	tests := []struct {
		file      string
		statement int
		sid       string
		field     string
		message   string
	}{
		{"action_no_prefix", 2, "AllowList", "Action", `value 1 "ListBucket" has no service prefix; write it as "s3:ListBucket"`},
		{"effect_lowercase", 0, "Lower", "Effect", `"allow" is not an effect`},
		{"effect_missing", 0, "", "Effect", "missing"},
		{"action_and_not_action", 0, "Both", "Action", "both Action and NotAction"},
		{"action_missing", 0, "", "Action", "missing; add Action or NotAction"},
		{"resource_and_not_resource", 0, "", "Resource", "both Resource and NotResource"},
		{"principal_and_not_principal", 0, "", "Principal", "both Principal and NotPrincipal"},
		{"principal_unknown_type", 0, "Users", "Principal", `unknown principal type "User"`},
		{"condition_unknown_operator", 0, "", "Condition", `unknown condition operator "StringEqual"`},
		{"condition_no_keys", 0, "", "Condition.StringEquals", "has no condition keys"},
		{"condition_no_values", 0, "", "Condition.StringEquals.aws:SourceAccount", "has no values"},
		{"unknown_top_level", -1, "", "", `unknown top-level element "Statements"`},
		{"unknown_statement_key", 0, "", "", `unknown element "Actions"`},
		{"statement_missing", -1, "", "Statement", "missing"},
		{"trailing_garbage", -1, "", "", "not valid JSON"},
		{"not_object", -1, "", "", "the document is an array"},
		{"empty_action_array", 0, "", "Action", "empty array"},
		{"empty_resource_string", 0, "", "Resource", "empty string"},
		{"version_unknown", -1, "", "Version", `"2012-10-18" is not a policy language version`},
		{"null_if_exists", 0, "", "Condition", "Null takes no IfExists suffix"},
		{"resource_not_arn", 0, "", "Resource", "is not an ARN"},
		{"not_json", -1, "", "", "not valid JSON"},
	}

	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := Parse(readFixture(t, "invalid/"+tt.file+".json"))
			if err == nil {
				t.Fatal("Parse returned no error")
			}

			if !errors.Is(err, ErrInvalid) {
				t.Errorf("error %v does not wrap ErrInvalid", err)
			}

			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %T is not a *ParseError", err)
			}

			if pe.Statement != tt.statement {
				t.Errorf("Statement = %d, want %d", pe.Statement, tt.statement)
			}

			if pe.Sid != tt.sid {
				t.Errorf("Sid = %q, want %q", pe.Sid, tt.sid)
			}

			if pe.Field != tt.field {
				t.Errorf("Field = %q, want %q", pe.Field, tt.field)
			}

			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err.Error(), tt.message)
			}
		})
	}
}

func TestParseInvalidFixturesAllListed(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "invalid", "*.json"))
	if err != nil {
		t.Fatal(err)
	}

	for _, file := range files {
		if _, err := Parse(mustRead(t, file)); err == nil {
			t.Errorf("%s: Parse returned no error", file)
		}
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	return data
}

func TestParseErrorMessageExact(t *testing.T) {
	_, err := Parse(readFixture(t, "invalid/action_no_prefix.json"))
	if err == nil {
		t.Fatal("Parse returned no error")
	}

	got := err.Error()
	want := `statement 2 (Sid "AllowList"): Action: value 1 "ListBucket" has no service prefix; write it as "s3:ListBucket"`
	if got != want {
		t.Errorf("error:\n got %s\nwant %s", got, want)
	}
}

func TestParseInlineInvalid(t *testing.T) {
	tests := []struct {
		name    string
		doc     string
		message string
	}{
		{"EmptyInput", ``, "unexpected end of input"},
		{"StatementEmptyArray", `{"Statement": []}`, "Statement: empty array"},
		{"StatementString", `{"Statement": "Allow"}`, "Statement: is a string"},
		{"StatementNotObject", `{"Statement": [1]}`, "statement 0: is a number"},
		{"DuplicateKey", `{"Statement": [{"Effect": "Allow", "Effect": "Deny", "Action": "*"}]}`, `duplicate key "Effect"`},
		{"SidNumber", `{"Statement": [{"Sid": 1, "Effect": "Allow", "Action": "*"}]}`, "Sid: is a number"},
		{"ActionNumber", `{"Statement": [{"Effect": "Allow", "Action": 5}]}`, "Action: is a number"},
		{"ActionArrayNumber", `{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", 5]}]}`, "value 1 is a number"},
		{"ActionEmptyElement", `{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", ""]}]}`, "value 1 is an empty string"},
		{"ActionNoName", `{"Statement": [{"Effect": "Allow", "Action": "s3:"}]}`, `write "s3:*"`},
		{"ActionBadService", `{"Statement": [{"Effect": "Allow", "Action": "s_3:GetObject"}]}`, "invalid service prefix"},
		{"ActionSpace", `{"Statement": [{"Effect": "Allow", "Action": "s3:Get Object"}]}`, "invalid action name"},
		{"ActionNoPrefixMixedServices", `{"Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "sts:AssumeRole", "GetBucket"]}]}`, `write it as "service:GetBucket"`},
		{"PrincipalString", `{"Statement": [{"Effect": "Allow", "Principal": "111122223333", "Action": "*"}]}`, `"111122223333" is not a principal`},
		{"PrincipalEmptyMap", `{"Statement": [{"Effect": "Allow", "Principal": {}, "Action": "*"}]}`, "Principal: empty object"},
		{"PrincipalEmptyValues", `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": []}, "Action": "*"}]}`, "Principal.AWS: empty array"},
		{"PrincipalArray", `{"Statement": [{"Effect": "Allow", "Principal": ["*"], "Action": "*"}]}`, "Principal: is an array"},
		{"ConditionArray", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": []}]}`, "Condition: is an array"},
		{"ConditionEmpty", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {}}]}`, "Condition: empty object"},
		{"ConditionBadQualifier", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"ForSomeValues:StringEquals": {"k": "v"}}}]}`, "only qualifiers"},
		{"ConditionNullValue", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": null}}}]}`, "is null"},
		{"ConditionNestedValue", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": [["v"]]}}}]}`, "value 0 is an array"},
		{"ConditionEmptyKey", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"": "v"}}}]}`, "empty condition key"},
		{"ConditionOperatorNotMap", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": "v"}}]}`, "Condition.StringEquals: is a string"},
		{"ResourceShortARN", `{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3"}]}`, "fewer than six"},
		{"IdNumber", `{"Id": 3, "Statement": [{"Effect": "Allow", "Action": "*"}]}`, "Id: is a number"},
		{"TooDeep", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"k": [[[[[[[[[[[[[[[[[["v"]]]]]]]]]]]]]]]]]]}}}]}`, "nesting deeper"},
		{"TwoDocuments", `{"Statement": {"Effect": "Allow", "Action": "*"}} {"Statement": []}`, "unexpected data after the policy object"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatal("Parse returned no error")
			}

			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not contain %q", err.Error(), tt.message)
			}
		})
	}
}

func TestParseInlineValid(t *testing.T) {
	tests := []struct {
		name string
		doc  string
	}{
		{"ActionStarAlone", `{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}`},
		{"ServiceUppercase", `{"Statement": [{"Effect": "Allow", "Action": "S3:GetObject", "Resource": "*"}]}`},
		{"AWSWildcardMap", `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "*"}]}`},
		{"ConditionEmptyStringValue", `{"Statement": [{"Effect": "Allow", "Action": "*", "Condition": {"StringEquals": {"aws:ResourceTag/env": ""}}}]}`},
		{"Version2008", `{"Version": "2008-10-17", "Statement": [{"Effect": "Allow", "Action": "*"}]}`},
		{"ResourceShortARNWithWildcard", `{"Statement": [{"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3*"}]}`},
		{"LambdaAliasARN", `{"Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:eu-west-1:111122223333:function:build:live"}]}`},
		{"TrailingWhitespace", "{\"Statement\": {\"Effect\": \"Deny\", \"Action\": \"*\"}}\n\n  "},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Parse([]byte(tt.doc)); err != nil {
				t.Errorf("Parse: %v", err)
			}
		})
	}
}

func TestParseServiceUppercaseLowered(t *testing.T) {
	p := mustParse(t, []byte(`{"Statement": [{"Effect": "Allow", "Action": "S3:GetObject", "Resource": "*"}]}`))
	a := p.Statements[0].Action[0]

	if a.Service != "s3" {
		t.Errorf("Service = %q, want s3", a.Service)
	}

	if a.Raw != "S3:GetObject" {
		t.Errorf("Raw = %q, want S3:GetObject", a.Raw)
	}
}

func TestParseResourceFunctionAlias(t *testing.T) {
	p := mustParse(t, []byte(`{"Statement": [{"Effect": "Allow", "Action": "lambda:InvokeFunction", "Resource": "arn:aws:lambda:eu-west-1:111122223333:function:build:live"}]}`))
	r := p.Statements[0].Resource[0]

	if r.Region != "eu-west-1" {
		t.Errorf("Region = %q, want eu-west-1", r.Region)
	}

	if r.Account != "111122223333" {
		t.Errorf("Account = %q, want 111122223333", r.Account)
	}

	if r.ResourceID != "function:build:live" {
		t.Errorf("ResourceID = %q, want function:build:live", r.ResourceID)
	}
}
