package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// This file runs a buildspec the way CodeBuild does, so that tests can
// rehearse buildspec.yml on this machine. It follows the buildspec
// reference of the CodeBuild user guide for version 0.2:
//
//   - the phases run in the order install, pre_build, build, post_build;
//   - a failed install or pre_build ends the build, and a failed build
//     skips to post_build with CODEBUILD_BUILD_SUCCEEDING=0, unless the
//     phase sets on-failure: CONTINUE, which goes on to the next phase;
//   - within a phase, the first failed command skips the remaining
//     commands, and the finally block runs after the commands either way;
//   - each command runs in the shell that env.shell names, and the working
//     directory and exported variables carry over to the next command and
//     phase;
//   - env.variables are set before the first phase.
//
// NOTE: runtime-versions, run-as, exported-variables, reports, artifacts
// and cache are read but not run here. A buildspec that sets
// parameter-store or secrets-manager is rejected, because its commands
// would run without those variables.

// buildPhases are the phases CodeBuild runs, in its order.
var buildPhases = []string{"install", "pre_build", "build", "post_build"}

// commandTimeout bounds one command of a rehearsed build.
const commandTimeout = 5 * time.Minute

// buildspec is the part of a buildspec file that the runner reads.
type buildspec struct {
	Version   any            `yaml:"version"`
	RunAs     string         `yaml:"run-as"`
	Env       buildspecEnv   `yaml:"env"`
	Proxy     map[string]any `yaml:"proxy"`
	Batch     map[string]any `yaml:"batch"`
	Phases    map[string]buildspecPhase
	Reports   map[string]any `yaml:"reports"`
	Artifacts map[string]any `yaml:"artifacts"`
	Cache     map[string]any `yaml:"cache"`
}

type buildspecEnv struct {
	Shell               string            `yaml:"shell"`
	Variables           map[string]string `yaml:"variables"`
	ParameterStore      map[string]string `yaml:"parameter-store"`
	SecretsManager      map[string]string `yaml:"secrets-manager"`
	ExportedVariables   []string          `yaml:"exported-variables"`
	GitCredentialHelper string            `yaml:"git-credential-helper"`
}

type buildspecPhase struct {
	RunAs           string         `yaml:"run-as"`
	OnFailure       string         `yaml:"on-failure"`
	RuntimeVersions map[string]any `yaml:"runtime-versions"`
	Commands        []string       `yaml:"commands"`
	Finally         []string       `yaml:"finally"`
}

// Phase statuses, as CodeBuild reports them.
const (
	phaseSucceeded = "SUCCEEDED"
	phaseFailed    = "FAILED"
	phaseSkipped   = "SKIPPED"
)

// phaseResult is one phase of a rehearsed build.
type phaseResult struct {
	Name   string
	Status string
	Output string // the commands' standard output and error
}

// buildResult is a rehearsed build.
type buildResult struct {
	Phases    []phaseResult
	Succeeded bool
}

// phase returns the result of the named phase.
func (r buildResult) phase(name string) phaseResult {
	for _, p := range r.Phases {
		if p.Name == name {
			return p
		}
	}
	return phaseResult{Name: name}
}

// log returns every phase's output, for a failing test's message.
func (r buildResult) log() string {
	var b strings.Builder
	for _, p := range r.Phases {
		fmt.Fprintf(&b, "== %s: %s\n%s", p.Name, p.Status, p.Output)
	}
	return b.String()
}

// parseBuildspec reads a buildspec and rejects what the runner cannot
// rehearse faithfully.
func parseBuildspec(data []byte) (*buildspec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var spec buildspec
	if err := dec.Decode(&spec); err != nil {
		return nil, fmt.Errorf("parse buildspec: %w", err)
	}

	if v := fmt.Sprint(spec.Version); v != "0.2" {
		return nil, fmt.Errorf("buildspec version %s: want 0.2", v)
	}
	for name := range spec.Phases {
		if !slices.Contains(buildPhases, name) {
			return nil, fmt.Errorf("buildspec phase %q: want one of %v", name, buildPhases)
		}
	}
	for _, name := range buildPhases {
		switch onFailure := spec.Phases[name].OnFailure; onFailure {
		case "", "ABORT", "CONTINUE":
		default:
			return nil, fmt.Errorf("phase %s: on-failure %q: the runner knows ABORT and CONTINUE", name, onFailure)
		}
	}
	switch spec.Env.Shell {
	case "", "bash", "/bin/sh":
	default:
		return nil, fmt.Errorf("env.shell %q: want bash or /bin/sh on Linux", spec.Env.Shell)
	}
	if len(spec.Env.ParameterStore) > 0 || len(spec.Env.SecretsManager) > 0 {
		return nil, errors.New("env.parameter-store and env.secrets-manager cannot be rehearsed; set those variables in the project")
	}
	return &spec, nil
}

