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

	"github.com/google/uuid"
)

//go:embed defaultworld.json
var defaultWorldJSON []byte

// World is the simulated AWS estate: accounts with their roles, buckets with
// their owners and policies, and the principals whose keys sign requests.
// Fields that later features need (users, permissions boundaries, SCPs,
// ownership controls, default encryption) get their own keys here, so
// unknown keys are rejected on load instead of being silently ignored.
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
}

// Role is an IAM role with its trust policy and inline identity policies.
type Role struct {
	Name string `json:"name"`
	Path string `json:"path,omitempty"` // "/" when empty

	// ID is the role's unique ID (AROA...); empty derives a stable one.
	ID string `json:"id,omitempty"`

	TrustPolicy json.RawMessage            `json:"trust_policy,omitempty"`
	Policies    map[string]json.RawMessage `json:"policies,omitempty"`
}

// Bucket is an S3 bucket that the sandbox creates at start.
type Bucket struct {
	Name   string          `json:"name"`
	Owner  string          `json:"owner"`            // account ID
	Policy json.RawMessage `json:"policy,omitempty"` // stored verbatim
}

// Principal is a set of keys and the identity they sign as: either a role
// session (Role and Session) or an account's root user (ARN).
type Principal struct {
	Name string `json:"name"`

	// Role is the ARN of a world role; the keys are that role's temporary
	// session credentials.
	Role string `json:"role,omitempty"`

	// Session is the role session name; "{uuid}" is replaced by a random
	// UUID at each start, as CodeBuild names its sessions.
	Session string `json:"session,omitempty"`

	// ARN is the identity of long-term keys: arn:aws:iam::ACCOUNT:root.
	ARN string `json:"arn,omitempty"`

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
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	principalPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)
	accessKeyPattern   = regexp.MustCompile(`^[A-Z0-9]{16,128}$`)
	roleARNPattern     = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role(/.*)?/([^/]+)$`)
	rootARNPattern     = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):root$`)
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

	return errors.Join(errs...)
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
		for name, doc := range r.Policies {
			if name == "" {
				fail("%s.policies: a policy has an empty name", field)
			}
			if err := ValidatePolicy(doc); err != nil {
				fail("%s.policies[%q]: %w", field, name, err)
			}
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

		switch {
		case p.Role != "" && p.ARN != "":
			fail("%s: has both role %q and arn %q, set only one", field, p.Role, p.ARN)
		case p.Role != "":
			validateRoleSession(field, p, accounts, fail)
		case p.ARN != "":
			validateRootPrincipal(field, p, accounts, fail)
		default:
			fail("%s %q: set role and session for a role session, or arn for an account's root user", field, p.Name)
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

func validateRootPrincipal(field string, p *Principal, accounts map[string]*Account, fail func(string, ...any)) {
	m := rootARNPattern.FindStringSubmatch(p.ARN)
	switch {
	case m == nil:
		fail("%s.arn %q: only root user ARNs (arn:aws:iam::ACCOUNT:root) are supported; use role and session for a role", field, p.ARN)
	case accounts[m[1]] == nil:
		fail("%s.arn %q: account %s is not in accounts", field, p.ARN, m[1])
	}
	if p.Session != "" {
		fail("%s.session %q: only role sessions have a session name", field, p.Session)
	}
	if p.SessionToken != "" {
		fail("%s.session_token: long-term root keys have no session token, remove it", field)
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

func (r *Role) path() string {
	if r.Path == "" {
		return "/"
	}
	return r.Path
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

// Identity is a principal resolved for one run of the sandbox.
type Identity struct {
	Name    string
	ARN     string // as GetCallerIdentity returns it
	Account string
	UserID  string // as GetCallerIdentity returns it
	RoleARN string // for role sessions, the role's ARN with its path

	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// Directory indexes a validated world for request handling.
type Directory struct {
	World      *World
	Identities []*Identity // in world order

	byKey    map[string]*Identity
	byName   map[string]*Identity
	accounts map[string]*Account
	buckets  map[string]*Bucket
}

// NewDirectory resolves every principal of w. Each session name template
// gets a fresh random UUID, as a new CodeBuild build would.
func NewDirectory(w *World) (*Directory, error) {
	if err := w.Validate(); err != nil {
		return nil, err
	}

	d := &Directory{
		World:    w,
		byKey:    make(map[string]*Identity),
		byName:   make(map[string]*Identity),
		accounts: make(map[string]*Account),
		buckets:  make(map[string]*Bucket),
	}
	for i := range w.Accounts {
		d.accounts[w.Accounts[i].ID] = &w.Accounts[i]
	}
	for i := range w.Buckets {
		d.buckets[w.Buckets[i].Name] = &w.Buckets[i]
	}

	for i := range w.Principals {
		p := &w.Principals[i]
		id := &Identity{
			Name:            p.Name,
			AccessKeyID:     p.AccessKeyID,
			SecretAccessKey: p.SecretAccessKey,
			SessionToken:    p.SessionToken,
		}

		if p.Role != "" {
			account, role, err := findRole(d.accounts, p.Role)
			if err != nil {
				return nil, fmt.Errorf("principal %q: %w", p.Name, err)
			}
			session := expandSession(p.Session, uuid.NewString())
			id.Account = account.ID
			id.RoleARN = role.ARN(account.ID)
			// Session ARNs drop the role's path.
			id.ARN = "arn:aws:sts::" + account.ID + ":assumed-role/" + role.Name + "/" + session
			id.UserID = role.UniqueID(account.ID) + ":" + session
		} else {
			m := rootARNPattern.FindStringSubmatch(p.ARN)
			id.Account = m[1]
			id.ARN = p.ARN
			id.UserID = m[1]
		}

		d.Identities = append(d.Identities, id)
		d.byKey[id.AccessKeyID] = id
		d.byName[id.Name] = id
	}
	return d, nil
}

// ByAccessKey returns the identity that owns an access key ID.
func (d *Directory) ByAccessKey(key string) (*Identity, bool) {
	id, ok := d.byKey[key]
	return id, ok
}

// Bucket returns the world's bucket with that name.
func (d *Directory) Bucket(name string) (*Bucket, bool) {
	b, ok := d.buckets[name]
	return b, ok
}

// Account returns the world's account with that ID.
func (d *Directory) Account(id string) (*Account, bool) {
	a, ok := d.accounts[id]
	return a, ok
}

// DefaultIdentity returns the principal whose keys go into the env file.
func (d *Directory) DefaultIdentity() *Identity {
	if d.World.DefaultPrincipal != "" {
		return d.byName[d.World.DefaultPrincipal]
	}
	return d.Identities[0]
}
