package sandbox

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/countersign/countersign/policy"
)

// Identity is a principal resolved for one run of the sandbox, or a
// session that AssumeRole created.
type Identity struct {
	Name    string
	ARN     string // as GetCallerIdentity returns it
	Account string
	UserID  string // as GetCallerIdentity returns it
	RoleARN string // for role sessions, the role's ARN with its path
	UserARN string // for IAM users, the user's ARN with its path

	// Service, SourceAccount and SourceARN are set for a service
	// principal, whose ARN is the service name.
	Service       string
	SourceAccount string
	SourceARN     string

	// SessionPolicy is the Policy passed to AssumeRole, which limits the
	// session. It is nil when none was passed.
	SessionPolicy *policy.Policy

	// Expiration is when AssumeRole's credentials expire. It is zero for
	// the world's principals, whose keys never expire.
	Expiration time.Time

	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
}

// identityPolicyHolder returns the ARN of the role or user whose identity
// policies apply to the identity, or "" for a root user or a service.
func (id *Identity) identityPolicyHolder() string {
	if id.RoleARN != "" {
		return id.RoleARN
	}
	return id.UserARN
}

// roleSession reports whether the identity is a session of a role.
func (id *Identity) roleSession() bool {
	return id.RoleARN != ""
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

		switch {
		case p.Role != "":
			account, role, err := findRole(d.accounts, p.Role)
			if err != nil {
				return nil, fmt.Errorf("principal %q: %w", p.Name, err)
			}
			setRoleSession(id, account, role, expandSession(p.Session, uuid.NewString()))
		case p.User != "":
			account, user, err := findUser(d.accounts, p.User)
			if err != nil {
				return nil, fmt.Errorf("principal %q: %w", p.Name, err)
			}
			id.Account = account.ID
			id.ARN = user.ARN(account.ID)
			id.UserARN = id.ARN
			id.UserID = user.UniqueID(account.ID)
		case p.Service != "":
			// A service principal belongs to no account, so Account
			// stays empty.
			id.Service = p.Service
			id.SourceAccount = p.SourceAccount
			id.SourceARN = p.SourceARN
			id.ARN = p.Service
			id.UserID = p.Service
		default:
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

// setRoleSession makes id a session of role named session.
func setRoleSession(id *Identity, account *Account, role *Role, session string) {
	id.Account = account.ID
	id.RoleARN = role.ARN(account.ID)
	// Session ARNs drop the role's path.
	id.ARN = "arn:aws:sts::" + account.ID + ":assumed-role/" + role.Name + "/" + session
	id.UserID = role.UniqueID(account.ID) + ":" + session
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
