// Package identity checks which principal the build's credentials belong
// to, and whether it is the role the build is meant to run as.
package identity

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// Kind is the sort of principal an ARN names.
type Kind string

// Principal kinds that GetCallerIdentity returns or that a flag names.
const (
	KindAssumedRole Kind = "assumed-role"
	KindRole        Kind = "role"
	KindUser        Kind = "user"
	KindRoot        Kind = "root"
	KindFederated   Kind = "federated-user"
)

// Principal is a parsed IAM or STS principal ARN.
type Principal struct {
	ARN       string `json:"arn"`
	Partition string `json:"partition"`
	Account   string `json:"account"`
	Kind      Kind   `json:"kind"`
	// Name is the role, user or federated user name, without any path.
	Name string `json:"name"`
	// Path is the IAM path of a role or user ("/" when none). Session ARNs
	// drop the path, so it is empty for an assumed role.
	Path    string `json:"path,omitempty"`
	Session string `json:"session,omitempty"`
}

// RoleARN returns the IAM role ARN behind an assumed-role session, or the
// ARN itself for a role. The path is unknown for a session, so the result
// carries none.
func (p Principal) RoleARN() string {
	switch p.Kind {
	case KindRole:
		return p.ARN
	case KindAssumedRole:
		return fmt.Sprintf("arn:%s:iam::%s:role/%s", p.Partition, p.Account, p.Name)
	default:
		return ""
	}
}

// ParsePrincipal parses the ARN of a role session, role, user, account root
// or federated user.
func ParsePrincipal(s string) (Principal, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return Principal{}, fmt.Errorf("invalid principal ARN %q: %w", s, err)
	}
	if len(a.AccountID) != 12 || strings.Trim(a.AccountID, "0123456789") != "" {
		return Principal{}, fmt.Errorf("invalid principal ARN %q: account %q is not 12 digits", s, a.AccountID)
	}

	p := Principal{ARN: s, Partition: a.Partition, Account: a.AccountID}
	kind, rest, _ := strings.Cut(a.Resource, "/")
	switch {
	case a.Service == "sts" && kind == "assumed-role":
		role, session, ok := strings.Cut(rest, "/")
		if !ok || role == "" || session == "" {
			return Principal{}, fmt.Errorf("invalid session ARN %q: want arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION", s)
		}
		p.Kind, p.Name, p.Session = KindAssumedRole, role, session
	case a.Service == "sts" && kind == "federated-user":
		p.Kind, p.Name = KindFederated, rest
	case a.Service == "iam" && a.Resource == "root":
		p.Kind, p.Name = KindRoot, "root"
	case a.Service == "iam" && (kind == "role" || kind == "user"):
		if rest == "" {
			return Principal{}, fmt.Errorf("invalid %s ARN %q: the name is missing", kind, s)
		}
		p.Kind = Kind(kind)
		p.Path, p.Name = splitPath(rest)
	default:
		return Principal{}, fmt.Errorf("unsupported principal ARN %q: expected a role, role session, user or account root", s)
	}

	if p.Name == "" {
		return Principal{}, fmt.Errorf("invalid principal ARN %q: the name is missing", s)
	}
	return p, nil
}

// splitPath splits "service-role/X" into the IAM path "/service-role/" and
// the name "X".
func splitPath(rest string) (path, name string) {
	i := strings.LastIndex(rest, "/")
	if i < 0 {
		return "/", rest
	}
	return "/" + rest[:i+1], rest[i+1:]
}
