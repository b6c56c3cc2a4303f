// Package sandboxtest starts the built countersign-sandbox binary for tests
// of other packages. It builds nothing: bin/countersign-sandbox and
// bin/versitygw must exist at the module root (make build).
package sandboxtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/sandbox"
)

const (
	startTimeout = 30 * time.Second
	stopTimeout  = 15 * time.Second
)

// Options configures Start.
type Options struct {
	// World is a world file; empty uses the built-in world.
	World string

	// WorldFromCDK is a synthesized CDK app (a cdk.out folder) to derive
	// the world from, instead of World.
	WorldFromCDK string

	// DataDir reuses a data directory, for example one a stopped sandbox
	// left behind; empty uses a new temporary directory.
	DataDir string

	// LogLevel is the sandbox's log level; empty means debug, so that a
	// failing test's log shows every request.
	LogLevel string
}

// Sandbox is a running countersign-sandbox process.
type Sandbox struct {
	binary  string
	dataDir string
	envFile string
	logPath string
	vars    map[string]string // the env file, for the default principal

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
	observed bool // Wait saw the process exit on its own
}

// Start runs the sandbox with a temporary data directory and env file, waits
// until it has written the env file, and stops it when the test ends. The
// test fails, and is never skipped, when the binaries are missing.
func Start(t testing.TB, opts Options) *Sandbox {
	t.Helper()

	root := ModuleRoot(t)
	binary := filepath.Join(root, "bin", "countersign-sandbox")
	versitygw := filepath.Join(root, "bin", "versitygw")
	for _, path := range []string{binary, versitygw} {
		if _, err := os.Stat(path); err != nil {
			t.Fatalf("%s is missing (%v): run make build first", path, err)
		}
	}

	s := &Sandbox{
		binary:  binary,
		dataDir: opts.DataDir,
		envFile: filepath.Join(t.TempDir(), "sandbox.env"),
		logPath: filepath.Join(t.TempDir(), "sandbox.log"),
		exited:  make(chan struct{}),
	}
	if s.dataDir == "" {
		s.dataDir = t.TempDir()
	}
	level := opts.LogLevel
	if level == "" {
		level = "debug"
	}

	args := []string{
		"--listen", "127.0.0.1:0",
		"--data", s.dataDir,
		"--env-file", s.envFile,
		"--versitygw", versitygw,
		"--log-level", level,
	}
	if opts.World != "" {
		args = append(args, "--world", opts.World)
	}
	if opts.WorldFromCDK != "" {
		args = append(args, "--world-from-cdk", opts.WorldFromCDK)
	}

	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(binary, args...)
	s.cmd.Env = withoutAWS(os.Environ(), nil)
	s.cmd.Stdout = logFile
	s.cmd.Stderr = logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("start %s: %v", binary, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		logFile.Close()
		close(s.exited)
	}()

	t.Cleanup(func() {
		if err := s.Stop(); err != nil && !s.observed {
			t.Errorf("sandbox did not stop cleanly: %v", err)
		}
		if t.Failed() {
			t.Logf("sandbox log:\n%s", s.Log())
		}
	})

	s.waitForEnvFile(t)
	return s
}

