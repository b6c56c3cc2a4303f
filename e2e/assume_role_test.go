package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/sandboxtest"
)

// buildARN is a build of the project that the built-in world's trust
// policy names, as CodeBuild sets CODEBUILD_BUILD_ARN.
const buildARN = "arn:aws:codebuild:us-east-1:111111111111:build/countersign-build:0b6f6d2e-8c1a-4c1e-9d3b-5b0e6f1e2a7c"

// stsClientFor builds an STS client for the principal whose environment is
// env: static keys and an explicit loopback endpoint.
func stsClientFor(t *testing.T, env []string) *sts.Client {
	t.Helper()
	endpoint := envValue(env, "AWS_ENDPOINT_URL_STS")
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("sandbox STS endpoint %q is not on 127.0.0.1", endpoint)
	}
	return sts.New(sts.Options{
		Region:       envValue(env, "AWS_REGION"),
		BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider(
			envValue(env, "AWS_ACCESS_KEY_ID"), envValue(env, "AWS_SECRET_ACCESS_KEY"), envValue(env, "AWS_SESSION_TOKEN")),
	})
}

// withSession returns env with the session's keys in place of the
// principal's, and the build ARN CodeBuild would set.
func withSession(env []string, creds aws.Credentials) []string {
	return append(append([]string{}, env...),
		"AWS_ACCESS_KEY_ID="+creds.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
		"AWS_SESSION_TOKEN="+creds.SessionToken,
		"CODEBUILD_BUILD_ARN="+buildARN,
	)
}

// checkAgentWithSession runs whoami and preflight with the session's keys.
func checkAgentWithSession(t *testing.T, env []string, sessionName string) {
	t.Helper()

	res := runAgent(t, env, "whoami")
	if res.code != exitcode.OK {
		t.Errorf("whoami exit code = %d, want 0", res.code)
	}
	if want := "assumed-role/CodeBuildRole/" + sessionName; !strings.Contains(res.stdout, want) {
		t.Errorf("whoami output does not name the session %s", want)
	}

	res = runAgent(t, env, "preflight", "--prefix", "app/"+sessionName)
	if res.code != exitcode.OK {
		t.Errorf("preflight exit code = %d, want 0", res.code)
	}
}

// awsCLIAssumeRole runs Debian's AWS CLI v2 `sts assume-role` with env and
// returns its output and error.
func awsCLIAssumeRole(t *testing.T, env []string, role, sessionName string) ([]byte, error) {
	t.Helper()
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("the AWS CLI is missing (%v): install Debian's awscli package", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// This CLI ignores AWS_ENDPOINT_URL_STS, so the endpoint is a flag.
	cmd := exec.CommandContext(ctx, cli, "sts", "assume-role",
		"--endpoint-url", envValue(env, "AWS_ENDPOINT_URL_STS"),
		"--role-arn", role, "--role-session-name", sessionName, "--output", "json")
	cmd.Env = append(env, "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	return cmd.Output()
}

func TestAssumeRoleSDKThenAgent(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	env := sb.Env(t, "codebuild")

	provider := stscreds.NewAssumeRoleProvider(stsClientFor(t, env), roleARN, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "sdk-build"
		o.Duration = 20 * time.Minute
	})
	creds, err := aws.NewCredentialsCache(provider).Retrieve(context.Background())
	if err != nil {
		t.Fatalf("stscreds AssumeRole as codebuild: %v", err)
	}
	if !strings.HasPrefix(creds.AccessKeyID, "ASIA") || !creds.CanExpire {
		t.Errorf("credentials %s, expiring %v, want temporary ASIA keys", creds.AccessKeyID, creds.CanExpire)
	}
	if left := time.Until(creds.Expires); left < 19*time.Minute || left > 21*time.Minute {
		t.Errorf("credentials expire in %s, want the 20 minutes asked for", left)
	}

	checkAgentWithSession(t, withSession(env, creds), "sdk-build")
}

func TestAssumeRoleAWSCLIThenAgent(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	env := sb.Env(t, "codebuild")

	out, err := awsCLIAssumeRole(t, env, roleARN, "cli-build")
	if err != nil {
		t.Fatalf("aws sts assume-role: %v\n%s", err, out)
	}
	var parsed struct {
		Credentials struct {
			AccessKeyID     string `json:"AccessKeyId"`
			SecretAccessKey string `json:"SecretAccessKey"`
			SessionToken    string `json:"SessionToken"`
			Expiration      string `json:"Expiration"`
		} `json:"Credentials"`
		AssumedRoleUser struct {
			Arn string `json:"Arn"`
		} `json:"AssumedRoleUser"`
	}
	if err := json.Unmarshal(out, &parsed); err != nil {
		t.Fatalf("parse the CLI's output: %v", err)
	}
	if got, want := parsed.AssumedRoleUser.Arn, "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/cli-build"; got != want {
		t.Errorf("AssumedRoleUser.Arn = %q, want %q", got, want)
	}
	if parsed.Credentials.Expiration == "" {
		t.Error("the CLI shows no expiration")
	}

	c := parsed.Credentials
	checkAgentWithSession(t, withSession(env, aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}), "cli-build")
}

func TestAssumeRoleOtherProjectRefused(t *testing.T) {
	world, err := sandbox.DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	const otherProject = "arn:aws:codebuild:us-east-1:111111111111:project/someone-elses-build"
	for i := range world.Principals {
		if world.Principals[i].Name == "codebuild" {
			world.Principals[i].SourceARN = otherProject
		}
	}
	path := sandboxtest.WriteWorld(t, world)

	sb := sandboxtest.Start(t, sandboxtest.Options{World: path, LogLevel: "info"})
	env := sb.Env(t, "codebuild")
	wantMessage := "User: codebuild.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: " + roleARN

	out, err := awsCLIAssumeRole(t, env, roleARN, "cli-build")
	if err == nil {
		t.Fatalf("aws sts assume-role for another project succeeded: %s", out)
	}
	var exitErr *exec.ExitError
	if errors.As(err, &exitErr) {
		out = append(out, exitErr.Stderr...)
	}
	if !strings.Contains(string(out), "AccessDenied") || !strings.Contains(string(out), wantMessage) {
		t.Errorf("the CLI's error %q, want AccessDenied with %q", out, wantMessage)
	}

	_, err = stsClientFor(t, env).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("sdk-build")})
	if err == nil || !strings.Contains(err.Error(), wantMessage) {
		t.Errorf("SDK AssumeRole for another project: %v, want %q", err, wantMessage)
	}
}
