// Command cdk is the CDK app that deploys Countersign's two sides: the
// tools account's build role and CodeBuild project, and the dev account's
// artifact bucket and audit Lambda. Its configuration is the context
// object of cdk.json.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Stack names, as `cdk deploy` takes them.
const (
	toolsStackName = "CountersignTools"
	devStackName   = "CountersignDev"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	context, err := ReadContextFile("cdk.json")
	if err != nil {
		return err
	}

	props := &awscdk.AppProps{Context: &context}
	// The CDK CLI sets CDK_OUTDIR. Without it, as under make synth, the
	// assembly would go to a temporary folder that is gone at exit.
	if os.Getenv("CDK_OUTDIR") == "" {
		props.Outdir = jsii.String("cdk.out")
	}
	app := awscdk.NewApp(props)

	cfg, err := ConfigFromContext(contextLookup(app), ".")
	if err != nil {
		return fmt.Errorf("invalid context values (cdk.json, or -c on the CDK CLI):\n%w", err)
	}
	if _, _, err := BuildApp(app, cfg, cfg); err != nil {
		return err
	}

	return synthErrors(app.Synth(nil))
}

// contextLookup reads the app's context, where -c values of the CDK CLI
// take precedence over cdk.json.
func contextLookup(app awscdk.App) func(string) (any, bool) {
	return func(key string) (any, bool) {
		value := app.Node().TryGetContext(jsii.String(key))
		return value, value != nil
	}
}

// BuildApp adds the tools stack built from tools and the dev stack built
// from dev, and checks both with cdk-nag's AwsSolutions pack. The app
// always passes one configuration twice, and tests pass two to build
// stacks that disagree.
func BuildApp(app awscdk.App, tools, dev Config) (awscdk.Stack, awscdk.Stack, error) {
	toolsStack, err := NewToolsStack(app, toolsStackName, tools)
	if err != nil {
		return nil, nil, err
	}
	devStack := NewDevStack(app, devStackName, dev)

	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return toolsStack, devStack, nil
}

// synthErrors returns the error annotations of the synthesized stacks,
// such as unsuppressed cdk-nag findings, which the CDK CLI also rejects.
func synthErrors(assembly cxapi.CloudAssembly) error {
	var lines []string
	for _, stack := range *assembly.Stacks() {
		for _, message := range *stack.Messages() {
			if message.Level == cxapi.SynthesisMessageLevel_ERROR {
				lines = append(lines, fmt.Sprintf("%s: %v", *message.Id, message.Entry.Data))
			}
		}
	}
	if len(lines) > 0 {
		return errors.New("synthesis found errors:\n  " + strings.Join(lines, "\n  "))
	}
	return nil
}
