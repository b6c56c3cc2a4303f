package policy

import (
	"net/netip"
	"strings"
)

// The rules in this file follow "The meaning of public" in the Amazon S3
// User Guide (page "Blocking public access to your Amazon S3 storage"). S3
// starts from the assumption that a bucket policy is public, and calls it
// non-public only when each Allow statement grants access to fixed values
// of a principal or of one of the condition keys the page lists. A fixed
// value contains no wildcard and no policy variable.

// publicLimitingKeys are the condition keys whose fixed values keep an
// Allow to "*" from being public, lowercased.
//
// NOTE: the S3 User Guide lists the principal form with aws:PrincipalOrgID
// as its example. aws:PrincipalArn and aws:PrincipalAccount are counted
// too, and keys it does not list, such as aws:PrincipalOrgPaths,
// aws:SourceOrgID and aws:username, are not. A policy limited only by such
// a key may be called public here although S3 accepts it.
var publicLimitingKeys = map[string]bool{
	"aws:principalarn":     true,
	"aws:principalaccount": true,
	"aws:principalorgid":   true,
	"aws:sourceip":         true,
	"aws:sourcearn":        true,
	"aws:sourcevpc":        true,
	"aws:sourcevpce":       true,
	"aws:sourceowner":      true,
	"aws:sourceaccount":    true,
	"aws:userid":           true,
	"s3:x-amz-server-side-encryption-aws-kms-key-id": true,
	"s3:dataaccesspointarn":                          true,
	"s3:dataaccesspointaccount":                      true,
}

// publicLimitingOperators are the condition operators that let in only the
// values they list. A negated operator such as StringNotEquals lets in
// everyone else, so it limits nothing.
var publicLimitingOperators = map[string]bool{
	"StringEquals":           true,
	"StringEqualsIgnoreCase": true,
	"StringLike":             true,
	"ArnEquals":              true,
	"ArnLike":                true,
	"IpAddress":              true,
}

// Shortest prefix lengths of an aws:SourceIp range that still limits the
// callers. The User Guide calls ranges broader than /8 (IPv4) and /32
// (IPv6) public.
const (
	minIPv4Prefix = 8
	minIPv6Prefix = 32
)

// PublicAccess describes whom an Allow statement lets in, in the terms S3
// uses to decide whether a bucket policy is public.
type PublicAccess struct {
	// Public is true when S3 considers the statement public: OpenPrincipal
	// is true and no condition limits the callers.
	Public bool

	// OpenPrincipal is true when the principal element alone does not
	// limit the callers to fixed principals. That is the case for "*",
	// {"AWS": "*"}, any NotPrincipal, a Federated identity provider (anyone
	// who signs in there may use the grant), and a value with a wildcard or
	// a policy variable.
	OpenPrincipal bool

	// Limits are the statement's conditions that limit the callers to fixed
	// values of a key S3 accepts as limiting, in document order. They are
	// collected whether or not OpenPrincipal is true. Their KeyLower and
	// Values tell whom a wildcard grant reaches, for example the accounts
	// of aws:PrincipalAccount.
	Limits []Condition
}

// PublicAccess evaluates one statement with S3's rules for public bucket
// policies. A Deny statement grants nothing, so it gets the zero value.
//
// A value that contains "${" counts as a policy variable whatever the
// policy's Version, which errs toward public for a 2008-10-17 policy.
func (s *Statement) PublicAccess() PublicAccess {
	if s.Effect != Allow {
		return PublicAccess{}
	}

	access := PublicAccess{
		OpenPrincipal: s.NotPrincipal != nil || !fixedPrincipal(s.Principal),
	}

	for _, c := range s.Condition {
		if limitsCallers(c) {
			access.Limits = append(access.Limits, c)
		}
	}

	access.Public = access.OpenPrincipal && len(access.Limits) == 0

	return access
}

// PublicStatements returns the indexes of the statements of p that make it
// public in S3's sense, in document order. p is public when the result is
// not empty, and then S3 rejects it in PutBucketPolicy while
// BlockPublicPolicy is on.
func PublicStatements(p *Policy) []int {
	var public []int

	for i := range p.Statements {
		if p.Statements[i].PublicAccess().Public {
			public = append(public, i)
		}
	}

	return public
}

// fixedPrincipal reports whether a Principal names only fixed AWS, service
// or canonical user principals.
func fixedPrincipal(p *Principal) bool {
	if p == nil {
		// Parse accepts a statement without Principal, which grants to no
		// one in a bucket policy.
		return true
	}

	if p.Star {
		return false
	}

	for _, e := range p.Entries {
		if e.Type == PrincipalFederated {
			return false
		}

		for _, v := range e.Values {
			if !FixedValue(v) {
				return false
			}
		}
	}

	return true
}

// limitsCallers reports whether a condition limits the callers to fixed
// values of a key that S3 accepts as limiting.
func limitsCallers(c Condition) bool {
	// With IfExists or ForAllValues, a request without the key matches, and
	// an anonymous request carries none of these keys.
	if !publicLimitingOperators[c.Base] || c.IfExists || c.Set == ForAllValues {
		return false
	}

	if !publicLimitingKeys[c.KeyLower] || len(c.Values) == 0 {
		return false
	}

	// aws:SourceIp limits only under IpAddress, and IpAddress compares
	// nothing but addresses.
	if (c.KeyLower == "aws:sourceip") != (c.Base == "IpAddress") {
		return false
	}

	for _, v := range c.Values {
		if !fixedConditionValue(c.KeyLower, v) {
			return false
		}
	}

	return true
}

// fixedConditionValue reports whether v is a fixed value of the limiting
// key, with the exceptions the User Guide makes for some keys.
func fixedConditionValue(key, v string) bool {
	switch key {
	case "aws:sourceip":
		return narrowIPRange(v)

	case "aws:userid":
		// "AROLEID:*", every session of one role, counts as fixed.
		id, _ := strings.CutSuffix(v, ":*")
		return FixedValue(id)

	case "s3:dataaccesspointarn":
		// A wildcard in the access point name is fixed as long as the rest
		// of the ARN, with the account, is.
		arn, _, named := strings.Cut(v, ":accesspoint/")
		return FixedValue(v) || (named && FixedValue(arn))
	}

	return FixedValue(v)
}

// FixedValue reports whether v is a fixed value in S3's sense: not empty,
// with no wildcard and no policy variable.
func FixedValue(v string) bool {
	return v != "" && !strings.ContainsAny(v, "*?") && !strings.Contains(v, "${")
}

// narrowIPRange reports whether an aws:SourceIp value is an address or a
// range no broader than /8 for IPv4 and /32 for IPv6. The User Guide also
// exempts the RFC 1918 private ranges, but all of them are /8 or narrower.
func narrowIPRange(v string) bool {
	if _, err := netip.ParseAddr(v); err == nil {
		return true
	}

	prefix, err := netip.ParsePrefix(v)
	if err != nil {
		return false
	}

	bits := prefix.Bits()
	if prefix.Addr().Is4() {
		return bits >= minIPv4Prefix
	}

	return bits >= minIPv6Prefix
}
