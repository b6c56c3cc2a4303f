package cfn

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// FuzzResolve resolves a value against a template's parameters and
// resources, and loads the template as a stack. Neither may panic, every
// error must be an *UnresolvedError, and a resolved value must contain no
// intrinsic function and encode as JSON.
func FuzzResolve(f *testing.F) {
	template, err := os.ReadFile(filepath.Join("testdata", "intrinsics.template.json"))
	if err != nil {
		f.Fatal(err)
	}

	seeds := []string{
		`{"Ref": "AWS::AccountId"}`,
		`{"Fn::GetAtt": ["NamedRole", "Arn"]}`,
		`{"Fn::GetAtt": "NamedBucket.Arn"}`,
		`{"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":s3:::", {"Ref": "BucketName"}, "/*"]]}`,
		`{"Fn::Sub": ["${A}-${NamedRole.Arn}-${!Lit}", {"A": {"Ref": "Prefixes"}}]}`,
		`{"Fn::Select": [1, {"Fn::Split": [",", {"Ref": "CSV"}]}]}`,
		`{"Fn::ImportValue": "X"}`,
		`{"Ref": "LoopRole"}`,
		`{"Statement": [{"Resource": [{"Fn::GetAtt": ["UnnamedBucket", "Arn"]}]}]}`,
		`{"Fn::Join": ["", [{"Fn::GetAtt": ["NamedLogGroup", "Arn"]}, {"Ref": "NamedProject"}]]}`,
		`{"Fn::Sub": "${NamedFunction.Arn}-${UnnamedProject.Arn}"}`,
	}

	for _, seed := range seeds {
		f.Add(template, []byte(seed), false)
	}

	f.Add(template, []byte("BucketName"), false)

	for _, name := range []string{"cdk.out/CountersignTools.template.json", "cdk.out/CountersignDev.template.json", "documents/Docs.template.json", "properties/Props.template.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}

		f.Add(data, []byte(`{"Ref": "AWS::Region"}`), true)
	}

	f.Fuzz(func(t *testing.T, templateData, valueData []byte, unknownEnv bool) {
		account, region := "111111111111", "eu-west-1"
		if unknownEnv {
			account, region = "", ""
		}

		tmpl, err := decodeJSON(templateData)
		if err != nil {
			return
		}

		art := stackArtifact{id: "Fuzz", name: "Fuzz", environment: "aws://fuzz", account: account, region: region}
		stack, err := loadStack(art, tmpl)
		if err != nil {
			return
		}

		for _, role := range stack.Roles {
			if role.Trust == nil && role.TrustJSON != nil && len(stack.Problems) == 0 {
				t.Fatalf("role %s has trust JSON but no policy and no problem", role.LogicalID)
			}
		}

		// The value bytes double as a property path of the first resource.
		// A value that ResolveProperty finds must be free of *object.
		if ids := stack.env.resources.keys; len(ids) > 0 {
			if v, found, err := stack.ResolveProperty(ids[0], string(valueData)); err == nil && found && containsObject(v) {
				t.Fatalf("ResolveProperty(%s, %q) returned an *object inside %#v", ids[0], valueData, v)
			}
		}

		value, err := decodeJSON(valueData)
		if err != nil {
			return
		}

		root := tmpl.(*object)
		resources, _ := root.get("Resources")
		parameters, _ := templateSection(root, "Parameters", false)

		r := &resolver{
			stack:      "Fuzz",
			account:    account,
			region:     region,
			parameters: parameters,
			resources:  resources.(*object),
			logicalID:  "Value",
		}

		if region != "" {
			r.partition = partitionFor(region)
			r.urlSuffix = urlSuffixFor(r.partition)
		}

		resolved, err := r.resolve(value, "Value")
		if err != nil {
			var ue *UnresolvedError
			if !errors.As(err, &ue) {
				t.Fatalf("got %T %v, want *UnresolvedError", err, err)
			}

			return
		}

		if containsIntrinsic(resolved) {
			t.Fatalf("resolved value still contains an intrinsic: %#v", resolved)
		}

		data, err := encodeJSON(resolved)
		if err != nil {
			t.Fatalf("encode resolved value: %v", err)
		}

		if _, err := decodeJSON(data); err != nil {
			t.Fatalf("decode of encoded value: %v\n%s", err, data)
		}
	})
}

func containsIntrinsic(v any) bool {
	switch t := v.(type) {
	case []any:
		for _, item := range t {
			if containsIntrinsic(item) {
				return true
			}
		}
	case *object:
		if _, _, ok := intrinsic(t); ok {
			return true
		}

		for _, key := range t.keys {
			if containsIntrinsic(t.fields[key]) {
				return true
			}
		}
	}

	return false
}

func containsObject(v any) bool {
	switch t := v.(type) {
	case *object:
		return true
	case []any:
		return slices.ContainsFunc(t, containsObject)
	case map[string]any:
		for _, item := range t {
			if containsObject(item) {
				return true
			}
		}
	}

	return false
}
