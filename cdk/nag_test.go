package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// nagVariants are the configurations whose stacks differ in what cdk-nag
// checks.
var nagVariants = []struct {
	name string
	edit func(*Config)
}{
	{name: "Default", edit: func(*Config) {}},
	{name: "CreatedKey", edit: func(c *Config) { c.KMSKey = kmsCreate }},
	{name: "EnforceMode", edit: func(c *Config) { c.AuditMode = "enforce" }},
	{name: "CodeCommitSource", edit: func(c *Config) { c.SourceType, c.SourceLocation = sourceCodeCommit, "app" }},
	{name: "S3Source", edit: func(c *Config) { c.SourceType, c.SourceLocation = sourceS3, "tools-sources/app.zip" }},
}

func variantApp(t *testing.T, edit func(*Config)) synthesized {
	t.Helper()

	cfg := testConfig(t)
	edit(&cfg)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return synthesize(t, cfg, cfg)
}

func TestNagFindsNothing(t *testing.T) {
	for _, tt := range nagVariants {
		t.Run(tt.name, func(t *testing.T) {
			app := variantApp(t, tt.edit)

			for _, stack := range []awscdk.Stack{app.tools, app.dev} {
				annotations := assertions.Annotations_FromStack(stack)
				anyRule := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
				for _, m := range *annotations.FindError(jsii.String("*"), anyRule) {
					t.Errorf("%s: unsuppressed error %s: %v", *stack.StackName(), *m.Id, m.Entry.Data)
				}
				for _, m := range *annotations.FindWarning(jsii.String("*"), anyRule) {
					t.Errorf("%s: unsuppressed warning %s: %v", *stack.StackName(), *m.Id, m.Entry.Data)
				}
			}
		})
	}
}

// minReasonLength is a floor well above cdk-nag's own 10 characters, so a
// reason has to explain the design.
const minReasonLength = 60

func TestNagSuppressionsGiveReasons(t *testing.T) {
	for _, tt := range nagVariants {
		t.Run(tt.name, func(t *testing.T) {
			app := variantApp(t, tt.edit)

			var count int
			for _, stack := range []awscdk.Stack{app.tools, app.dev} {
				for _, sup := range suppressionsOf(t, stack) {
					count++
					if !strings.HasPrefix(sup.id, "AwsSolutions-") {
						t.Errorf("%s: suppression of %q is not an AwsSolutions rule", sup.resource, sup.id)
					}
					if len(sup.reason) < minReasonLength {
						t.Errorf("%s: suppression of %s has a %d-character reason, want at least %d: %q", sup.resource, sup.id, len(sup.reason), minReasonLength, sup.reason)
					}
					// IAM5 reports each wildcard on its own, so a suppression
					// names the wildcards it accepts.
					if sup.id == "AwsSolutions-IAM5" && len(sup.appliesTo) == 0 {
						t.Errorf("%s: IAM5 suppression without appliesTo covers every wildcard of the resource", sup.resource)
					}
					for _, finding := range sup.appliesTo {
						if !strings.HasPrefix(finding, "Resource::arn:") {
							t.Errorf("%s: %s suppression applies to %q, want one resource ARN", sup.resource, sup.id, finding)
						}
					}
				}
			}
			if count == 0 {
				t.Error("found no suppression; the metadata layout may have changed")
			}
		})
	}
}

type nagSuppression struct {
	resource  string
	id        string
	reason    string
	appliesTo []string
}

// suppressionsOf reads the cdk_nag metadata that suppressions leave on
// each resource of the template.
func suppressionsOf(t *testing.T, stack awscdk.Stack) []nagSuppression {
	t.Helper()

	template := templateOf(stack).ToJSON()
	resourcesByID, _ := (*template)["Resources"].(map[string]any)

	var out []nagSuppression
	for id, raw := range resourcesByID {
		res, _ := raw.(map[string]any)
		metadata, _ := res["Metadata"].(map[string]any)
		nag, _ := metadata["cdk_nag"].(map[string]any)
		rules, _ := nag["rules_to_suppress"].([]any)
		for _, r := range rules {
			rule, _ := r.(map[string]any)
			sup := nagSuppression{resource: *stack.StackName() + "/" + id}
			sup.id, _ = rule["id"].(string)
			sup.reason, _ = rule["reason"].(string)
			applies, _ := rule["applies_to"].([]any)
			for _, a := range applies {
				finding, ok := a.(string)
				if !ok {
					t.Errorf("%s: %s applies to %v, want a finding string, not a pattern", sup.resource, sup.id, a)
					continue
				}
				sup.appliesTo = append(sup.appliesTo, finding)
			}
			out = append(out, sup)
		}
	}
	return out
}
