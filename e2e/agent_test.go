package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/exitcode"
)

const (
	bucket  = "dev-artifacts"
	devAcct = "222222222222"
	roleARN = "arn:aws:iam::111111111111:role/CodeBuildRole"
)

func TestWhoami(t *testing.T) {
	_, env := startSandbox(t)

	tests := []struct {
		name     string
		args     []string
		extraEnv []string
		wantCode int
		wantOut  string
	}{
		{"plain", []string{"whoami"}, nil, exitcode.OK, "assumed-role/CodeBuildRole/AWSCodeBuild-"},
		{"expectedRole", []string{"whoami", "--expect-role", roleARN}, nil, exitcode.OK, "check:    OK"},
		{"expectedRoleWithPath", []string{"whoami", "--expect-role", "arn:aws:iam::111111111111:role/service-role/CodeBuildRole"}, nil, exitcode.OK, "check:    OK"},
		{"otherRole", []string{"whoami", "--expect-role", "arn:aws:iam::111111111111:role/DeployRole"}, nil, exitcode.IdentityWrong, "MISMATCH"},
		{"buildInOtherAccount", []string{"whoami"}, []string{"CODEBUILD_BUILD_ARN=arn:aws:codebuild:us-east-1:999999999999:build/app:1"}, exitcode.IdentityWrong, "999999999999"},
		{"badExpectedRole", []string{"whoami", "--expect-role", "CodeBuildRole"}, nil, exitcode.Usage, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runAgent(t, append(append([]string{}, env...), tt.extraEnv...), tt.args...)
			if res.code != tt.wantCode {
				t.Fatalf("exit code = %d, want %d", res.code, tt.wantCode)
			}
			if !strings.Contains(res.stdout, tt.wantOut) {
				t.Errorf("stdout does not contain %q", tt.wantOut)
			}
		})
	}
}

