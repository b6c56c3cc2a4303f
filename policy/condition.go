package policy

import (
	"fmt"
	"strings"
)

// baseOperators are the condition operators documented in the IAM JSON
// policy elements reference (Condition operators), without the IfExists
// suffix and the set qualifiers.
var baseOperators = map[string]bool{
	"StringEquals":              true,
	"StringNotEquals":           true,
	"StringEqualsIgnoreCase":    true,
	"StringNotEqualsIgnoreCase": true,
	"StringLike":                true,
	"StringNotLike":             true,
	"NumericEquals":             true,
	"NumericNotEquals":          true,
	"NumericLessThan":           true,
	"NumericLessThanEquals":     true,
	"NumericGreaterThan":        true,
	"NumericGreaterThanEquals":  true,
	"DateEquals":                true,
	"DateNotEquals":             true,
	"DateLessThan":              true,
	"DateLessThanEquals":        true,
	"DateGreaterThan":           true,
	"DateGreaterThanEquals":     true,
	"Bool":                      true,
	"BinaryEquals":              true,
	"IpAddress":                 true,
	"NotIpAddress":              true,
	"ArnEquals":                 true,
	"ArnLike":                   true,
	"ArnNotEquals":              true,
	"ArnNotLike":                true,
	"Null":                      true,
}

// parseOperator splits a condition operator into its qualifier, base and
// IfExists suffix, and rejects operators that AWS does not document.
//
// NOTE: operators are matched with exact case, as the AWS documentation
// spells them. Whether IAM also accepts other spellings is not checked.
func parseOperator(raw string) (base string, set SetQualifier, ifExists bool, err error) {
	name := raw

	if q, rest, ok := strings.Cut(name, ":"); ok {
		switch SetQualifier(q) {
		case ForAnyValue, ForAllValues:
			set = SetQualifier(q)
			name = rest
		default:
			return "", "", false, fmt.Errorf("unknown condition operator %q: the only qualifiers are ForAnyValue: and ForAllValues:", raw)
		}
	}

	if trimmed, ok := strings.CutSuffix(name, "IfExists"); ok && baseOperators[trimmed] {
		if trimmed == "Null" {
			return "", "", false, fmt.Errorf("unknown condition operator %q: Null takes no IfExists suffix; use Null", raw)
		}

		return trimmed, set, true, nil
	}

	if !baseOperators[name] {
		return "", "", false, fmt.Errorf("unknown condition operator %q; use one of the documented operators such as StringEquals, ArnLike or Bool", raw)
	}

	return name, set, false, nil
}
