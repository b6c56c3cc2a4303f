package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/sandboxtest"
)

// The runner is the yardstick of the buildspec tests, so its CodeBuild
// semantics are checked first, on small buildspecs.
func TestCodeBuildRunnerPhases(t *testing.T) {
	tests := []struct {
		name       string
		spec       string
		wantStatus map[string]string
		wantFiles  map[string]string // file in the source folder to content; "" means absent
		wantOK     bool
	}{
		{
			name: "StateCarriesOver",
			spec: `version: 0.2
env:
  shell: bash
  variables:
    GREETING: hello
phases:
  install:
    commands:
      - mkdir sub
      - cd sub
      - export FROM_INSTALL=yes
  build:
    commands:
      - echo "$GREETING $FROM_INSTALL $(basename "$PWD") $CODEBUILD_BUILD_SUCCEEDING" > "$CODEBUILD_SRC_DIR/out"
`,
			wantStatus: map[string]string{"install": phaseSucceeded, "build": phaseSucceeded},
			wantFiles:  map[string]string{"out": "hello yes sub 1\n"},
			wantOK:     true,
		},
		{
			name: "InstallFailureEndsBuild",
			spec: `version: 0.2
phases:
  install:
    commands:
      - exit 3
  pre_build:
    commands:
      - touch pre_build
  build:
    commands:
      - touch build
  post_build:
    commands:
      - touch post_build
`,
			wantStatus: map[string]string{"install": phaseFailed, "pre_build": phaseSkipped, "build": phaseSkipped, "post_build": phaseSkipped},
			wantFiles:  map[string]string{"pre_build": "", "build": "", "post_build": ""},
		},
		{
			name: "BuildFailureRunsPostBuild",
			spec: `version: 0.2
phases:
  pre_build:
    commands:
      - echo "$CODEBUILD_BUILD_SUCCEEDING" > pre_build
  build:
    commands:
      - "false"
      - touch after-failure
  post_build:
    commands:
      - echo "$CODEBUILD_BUILD_SUCCEEDING" > post_build
`,
			wantStatus: map[string]string{"pre_build": phaseSucceeded, "build": phaseFailed, "post_build": phaseSucceeded},
			wantFiles:  map[string]string{"pre_build": "1\n", "after-failure": "", "post_build": "0\n"},
		},
		{
			name: "FinallyRunsAfterFailure",
			spec: `version: 0.2
phases:
  pre_build:
    commands:
      - "false"
      - touch skipped
    finally:
      - echo ran > finally
  build:
    commands:
      - touch build
`,
			wantStatus: map[string]string{"pre_build": phaseFailed, "build": phaseSkipped},
			wantFiles:  map[string]string{"skipped": "", "finally": "ran\n", "build": ""},
		},
		{
			name: "OnFailureContinue",
			spec: `version: 0.2
phases:
  pre_build:
    on-failure: CONTINUE
    commands:
      - "false"
  build:
    commands:
      - echo "$CODEBUILD_BUILD_SUCCEEDING" > build
`,
			wantStatus: map[string]string{"pre_build": phaseFailed, "build": phaseSucceeded},
			wantFiles:  map[string]string{"build": "0\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec, err := parseBuildspec([]byte(tt.spec))
			if err != nil {
				t.Fatal(err)
			}
			src := t.TempDir()

			result := runBuildspec(t, spec, src, []string{"PATH=" + os.Getenv("PATH")})

			for phase, want := range tt.wantStatus {
				if got := result.phase(phase).Status; got != want {
					t.Errorf("phase %s: got %s, want %s\n%s", phase, got, want, result.log())
				}
			}
			for name, want := range tt.wantFiles {
				data, err := os.ReadFile(filepath.Join(src, name))
				switch {
				case want == "" && err == nil:
					t.Errorf("file %s exists, but its command must not have run", name)
				case want != "" && err != nil:
					t.Errorf("file %s: %v", name, err)
				case want != "" && string(data) != want:
					t.Errorf("file %s: got %q, want %q", name, data, want)
				}
			}
			if result.Succeeded != tt.wantOK {
				t.Errorf("build succeeded: got %v, want %v", result.Succeeded, tt.wantOK)
			}
		})
	}
}

