package policy

import "strings"

// PrincipalMatch is the way a Principal element names the caller. A
// resource policy that names the caller's own session or user grants
// directly, while one naming the role, the account or everyone is still
// limited by the caller's permissions boundary and session policies.
type PrincipalMatch int

// Kinds of principal match, weakest first.
const (
	PrincipalNoMatch PrincipalMatch = iota
	// PrincipalMatchAccount: the account id or its root ARN, which
	// delegates to the account's identity policies.
	PrincipalMatchAccount
	// PrincipalMatchWildcard: "*" or {"AWS": "*"}.
	PrincipalMatchWildcard
	// PrincipalMatchRole: the role of a role session.
	PrincipalMatchRole
	// PrincipalMatchService: a service principal by name.
	PrincipalMatchService
	// PrincipalMatchDirect: the session ARN, user ARN or federated user ARN.
	PrincipalMatchDirect
)

var principalMatchNames = [...]string{"no match", "account", "wildcard", "role", "service", "direct"}

func (m PrincipalMatch) String() string {
	if int(m) < len(principalMatchNames) {
		return principalMatchNames[m]
	}

	return "unknown"
}

// matchPrincipal returns the strongest way p names the caller.
func (c *caller) matchPrincipal(p *Principal) PrincipalMatch {
	if p == nil {
		return PrincipalNoMatch
	}

	if p.Star {
		return PrincipalMatchWildcard
	}

	best := PrincipalNoMatch

	for _, e := range p.Entries {
		for _, v := range e.Values {
			var m PrincipalMatch

			switch e.Type {
			case PrincipalAWS:
				m = c.matchAWS(v)
			case PrincipalService:
				if c.kind == principalService && strings.EqualFold(v, c.service) {
					m = PrincipalMatchService
				}
			case PrincipalFederated:
				if c.kind == principalFederatedUser && v == c.raw {
					m = PrincipalMatchDirect
				}
			}

			best = max(best, m)
		}
	}

	return best
}

// matchAWS matches one value of an AWS principal entry.
func (c *caller) matchAWS(v string) PrincipalMatch {
	if v == "*" {
		return PrincipalMatchWildcard
	}

	if isAccountID(v) {
		if c.isIAM() && c.account == v {
			return PrincipalMatchAccount
		}

		return PrincipalNoMatch
	}

	// Every ARN that can match names the caller's account, so most values
	// are rejected here without splitting them.
	if !strings.Contains(v, c.account) || c.account == "" {
		return PrincipalNoMatch
	}

	// A unique id such as AROA... or AIDA... is what IAM shows once the
	// named principal was deleted, so it matches no caller.
	arn, ok := cutARN(v)
	if !ok || !c.isIAM() || arn.account != c.account {
		return PrincipalNoMatch
	}

	switch {
	case arn.service == "iam" && arn.resource == "root":
		return PrincipalMatchAccount
	case arn.service == "iam" && strings.HasPrefix(arn.resource, "role/"):
		if c.roleARN == "" {
			return PrincipalNoMatch
		}

		if c.rolePathKnown {
			if v == c.roleARN {
				return PrincipalMatchRole
			}

			return PrincipalNoMatch
		}

		// The session ARN does not carry the role's path, so compare by
		// account and role name.
		if arn.resource[strings.LastIndexByte(arn.resource, '/')+1:] == c.roleName {
			return PrincipalMatchRole
		}
	case arn.service == "sts" && strings.HasPrefix(arn.resource, "assumed-role/"):
		if v == c.sessionARN {
			return PrincipalMatchDirect
		}
	case v == c.userARN:
		return PrincipalMatchDirect
	}

	return PrincipalNoMatch
}

// listedIn reports whether a NotPrincipal element excludes the caller. The
// NotPrincipal reference states that a Deny with NotPrincipal must list the
// caller's account as well as the caller itself, because the account is
// evaluated too. A role session counts as listed by its session ARN or its
// role ARN.
//
// NOTE: whether the role ARN alone excludes its sessions is not spelled
// out in the reference; this accepts either the session or the role.
func (c *caller) listedIn(p *Principal) bool {
	if p == nil {
		return false
	}

	if p.Star {
		return true
	}

	account, entity := false, false

	for _, e := range p.Entries {
		for _, v := range e.Values {
			if e.Type == PrincipalService {
				if c.kind == principalService && strings.EqualFold(v, c.service) {
					return true
				}

				continue
			}

			if e.Type != PrincipalAWS {
				if v == c.raw {
					entity = true
				}

				continue
			}

			switch m := c.matchAWS(v); m {
			case PrincipalMatchWildcard:
				return true
			case PrincipalMatchAccount:
				account = true
			case PrincipalMatchRole, PrincipalMatchDirect:
				entity = true
			}
		}
	}

	if c.kind == principalAccount {
		return account
	}

	return account && entity
}

func isAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}

	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}

	return true
}
