// Package e2e runs the built countersign binary against the sandbox on
// 127.0.0.1. Run `make build` first; `make test` does.
package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/countersign/countersign/internal/sandboxtest"
)

// result is one run of the countersign binary.
type result struct {
	stdout, stderr string
	code           int
}

func countersignBin(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(sandboxtest.ModuleRoot(t), "bin", "countersign")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("%s is missing: run `make build` first", bin)
	}
	return bin
}

// runAgent runs bin/countersign with env and args, and a time limit.
func runAgent(t testing.TB, env []string, args ...string) result {
	t.Helper()
	return runAgentAs(t, env, nil, args...)
}

// runAgentAs runs the agent as another user when cred is set. That user
// may not be able to reach the checkout (CI may clone under /root), so the
// binary is copied next to the test's files first.
func runAgentAs(t testing.TB, env []string, cred *syscall.Credential, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	bin := countersignBin(t)
	if cred != nil {
		bin = copyExecutable(t, bin)
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(env, "COUNTERSIGN_LOG_FORMAT=json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	}

	err := cmd.Run()
	res := result{stdout: stdout.String(), stderr: stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case errors.As(err, &exitErr):
		res.code = exitErr.ExitCode()
	case err != nil:
		t.Fatalf("run countersign %v: %v", args, err)
	}
	t.Logf("countersign %s -> exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, tail(res.stderr, 4000))
	return res
}

// copyExecutable copies bin into a fresh folder that every user can read.
func copyExecutable(t testing.TB, bin string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "countersign-bin-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join(dir, "countersign")
	if err := os.WriteFile(dst, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dst
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}

// envValue returns NAME's value in an environment list.
func envValue(env []string, name string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], name+"="); ok {
			return v
		}
	}
	return ""
}

// s3Client builds an SDK client for the principal whose environment is env.
func s3Client(t testing.TB, env []string) *s3.Client {
	t.Helper()
	endpoint := envValue(env, "AWS_ENDPOINT_URL_S3")
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("sandbox endpoint %q is not on 127.0.0.1", endpoint)
	}
	return s3.New(s3.Options{
		Region:       envValue(env, "AWS_REGION"),
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(
			envValue(env, "AWS_ACCESS_KEY_ID"), envValue(env, "AWS_SECRET_ACCESS_KEY"), envValue(env, "AWS_SESSION_TOKEN")),
	})
}

// listKeys returns every key under prefix with its ETag.
func listKeys(t testing.TB, client *s3.Client, bucket, prefix string) map[string]string {
	t.Helper()
	keys := map[string]string{}
	p := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatalf("list s3://%s/%s: %v", bucket, prefix, err)
		}
		for _, o := range page.Contents {
			keys[aws.ToString(o.Key)] = aws.ToString(o.ETag)
		}
	}
	return keys
}

func getObject(t testing.TB, client *s3.Client, bucket, key string) []byte {
	t.Helper()
	out, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("get s3://%s/%s: %v", bucket, key, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatalf("read s3://%s/%s: %v", bucket, key, err)
	}
	return data
}

func putObject(t testing.TB, client *s3.Client, bucket, key string, body []byte) {
	t.Helper()
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(body)})
	if err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

// writeTree writes files (relative path to content) under dir.
func writeTree(t testing.TB, dir string, files map[string][]byte) {
	t.Helper()
	for rel, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// syncReport mirrors the JSON that --report writes.
type syncReport struct {
	Summary struct {
		Uploaded      int   `json:"uploaded"`
		Skipped       int   `json:"skipped"`
		Deleted       int   `json:"deleted"`
		Failed        int   `json:"failed"`
		BytesUploaded int64 `json:"bytes_uploaded"`
	} `json:"summary"`
	Uploaded []string `json:"uploaded"`
	Skipped  []string `json:"skipped"`
	Deleted  []string `json:"deleted"`
	Failed   []struct {
		Key   string `json:"key"`
		Path  string `json:"path"`
		Error string `json:"error"`
	} `json:"failed"`
}

func readReport(t testing.TB, path string) syncReport {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read report: %v", err)
	}
	var r syncReport
	if err := json.Unmarshal(data, &r); err != nil {
		t.Fatalf("parse report %s: %v", data, err)
	}
	return r
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// startSandbox starts the default world and returns the build principal's
// environment.
func startSandbox(t *testing.T) (*sandboxtest.Sandbox, []string) {
	t.Helper()
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	return sb, sb.Env(t, "build")
}
