package policy

import "strings"

// MatchPattern reports whether value matches pattern, where '*' matches any
// run of characters (including none) and '?' matches exactly one. The
// comparison is case-sensitive, as for resources. Matching is greedy with
// one backtrack point, so it takes O(len(pattern)*len(value)) time at
// worst.
//
// NOTE: the whole string is matched, so a '*' in an ARN may span colons.
// IAM documents wildcards within ARN segments and does not say whether they
// cross segments, so callers that need segment-wise matching must split.
func MatchPattern(pattern, value string) bool {
	p, v := 0, 0
	starP, starV := -1, 0

	for v < len(value) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == value[v]):
			p++
			v++
		case p < len(pattern) && pattern[p] == '*':
			starP, starV = p, v
			p++
		case starP >= 0:
			starV++
			p, v = starP+1, starV
		default:
			return false
		}
	}

	for p < len(pattern) && pattern[p] == '*' {
		p++
	}

	return p == len(pattern)
}

// MatchAction reports whether a request action such as "s3:GetObject"
// matches an action pattern. Actions compare without regard to case;
// pattern is expected lowercased, as Action.Pattern is.
func MatchAction(pattern, action string) bool {
	return MatchPattern(pattern, strings.ToLower(action))
}

// PatternCovers reports whether every string that narrow matches is also
// matched by wide. Both use '*' and '?' as in MatchPattern. The check is
// sound but not complete: a true result is always right, while a few
// coverings that need reasoning about lengths across several wildcards
// (such as "??*" covering "*??") are reported as false. That suits the
// callers, which only suggest removing a statement when sure.
func PatternCovers(wide, narrow string) bool {
	if wide == narrow {
		return true
	}

	// covered[i][j]: wide[i:] covers narrow[j:]. Computed from the end.
	n, m := len(wide), len(narrow)
	next := make([]bool, m+1)
	cur := make([]bool, m+1)
	next[m] = true

	for i := n - 1; i >= 0; i-- {
		for j := m; j >= 0; j-- {
			switch wide[i] {
			case '*':
				// Match nothing, or swallow one narrow symbol of any kind
				// and stay on this star.
				cur[j] = next[j] || (j < m && cur[j+1])
			case '?':
				// A '?' stands for exactly one character, so it covers a
				// literal or a '?', never a '*'.
				cur[j] = j < m && narrow[j] != '*' && next[j+1]
			default:
				cur[j] = j < m && narrow[j] == wide[i] && next[j+1]
			}
		}

		next, cur = cur, next
	}

	return next[0]
}

// ActionCovers reports whether action pattern wide covers action pattern
// narrow, without regard to case.
func ActionCovers(wide, narrow string) bool {
	return PatternCovers(strings.ToLower(wide), strings.ToLower(narrow))
}