func TestPreflightPasses(t *testing.T) {
	_, env := startSandbox(t)
	client := s3Client(t, env)

	res := runAgent(t, env, "preflight", "--prefix", "app/build-1", "--output", "json")
	if res.code != exitcode.OK {
		t.Fatalf("exit code = %d, want 0", res.code)
	}

	var out struct {
		Passed     bool   `json:"passed"`
		CanaryKey  string `json:"canary_key"`
		CanaryLeft bool   `json:"canary_left_behind"`
		Steps      []struct {
			Step   string `json:"step"`
			Status string `json:"status"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &out); err != nil {
		t.Fatalf("parse preflight json: %v", err)
	}
	if !out.Passed {
		t.Error("passed = false, want true")
	}
	wantSteps := []string{"whoami", "head-bucket", "list", "put-canary", "get-canary", "delete-canary"}
	if len(out.Steps) != len(wantSteps) {
		t.Fatalf("got %d steps, want %d", len(out.Steps), len(wantSteps))
	}
	for i, s := range out.Steps {
		if s.Step != wantSteps[i] || s.Status != "OK" {
			t.Errorf("step %d = %s %s, want %s OK", i, s.Step, s.Status, wantSteps[i])
		}
	}
	if !strings.HasPrefix(out.CanaryKey, "app/build-1/.countersign/") {
		t.Errorf("canary key %q is not under the reserved prefix", out.CanaryKey)
	}
	if keys := listKeys(t, client, bucket, "app/build-1/"); len(keys) != 0 {
		t.Errorf("preflight left objects behind: %v", sortedKeys(keys))
	}

	text := runAgent(t, env, "preflight", "--prefix", "app/build-1")
	if text.code != exitcode.OK || !strings.Contains(text.stdout, "preflight passed") {
		t.Errorf("text preflight: exit %d, want 0 and a passed line", text.code)
	}
}

func TestPreflightWrongBucketOwner(t *testing.T) {
	_, env := startSandbox(t)

	res := runAgent(t, env, "preflight", "--prefix", "app", "--bucket-owner", "333333333333")
	if res.code != exitcode.AccessDenied {
		t.Fatalf("exit code = %d, want %d", res.code, exitcode.AccessDenied)
	}
	if !strings.Contains(res.stdout, "head-bucket    DENIED") {
		t.Error("the head-bucket row is not DENIED")
	}
	if !strings.Contains(res.stdout, "333333333333") || !strings.Contains(strings.ToLower(res.stdout), "owner") {
		t.Error("the diagnosis does not name the owner check and the expected owner")
	}
	if !strings.Contains(res.stdout, "preflight FAILED") {
		t.Error("no failure verdict")
	}

	js := runAgent(t, env, "preflight", "--prefix", "app", "--bucket-owner", "333333333333", "--output", "json")
	var out struct {
		Steps []struct {
			Step      string `json:"step"`
			Diagnosis *struct {
				Kind string `json:"kind"`
			} `json:"diagnosis"`
		} `json:"steps"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &out); err != nil {
		t.Fatalf("parse json: %v", err)
	}
	if len(out.Steps) < 2 || out.Steps[1].Diagnosis == nil || out.Steps[1].Diagnosis.Kind != "owner-mismatch" {
		t.Errorf("head-bucket diagnosis = %+v, want kind owner-mismatch", out.Steps)
	}
}

func TestPreflightMissingBucket(t *testing.T) {
	_, env := startSandbox(t)
	env = append(env, "COUNTERSIGN_BUCKET=")
	res := runAgent(t, env, "preflight")
	if res.code != exitcode.Usage {
		t.Errorf("exit code = %d, want %d", res.code, exitcode.Usage)
	}
}

func TestSyncLifecycle(t *testing.T) {
	_, env := startSandbox(t)
	client := s3Client(t, env)
	src := t.TempDir()
	report := filepath.Join(t.TempDir(), "report.json")
	dest := "s3://" + bucket + "/releases/app"

	files := map[string][]byte{
		"index.html":              []byte("<h1>hello</h1>\n"),
		"static/app.js":           []byte("console.log('hi')\n"),
		"static/app.css":          []byte("body{}\n"),
		"bin/tool":                randomBytes(t, 300_000),
		"big/payload.bin":         randomBytes(t, 20<<20+12345), // multipart with 8 MiB parts: 3 parts
		"deep/a/b/c/d/e/f.txt":    []byte("deep\n"),
		"with space/file one.txt": []byte("space\n"),
		"unicode/héllo-世界.txt":    []byte("unicode\n"),
		"plus+sign/a+b.txt":       []byte("plus\n"),
		"percent%/100%.txt":       []byte("percent\n"),
	}
	writeTree(t, src, files)

	sync := func(t *testing.T, extra ...string) syncReport {
		t.Helper()
		args := append([]string{"sync", src, dest, "--report", report, "--progress", "lines"}, extra...)
		res := runAgent(t, env, args...)
		if res.code != exitcode.OK {
			t.Fatalf("sync exit code = %d, want 0", res.code)
		}
		return readReport(t, report)
	}

	t.Run("firstUploadsAll", func(t *testing.T) {
		r := sync(t)
		if r.Summary.Uploaded != len(files) {
			t.Errorf("uploaded = %d, want %d", r.Summary.Uploaded, len(files))
		}
		var total int64
		for _, data := range files {
			total += int64(len(data))
		}
		if r.Summary.BytesUploaded != total {
			t.Errorf("bytes_uploaded = %d, want %d", r.Summary.BytesUploaded, total)
		}
		keys := listKeys(t, client, bucket, "releases/app/")
		if len(keys) != len(files) {
			t.Errorf("bucket holds %d keys, want %d: %v", len(keys), len(files), sortedKeys(keys))
		}
		for rel, want := range files {
			got := getObject(t, client, bucket, "releases/app/"+rel)
			if !bytes.Equal(got, want) {
				t.Errorf("%s: read back %d bytes that differ from the %d written", rel, len(got), len(want))
			}
		}
		if etag := keys["releases/app/big/payload.bin"]; !strings.HasSuffix(strings.Trim(etag, `"`), "-3") {
			t.Errorf("multipart ETag = %s, want a 3-part ETag", etag)
		}
	})

	t.Run("secondUploadsNothing", func(t *testing.T) {
		r := sync(t)
		if r.Summary.Uploaded != 0 || r.Summary.Skipped != len(files) {
			t.Errorf("uploaded %d skipped %d, want 0 and %d", r.Summary.Uploaded, r.Summary.Skipped, len(files))
		}
	})

	t.Run("touchUploadsNothing", func(t *testing.T) {
		later := time.Now().Add(time.Hour)
		for rel := range files {
			if err := os.Chtimes(filepath.Join(src, rel), later, later); err != nil {
				t.Fatal(err)
			}
		}
		r := sync(t)
		if r.Summary.Uploaded != 0 {
			t.Errorf("uploaded = %d after touch, want 0: %v", r.Summary.Uploaded, r.Uploaded)
		}
	})

	t.Run("sameSizeEditUploadsOne", func(t *testing.T) {
		edited := []byte("console.log('HI')\n")
		if len(edited) != len(files["static/app.js"]) {
			t.Fatal("the edit must keep the size")
		}
		writeTree(t, src, map[string][]byte{"static/app.js": edited})
		r := sync(t)
		if r.Summary.Uploaded != 1 || len(r.Uploaded) != 1 || r.Uploaded[0] != "releases/app/static/app.js" {
			t.Errorf("uploaded %v, want exactly releases/app/static/app.js", r.Uploaded)
		}
		if got := getObject(t, client, bucket, "releases/app/static/app.js"); !bytes.Equal(got, edited) {
			t.Errorf("object holds %q, want %q", got, edited)
		}
	})

	t.Run("bigFileEditUploadsOne", func(t *testing.T) {
		data := bytes.Clone(files["big/payload.bin"])
		data[len(data)/2] ^= 0xff
		writeTree(t, src, map[string][]byte{"big/payload.bin": data})
		r := sync(t)
		if r.Summary.Uploaded != 1 {
			t.Errorf("uploaded %v, want only the big file", r.Uploaded)
		}
		if got := getObject(t, client, bucket, "releases/app/big/payload.bin"); !bytes.Equal(got, data) {
			t.Error("multipart object differs from the edited file")
		}
	})

	t.Run("dryrunChangesNothing", func(t *testing.T) {
		writeTree(t, src, map[string][]byte{"new.txt": []byte("new\n")})
		putObject(t, client, bucket, "releases/app/stale.txt", []byte("stale\n"))
		before := listKeys(t, client, bucket, "releases/app/")

		res := runAgent(t, env, "sync", src, dest, "--dryrun", "--delete")
		if res.code != exitcode.OK {
			t.Fatalf("exit code = %d, want 0", res.code)
		}
		if !strings.Contains(res.stdout, "(dryrun) upload:") || !strings.Contains(res.stdout, "(dryrun) delete:") {
			t.Error("the dry run does not print the planned upload and delete")
		}
		after := listKeys(t, client, bucket, "releases/app/")
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Errorf("dry run changed the bucket:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("deleteKeepsExcluded", func(t *testing.T) {
		putObject(t, client, bucket, "releases/app/logs/keep.log", []byte("excluded\n"))
		r := sync(t, "--delete", "--exclude", "logs/", "--max-delete-percent", "0")
		if len(r.Deleted) != 1 || r.Deleted[0] != "releases/app/stale.txt" {
			t.Errorf("deleted %v, want only releases/app/stale.txt", r.Deleted)
		}
		keys := listKeys(t, client, bucket, "releases/app/")
		if _, ok := keys["releases/app/logs/keep.log"]; !ok {
			t.Error("an excluded key was deleted")
		}
		if _, ok := keys["releases/app/new.txt"]; !ok {
			t.Error("new.txt was not uploaded")
		}
	})
}

func TestSyncGuards(t *testing.T) {
	_, env := startSandbox(t)
	client := s3Client(t, env)
	dest := "s3://" + bucket + "/guarded"
	putObject(t, client, bucket, "guarded/existing.txt", []byte("keep me\n"))

	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"a.txt": []byte("a\n")})

	tests := []struct {
		name     string
		args     []string
		extraEnv []string
	}{
		{"deleteEmptySource", []string{"sync", t.TempDir(), dest, "--delete"}, nil},
		{"deleteMissingSource", []string{"sync", filepath.Join(src, "missing"), dest, "--delete"}, nil},
		{"failedBuild", []string{"sync", src, dest}, []string{"CODEBUILD_BUILD_SUCCEEDING=0"}},
		{"maxDelete", []string{"sync", src, dest, "--delete", "--max-delete", "0"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runAgent(t, append(append([]string{}, env...), tt.extraEnv...), tt.args...)
			if res.code != exitcode.RefusedByGuard {
				t.Errorf("exit code = %d, want %d", res.code, exitcode.RefusedByGuard)
			}
			keys := listKeys(t, client, bucket, "guarded/")
			if len(keys) != 1 {
				t.Errorf("bucket changed: %v", sortedKeys(keys))
			}
		})
	}

	t.Run("failedBuildAllowed", func(t *testing.T) {
		res := runAgent(t, append(append([]string{}, env...), "CODEBUILD_BUILD_SUCCEEDING=0"), "sync", src, dest, "--allow-failed-build")
		if res.code != exitcode.OK {
			t.Errorf("exit code = %d, want 0", res.code)
		}
	})
}

