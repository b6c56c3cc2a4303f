package sandbox

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"strings"
	"time"
)

//go:embed defaultworld.json
var defaultWorldJSON []byte

// World is the simulated AWS estate: accounts with their roles and users,
// buckets with their owners, policies and settings, and the principals whose
// keys sign requests. Fields that later features need (permissions
// boundaries, SCPs) get their own keys here, so unknown keys are rejected on
// load instead of being silently ignored.
type World struct {
	// Description is a note for people on what the world sets up, such
	// as the fault it plants. The sandbox ignores it.
	Description string `json:"description,omitempty"`

	Region string `json:"region"`

	// SecureTransport is the aws:SecureTransport value that PolicyAuthorizer
	// evaluates. Unset means true, because the deployment uses HTTPS although
	// the sandbox speaks plain HTTP.
	SecureTransport *bool `json:"secure_transport,omitempty"`

	// DefaultPrincipal names the principal whose keys go into the env file
	// that the sandbox writes at start; empty means the first principal.
	DefaultPrincipal string `json:"default_principal,omitempty"`

	// Env lists extra variables that the env file and the env subcommand
	// export, such as COUNTERSIGN_ACL for a world that makes the build send
	// a canned ACL.
	Env map[string]string `json:"env,omitempty"`

	Accounts   []Account   `json:"accounts"`
	Buckets    []Bucket    `json:"buckets"`
	Principals []Principal `json:"principals"`
}

// Account is one simulated AWS account.
type Account struct {
	ID    string `json:"id"`
	Alias string `json:"alias,omitempty"`

	// CanonicalID is the 64-hex canonical user ID that S3 shows as a bucket
	// owner; empty derives a stable one from ID.
	CanonicalID string `json:"canonical_id,omitempty"`

	Roles []Role `json:"roles,omitempty"`
	Users []User `json:"users,omitempty"`
}

// Role is an IAM role with its trust policy and inline identity policies.
type Role struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"` // "/" when empty

	// ID is the role's unique ID (AROA...); empty derives a stable one.
	ID string `json:"id,omitempty"`

	TrustPolicy json.RawMessage            `json:"trust_policy,omitempty"`
	Policies    map[string]json.RawMessage `json:"policies,omitempty"`

	// MaxSessionDuration is the longest session, in seconds, that
	// AssumeRole grants: 3600 to 43200, and 3600 when unset, as in IAM.
	MaxSessionDuration int `json:"max_session_duration,omitempty"`
}

// User is an IAM user with its inline identity policies. Its access keys
// are a principal whose user field names the user's ARN.
type User struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"` // "/" when empty

	// ID is the user's unique ID (AIDA...). Empty derives a stable one.
	ID string `json:"id,omitempty"`

	Policies map[string]json.RawMessage `json:"policies,omitempty"`
}

// Bucket is an S3 bucket that the sandbox creates at start.
type Bucket struct {
	Name   string          `json:"name"`
	Owner  string          `json:"owner"`            // account ID
	Policy json.RawMessage `json:"policy,omitempty"` // stored verbatim

	// OwnershipControls is the Object Ownership setting:
	// BucketOwnerEnforced (when unset, as for a new S3 bucket),
	// BucketOwnerPreferred or ObjectWriter.
	OwnershipControls string `json:"ownership_controls,omitempty"`

	// DefaultEncryption and PublicAccessBlock are the bucket's settings.
	// Unset means the bucket has no such configuration, so S3's Get call
	// returns its not-found error.
	DefaultEncryption *DefaultEncryption `json:"default_encryption,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block,omitempty"`
}

