package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/countersign/countersign/internal/exitcode"
)

const (
	stateFileName   = "state.json"   // exists while the sandbox runs
	markerFileName  = "sandbox.json" // exists once the directory is initialized
	lockFileName    = "lock"
	objectsDirName  = "objects"
	policyDirName   = "policies"
	settingsDirName = "settings"
	stateVersion    = 1
)

// State describes a running sandbox, for the env subcommand and for tests.
// It holds every principal's keys, so it is written with mode 0600.
type State struct {
	Version      int    `json:"version"`
	PID          int    `json:"pid"`
	VersitygwPID int    `json:"versitygw_pid"`
	Endpoint     string `json:"endpoint"`
	Region       string `json:"region"`

	Bucket           string `json:"bucket"`       // the world's first bucket
	BucketOwner      string `json:"bucket_owner"` // its owner account
	RoleARN          string `json:"role_arn,omitempty"`
	DefaultPrincipal string `json:"default_principal"`

	// Env is the world's extra variables, which every env file exports.
	Env map[string]string `json:"env,omitempty"`

	Principals []StatePrincipal `json:"principals"`
}

// StatePrincipal is one principal of a running sandbox.
type StatePrincipal struct {
	Name            string `json:"name"`
	ARN             string `json:"arn"`
	Account         string `json:"account"`
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token,omitempty"`
}

// ReadState returns the state of the sandbox running on dataDir.
func ReadState(dataDir string) (*State, error) {
	path := filepath.Join(dataDir, stateFileName)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("no sandbox is running with data directory %s (%s is missing): start countersign-sandbox --data %s --env-file FILE first", dataDir, path, dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("read sandbox state: %w", err)
	}

	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		return nil, fmt.Errorf("sandbox state %s: %w", path, err)
	}
	if st.Version != stateVersion {
		return nil, fmt.Errorf("sandbox state %s has version %d, this binary reads version %d: restart the sandbox with this binary", path, st.Version, stateVersion)
	}
	if !processAlive(st.PID) {
		return nil, fmt.Errorf("the sandbox recorded in %s (pid %d) is no longer running: start it again", path, st.PID)
	}
	return &st, nil
}

// envUnset lists variables that would send an SDK elsewhere or add
// credentials the sandbox does not know.
var envUnset = []string{
	"AWS_PROFILE",
	"AWS_DEFAULT_PROFILE",
	"AWS_ENDPOINT_URL",
	"AWS_SESSION_TOKEN",
	"AWS_SECURITY_TOKEN",
	"AWS_ROLE_ARN",
	"AWS_ROLE_SESSION_NAME",
	"AWS_WEB_IDENTITY_TOKEN_FILE",
	"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	"AWS_CONTAINER_CREDENTIALS_FULL_URI",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN",
	"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	"AWS_CA_BUNDLE",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
}

// EnvLines returns shell lines that point AWS SDKs and CLIs at the sandbox
// as the named principal.
func (st *State) EnvLines(name string) (string, error) {
	i := slices.IndexFunc(st.Principals, func(p StatePrincipal) bool { return p.Name == name })
	if i < 0 {
		names := make([]string, len(st.Principals))
		for j, p := range st.Principals {
			names[j] = p.Name
		}
		return "", fmt.Errorf("%w: unknown principal %q: use one of %s", exitcode.ErrUsage, name, strings.Join(names, ", "))
	}
	p := st.Principals[i]

	var b strings.Builder
	b.WriteString("unset " + strings.Join(envUnset, " ") + "\n")
	export := func(name, value string) {
		b.WriteString("export " + name + "=" + shellQuote(value) + "\n")
	}
	export("AWS_CONFIG_FILE", "/dev/null")
	export("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	export("AWS_ENDPOINT_URL_S3", st.Endpoint)
	export("AWS_ENDPOINT_URL_STS", st.Endpoint)
	export("AWS_ACCESS_KEY_ID", p.AccessKeyID)
	export("AWS_SECRET_ACCESS_KEY", p.SecretAccessKey)
	if p.SessionToken != "" {
		export("AWS_SESSION_TOKEN", p.SessionToken)
	}
	export("AWS_REGION", st.Region)
	export("AWS_DEFAULT_REGION", st.Region)
	export("AWS_EC2_METADATA_DISABLED", "true")
	export("COUNTERSIGN_BUCKET", st.Bucket)
	export("COUNTERSIGN_BUCKET_OWNER", st.BucketOwner)
	if st.RoleARN != "" {
		export("COUNTERSIGN_ROLE_ARN", st.RoleARN)
	}
	for _, name := range slices.Sorted(maps.Keys(st.Env)) {
		export(name, st.Env[name])
	}
	return b.String(), nil
}

// shellQuote quotes s for POSIX shells.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// ParseEnvLines reads the lines EnvLines writes: each "export NAME='value'"
// sets a variable and each "unset A B" lists variables to remove. It
// returns the variables set and the names unset.
func ParseEnvLines(text string) (set map[string]string, unset []string, err error) {
	set = make(map[string]string)
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "unset "):
			unset = append(unset, strings.Fields(strings.TrimPrefix(line, "unset "))...)
		case strings.HasPrefix(line, "export "):
			name, quoted, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
			value, uerr := shellUnquote(quoted)
			if !ok || uerr != nil {
				return nil, nil, fmt.Errorf("line %d %q: not of the form export NAME='value'", n+1, line)
			}
			set[name] = value
		default:
			return nil, nil, fmt.Errorf("line %d %q: expected export or unset", n+1, line)
		}
	}
	return set, unset, nil
}

// shellUnquote reverses shellQuote.
func shellUnquote(s string) (string, error) {
	var b strings.Builder
	for len(s) > 0 {
		switch {
		case strings.HasPrefix(s, `\'`):
			b.WriteByte('\'')
			s = s[2:]
		case s[0] == '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return "", errors.New("unterminated quote")
			}
			b.WriteString(s[1 : 1+end])
			s = s[end+2:]
		default:
			return "", errors.New("unquoted text")
		}
	}
	return b.String(), nil
}
