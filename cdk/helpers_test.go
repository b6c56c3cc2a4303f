package main

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestMain closes the jsii runtime, the node process behind the CDK, once
// every test has run. That process starts while the packages initialize,
// so its environment (JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION, for
// one) must be set before go test starts, as make test-cdk does.
func TestMain(m *testing.M) {
	code := m.Run()

	removeBuiltBinaries()
	for _, dir := range sharedDirs {
		os.RemoveAll(dir)
	}
	jsii.Close()
	os.Exit(code)
}

// testConfig returns the configuration of cdk.json, which the committed
// app synthesizes.
func testConfig(t *testing.T) Config {
	t.Helper()

	context, err := ReadContextFile("cdk.json")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := ConfigFromContext(func(key string) (any, bool) {
		value, ok := context[key]
		return value, ok
	}, ".")
	if err != nil {
		t.Fatalf("cdk.json: %v (run make lambda first if the zip is missing)", err)
	}
	return cfg
}

// synthesized is an app synthesized into a temporary folder.
type synthesized struct {
	dir   string
	tools awscdk.Stack
	dev   awscdk.Stack
}

// synthesize builds the tools stack from tools and the dev stack from dev
// in one app, and writes the cloud assembly to a temporary folder.
func synthesize(t *testing.T, tools, dev Config) synthesized {
	t.Helper()

	return synthesizeInto(t, t.TempDir(), tools, dev)
}

// sharedDirs are assembly folders that outlive one test. TestMain removes
// them.
var sharedDirs []string

func synthesizeInto(t *testing.T, dir string, tools, dev Config) synthesized {
	t.Helper()

	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(dir)})
	toolsStack, devStack, err := BuildApp(app, tools, dev)
	if err != nil {
		t.Fatal(err)
	}
	app.Synth(nil)
	return synthesized{dir: dir, tools: toolsStack, dev: devStack}
}

// assert runs a check of the assertions package. A failed check panics
// inside jsii, and assert turns the panic into a test error, so the other
// checks still run.
func assert(t *testing.T, what string, check func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Helper()
			t.Errorf("%s: %v", what, r)
		}
	}()
	check()
}

// templateOf returns the stack's template for the assertions package.
func templateOf(stack awscdk.Stack) assertions.Template {
	return assertions.Template_FromStack(stack, &assertions.TemplateParsingOptions{SkipCyclicalDependenciesCheck: jsii.Bool(true)})
}

// resources returns the stack's resources of one type as plain JSON
// values, by logical id.
func resources(t *testing.T, stack awscdk.Stack, typ string) map[string]map[string]any {
	t.Helper()

	found := templateOf(stack).FindResources(jsii.String(typ), nil)
	data, err := json.Marshal(found)
	if err != nil {
		t.Fatalf("encode the %s resources: %v", typ, err)
	}
	var out map[string]map[string]any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("decode the %s resources: %v", typ, err)
	}
	return out
}

// onlyResource returns the properties of the stack's one resource of typ.
func onlyResource(t *testing.T, stack awscdk.Stack, typ string) map[string]any {
	t.Helper()

	found := resources(t, stack, typ)
	if len(found) != 1 {
		t.Fatalf("got %d resources of type %s, want 1", len(found), typ)
	}
	for _, res := range found {
		props, _ := res["Properties"].(map[string]any)
		return props
	}
	return nil
}

// partitionARN is the template form of "arn:<partition>" followed by rest,
// as CDK writes an ARN built on Aws_PARTITION.
func partitionARN(rest string) map[string]any {
	return map[string]any{"Fn::Join": []any{"", []any{"arn:", map[string]any{"Ref": "AWS::Partition"}, rest}}}
}

// resolvePartition replaces the CDK forms of partitionARN with plain
// strings in the aws partition, so policies read as they deploy there.
func resolvePartition(v any) any {
	switch t := v.(type) {
	case map[string]any:
		if join, ok := t["Fn::Join"].([]any); ok && len(join) == 2 && join[0] == "" {
			if parts, ok := join[1].([]any); ok {
				var s string
				for _, part := range parts {
					switch p := part.(type) {
					case string:
						s += p
					case map[string]any:
						if p["Ref"] != "AWS::Partition" {
							return t
						}
						s += "aws"
					default:
						return t
					}
				}
				return s
			}
		}
		out := map[string]any{}
		for k, item := range t {
			out[k] = resolvePartition(item)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, item := range t {
			out[i] = resolvePartition(item)
		}
		return out
	}
	return v
}

// statementsOf returns a policy document's statements by Sid, with the
// partition resolved.
func statementsOf(t *testing.T, document any) map[string]map[string]any {
	t.Helper()

	doc, _ := resolvePartition(document).(map[string]any)
	list, ok := doc["Statement"].([]any)
	if !ok {
		t.Fatalf("policy document has no Statement list: %v", document)
	}
	out := map[string]map[string]any{}
	for i, item := range list {
		st, _ := item.(map[string]any)
		sid, _ := st["Sid"].(string)
		if sid == "" {
			sid = fmt.Sprintf("#%d", i)
		}
		out[sid] = st
	}
	return out
}

// inlinePolicy returns the named inline policy document of a role.
func inlinePolicy(t *testing.T, role map[string]any, name string) any {
	t.Helper()

	policies, _ := role["Policies"].([]any)
	for _, item := range policies {
		p, _ := item.(map[string]any)
		if p["PolicyName"] == name {
			return p["PolicyDocument"]
		}
	}
	t.Fatalf("role %v has no inline policy %q", role["RoleName"], name)
	return nil
}

// roleNamed returns the properties of the stack's role with RoleName name.
func roleNamed(t *testing.T, stack awscdk.Stack, name string) map[string]any {
	t.Helper()

	for _, res := range resources(t, stack, "AWS::IAM::Role") {
		props, _ := res["Properties"].(map[string]any)
		if props["RoleName"] == name {
			return props
		}
	}
	t.Fatalf("no AWS::IAM::Role with RoleName %q", name)
	return nil
}