func (s *Sandbox) waitForEnvFile(t testing.TB) {
	t.Helper()
	deadline := time.After(startTimeout)
	for {
		data, err := os.ReadFile(s.envFile)
		if err == nil && len(data) > 0 {
			vars, _, err := sandbox.ParseEnvLines(string(data))
			if err != nil {
				t.Fatalf("env file %s: %v", s.envFile, err)
			}
			s.vars = vars
			return
		}

		select {
		case <-s.exited:
			t.Fatalf("the sandbox exited during start-up (%v); its log:\n%s", s.waitErr, s.Log())
		case <-deadline:
			t.Fatalf("the sandbox did not write %s within %s; its log:\n%s", s.envFile, startTimeout, s.Log())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Endpoint returns the sandbox's S3 and STS endpoint, http://127.0.0.1:PORT.
func (s *Sandbox) Endpoint() string {
	return s.vars["AWS_ENDPOINT_URL_S3"]
}

// DataDir returns the sandbox's data directory.
func (s *Sandbox) DataDir() string {
	return s.dataDir
}

// PID returns the sandbox's process ID.
func (s *Sandbox) PID() int {
	return s.cmd.Process.Pid
}

// EnvFile returns the variables of the env file the sandbox wrote at start,
// for its default principal.
func (s *Sandbox) EnvFile() map[string]string {
	out := make(map[string]string, len(s.vars))
	for k, v := range s.vars {
		out[k] = v
	}
	return out
}

// Vars returns the variables that point AWS tools at the sandbox as the
// named principal, from the sandbox's env subcommand.
func (s *Sandbox) Vars(t testing.TB, name string) map[string]string {
	t.Helper()

	cmd := exec.Command(s.binary, "env", "--data", s.dataDir, "--as", name)
	cmd.Env = withoutAWS(os.Environ(), nil)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("countersign-sandbox env --as %s: %v: %s", name, err, stderr.String())
	}

	vars, _, err := sandbox.ParseEnvLines(string(out))
	if err != nil {
		t.Fatalf("countersign-sandbox env --as %s: %v", name, err)
	}
	return vars
}

// Env returns an environment for a process that acts as the named
// principal: this process's environment without any AWS_* variable, plus
// the sandbox's variables.
func (s *Sandbox) Env(t testing.TB, name string) []string {
	t.Helper()

	vars := s.Vars(t, name)
	env := withoutAWS(os.Environ(), vars)

	names := make([]string, 0, len(vars))
	for k := range vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		env = append(env, k+"="+vars[k])
	}
	return env
}

// withoutAWS drops AWS_* variables and the variables in also.
func withoutAWS(env []string, also map[string]string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		_, set := also[name]
		return strings.HasPrefix(name, "AWS_") || set
	})
}

// Stop sends SIGTERM and waits for the sandbox to exit. It returns nil for
// a clean stop (exit 0) and is safe to call more than once.
func (s *Sandbox) Stop() error {
	s.stopOnce.Do(func() {
		select {
		case <-s.exited:
			s.stopErr = exitError(s.waitErr, "the sandbox had already exited")
			return
		default:
		}

		if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
			s.stopErr = err
			return
		}
		select {
		case <-s.exited:
			s.stopErr = s.waitErr
		case <-time.After(stopTimeout):
			_ = s.cmd.Process.Kill()
			<-s.exited
			s.stopErr = errors.New("the sandbox ignored SIGTERM for " + stopTimeout.String() + " and was killed")
		}
	})
	return s.stopErr
}

func exitError(err error, message string) error {
	if err == nil {
		return nil
	}
	return errors.New(message + ": " + err.Error())
}

// Wait waits up to timeout for the sandbox to exit on its own and returns
// its exit code, or -1 when it is still running. Once Wait has seen the
// exit, the test's cleanup no longer reports it as an unclean stop.
func (s *Sandbox) Wait(timeout time.Duration) int {
	select {
	case <-s.exited:
		s.observed = true
		return s.cmd.ProcessState.ExitCode()
	case <-time.After(timeout):
		return -1
	}
}

// Log returns what the sandbox has written to stdout and stderr so far.
func (s *Sandbox) Log() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	return string(data)
}

// ModuleRoot returns the directory of the go.mod above the working
// directory.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// WriteWorld writes a world to a file in a temporary folder of the test
// and returns its path, for Options.World.
func WriteWorld(t testing.TB, world *sandbox.World) string {
	t.Helper()

	data, err := json.MarshalIndent(world, "", "  ")
	if err != nil {
		t.Fatalf("encode the world: %v", err)
	}

	path := filepath.Join(t.TempDir(), "world.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write the world: %v", err)
	}

	return path
}
