package policy

// checkShadowing reports an Allow statement that can never change the
// outcome: one that an unconditional Deny fully shadows (unreachable), or
// one that another unconditional Allow already covers (redundant). Both
// checks compare patterns with PatternCovers, so they report only what
// they can prove.
//
// NOTE: statements with NotPrincipal, NotAction or NotResource are skipped
// on either side, because covering them needs set complements.
func checkShadowing(p *Policy, st *Statement, report reportFunc) {
	if st.Effect != Allow || !plainStatement(st) {
		return
	}

	for i := range p.Statements {
		other := &p.Statements[i]
		if other.Index == st.Index || other.Effect != Deny || !covers(other, st) {
			continue
		}

		report(SeverityWarning, CodeUnreachableStatement, "Effect", "%s denies every action, resource and principal this statement allows, with no condition, so this statement never grants access; remove it or narrow the Deny", other.Label())

		return
	}

	for i := range p.Statements {
		other := &p.Statements[i]
		if other.Index == st.Index || other.Effect != Allow || !covers(other, st) {
			continue
		}

		// Of two statements that cover each other, only the later one is
		// reported, so that removing it keeps the access.
		if len(st.Condition) == 0 && covers(st, other) && st.Index < other.Index {
			continue
		}

		report(SeveritySuggestion, CodeRedundantStatement, "Action", "%s already allows every action, resource and principal this statement allows, with no condition; remove this statement", other.Label())

		return
	}
}

// plainStatement reports whether st uses only the positive elements, which
// the coverage checks can compare.
func plainStatement(st *Statement) bool {
	return st.NotPrincipal == nil && len(st.NotAction) == 0 && len(st.NotResource) == 0
}

// covers reports whether the unconditional statement wide applies to every
// request that narrow applies to.
func covers(wide, narrow *Statement) bool {
	if len(wide.Condition) > 0 || !plainStatement(wide) || !plainStatement(narrow) {
		return false
	}

	return principalCovers(wide.Principal, narrow.Principal) &&
		actionsCovered(wide.Action, narrow.Action) &&
		resourcesCovered(wide.Resource, narrow.Resource)
}

// principalCovers reports whether every principal in narrow is also in
// wide. Two statements without principals, as in an identity policy, cover
// each other.
func principalCovers(wide, narrow *Principal) bool {
	if wide == nil || narrow == nil {
		return wide == nil && narrow == nil
	}

	if wide.Star {
		return true
	}

	if narrow.Star {
		return false
	}

	for _, e := range narrow.Entries {
		values := wide.Values(e.Type)

		for _, v := range e.Values {
			if !containsValue(values, v) && !(e.Type == PrincipalAWS && containsValue(values, "*")) {
				return false
			}
		}
	}

	return true
}

func containsValue(values []string, v string) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}

	return false
}

func actionsCovered(wide, narrow []Action) bool {
	for _, n := range narrow {
		found := false

		for _, w := range wide {
			if PatternCovers(w.Pattern, n.Pattern) {
				found = true
				break
			}
		}

		if !found {
			return false
		}
	}

	return len(wide) > 0 && len(narrow) > 0
}

// resourcesCovered compares Resource lists with case. Two empty lists, as
// in trust policies, cover each other.
func resourcesCovered(wide, narrow []Resource) bool {
	if len(wide) == 0 || len(narrow) == 0 {
		return len(wide) == 0 && len(narrow) == 0
	}

	for _, n := range narrow {
		found := false

		for _, w := range wide {
			if PatternCovers(w.Raw, n.Raw) {
				found = true
				break
			}
		}

		if !found {
			return false
		}
	}

	return true
}