// Principal is a set of keys and the identity they sign as: a role session
// (Role and Session), an IAM user (User), an account's root user (ARN), or
// an AWS service acting for a resource of an account (Service).
type Principal struct {
	Name string `json:"name"`

	// Role is the ARN of a world role; the keys are that role's temporary
	// session credentials.
	Role string `json:"role,omitempty"`

	// Session is the role session name; "{uuid}" is replaced by a random
	// UUID at each start, as CodeBuild names its sessions.
	Session string `json:"session,omitempty"`

	// User is the ARN of a world user, arn:aws:iam::ACCOUNT:user/PATH/NAME.
	// The keys are that user's long-term access keys.
	User string `json:"user,omitempty"`

	// ARN is the identity of long-term keys: arn:aws:iam::ACCOUNT:root.
	ARN string `json:"arn,omitempty"`

	// Service is a service principal such as codebuild.amazonaws.com.
	// SourceAccount and SourceARN are the account and the resource, such
	// as a CodeBuild project ARN, that the service acts for. They become
	// aws:SourceAccount and aws:SourceArn in its requests, as when
	// CodeBuild assumes a project's service role.
	Service       string `json:"service,omitempty"`
	SourceAccount string `json:"source_account,omitempty"`
	SourceARN     string `json:"source_arn,omitempty"`

	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	SessionToken    string `json:"session_token,omitempty"`
}

// DefaultWorld returns the built-in world: a tools account 111111111111 whose
// CodeBuildRole session ("build") writes to the bucket dev-artifacts of the
// dev account 222222222222, administered by that account's root ("dev-admin").
func DefaultWorld() (*World, error) {
	w, err := ParseWorld(defaultWorldJSON)
	if err != nil {
		return nil, fmt.Errorf("embedded default world: %w", err)
	}
	return w, nil
}

// DefaultWorldJSON returns the built-in world file as written.
func DefaultWorldJSON() []byte {
	return bytes.Clone(defaultWorldJSON)
}

// LoadWorld reads and validates the world file at path.
func LoadWorld(path string) (*World, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read world file: %w", err)
	}

	w, err := ParseWorld(data)
	if err != nil {
		return nil, fmt.Errorf("world file %s: %w", path, err)
	}
	return w, nil
}

// ParseWorld decodes and validates a world file.
func ParseWorld(data []byte) (*World, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()

	var w World
	if err := dec.Decode(&w); err != nil {
		return nil, fmt.Errorf("invalid world JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid world JSON: data after the top-level object")
	}

	if err := w.Validate(); err != nil {
		return nil, err
	}
	return &w, nil
}