func TestSyncUnreadableFile(t *testing.T) {
	_, env := startSandbox(t)
	client := s3Client(t, env)

	// Root reads any file whatever its mode, so as root the agent runs as
	// the unprivileged user nobody, which cannot read a mode-000 file.
	var cred *syscall.Credential
	base, err := os.MkdirTemp("", "countersign-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if os.Geteuid() == 0 {
		cred = &syscall.Credential{Uid: 65534, Gid: 65534}
		if err := os.Chmod(base, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	src := filepath.Join(base, "src")
	writeTree(t, src, map[string][]byte{"ok-1.txt": []byte("one\n"), "ok-2.txt": []byte("two\n"), "secret.txt": []byte("hidden\n")})
	if err := os.Chmod(filepath.Join(src, "secret.txt"), 0); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(base, "report.json")

	res := runAgentAs(t, env, cred, "sync", src, "s3://"+bucket+"/unreadable", "--report", report)
	if res.code != exitcode.Failure {
		t.Errorf("exit code = %d, want %d", res.code, exitcode.Failure)
	}
	keys := listKeys(t, client, bucket, "unreadable/")
	if len(keys) != 2 {
		t.Errorf("bucket holds %v, want the two readable files", sortedKeys(keys))
	}
	r := readReport(t, report)
	if r.Summary.Failed != 1 || len(r.Failed) != 1 || !strings.Contains(r.Failed[0].Path, "secret.txt") {
		t.Errorf("report failures = %+v, want secret.txt", r.Failed)
	}
	if !strings.Contains(res.stdout+res.stderr, "secret.txt") {
		t.Error("the output does not name the unreadable file")
	}
}
