package policy

import (
	"bytes"
	"encoding/base64"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ConditionFailure explains why one condition of a statement did not hold.
type ConditionFailure struct {
	Operator string
	Key      string

	// KeyMissing is true when the request has no value for Key.
	KeyMissing bool

	// RequestValues are the request's values for Key, and PolicyValues the
	// values written in the policy, before variable substitution.
	RequestValues []string
	PolicyValues  []string

	// Unresolved is a policy variable that had no value, such as
	// "${aws:username}", or "".
	Unresolved string
}

// negatedBase maps each negated operator to the positive operator whose
// result it negates.
func negatedBase(base string) (positive string, negated bool) {
	switch base {
	case "StringNotEquals":
		return "StringEquals", true
	case "StringNotEqualsIgnoreCase":
		return "StringEqualsIgnoreCase", true
	case "StringNotLike":
		return "StringLike", true
	case "NumericNotEquals":
		return "NumericEquals", true
	case "DateNotEquals":
		return "DateEquals", true
	case "NotIpAddress":
		return "IpAddress", true
	case "ArnNotEquals":
		return "ArnEquals", true
	case "ArnNotLike":
		return "ArnLike", true
	}

	return base, false
}

// evalCondition decides one operator and key pair. A missing key makes a
// condition false, except for IfExists forms, negated operators,
// ForAllValues and Null, as the condition operators reference describes.
// Several policy values are ORed, and for a negated operator none may
// match.
func evalCondition(c *Condition, rc *requestContext, variables bool) (bool, ConditionFailure) {
	fail := ConditionFailure{Operator: c.Operator, Key: c.Key, PolicyValues: c.Values}

	values, present := rc.lookup(c.Key)
	fail.RequestValues = values
	missing := !present || len(values) == 0
	fail.KeyMissing = missing

	if c.Base == "Null" {
		for _, v := range c.Values {
			if strings.EqualFold(v, "true") == missing {
				return true, fail
			}
		}

		return false, fail
	}

	positive, negated := negatedBase(c.Base)

	if missing {
		switch {
		case c.IfExists:
			return true, fail
		case c.Set == ForAllValues:
			return true, fail
		case c.Set == ForAnyValue:
			return false, fail
		}

		return negated, fail
	}

	policyValues := c.Values
	if variables {
		var buf [4]string

		substituted, unresolved, ok := substituteValues(c.Values, rc, positive, buf[:0])
		if !ok {
			fail.Unresolved = unresolved

			return false, fail
		}

		policyValues = substituted
	}

	// matches reports whether one request value matches any policy value
	// under the operator, negation applied.
	matches := func(v string) bool {
		hit := false

		for _, p := range policyValues {
			if matchValue(positive, v, p) {
				hit = true

				break
			}
		}

		return hit != negated
	}

	switch c.Set {
	case ForAllValues:
		for _, v := range values {
			if !matches(v) {
				return false, fail
			}
		}

		return true, fail
	case ForAnyValue:
		for _, v := range values {
			if matches(v) {
				return true, fail
			}
		}

		return false, fail
	}

	// Without a qualifier, several request values are ORed for a positive
	// operator, and for a negated one none of them may match.
	anyHit := false

	for _, v := range values {
		for _, p := range policyValues {
			if matchValue(positive, v, p) {
				anyHit = true

				break
			}
		}
	}

	return anyHit != negated, fail
}

func substituteValues(values []string, rc *requestContext, positive string, buf []string) ([]string, string, bool) {
	pattern := positive == "StringLike" || positive == "ArnLike" || positive == "ArnEquals"
	changed := false

	for _, v := range values {
		if strings.Contains(v, "${") {
			changed = true

			break
		}
	}

	if !changed {
		return values, "", true
	}

	for _, v := range values {
		out, unresolved, ok := substitute(v, rc, pattern)
		if !ok {
			return nil, unresolved, false
		}

		buf = append(buf, out)
	}

	return buf, "", true
}

// matchValue applies a positive operator to one request value and one
// policy value. A value that does not parse for the operator never
// matches.
func matchValue(base, req, pol string) bool {
	switch base {
	case "StringEquals":
		return req == pol
	case "StringEqualsIgnoreCase":
		return strings.EqualFold(req, pol)
	case "StringLike":
		return matchSubstituted(pol, req)
	case "Bool":
		return strings.EqualFold(req, pol)
	case "BinaryEquals":
		return binaryEqual(req, pol)
	case "IpAddress":
		return ipInRange(req, pol)
	case "ArnEquals", "ArnLike":
		return arnLike(pol, req)
	}

	if strings.HasPrefix(base, "Numeric") {
		return compareNumbers(base[len("Numeric"):], req, pol)
	}

	if strings.HasPrefix(base, "Date") {
		return compareDates(base[len("Date"):], req, pol)
	}

	return false
}

func compareNumbers(op, req, pol string) bool {
	a, err := strconv.ParseFloat(req, 64)
	if err != nil {
		return false
	}

	b, err := strconv.ParseFloat(pol, 64)
	if err != nil {
		return false
	}

	return compareOrdered(op, a, b)
}

func compareDates(op, req, pol string) bool {
	a, ok := parseDate(req)
	if !ok {
		return false
	}

	b, ok := parseDate(pol)
	if !ok {
		return false
	}

	return compareOrdered(op, a.UnixNano(), b.UnixNano())
}

func compareOrdered[T int64 | float64](op string, a, b T) bool {
	switch op {
	case "Equals":
		return a == b
	case "LessThan":
		return a < b
	case "LessThanEquals":
		return a <= b
	case "GreaterThan":
		return a > b
	case "GreaterThanEquals":
		return a >= b
	}

	return false
}

// parseDate reads epoch seconds or one of the ISO 8601 forms in
// dateLayouts.
func parseDate(s string) (time.Time, bool) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}

	for _, layout := range dateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}

	return time.Time{}, false
}

// binaryEqual compares two base64 values by their decoded bytes.
func binaryEqual(req, pol string) bool {
	a, err := base64.StdEncoding.DecodeString(req)
	if err != nil {
		return false
	}

	b, err := base64.StdEncoding.DecodeString(pol)
	if err != nil {
		return false
	}

	return bytes.Equal(a, b)
}

// ipInRange reports whether address req is in pol, a CIDR block or a
// single address.
func ipInRange(req, pol string) bool {
	addr, err := netip.ParseAddr(req)
	if err != nil {
		return false
	}

	if prefix, err := netip.ParsePrefix(pol); err == nil {
		return prefix.Contains(addr.Unmap())
	}

	want, err := netip.ParseAddr(pol)

	return err == nil && want.Unmap() == addr.Unmap()
}

// arnLike matches an ARN against a pattern part by part, so a wildcard in
// one of the first five parts never spans a colon. The sixth part, the
// resource, may contain colons and is matched whole.
func arnLike(pattern, value string) bool {
	for range 5 {
		pi := strings.IndexByte(pattern, ':')
		vi := strings.IndexByte(value, ':')

		if pi < 0 || vi < 0 {
			return false
		}

		if !matchSubstituted(pattern[:pi], value[:vi]) {
			return false
		}

		pattern, value = pattern[pi+1:], value[vi+1:]
	}

	return matchSubstituted(pattern, value)
}