var (
	accountIDPattern   = regexp.MustCompile(`^[0-9]{12}$`)
	aliasPattern       = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{1,61}[a-z0-9])$`)
	canonicalIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)
	regionPattern      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	roleNamePattern    = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	rolePathPattern    = regexp.MustCompile(`^/([\x21-\x7e]+/)?$`)
	roleIDPattern      = regexp.MustCompile(`^AROA[A-Z0-9]{17}$`)
	userIDPattern      = regexp.MustCompile(`^AIDA[A-Z0-9]{17}$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	principalPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	accessKeyPattern   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	roleARNPattern     = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role(/.*)?/([^/]+)$`)
	userARNPattern     = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):user(/.*)?/([^/]+)$`)
	rootARNPattern     = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):root$`)
	servicePattern     = regexp.MustCompile(`^[a-z0-9-]+(\.[a-z0-9-]+)*\.amazonaws\.com$`)
	sourceARNPattern   = regexp.MustCompile(`^arn:aws:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12}):.+$`)
	envNamePattern     = regexp.MustCompile(`^[A-Z_][A-Z0-9_]*$`)
	bucketNamePattern  = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
)

// Validate checks the world and returns every problem found, each naming the
// field and its value.
func (w *World) Validate() error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}

	if !regionPattern.MatchString(w.Region) {
		fail("region %q: invalid region, use a name such as us-east-1", w.Region)
	}

	accounts := w.validateAccounts(fail)
	w.validateBuckets(accounts, fail)
	w.validatePrincipals(accounts, fail)
	w.validateEnv(fail)

	return errors.Join(errs...)
}

// sandboxEnvNames are the variables that the env file always sets, which a
// world's env entries may not replace.
var sandboxEnvNames = map[string]bool{
	"COUNTERSIGN_BUCKET":       true,
	"COUNTERSIGN_BUCKET_OWNER": true,
	"COUNTERSIGN_ROLE_ARN":     true,
}

func (w *World) validateEnv(fail func(string, ...any)) {
	for name := range w.Env {
		switch {
		case !envNamePattern.MatchString(name):
			fail("env[%q]: a variable name is uppercase letters, digits and underscores", name)
		case strings.HasPrefix(name, "AWS_"):
			fail("env[%q]: the sandbox sets the AWS_* variables itself; remove it", name)
		case sandboxEnvNames[name]:
			fail("env[%q]: the sandbox sets %s from the world's buckets and default principal; remove it", name, name)
		}
	}
}

func (w *World) validateAccounts(fail func(string, ...any)) map[string]*Account {
	accounts := make(map[string]*Account, len(w.Accounts))
	aliases := make(map[string]bool)

	if len(w.Accounts) == 0 {
		fail("accounts: empty, define at least one account")
	}
	for i := range w.Accounts {
		a := &w.Accounts[i]
		field := fmt.Sprintf("accounts[%d]", i)

		if !accountIDPattern.MatchString(a.ID) {
			fail("%s.id %q: an account ID is 12 digits", field, a.ID)
		} else if accounts[a.ID] != nil {
			fail("%s.id %q: duplicate account", field, a.ID)
		} else {
			accounts[a.ID] = a
		}

		if a.Alias != "" {
			if !aliasPattern.MatchString(a.Alias) {
				fail("%s.alias %q: an alias is 3 to 63 lowercase letters, digits and hyphens", field, a.Alias)
			} else if aliases[a.Alias] {
				fail("%s.alias %q: duplicate alias", field, a.Alias)
			}
			aliases[a.Alias] = true
		}
		if a.CanonicalID != "" && !canonicalIDPattern.MatchString(a.CanonicalID) {
			fail("%s.canonical_id %q: a canonical ID is 64 lowercase hex digits", field, a.CanonicalID)
		}

		validateRoles(field, a.Roles, fail)
		validateUsers(field, a.Users, fail)
	}
	return accounts
}

func validateRoles(accountField string, roles []Role, fail func(string, ...any)) {
	names := make(map[string]bool, len(roles))
	for j := range roles {
		r := &roles[j]
		field := fmt.Sprintf("%s.roles[%d]", accountField, j)

		// IAM role names are unique regardless of case.
		lower := strings.ToLower(r.Name)
		if !roleNamePattern.MatchString(r.Name) {
			fail("%s.name %q: a role name is 1 to 64 letters, digits or +=,.@_-", field, r.Name)
		} else if names[lower] {
			fail("%s.name %q: duplicate role in this account", field, r.Name)
		}
		names[lower] = true

		if r.Path != "" && !rolePathPattern.MatchString(r.Path) {
			fail("%s.path %q: a path starts and ends with /", field, r.Path)
		}
		if r.ID != "" && !roleIDPattern.MatchString(r.ID) {
			fail("%s.id %q: a role ID is AROA followed by 17 uppercase letters or digits", field, r.ID)
		}
		if len(r.TrustPolicy) > 0 {
			if err := ValidatePolicy(r.TrustPolicy); err != nil {
				fail("%s.trust_policy: %w", field, err)
			}
		}
		validateIdentityPolicies(field, r.Policies, fail)

		if d := r.MaxSessionDuration; d != 0 && (d < 3600 || d > 43200) {
			fail("%s.max_session_duration %d: the maximum session duration is 3600 to 43200 seconds", field, d)
		}
	}
}

func validateUsers(accountField string, users []User, fail func(string, ...any)) {
	names := make(map[string]bool, len(users))
	for j := range users {
		u := &users[j]
		field := fmt.Sprintf("%s.users[%d]", accountField, j)

		// IAM user names are unique regardless of case, as role names are.
		lower := strings.ToLower(u.Name)
		if !roleNamePattern.MatchString(u.Name) {
			fail("%s.name %q: a user name is 1 to 64 letters, digits or +=,.@_-", field, u.Name)
		} else if names[lower] {
			fail("%s.name %q: duplicate user in this account", field, u.Name)
		}
		names[lower] = true

		if u.Path != "" && !rolePathPattern.MatchString(u.Path) {
			fail("%s.path %q: a path starts and ends with /", field, u.Path)
		}
		if u.ID != "" && !userIDPattern.MatchString(u.ID) {
			fail("%s.id %q: a user ID is AIDA followed by 17 uppercase letters or digits", field, u.ID)
		}
		validateIdentityPolicies(field, u.Policies, fail)
	}
}

func validateIdentityPolicies(field string, policies map[string]json.RawMessage, fail func(string, ...any)) {
	for name, doc := range policies {
		if name == "" {
			fail("%s.policies: a policy has an empty name", field)
		}
		if err := ValidatePolicy(doc); err != nil {
			fail("%s.policies[%q]: %w", field, name, err)
		}
	}
}

func (w *World) validateBuckets(accounts map[string]*Account, fail func(string, ...any)) {
	names := make(map[string]bool, len(w.Buckets))

	if len(w.Buckets) == 0 {
		fail("buckets: empty, define at least one bucket")
	}
	for i := range w.Buckets {
		b := &w.Buckets[i]
		field := fmt.Sprintf("buckets[%d]", i)

		if err := validateBucketName(b.Name); err != nil {
			fail("%s.name %q: %w", field, b.Name, err)
		} else if names[b.Name] {
			fail("%s.name %q: duplicate bucket", field, b.Name)
		}
		names[b.Name] = true

		if accounts[b.Owner] == nil {
			fail("%s.owner %q: not an account in accounts", field, b.Owner)
		}
		if len(b.Policy) > 0 {
			if err := ValidatePolicy(b.Policy); err != nil {
				fail("%s.policy: %w", field, err)
			}
		}
		validateBucketSettings(field, b, fail)
	}
}

// validateBucketName applies S3's naming rules for general purpose buckets.
func validateBucketName(name string) error {
	switch {
	case !bucketNamePattern.MatchString(name):
		return errors.New("a bucket name is 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit")
	case strings.Contains(name, ".."):
		return errors.New("a bucket name has no two adjacent dots")
	case net.ParseIP(name) != nil:
		return errors.New("a bucket name is not an IP address")
	case strings.HasPrefix(name, "xn--"), strings.HasPrefix(name, "sthree-"):
		return errors.New("a bucket name does not start with xn-- or sthree-")
	case strings.HasSuffix(name, "-s3alias"), strings.HasSuffix(name, "--ol-s3"):
		return errors.New("a bucket name does not end with -s3alias or --ol-s3")
	}
	return nil
}

func (w *World) validatePrincipals(accounts map[string]*Account, fail func(string, ...any)) {
	names := make(map[string]bool, len(w.Principals))
	keys := make(map[string]bool, len(w.Principals))

	if len(w.Principals) == 0 {
		fail("principals: empty, define at least one principal")
	}
	for i := range w.Principals {
		p := &w.Principals[i]
		field := fmt.Sprintf("principals[%d]", i)

		if !principalPattern.MatchString(p.Name) {
			fail("%s.name %q: a principal name is lowercase letters, digits, dots, underscores and hyphens", field, p.Name)
		} else if names[p.Name] {
			fail("%s.name %q: duplicate principal", field, p.Name)
		}
		names[p.Name] = true

		switch kinds := p.kinds(); {
		case len(kinds) > 1:
			fail("%s: has %s, set only one of them", field, strings.Join(kinds, " and "))
		case p.Role != "":
			validateRoleSession(field, p, accounts, fail)
		case p.User != "":
			validateUserPrincipal(field, p, accounts, fail)
		case p.ARN != "":
			validateRootPrincipal(field, p, accounts, fail)
		case p.Service != "":
			validateServicePrincipal(field, p, fail)
		default:
			fail("%s %q: set role and session for a role session, user for an IAM user, arn for an account's root user, or service for a service principal", field, p.Name)
		}
		if p.Service == "" && (p.SourceAccount != "" || p.SourceARN != "") {
			fail("%s: source_account and source_arn are for service principals; set service or remove them", field)
		}

		switch {
		case p.AccessKeyID == "" || p.SecretAccessKey == "":
			fail("%s %q: no keys, set access_key_id and secret_access_key", field, p.Name)
		case !accessKeyPattern.MatchString(p.AccessKeyID):
			fail("%s.access_key_id %q: an access key ID is 16 to 128 uppercase letters or digits", field, p.AccessKeyID)
		case keys[p.AccessKeyID]:
			fail("%s.access_key_id %q: duplicate access key ID", field, p.AccessKeyID)
		}
		keys[p.AccessKeyID] = true
	}

	if w.DefaultPrincipal != "" && !names[w.DefaultPrincipal] {
		fail("default_principal %q: not a principal name", w.DefaultPrincipal)
	}
}

func validateRoleSession(field string, p *Principal, accounts map[string]*Account, fail func(string, ...any)) {
	if _, _, err := findRole(accounts, p.Role); err != nil {
		fail("%s.role %q: %w", field, p.Role, err)
	}

	if p.Session == "" {
		fail("%s.session: empty, a role session needs a session name such as AWSCodeBuild-{uuid}", field)
	} else if name := expandSession(p.Session, "00000000-0000-0000-0000-000000000000"); !sessionNamePattern.MatchString(name) {
		fail("%s.session %q: a session name is 2 to 64 letters, digits or +=,.@_- once {uuid} is replaced", field, p.Session)
	}

	// Role credentials are always temporary, and temporary credentials are
	// useless without their token.
	if p.SessionToken == "" {
		fail("%s.session_token: empty, role session keys need a session token", field)
	}
}

// kinds names the identity fields that p sets, of which a valid principal
// sets exactly one.
func (p *Principal) kinds() []string {
	var kinds []string
	for _, k := range []struct{ name, value string }{
		{"role", p.Role}, {"user", p.User}, {"arn", p.ARN}, {"service", p.Service},
	} {
		if k.value != "" {
			kinds = append(kinds, fmt.Sprintf("%s %q", k.name, k.value))
		}
	}
	return kinds
}

func validateRootPrincipal(field string, p *Principal, accounts map[string]*Account, fail func(string, ...any)) {
	m := rootARNPattern.FindStringSubmatch(p.ARN)
	switch {
	case m == nil:
		fail("%s.arn %q: only root user ARNs (arn:aws:iam::ACCOUNT:root) are supported; use role and session for a role, user for an IAM user", field, p.ARN)
	case accounts[m[1]] == nil:
		fail("%s.arn %q: account %s is not in accounts", field, p.ARN, m[1])
	}
	validateLongTermKeys(field, p, "root", fail)
}

func validateUserPrincipal(field string, p *Principal, accounts map[string]*Account, fail func(string, ...any)) {
	if _, _, err := findUser(accounts, p.User); err != nil {
		fail("%s.user %q: %w", field, p.User, err)
	}
	validateLongTermKeys(field, p, "user", fail)
}

func validateServicePrincipal(field string, p *Principal, fail func(string, ...any)) {
	if !servicePattern.MatchString(p.Service) {
		fail("%s.service %q: a service principal is a name such as codebuild.amazonaws.com", field, p.Service)
	}
	if p.SourceAccount != "" && !accountIDPattern.MatchString(p.SourceAccount) {
		fail("%s.source_account %q: an account ID is 12 digits", field, p.SourceAccount)
	}
	if p.SourceARN != "" {
		m := sourceARNPattern.FindStringSubmatch(p.SourceARN)
		switch {
		case m == nil:
			fail("%s.source_arn %q: use the ARN of the resource the service acts for, such as arn:aws:codebuild:REGION:ACCOUNT:project/NAME", field, p.SourceARN)
		case p.SourceAccount != "" && m[1] != p.SourceAccount:
			fail("%s.source_arn %q: the ARN's account %s differs from source_account %s", field, p.SourceARN, m[1], p.SourceAccount)
		}
	}
	validateLongTermKeys(field, p, "service", fail)
}

// validateLongTermKeys rejects the session fields on principals whose keys
// are not a role session's.
func validateLongTermKeys(field string, p *Principal, kind string, fail func(string, ...any)) {
	if p.Session != "" {
		fail("%s.session %q: only role sessions have a session name", field, p.Session)
	}
	if p.SessionToken != "" {
		fail("%s.session_token: long-term %s keys have no session token, remove it", field, kind)
	}
}

// findRole returns the account and role that a role ARN names.
func findRole(accounts map[string]*Account, arn string) (*Account, *Role, error) {
	m := roleARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return nil, nil, errors.New("not a role ARN (arn:aws:iam::ACCOUNT:role/PATH/NAME)")
	}
	account := accounts[m[1]]
	if account == nil {
		return nil, nil, fmt.Errorf("account %s is not in accounts", m[1])
	}

	path := m[2] + "/"
	for i := range account.Roles {
		r := &account.Roles[i]
		if r.Name == m[3] && r.path() == path {
			return account, r, nil
		}
	}
	return nil, nil, fmt.Errorf("unknown role: account %s has no role %s with path %s", m[1], m[3], path)
}

// findUser returns the account and user that a user ARN names.
func findUser(accounts map[string]*Account, arn string) (*Account, *User, error) {
	m := userARNPattern.FindStringSubmatch(arn)
	if m == nil {
		return nil, nil, errors.New("not a user ARN (arn:aws:iam::ACCOUNT:user/PATH/NAME)")
	}
	account := accounts[m[1]]
	if account == nil {
		return nil, nil, fmt.Errorf("account %s is not in accounts", m[1])
	}

	path := m[2] + "/"
	for i := range account.Users {
		u := &account.Users[i]
		if u.Name == m[3] && u.path() == path {
			return account, u, nil
		}
	}
	return nil, nil, fmt.Errorf("unknown user: account %s has no user %s with path %s", m[1], m[3], path)
}

func (r *Role) path() string {
	if r.Path == "" {
		return "/"
	}
	return r.Path
}

// maxSession returns the role's maximum session duration.
func (r *Role) maxSession() time.Duration {
	if r.MaxSessionDuration == 0 {
		return time.Hour
	}
	return time.Duration(r.MaxSessionDuration) * time.Second
}

func (u *User) path() string {
	if u.Path == "" {
		return "/"
	}
	return u.Path
}

// ARN returns the user's ARN, which includes its path.
func (u *User) ARN(accountID string) string {
	return "arn:aws:iam::" + accountID + ":user" + u.path() + u.Name
}

// UniqueID returns the user ID that GetCallerIdentity shows.
func (u *User) UniqueID(accountID string) string {
	if u.ID != "" {
		return u.ID
	}
	return "AIDA" + stableID(accountID+":user"+u.path()+u.Name, 17)
}

// ARN returns the role's ARN, which includes its path.
func (r *Role) ARN(accountID string) string {
	return "arn:aws:iam::" + accountID + ":role" + r.path() + r.Name
}

// UniqueID returns the role ID that GetCallerIdentity shows before the
// session name.
func (r *Role) UniqueID(accountID string) string {
	if r.ID != "" {
		return r.ID
	}
	return "AROA" + stableID(accountID+":role"+r.path()+r.Name, 17)
}

// Canonical returns the canonical user ID of the account.
func (a *Account) Canonical() string {
	if a.CanonicalID != "" {
		return a.CanonicalID
	}
	sum := sha256.Sum256([]byte("countersign-sandbox-account:" + a.ID))
	return hex.EncodeToString(sum[:])
}

// stableID derives n uppercase letters and digits from seed, so that derived
// IDs stay the same across restarts.
func stableID(seed string, n int) string {
	sum := sha256.Sum256([]byte(seed))
	return base32.StdEncoding.EncodeToString(sum[:])[:n]
}

func expandSession(template, id string) string {
	return strings.ReplaceAll(template, "{uuid}", id)
}
