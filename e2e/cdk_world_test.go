package e2e

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/sandboxtest"
)

// TestWorldFromCDKPreflight runs the agent against the world that the
// sandbox derives from the CDK fixture, as the build session the world
// defines and as a session CodeBuild assumes.
func TestWorldFromCDKPreflight(t *testing.T) {
	fixture := filepath.Join(sandboxtest.ModuleRoot(t), "internal", "sandbox", "testdata", "cdk.out")
	sb := sandboxtest.Start(t, sandboxtest.Options{WorldFromCDK: fixture, LogLevel: "info"})
	const role = "arn:aws:iam::111111111111:role/service-role/CodeBuildRole"

	build := sb.Env(t, "build")
	if res := runAgent(t, build, "preflight", "--prefix", "app/cdk"); res.code != exitcode.OK {
		t.Errorf("preflight as the world's build session: exit code = %d, want 0", res.code)
	}

	codebuild := sb.Env(t, "codebuild")
	provider := stscreds.NewAssumeRoleProvider(stsClientFor(t, codebuild), role, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "cdk-build"
	})
	creds, err := aws.NewCredentialsCache(provider).Retrieve(context.Background())
	if err != nil {
		t.Fatalf("AssumeRole %s as codebuild: %v", role, err)
	}
	checkAgentWithSession(t, withSession(codebuild, creds), "cdk-build")
}
