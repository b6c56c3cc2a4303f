package main

import (
	"strings"
	"testing"
)

// explainDefaultActions are the actions countersign explain checks when no
// --action is given.
var explainDefaultActions = []string{"s3:ListBucket", "s3:PutObject", "s3:GetObject", "s3:DeleteObject"}

// explainArgs returns explain's arguments for the cloud assembly in dir,
// with an --action for each action. explain takes the prefix, the bucket
// and the project ARN from the CodeBuild project, so no other flag is
// needed.
func explainArgs(dir string, actions ...string) []string {
	args := []string{"explain", "--cdk-out", dir}
	for _, action := range actions {
		args = append(args, "--action", action)
	}
	return args
}

func TestExplainAcceptsApp(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)
	countersign := builtBinary(t, "countersign")

	tests := []struct {
		name    string
		args    []string
		allowed []string
	}{
		{"bare", explainArgs(app.dir), explainDefaultActions},
		{"requiredActions", explainArgs(app.dir, requiredActions()...), requiredActions()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCommand(t, offlineEnv(), countersign, tt.args...)
			if code != 0 {
				t.Fatalf("explain exit code: got %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
			}
			for _, action := range append(tt.allowed, "sts:AssumeRole") {
				if !rowAllowed(stdout, action) {
					t.Errorf("explain does not show %s as allowed:\n%s", action, stdout)
				}
			}
			project := "of project " + cfg.ProjectName + " (stack " + toolsStackName + ")"
			for _, want := range []string{
				"project:   " + cfg.ProjectARN("aws"),
				"prefix " + cfg.Prefix + " from COUNTERSIGN_PREFIX " + project,
				"bucket " + cfg.BucketName + " from COUNTERSIGN_BUCKET " + project,
			} {
				if !strings.Contains(stdout, want) {
					t.Errorf("explain output does not contain %q:\n%s", want, stdout)
				}
			}
		})
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

	stdout, stderr, code := runCommand(t, offlineEnv(), countersign, explainArgs(app.dir)...)
	if code != 4 {
		t.Fatalf("explain exit code: got %d, want 4 (access denied)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	blame := "the dev account's bucket policy (account " + tools.DevAccount + ") has no statement that allows it (" + devStackName + "/"
	if got := strings.Count(stdout, blame); got != len(explainDefaultActions) {
		t.Errorf("explain blames the dev account's bucket policy for %d actions, want %d:\n%s", got, len(explainDefaultActions), stdout)
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
