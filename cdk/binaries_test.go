package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// The tests run countersign and countersign-sandbox built from the parent
// module, so they check the same code that ships.
var (
	binaryOnce sync.Once
	binaryDir  string
	binaryErr  error
)

// builtBinary returns the path of a command of the parent module, built
// once per test run.
func builtBinary(t *testing.T, name string) string {
	t.Helper()

	binaryOnce.Do(func() {
		binaryDir, binaryErr = os.MkdirTemp("", "countersign-cdk-test-")
		if binaryErr != nil {
			return
		}
		for _, pkg := range []struct{ name, dir string }{{"countersign", "./agent"}, {"countersign-sandbox", "./sandbox"}} {
			cmd := exec.Command("go", "build", "-C", "..", "-o", filepath.Join(binaryDir, pkg.name), pkg.dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				binaryErr = errors.New("go build " + pkg.dir + " in the parent module: " + err.Error() + "\n" + string(out))
				return
			}
		}
	})
	if binaryErr != nil {
		t.Fatal(binaryErr)
	}
	return filepath.Join(binaryDir, name)
}

func removeBuiltBinaries() {
	if binaryDir != "" {
		os.RemoveAll(binaryDir)
	}
}

// offlineEnv is the environment of a command that must not reach AWS:
// fake static credentials, a region, and no instance metadata lookups.
// The extra values replace those, because os/exec keeps the last value
// of a repeated variable.
func offlineEnv(extra ...string) []string {
	return append([]string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.Getenv("HOME"),
		"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY=cdk-test-fake-secret",
		"AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
	}, extra...)
}

// runCommand runs a command and returns its standard output, standard error and
// exit code. A command that cannot start fails the test.
func runCommand(t *testing.T, env []string, name string, args ...string) (string, string, int) {
	t.Helper()

	cmd := exec.Command(name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr

	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &exit):
		return stdout.String(), stderr.String(), exit.ExitCode()
	}
	t.Fatalf("run %s: %v", name, err)
	return "", "", -1
}
