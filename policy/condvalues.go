package policy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// dateLayouts are the ISO 8601 forms accepted for Date operators, besides
// epoch seconds.
//
// NOTE: IAM accepts further ISO 8601 forms (week dates, basic format), so
// a valid but rare date form gets a false warning.
var dateLayouts = []string{
	time.RFC3339,
	"2006-01-02T15:04:05.000Z07:00",
	"2006-01-02T15:04Z07:00",
	"2006-01-02",
}

// checkConditionValues reports values that the operator can never match,
// such as "yes" for Bool. IAM accepts such policies, so this is a warning.
func checkConditionValues(st *Statement, report reportFunc) {
	for _, c := range st.Condition {
		for _, v := range c.Values {
			// A policy variable is substituted at request time, so its
			// text does not show the final value.
			if strings.Contains(v, "${") {
				continue
			}

			if hint, ok := conditionValueValid(c.Base, v); !ok {
				report(SeverityWarning, CodeConditionValue, "Condition", "%s value %q for %s never matches; %s", c.Operator, v, c.Key, hint)
			}
		}
	}
}

func conditionValueValid(base, v string) (hint string, ok bool) {
	switch {
	case base == "Bool" || base == "Null":
		return `write true or false`, strings.EqualFold(v, "true") || strings.EqualFold(v, "false")
	case strings.HasPrefix(base, "Numeric"):
		_, err := strconv.ParseFloat(v, 64)
		return "write a number", err == nil
	case strings.HasPrefix(base, "Date"):
		return `write an ISO 8601 date such as "2026-01-01T00:00:00Z" or epoch seconds`, validDate(v)
	case base == "IpAddress" || base == "NotIpAddress":
		return `write an IP address or CIDR block such as "203.0.113.0/24"`, validIP(v)
	}

	return "", true
}

func validDate(v string) bool {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return true
	}

	for _, layout := range dateLayouts {
		if _, err := time.Parse(layout, v); err == nil {
			return true
		}
	}

	return false
}

func validIP(v string) bool {
	if _, err := netip.ParsePrefix(v); err == nil {
		return true
	}

	_, err := netip.ParseAddr(v)

	return err == nil
}
