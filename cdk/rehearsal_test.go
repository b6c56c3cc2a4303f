package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// sandboxStartTimeout bounds the sandbox's start-up, versitygw included.
const sandboxStartTimeout = 30 * time.Second

// The rehearsal deploys nothing: countersign-sandbox builds its two
// accounts from the synthesized app (--world-from-cdk), CodeBuild's
// service principal assumes the build role there, and countersign
// preflight and sync run with the session it gets, as in a real build.
//
// NOTE: with kmsKey "create" the bucket's KMSMasterKeyID is the new key's
// ARN, known only after deployment, so --world-from-cdk rejects that app.
// The rehearsal covers SSE-S3, the committed configuration.
func TestRehearsalDeliversWithAssumedRole(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)
	countersign := builtBinary(t, "countersign")
	sandbox := startSandbox(t, app.dir)

	session := assumeBuildRole(t, sandbox.vars(t, "codebuild"), cfg)
	env := buildEnv(cfg, sandbox.endpoint, session)

	stdout, stderr, code := runCommand(t, env, countersign, "preflight")
	if code != 0 {
		t.Fatalf("preflight exit code: got %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "assumed-role/"+cfg.RoleName+"/") {
		t.Errorf("preflight does not show a session of %s:\n%s", cfg.RoleName, stdout)
	}

	source := t.TempDir()
	files := map[string]string{"index.html": "<h1>rehearsal</h1>\n", "assets/app.js": "console.log(1)\n"}
	for name, content := range files {
		path := filepath.Join(source, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	destination := cfg.Prefix + "/0123456789abcdef/"
	report := filepath.Join(t.TempDir(), "report.json")

	stdout, stderr, code = runCommand(t, env, countersign, "sync", source, "s3://"+cfg.BucketName+"/"+destination, "--report", report)
	if code != 0 {
		t.Fatalf("sync exit code: got %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	uploaded := readUploaded(t, report)
	want := []string{destination + "assets/app.js", destination + "index.html"}
	if !slices.Equal(uploaded, want) {
		t.Errorf("sync uploaded %v, want %v", uploaded, want)
	}

	// The grants stop at the prefix, on both sides.
	stdout, stderr, code = runCommand(t, env, countersign, "sync", source, "s3://"+cfg.BucketName+"/elsewhere/")
	if code != 4 {
		t.Errorf("sync outside the prefix: got exit code %d, want 4 (access denied)\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}

// The audit Lambda's settings, run with the dev account's credentials,
// find nothing wrong with the bucket the dev stack defines.
func TestRehearsalAuditFindsNothing(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)
	countersign := builtBinary(t, "countersign")
	sandbox := startSandbox(t, app.dir)

	env := offlineEnv()
	for name, value := range sandbox.vars(t, "dev-admin") {
		env = append(env, name+"="+value)
	}
	args := []string{
		"audit", "--bucket", cfg.BucketName, "--bucket-owner", cfg.DevAccount,
		"--expect-role", cfg.RoleARN("aws"), "--prefix", cfg.Prefix,
		"--fail-on", "info", "--output", "json",
	}
	for _, action := range requiredActions() {
		args = append(args, "--required-action", action)
	}

	stdout, stderr, code := runCommand(t, env, countersign, args...)
	if code != 0 {
		t.Fatalf("audit exit code: got %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var report struct {
		Findings []struct {
			ID string `json:"id"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("parse the audit report: %v\n%s", err, stdout)
	}
	if len(report.Findings) != 0 {
		t.Errorf("audit findings: got %v, want none", report.Findings)
	}

	// Enforce mode owns the template's delivery statements by their Sids,
	// so on the deployed policy it has nothing to write.
	stdout, stderr, code = runCommand(t, env, countersign, append(args, "--mode", "enforce")...)
	if code != 0 {
		t.Fatalf("audit --mode enforce exit code: got %d, want 0\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	var enforced struct {
		Enforce struct {
			Changed bool   `json:"changed"`
			Skipped string `json:"skipped"`
		} `json:"enforce"`
	}
	if err := json.Unmarshal([]byte(stdout), &enforced); err != nil {
		t.Fatalf("parse the enforce report: %v\n%s", err, stdout)
	}
	if enforced.Enforce.Changed || enforced.Enforce.Skipped != "" {
		t.Errorf("enforce on the template's policy: changed %v, skipped %q; want no write", enforced.Enforce.Changed, enforced.Enforce.Skipped)
	}
}

// runningSandbox is a countersign-sandbox process that this test started.
type runningSandbox struct {
	binary   string
	dataDir  string
	endpoint string
}

// startSandbox runs countersign-sandbox on 127.0.0.1 with the world
// derived from the cloud assembly in cdkOut, and stops it, by its PID,
// when the test ends.
func startSandbox(t *testing.T, cdkOut string) *runningSandbox {
	t.Helper()

	versitygw, err := filepath.Abs(filepath.Join("..", "bin", "versitygw"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(versitygw); err != nil {
		t.Fatalf("%s is missing (%v): run make build at the repository root first", versitygw, err)
	}

	sb := &runningSandbox{binary: builtBinary(t, "countersign-sandbox"), dataDir: t.TempDir()}
	envFile := filepath.Join(t.TempDir(), "sandbox.env")
	logPath := filepath.Join(t.TempDir(), "sandbox.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}

	cmd := exec.Command(sb.binary,
		"--listen", "127.0.0.1:0", "--data", sb.dataDir, "--env-file", envFile,
		"--world-from-cdk", cdkOut, "--versitygw", versitygw, "--log-level", "info")
	cmd.Env = offlineEnv()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start countersign-sandbox: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	t.Cleanup(func() {
		// SIGTERM lets the sandbox stop versitygw, its child, too.
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
			t.Errorf("countersign-sandbox (pid %d) ignored SIGTERM and was killed", cmd.Process.Pid)
		}
		logFile.Close()
		if t.Failed() {
			data, _ := os.ReadFile(logPath)
			t.Logf("sandbox log:\n%s", data)
		}
	})

	deadline := time.Now().Add(sandboxStartTimeout)
	for {
		if data, err := os.ReadFile(envFile); err == nil && len(data) > 0 {
			sb.endpoint = parseEnvFile(t, string(data))["AWS_ENDPOINT_URL_S3"]
			break
		}
		select {
		case err := <-exited:
			data, _ := os.ReadFile(logPath)
			t.Fatalf("countersign-sandbox exited during start-up (%v); its log:\n%s", err, data)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("countersign-sandbox wrote no env file within %s", sandboxStartTimeout)
		}
	}
	if !strings.HasPrefix(sb.endpoint, "http://127.0.0.1:") {
		t.Fatalf("sandbox endpoint %q is not on 127.0.0.1", sb.endpoint)
	}
	return sb
}

// vars returns the variables that act as the named principal of the
// sandbox's world.
func (sb *runningSandbox) vars(t *testing.T, principal string) map[string]string {
	t.Helper()

	stdout, stderr, code := runCommand(t, offlineEnv(), sb.binary, "env", "--data", sb.dataDir, "--as", principal)
	if code != 0 {
		t.Fatalf("countersign-sandbox env --as %s: exit code %d: %s", principal, code, stderr)
	}
	return parseEnvFile(t, stdout)
}

// parseEnvFile reads the export NAME='value' lines that the sandbox
// writes. A single quote inside a value is closed, escaped and reopened,
// as a shell reads it.
func parseEnvFile(t *testing.T, text string) map[string]string {
	t.Helper()

	vars := map[string]string{}
	scanner := bufio.NewScanner(strings.NewReader(text))
	for scanner.Scan() {
		line, ok := strings.CutPrefix(scanner.Text(), "export ")
		if !ok {
			continue
		}
		name, quoted, ok := strings.Cut(line, "=")
		if !ok || len(quoted) < 2 || quoted[0] != '\'' || quoted[len(quoted)-1] != '\'' {
			t.Fatalf("unexpected env line %q", scanner.Text())
		}
		vars[name] = strings.ReplaceAll(quoted[1:len(quoted)-1], `'\''`, `'`)
	}
	return vars
}

// assumeBuildRole calls STS AssumeRole on the build role with the
// credentials of CodeBuild's service principal, as CodeBuild does when a
// build starts.
func assumeBuildRole(t *testing.T, codebuild map[string]string, cfg Config) aws.Credentials {
	t.Helper()

	client := sts.New(sts.Options{
		Region:       codebuild["AWS_REGION"],
		BaseEndpoint: aws.String(codebuild["AWS_ENDPOINT_URL_STS"]),
		Credentials:  credentials.NewStaticCredentialsProvider(codebuild["AWS_ACCESS_KEY_ID"], codebuild["AWS_SECRET_ACCESS_KEY"], ""),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	out, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{
		RoleArn:         aws.String(cfg.RoleARN("aws")),
		RoleSessionName: aws.String("AWSCodeBuild-rehearsal"),
	})
	if err != nil {
		t.Fatalf("AssumeRole %s as codebuild.amazonaws.com: %v", cfg.RoleARN("aws"), err)
	}
	if got, want := aws.ToString(out.AssumedRoleUser.Arn), "arn:aws:sts::"+cfg.ToolsAccount+":assumed-role/"+cfg.RoleName+"/AWSCodeBuild-rehearsal"; got != want {
		t.Errorf("assumed role user: got %s, want %s", got, want)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}

// buildEnv is the environment of the project's build: the variables the
// tools stack sets on the project, the build ARN CodeBuild sets, and the
// assumed session, pointed at the sandbox.
func buildEnv(cfg Config, endpoint string, session aws.Credentials) []string {
	env := offlineEnv(
		"AWS_REGION="+cfg.Region,
		"AWS_ENDPOINT_URL_S3="+endpoint,
		"AWS_ENDPOINT_URL_STS="+endpoint,
		"AWS_ACCESS_KEY_ID="+session.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+session.SecretAccessKey,
		"AWS_SESSION_TOKEN="+session.SessionToken,
		"CODEBUILD_BUILD_ARN=arn:aws:codebuild:"+cfg.Region+":"+cfg.ToolsAccount+":build/"+cfg.ProjectName+":6f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f",
		"COUNTERSIGN_BUCKET="+cfg.BucketName,
		"COUNTERSIGN_BUCKET_OWNER="+cfg.DevAccount,
		"COUNTERSIGN_ROLE_ARN="+cfg.RoleARN("aws"),
		"COUNTERSIGN_PREFIX="+cfg.Prefix,
	)
	return env
}

// readUploaded returns the sorted keys that a sync report lists as
// uploaded.
func readUploaded(t *testing.T, path string) []string {
	t.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Uploaded []string `json:"uploaded"`
		Failed   []any    `json:"failed"`
	}
	if err := json.Unmarshal(data, &report); err != nil {
		t.Fatalf("parse the sync report: %v\n%s", err, data)
	}
	if len(report.Failed) != 0 {
		t.Errorf("sync report lists failures: %v", report.Failed)
	}
	return slices.Sorted(slices.Values(report.Uploaded))
}