func TestCodeBuildRunnerRejectsUnknownFields(t *testing.T) {
	tests := []struct {
		name string
		spec string
		want string
	}{
		{name: "OldVersion", spec: "version: 0.1\nphases: {}\n", want: "want 0.2"},
		{name: "UnknownPhase", spec: "version: 0.2\nphases:\n  deploy:\n    commands: [\"true\"]\n", want: `phase "deploy"`},
		{name: "UnknownKey", spec: "version: 0.2\nphases:\n  build:\n    command: [\"true\"]\n", want: "command"},
		{name: "SecretsManager", spec: "version: 0.2\nenv:\n  secrets-manager:\n    TOKEN: x:y\nphases: {}\n", want: "cannot be rehearsed"},
		{name: "RetryOnFailure", spec: "version: 0.2\nphases:\n  build:\n    on-failure: RETRY\n    commands: [\"true\"]\n", want: "ABORT and CONTINUE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseBuildspec([]byte(tt.spec))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// resolvedVersion is the commit the rehearsed builds claim to build.
const resolvedVersion = "0123456789abcdef0123456789abcdef01234567"

// deliveryPrefix is the project's COUNTERSIGN_PREFIX.
const deliveryPrefix = "app"

func TestBuildspecDeliversBuild(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	env := sb.Env(t, "build")
	spec := readRepositoryBuildspec(t)
	src := copyRepository(t)

	result := runBuildspec(t, spec, src, codeBuildEnv(t, env))
	t.Logf("rehearsed build:\n%s", result.log())

	if !result.Succeeded {
		t.Fatalf("the build failed:\n%s", result.log())
	}
	for _, phase := range buildPhases {
		if got := result.phase(phase).Status; got != phaseSucceeded {
			t.Errorf("phase %s: got %s, want %s", phase, got, phaseSucceeded)
		}
	}
	if !strings.Contains(result.phase("pre_build").Output, "OK") {
		t.Errorf("preflight printed no OK row:\n%s", result.phase("pre_build").Output)
	}

	bucket := envValue(env, "COUNTERSIGN_BUCKET")
	destination := deliveryPrefix + "/" + resolvedVersion + "/"
	artifacts := filepath.Join(src, "dist", "artifacts")
	wantKeys := []string{destination + "countersign", destination + "countersign-audit.zip"}

	client := s3Client(t, env)
	delivered := listKeys(t, client, bucket, deliveryPrefix+"/")
	if got := sortedKeys(delivered); !slices.Equal(got, wantKeys) {
		t.Fatalf("delivered keys: got %v, want %v", got, wantKeys)
	}
	for _, key := range wantKeys {
		local, err := os.ReadFile(filepath.Join(artifacts, strings.TrimPrefix(key, destination)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(getObject(t, client, bucket, key), local) {
			t.Errorf("s3://%s/%s differs from the build output", bucket, key)
		}
	}

	report := readReport(t, filepath.Join(src, "dist", "sync-report.json"))
	if got := slices.Sorted(slices.Values(report.Uploaded)); !slices.Equal(got, wantKeys) {
		t.Errorf("report uploaded: got %v, want %v", got, wantKeys)
	}
	if report.Summary.Uploaded != 2 || report.Summary.Failed != 0 || len(report.Failed) != 0 {
		t.Errorf("report summary: got %+v, want 2 uploaded and none failed", report.Summary)
	}
	if want := fileSizes(t, artifacts); report.Summary.BytesUploaded != want {
		t.Errorf("report bytes uploaded: got %d, want %d", report.Summary.BytesUploaded, want)
	}
}

// An S3 source has no resolved source version, so the build delivers
// under its build number instead of under PREFIX//.
func TestBuildspecS3SourceUsesBuildNumber(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	env := sb.Env(t, "build")
	spec := readRepositoryBuildspec(t)
	src := copyRepository(t)

	// The last value of a repeated variable wins.
	buildEnv := append(codeBuildEnv(t, env), "CODEBUILD_RESOLVED_SOURCE_VERSION=")
	result := runBuildspec(t, spec, src, buildEnv)
	if !result.Succeeded {
		t.Fatalf("the build failed:\n%s", result.log())
	}

	destination := deliveryPrefix + "/build-1/"
	wantKeys := []string{destination + "countersign", destination + "countersign-audit.zip"}
	delivered := listKeys(t, s3Client(t, env), envValue(env, "COUNTERSIGN_BUCKET"), deliveryPrefix+"/")
	if got := sortedKeys(delivered); !slices.Equal(got, wantKeys) {
		t.Errorf("delivered keys: got %v, want %v", got, wantKeys)
	}
}

func TestBuildspecFailedBuildDeliversNothing(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	env := sb.Env(t, "build")
	spec := readRepositoryBuildspec(t)
	src := copyRepository(t)

	// The audit Lambda fails to compile in the build phase, after install
	// has built countersign from the agent, which does not import it.
	writeTree(t, src, map[string][]byte{
		"lambda/broken.go": []byte("package main\n\nfunc broken() int { return undefinedName }\n"),
	})

	result := runBuildspec(t, spec, src, codeBuildEnv(t, env))
	t.Logf("rehearsed build:\n%s", result.log())

	if result.Succeeded {
		t.Fatalf("the build succeeded with a broken source file:\n%s", result.log())
	}
	for phase, want := range map[string]string{"install": phaseSucceeded, "pre_build": phaseSucceeded, "build": phaseFailed} {
		if got := result.phase(phase).Status; got != want {
			t.Errorf("phase %s: got %s, want %s\n%s", phase, got, want, result.log())
		}
	}
	if !strings.Contains(result.phase("build").Output, "undefinedName") {
		t.Errorf("the build phase did not fail on the broken file:\n%s", result.phase("build").Output)
	}

	// post_build runs after a failed build, and sync rejects the delivery
	// with exit code 5.
	post := result.phase("post_build")
	if post.Status == "" || post.Status == phaseSkipped {
		t.Fatalf("post_build did not run after the failed build:\n%s", result.log())
	}
	if !strings.Contains(post.Output, "CODEBUILD_BUILD_SUCCEEDING=0") || !strings.Contains(post.Output, "exit status 5") {
		t.Errorf("sync did not reject the failed build's delivery with exit code 5:\n%s", post.Output)
	}

	bucket := envValue(env, "COUNTERSIGN_BUCKET")
	if delivered := listKeys(t, s3Client(t, env), bucket, deliveryPrefix+"/"); len(delivered) != 0 {
		t.Errorf("a failed build delivered %v", sortedKeys(delivered))
	}
}

func readRepositoryBuildspec(t *testing.T) *buildspec {
	t.Helper()

	data, err := os.ReadFile(filepath.Join(sandboxtest.ModuleRoot(t), "buildspec.yml"))
	if err != nil {
		t.Fatal(err)
	}
	spec, err := parseBuildspec(data)
	if err != nil {
		t.Fatalf("buildspec.yml: %v", err)
	}
	return spec
}

// copyRepository copies the files of the working tree that git tracks or
// would track (not the ignored bin/, dist/ or node_modules/) to a fresh
// folder, as CodeBuild checks out a source.
func copyRepository(t *testing.T) string {
	t.Helper()

	root := sandboxtest.ModuleRoot(t)
	out, err := exec.Command("git", "-C", root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Fatalf("list the repository's files: %v", err)
	}

	dst := t.TempDir()
	for _, rel := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		from := filepath.Join(root, rel)
		info, err := os.Lstat(from)
		if err != nil || !info.Mode().IsRegular() {
			// Deleted in the working tree, or not a regular file.
			continue
		}
		to := filepath.Join(dst, rel)
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := copyFile(from, to, info.Mode().Perm()); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func copyFile(from, to string, perm os.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()

	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// codeBuildEnv returns the variables of the build container: CodeBuild's
// own, the project's Countersign variables, the sandbox's credentials and
// endpoints, and what the go command needs to build offline.
func codeBuildEnv(t *testing.T, sandboxEnv []string) []string {
	t.Helper()

	region := envValue(sandboxEnv, "AWS_REGION")
	account := roleAccount(t, envValue(sandboxEnv, "COUNTERSIGN_ROLE_ARN"))
	buildID := "countersign-build:5a0f4ad6-0d4c-4c4e-9a4f-3a5b2c1d0e9f"

	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"CODEBUILD_BUILD_ID=" + buildID,
		"CODEBUILD_BUILD_ARN=arn:aws:codebuild:" + region + ":" + account + ":build/" + buildID,
		"CODEBUILD_BUILD_NUMBER=1",
		"CODEBUILD_INITIATOR=rehearsal",
		"CODEBUILD_RESOLVED_SOURCE_VERSION=" + resolvedVersion,
		"CODEBUILD_SOURCE_VERSION=" + resolvedVersion,
		"CODEBUILD_BUILD_IMAGE=aws/codebuild/standard:7.0",
		"AWS_DEFAULT_REGION=" + region,
		"COUNTERSIGN_PREFIX=" + deliveryPrefix,
		// The go command builds from the module cache and the build cache
		// of this machine, and fetches nothing.
		"GOPROXY=off",
		"GOTOOLCHAIN=local",
		"GOFLAGS=-mod=readonly",
	}
	for _, name := range []string{"GOCACHE", "GOMODCACHE", "GOPATH"} {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		env = append(env, name+"="+strings.TrimSpace(string(out)))
	}
	for _, kv := range sandboxEnv {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "COUNTERSIGN_") {
			env = append(env, kv)
		}
	}
	return env
}

// roleAccount returns the account of a role ARN.
func roleAccount(t *testing.T, arn string) string {
	t.Helper()

	parts := strings.Split(arn, ":")
	if len(parts) < 6 || parts[4] == "" {
		t.Fatalf("COUNTERSIGN_ROLE_ARN %q is not a role ARN", arn)
	}
	return parts[4]
}

// fileSizes returns the total size of the regular files in dir.
func fileSizes(t *testing.T, dir string) int64 {
	t.Helper()

	var total int64
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return total
}
