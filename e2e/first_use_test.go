package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
)

// withEnv returns env with each NAME=VALUE of extra replacing or adding
// that variable.
func withEnv(env []string, extra ...string) []string {
	out := make([]string, 0, len(env)+len(extra))
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		replaced := false
		for _, e := range extra {
			if strings.HasPrefix(e, name+"=") {
				replaced = true
			}
		}
		if !replaced {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

func TestCredentialErrorsNameTheFix(t *testing.T) {
	sb, env := startSandbox(t)
	secret := envValue(env, "AWS_SECRET_ACCESS_KEY")
	token := envValue(env, "AWS_SESSION_TOKEN")

	tests := []struct {
		name     string
		env      []string
		args     []string
		wantCode int
		wantText []string
	}{
		{
			name:     "noCredentials",
			env:      withEnv(env, "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_SESSION_TOKEN="),
			args:     []string{"whoami"},
			wantCode: exitcode.Failure,
			wantText: []string{"no AWS credentials found", "AWS_ACCESS_KEY_ID", "--profile", "CodeBuild"},
		},
		{
			name:     "missingProfile",
			env:      env,
			args:     []string{"whoami", "--profile", "nope"},
			wantCode: exitcode.Usage,
			wantText: []string{`profile "nope" (from --profile) not found`},
		},
		{
			name:     "endpointWithoutScheme",
			env:      env,
			args:     []string{"whoami", "--endpoint-url", strings.TrimPrefix(envValue(env, "AWS_ENDPOINT_URL_STS"), "http://")},
			wantCode: exitcode.Usage,
			wantText: []string{"--endpoint-url", "http://"},
		},
		{
			name:     "wrongSecretKey",
			env:      withEnv(env, "AWS_SECRET_ACCESS_KEY=wrong-secret-key-value"),
			args:     []string{"whoami"},
			wantCode: exitcode.Failure,
			wantText: []string{"SignatureDoesNotMatch", envValue(env, "AWS_ACCESS_KEY_ID"), "AWS_SECRET_ACCESS_KEY"},
		},
		{
			name:     "unknownKeyInSync",
			env:      withEnv(env, "AWS_ACCESS_KEY_ID=AKIAUNKNOWNUNKNOWN00", "AWS_SESSION_TOKEN="),
			args:     []string{"sync", t.TempDir(), "s3://" + bucket + "/app", "--bucket-owner", devAcct},
			wantCode: exitcode.Failure,
			wantText: []string{"InvalidAccessKeyId", "AKIAUNKNOWNUNKNOWN00", "AWS_PROFILE"},
		},
		{
			// The sandbox's service principal stands for CodeBuild itself,
			// whose keys only serve to assume the build role.
			name:     "servicePrincipalKeys",
			env:      sb.Env(t, "codebuild"),
			args:     []string{"whoami"},
			wantCode: exitcode.Failure,
			wantText: []string{"codebuild.amazonaws.com", "AssumeRole"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runAgent(t, tt.env, tt.args...)

			if res.code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d", res.code, tt.wantCode)
			}
			for _, want := range tt.wantText {
				if !strings.Contains(res.stderr, want) {
					t.Errorf("stderr lacks %q", want)
				}
			}
			for _, value := range []string{secret, token, "wrong-secret-key-value"} {
				if strings.Contains(res.stdout+res.stderr, value) {
					t.Errorf("output contains a secret credential value")
				}
			}
		})
	}
}

func TestBucketOwnerValidatedBeforeRequests(t *testing.T) {
	_, env := startSandbox(t)
	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"a.txt": []byte("a")})

	for _, args := range [][]string{
		{"preflight", "--bucket-owner", "12"},
		{"sync", src, "s3://" + bucket + "/owner-check", "--bucket-owner", "12"},
	} {
		t.Run(args[0], func(t *testing.T) {
			res := runAgent(t, env, args...)

			if res.code != exitcode.Usage {
				t.Fatalf("exit code = %d, want %d", res.code, exitcode.Usage)
			}
			if !strings.Contains(res.stderr, `invalid --bucket-owner "12"`) {
				t.Errorf("stderr does not name the invalid owner")
			}
			if strings.Contains(res.stderr, "InvalidBucketOwnerAWSAccountID") {
				t.Errorf("a request reached S3 with the invalid owner")
			}
		})
	}
}

func TestSyncDryRunPrintsPlanBeforeGuard(t *testing.T) {
	_, env := startSandbox(t)
	client := s3Client(t, env)
	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"keep.txt": []byte("k")})
	putObject(t, client, bucket, "guard/keep.txt", []byte("k"))
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		putObject(t, client, bucket, "guard/"+name, []byte(name))
	}
	writeTree(t, src, map[string][]byte{"new.txt": []byte("n")})

	res := runAgent(t, env, "sync", src, "s3://"+bucket+"/guard", "--delete", "--dryrun", "--bucket-owner", devAcct)

	if res.code != exitcode.RefusedByGuard {
		t.Fatalf("exit code = %d, want %d", res.code, exitcode.RefusedByGuard)
	}
	for _, want := range []string{
		"(dryrun) upload: " + filepath.Join(src, "new.txt"),
		"(dryrun) delete: s3://" + bucket + "/guard/a",
		"(dryrun) delete: s3://" + bucket + "/guard/e",
		"(dryrun) uploaded 1 (1 B)",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if !strings.Contains(res.stderr, "the real run would stop") {
		t.Errorf("stderr does not say that the guard would stop the real run")
	}
	if got := len(listKeys(t, client, bucket, "guard/")); got != 6 {
		t.Errorf("bucket holds %d keys under guard/, want the 6 it had", got)
	}
}

func TestSyncReportDirectoryCheckedFirst(t *testing.T) {
	_, env := startSandbox(t)
	client := s3Client(t, env)
	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"a.txt": []byte("a")})
	missing := filepath.Join(t.TempDir(), "missing")

	res := runAgent(t, env, "sync", src, "s3://"+bucket+"/report-check", "--bucket-owner", devAcct, "--report", filepath.Join(missing, "report.json"))

	if res.code != exitcode.Usage {
		t.Fatalf("exit code = %d, want %d", res.code, exitcode.Usage)
	}
	if !strings.Contains(res.stderr, missing+" does not exist") {
		t.Errorf("stderr does not name the missing directory")
	}
	if strings.Contains(res.stderr, "write report: write report") {
		t.Errorf("stderr repeats the wrap")
	}
	if got := len(listKeys(t, client, bucket, "report-check/")); got != 0 {
		t.Errorf("bucket holds %d keys, want none: the check must come before the transfer", got)
	}
}

func TestPreflightWrongRoleRowNamesCallerOnce(t *testing.T) {
	_, env := startSandbox(t)
	const expected = "arn:aws:iam::111111111111:role/DeployRole"

	res := runAgent(t, env, "preflight", "--expect-role", expected)

	if res.code != exitcode.IdentityWrong {
		t.Fatalf("exit code = %d, want %d", res.code, exitcode.IdentityWrong)
	}
	var row string
	for line := range strings.Lines(res.stdout) {
		if strings.HasPrefix(strings.TrimSpace(line), "whoami ") {
			row = line
		}
	}
	if !strings.Contains(row, "MISMATCH") || !strings.Contains(row, expected) {
		t.Errorf("whoami row %q lacks MISMATCH and the expected role", row)
	}
	if got := strings.Count(row, "assumed-role/CodeBuildRole/"); got != 1 {
		t.Errorf("whoami row names the caller %d times, want once", got)
	}
}