// runBuildspec runs the buildspec in srcDir, as CodeBuild runs it in
// CODEBUILD_SRC_DIR, with env as the build environment's variables. The
// runner sets CODEBUILD_SRC_DIR and CODEBUILD_BUILD_SUCCEEDING itself.
func runBuildspec(t *testing.T, spec *buildspec, srcDir string, env []string) buildResult {
	t.Helper()

	shell := "/bin/sh"
	if spec.Env.Shell == "bash" {
		shell = "bash"
	}

	// The state file and working-directory file carry the exported
	// variables and the directory from one command to the next.
	stateDir := t.TempDir()
	stateFile := filepath.Join(stateDir, "env")
	dirFile := filepath.Join(stateDir, "pwd")
	env = append(slices.Clone(env), "CODEBUILD_SRC_DIR="+srcDir)
	for _, name := range sortedKeys(spec.Env.Variables) {
		env = append(env, name+"="+spec.Env.Variables[name])
	}
	if err := os.WriteFile(stateFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dirFile, []byte(srcDir+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	result := buildResult{Succeeded: true}
	// A failed install or pre_build sends the build to FINALIZING, so no
	// later phase runs. A failed build goes on to post_build anyway.
	finalizing := false
	for _, name := range buildPhases {
		p, ok := spec.Phases[name]
		if !ok {
			continue
		}
		if finalizing {
			result.Phases = append(result.Phases, phaseResult{Name: name, Status: phaseSkipped})
			continue
		}

		succeeding := "1"
		if !result.Succeeded {
			succeeding = "0"
		}
		var output bytes.Buffer
		failed := false
		for _, command := range p.Commands {
			if err := runBuildCommand(shell, stateFile, dirFile, env, succeeding, command, &output); err != nil {
				fmt.Fprintf(&output, "[runner] command failed: %s: %v\n", command, err)
				failed = true
				break
			}
		}
		for _, command := range p.Finally {
			if err := runBuildCommand(shell, stateFile, dirFile, env, succeeding, command, &output); err != nil {
				fmt.Fprintf(&output, "[runner] finally command failed: %s: %v\n", command, err)
				failed = true
				break
			}
		}

		status := phaseSucceeded
		if failed {
			status = phaseFailed
			result.Succeeded = false
			if p.OnFailure != "CONTINUE" && (name == "install" || name == "pre_build") {
				finalizing = true
			}
		}
		result.Phases = append(result.Phases, phaseResult{Name: name, Status: status, Output: output.String()})
	}
	return result
}

// runBuildCommand runs one command in a new shell that starts from the
// saved variables and directory and saves them again when it exits.
func runBuildCommand(shell, stateFile, dirFile string, env []string, succeeding, command string, output *bytes.Buffer) error {
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()

	script := `. "$CODEBUILD_RUNNER_STATE"
cd "$(cat "$CODEBUILD_RUNNER_DIR")" || exit 1
export CODEBUILD_BUILD_SUCCEEDING=` + succeeding + `
trap 'status=$?; export -p > "$CODEBUILD_RUNNER_STATE"; pwd > "$CODEBUILD_RUNNER_DIR"; exit $status' EXIT
` + command + "\n"

	cmd := exec.CommandContext(ctx, shell, "-c", script)
	cmd.Env = append(slices.Clone(env), "CODEBUILD_RUNNER_STATE="+stateFile, "CODEBUILD_RUNNER_DIR="+dirFile)
	cmd.Stdout, cmd.Stderr = output, output
	fmt.Fprintf(output, "[runner] running: %s\n", command)
	err := cmd.Run()
	if ctx.Err() != nil {
		return fmt.Errorf("timed out after %s", commandTimeout)
	}
	return err
}
