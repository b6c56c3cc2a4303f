package sandbox

import (
	"fmt"
	"net/http"
	"net/netip"
	"strings"

	"github.com/countersign/countersign/policy"
)

// The rules below follow "The meaning of public" in the Amazon S3 User
// Guide (Blocking public access to your Amazon S3 storage): S3 considers a
// bucket policy public unless each Allow statement grants access only
// to fixed values of a principal or of one of the condition keys it lists.
// A fixed value contains no wildcard and no policy variable.

// publicLimitingKeys are the condition keys whose fixed values make a grant
// to "*" non-public, lowercased.
//
// NOTE: the S3 User Guide lists the principal form with aws:PrincipalOrgID
// as its example. aws:PrincipalArn and aws:PrincipalAccount are counted
// too, and keys it does not list, such as aws:PrincipalOrgPaths and
// aws:SourceOrgID, are not, so the sandbox may reject a policy with only
// those that S3 accepts.
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

// checkBlockPublicPolicy rejects a bucket policy that is public while the
// bucket's public access block has BlockPublicPolicy on, with the 403 and
// message that S3 sends. doc has passed ValidatePolicy.
func (q *s3Request) checkBlockPublicPolicy(doc []byte) *s3Error {
	settings, err := q.front.settings.Get(q.bucket.Name)
	if err != nil {
		return errInternal(err)
	}
	if block := settings.PublicAccessBlock; block == nil || !block.BlockPublicPolicy {
		return nil
	}

	p, err := policy.Parse(doc)
	if err != nil {
		return &s3Error{Status: http.StatusBadRequest, Code: "MalformedPolicy", Message: err.Error()}
	}
	if publicStatement(p) == nil {
		return nil
	}

	e := errAccessDenied()
	e.Message = fmt.Sprintf("User: %s is not authorized to perform: s3:PutBucketPolicy on resource: \"%s\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
		q.id.ARN, s3ResourceARN(q.bucket.Name, ""))
	return e
}

// publicStatement returns the first statement of p that makes it public in
// S3's sense, or nil when p is not public.
func publicStatement(p *policy.Policy) *policy.Statement {
	for i := range p.Statements {
		st := &p.Statements[i]
		if st.Effect != policy.Allow {
			continue
		}
		if st.NotPrincipal == nil && fixedPrincipal(st.Principal) {
			continue
		}
		if limitedByCondition(st.Condition) {
			continue
		}
		return st
	}
	return nil
}

// fixedPrincipal reports whether a Principal names only fixed AWS, service
// or canonical user principals. S3 considers a grant to a Federated identity
// provider public, because anyone who signs in there may use it.
func fixedPrincipal(p *policy.Principal) bool {
	if p == nil {
		// policy.Parse accepts a statement without Principal, which grants
		// to no one in a bucket policy.
		return true
	}
	if p.Star {
		return false
	}
	for _, e := range p.Entries {
		if e.Type == policy.PrincipalFederated {
			return false
		}
		for _, v := range e.Values {
			if !fixedValue(v) {
				return false
			}
		}
	}
	return true
}

// limitedByCondition reports whether one of the conditions limits the
// callers to fixed values of a key that S3 accepts as limiting.
func limitedByCondition(conditions []policy.Condition) bool {
	for _, c := range conditions {
		// With IfExists or ForAllValues, a request without the key matches,
		// and an anonymous request carries none of these keys.
		if !publicLimitingOperators[c.Base] || c.IfExists || c.Set == policy.ForAllValues {
			continue
		}
		if !publicLimitingKeys[c.KeyLower] || len(c.Values) == 0 {
			continue
		}
		if (c.KeyLower == "aws:sourceip") != (c.Base == "IpAddress") {
			continue
		}
		if allFixed(c.KeyLower, c.Values) {
			return true
		}
	}
	return false
}

func allFixed(key string, values []string) bool {
	for _, v := range values {
		var fixed bool
		switch key {
		case "aws:sourceip":
			fixed = narrowIPRange(v)
		case "aws:userid":
			// "AROLEID:*", every session of one role, counts as fixed.
			id, _ := strings.CutSuffix(v, ":*")
			fixed = fixedValue(id)
		case "s3:dataaccesspointarn":
			// A wildcard in the access point name is fixed as long as the
			// rest of the ARN, with the account, is.
			arn, _, named := strings.Cut(v, ":accesspoint/")
			fixed = fixedValue(v) || (named && fixedValue(arn))
		default:
			fixed = fixedValue(v)
		}
		if !fixed {
			return false
		}
	}
	return true
}

// fixedValue reports whether v contains no wildcard and no policy
// variable.
func fixedValue(v string) bool {
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
