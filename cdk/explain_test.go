package main

import (
	"strings"
	"testing"
)

// explainArgs returns the arguments that check the five actions of the
// grants, for the prefix and project of cfg.
func explainArgs(cfg Config, dir string) []string {
	args := []string{"explain", "--cdk-out", dir, "--prefix", cfg.Prefix, "--project-arn", cfg.ProjectARN("aws")}
	for _, action := range requiredActions() {
		args = append(args, "--action", action)
	}
	return args
}

func TestExplainAcceptsApp(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)
	countersign := builtBinary(t, "countersign")

	stdout, stderr, code := runCommand(t, offlineEnv(), countersign, explainArgs(cfg, app.dir)...)
	if code != 0 {
		t.Fatalf("explain exit code: got %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, action := range append(requiredActions(), "sts:AssumeRole") {
		if !rowAllowed(stdout, action) {
			t.Errorf("explain does not show %s as allowed:\n%s", action, stdout)
		}
	}
}

// A dev stack that names another role must fail explain with exit 4 and
// put the fault on the dev account's bucket policy, not the tools side.
func TestExplainBlamesDevBucketPolicy(t *testing.T) {
	tools := testConfig(t)
	dev := tools
	dev.RoleName = "some-other-role"
	app := synthesize(t, tools, dev)
	countersign := builtBinary(t, "countersign")

	stdout, stderr, code := runCommand(t, offlineEnv(), countersign, explainArgs(tools, app.dir)...)
	if code != 4 {
		t.Fatalf("explain exit code: got %d, want 4 (access denied)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	blame := "the dev account's bucket policy (account " + tools.DevAccount + ") has no statement that allows it (" + devStackName + "/"
	if got := strings.Count(stdout, blame); got != len(requiredActions()) {
		t.Errorf("explain blames the dev account's bucket policy for %d actions, want %d:\n%s", got, len(requiredActions()), stdout)
	}
	if strings.Contains(stdout, "the tools account's identity policy") {
		t.Errorf("explain blames the tools account, whose policy is unchanged:\n%s", stdout)
	}
	if !strings.Contains(stdout, `"AWS": "arn:aws:iam::`+tools.ToolsAccount+`:role/`+tools.RoleName+`"`) {
		t.Errorf("explain's fix does not name the build role:\n%s", stdout)
	}
	if !rowAllowed(stdout, "sts:AssumeRole") {
		t.Errorf("the trust policy is unchanged, but explain does not allow sts:AssumeRole:\n%s", stdout)
	}
}

// rowAllowed reports whether the table of explain's text output shows the
// action as allowed.
func rowAllowed(output, action string) bool {
	for _, line := range strings.Split(output, "\n") {
		fields := strings.Fields(line)
		if len(fields) >= 3 && fields[0] == action && fields[2] == "allowed" {
			return true
		}
	}
	return false
}
