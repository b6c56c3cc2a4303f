package policy

import "strings"

// Markers that stand for a literal '*' or '?' in a substituted pattern, so
// that ${*} and ${?} do not act as wildcards.
//
// NOTE: a request value that itself contains the bytes 0x00 or 0x01 could
// match these markers; ARNs and context values do not contain them.
const (
	literalStar     = '\x00'
	literalQuestion = '\x01'
)

// substitute replaces the policy variables in s with values from the
// request. It returns ok false, and the variable text, when a variable has
// no single value and no default: the element holding it then matches
// nothing, as the IAM policy variables reference describes. In a pattern,
// ${*} and ${?} become markers for a literal '*' and '?'.
func substitute(s string, rc *requestContext, pattern bool) (out string, unresolved string, ok bool) {
	if !strings.Contains(s, "${") {
		return s, "", true
	}

	var b strings.Builder

	rest := s
	for {
		start := strings.Index(rest, "${")
		if start < 0 {
			b.WriteString(rest)
			break
		}

		end := strings.IndexByte(rest[start:], '}')
		if end < 0 {
			return "", rest[start:], false
		}

		b.WriteString(rest[:start])
		body := rest[start+2 : start+end]
		rest = rest[start+end+1:]

		value, found := resolveVariable(body, rc, pattern)
		if !found {
			return "", "${" + body + "}", false
		}

		b.WriteString(value)
	}

	return b.String(), "", true
}

// resolveVariable resolves the text between "${" and "}".
func resolveVariable(body string, rc *requestContext, pattern bool) (string, bool) {
	switch body {
	case "*":
		if pattern {
			return string(literalStar), true
		}

		return "*", true
	case "?":
		if pattern {
			return string(literalQuestion), true
		}

		return "?", true
	case "$":
		return "$", true
	}

	key, def, hasDefault := strings.Cut(body, ",")
	key = strings.TrimSpace(key)

	if hasDefault {
		def = strings.TrimSpace(def)
		if len(def) < 2 || def[0] != '\'' || def[len(def)-1] != '\'' {
			return "", false
		}

		def = strings.ReplaceAll(def[1:len(def)-1], "''", "'")
	}

	if key == "" {
		return "", false
	}

	// A multivalued key cannot be substituted, so it falls to the default.
	if values, ok := rc.lookup(key); ok && len(values) == 1 {
		return values[0], true
	}

	if hasDefault {
		return def, true
	}

	return "", false
}

// markLiterals replaces '*' and '?' in a request value with the markers
// that a substituted pattern uses for ${*} and ${?}.
func markLiterals(value string) string {
	if !strings.ContainsAny(value, "*?") {
		return value
	}

	return strings.Map(func(r rune) rune {
		switch r {
		case '*':
			return literalStar
		case '?':
			return literalQuestion
		}

		return r
	}, value)
}

// matchSubstituted matches a value against a pattern that may hold
// literal markers.
func matchSubstituted(pattern, value string) bool {
	if strings.ContainsAny(pattern, string(literalStar)+string(literalQuestion)) {
		value = markLiterals(value)
	}

	return MatchPattern(pattern, value)
}
