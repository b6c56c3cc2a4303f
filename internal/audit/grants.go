package audit

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/policy"
)

// bucketWrites are bucket actions that change who may use the bucket, or
// what happens to its objects. A cross-account grant of any of them lets
// the other account change the bucket itself.
var bucketWrites = []string{
	"s3:DeleteBucket",
	"s3:DeleteBucketPolicy",
	"s3:DeleteBucketWebsite",
	"s3:PutAccelerateConfiguration",
	"s3:PutAnalyticsConfiguration",
	"s3:PutBucketAcl",
	"s3:PutBucketCORS",
	"s3:PutBucketLogging",
	"s3:PutBucketNotification",
	"s3:PutBucketObjectLockConfiguration",
	"s3:PutBucketOwnershipControls",
	"s3:PutBucketPolicy",
	"s3:PutBucketPublicAccessBlock",
	"s3:PutBucketRequestPayment",
	"s3:PutBucketTagging",
	"s3:PutBucketVersioning",
	"s3:PutBucketWebsite",
	"s3:PutEncryptionConfiguration",
	"s3:PutIntelligentTieringConfiguration",
	"s3:PutInventoryConfiguration",
	"s3:PutLifecycleConfiguration",
	"s3:PutMetricsConfiguration",
	"s3:PutReplicationConfiguration",
}

// objectExtras are object actions beyond delivery that a wildcard such as
// s3:*Object or s3:PutObject* also grants: ACLs, retention, versions,
// replication. s3:AbortMultipartUpload is not here because sync needs it
// to clean up a failed upload.
var objectExtras = []string{
	"s3:BypassGovernanceRetention",
	"s3:DeleteObjectTagging",
	"s3:DeleteObjectVersion",
	"s3:DeleteObjectVersionTagging",
	"s3:ObjectOwnerOverrideToBucketOwner",
	"s3:PutObjectAcl",
	"s3:PutObjectLegalHold",
	"s3:PutObjectRetention",
	"s3:PutObjectTagging",
	"s3:PutObjectVersionAcl",
	"s3:PutObjectVersionTagging",
	"s3:ReplicateDelete",
	"s3:ReplicateObject",
	"s3:ReplicateTags",
	"s3:RestoreObject",
}

// grantee is one principal an Allow statement reaches.
type grantee struct {
	value string

	// account is the grantee's account, or "" when it cannot be determined, as
	// for a canonical user id.
	account string

	// wholeAccount is set when the value names an account rather than one
	// role or user in it.
	wholeAccount bool
}

// classify returns the grantee a principal value names. ok is false for
// values that other checks cover: "*" and unique ids.
func classify(v string) (grantee, bool) {
	g := grantee{value: v}

	switch {
	case v == "*" || isStaleID(v):
		return g, false
	case delivery.IsAccountID(v):
		g.account, g.wholeAccount = v, true
		return g, true
	}

	arn, err := policy.ParseARN(v)
	if err != nil {
		return g, true
	}

	g.account = arn.Account
	g.wholeAccount = arn.Service == "iam" && arn.Resource == "root"

	return g, true
}

// foreign reports whether a grantee is neither the bucket owner's, an
// expected role, nor in an allowed account.
func (a *analysis) foreign(g grantee) bool {
	if g.account != "" && (g.account == a.cfg.BucketOwner || slices.Contains(a.cfg.AllowedAccounts, g.account)) {
		return false
	}

	if g.wholeAccount || strings.ContainsAny(g.value, "*?") {
		return true
	}

	for _, role := range a.roles {
		if isRoleARN(g.value, role) {
			return false
		}
	}

	return true
}

// checkGrants looks at whom each Allow statement reaches: everyone, other
// accounts, and with which actions.
func (a *analysis) checkGrants() {
	for i := range a.doc.Statements {
		st := &a.doc.Statements[i]
		if st.Effect != policy.Allow {
			continue
		}

		crossAccount := false
		var foreign []string

		// PublicAccess applies S3's rules for public bucket policies, so
		// the audit and the sandbox's BlockPublicPolicy agree.
		access := st.PublicAccess()

		if access.OpenPrincipal {
			if access.Public {
				a.add(a.publicGrant(st))
			}

			named := namedGrantees(access.Limits)

			// A grant limited to the bucket owner's account stays in that
			// account, and any other open grant reaches other accounts.
			crossAccount = access.Public || len(named) == 0

			for _, g := range named {
				if g.account != a.cfg.BucketOwner {
					crossAccount = true
				}

				if a.foreign(g) {
					foreign = append(foreign, g.value)
				}
			}
		}

		if st.Principal != nil {
			for _, e := range st.Principal.Entries {
				for _, v := range e.Values {
					g, ok := a.granteeOf(e.Type, v)
					if !ok {
						continue
					}

					if g.account != a.cfg.BucketOwner {
						crossAccount = true
					}

					if a.foreign(g) {
						foreign = append(foreign, g.value)
					}
				}
			}
		}

		if len(foreign) > 0 {
			a.add(a.foreignGrantee(st, dedupe(foreign)))
		}

		if crossAccount {
			a.checkBroad(st)
		}
	}
}

// granteeOf classifies one value of a Principal map. Service principals
// act for AWS services, not for an account, and are left out.
func (a *analysis) granteeOf(t policy.PrincipalType, v string) (grantee, bool) {
	switch t {
	case policy.PrincipalAWS, policy.PrincipalFederated:
		return classify(v)
	case policy.PrincipalCanonicalUser:
		// A canonical user id names an account, but which one cannot be
		// determined from the id.
		return grantee{value: v, wholeAccount: true}, true
	}

	return grantee{}, false
}

// namedGrantees returns the principals and accounts that the limiting
// conditions of an open grant name, where they can be read.
func namedGrantees(limits []policy.Condition) []grantee {
	var named []grantee

	for _, c := range limits {
		switch c.KeyLower {
		case "aws:principalarn", "aws:principalaccount", "aws:sourceaccount":
			for _, v := range c.Values {
				if g, ok := classify(v); ok {
					named = append(named, g)
				}
			}
		}
	}

	return named
}

func (a *analysis) publicGrant(st *policy.Statement) Finding {
	principal, callers := openPrincipal(st)

	actions, _ := st.Actions()
	raws := make([]string, len(actions))
	for i, act := range actions {
		raws[i] = act.Raw
	}

	return Finding{
		ID:        IDPublicGrant,
		Severity:  Critical,
		Statement: ref(st),
		Message: fmt.Sprintf("%s allows %s with %s and no condition that limits the callers to fixed values, so %s may call it",
			st.Label(), strings.Join(raws, ", "), principal, callers),
		Fix: Fix{
			Advice:    "name the principals in Principal, or add a condition with a fixed value, one without a wildcard or a policy variable, on aws:PrincipalOrgID, aws:PrincipalAccount or aws:SourceVpce; this version names the expected roles",
			Statement: statementJSON(withPrincipalValues(withoutOpenPrincipals(*st), a.cfg.RoleARNs)),
		},
	}
}

// openPrincipal describes, for a public statement's finding, the principal
// element that lets everyone in and the callers it reaches.
func openPrincipal(st *policy.Statement) (principal, callers string) {
	const everyone = "anyone, anonymous users included,"

	if st.NotPrincipal != nil {
		return "NotPrincipal, which reaches every principal not listed,", everyone
	}

	if st.Principal.IsWildcard() {
		return `"Principal": "*"`, everyone
	}

	if providers := st.Principal.Values(policy.PrincipalFederated); len(providers) > 0 {
		return "the Federated identity provider " + quoteAll(providers), "anyone who signs in there"
	}

	var open []string
	for _, e := range st.Principal.Entries {
		for _, v := range e.Values {
			if !policy.FixedValue(v) {
				open = append(open, v)
			}
		}
	}

	return "the principal " + quoteAll(open) + ", which has a wildcard or a policy variable,", "every principal it matches"
}

// quoteAll returns the values as quoted Go strings, joined by commas.
func quoteAll(values []string) string {
	quoted := make([]string, len(values))
	for i, v := range values {
		quoted[i] = strconv.Quote(v)
	}

	return strings.Join(quoted, ", ")
}

// withoutOpenPrincipals returns a copy of st without NotPrincipal, without
// Federated providers and without principal values that are not fixed, the
// parts that make a statement public.
func withoutOpenPrincipals(st policy.Statement) policy.Statement {
	st.NotPrincipal = nil

	if st.Principal == nil {
		return st
	}

	fixed := &policy.Principal{}

	for _, e := range st.Principal.Entries {
		if e.Type == policy.PrincipalFederated {
			continue
		}

		var values []string
		for _, v := range e.Values {
			if policy.FixedValue(v) {
				values = append(values, v)
			}
		}

		if len(values) > 0 {
			fixed.Entries = append(fixed.Entries, policy.PrincipalEntry{Type: e.Type, Values: values})
		}
	}

	st.Principal = fixed

	return st
}

// foreignReason returns why n grantees are foreign, with the verb and
// nouns in the grammatical number of n.
func (a *analysis) foreignReason(n int) string {
	if n == 1 {
		return fmt.Sprintf("is not in the bucket owner's account %s, not an expected role and not in an allowed account", a.cfg.BucketOwner)
	}

	return fmt.Sprintf("are not in the bucket owner's account %s, not expected roles and not in an allowed account", a.cfg.BucketOwner)
}

func (a *analysis) foreignGrantee(st *policy.Statement, foreign []string) Finding {
	f := Finding{
		ID:        IDForeignGrantee,
		Severity:  High,
		Statement: ref(st),
		Principal: strings.Join(foreign, ","),
		Message: fmt.Sprintf("%s allows %s, which %s",
			st.Label(), strings.Join(foreign, ", "), a.foreignReason(len(foreign))),
	}

	var expected []string
	for _, v := range st.Principal.Values(policy.PrincipalAWS) {
		if !slices.Contains(foreign, v) {
			expected = append(expected, v)
		}
	}

	if len(expected) == 0 || st.Principal.IsWildcard() {
		f.Fix.Advice = "remove the statement, or add the account to the allowed accounts if the grant is intended"
		return f
	}

	f.Fix.Advice = "remove the foreign principals, as this version does, or add their accounts to the allowed accounts if the grant is intended"
	f.Fix.Statement = statementJSON(withPrincipalValues(*st, expected))

	return f
}

// checkBroad reports a cross-account Allow that grants more than delivery
// needs. Writes to the bucket itself rank high; object extras such as
// ACLs, retention and versions rank medium.
func (a *analysis) checkBroad(st *policy.Statement) {
	if len(st.NotAction) > 0 {
		a.add(Finding{
			ID:        IDBroadAction,
			Severity:  High,
			Statement: ref(st),
			Message:   fmt.Sprintf("%s is an Allow with NotAction, which grants another account every action not listed", st.Label()),
			Fix: Fix{
				Advice:    "list the actions in Action instead; this version lists the required actions",
				Statement: statementJSON(withActions(*st, a.cfg.RequiredActions)),
			},
		})

		return
	}

	severity := Severity("")
	var broad, narrow, extras []string

	for _, act := range st.Action {
		writes := a.extrasCovered(act, bucketWrites)
		more := []string(nil)

		if len(writes) == 0 && strings.ContainsAny(act.Raw, "*?") {
			more = a.extrasCovered(act, objectExtras)
		}

		switch {
		case len(writes) > 0:
			severity = High
		case len(more) > 0:
			if severity == "" {
				severity = Medium
			}
		default:
			narrow = append(narrow, act.Raw)
			continue
		}

		broad = append(broad, act.Raw)
		extras = append(extras, append(writes, more...)...)

		for _, r := range a.cfg.RequiredActions {
			if policy.MatchAction(act.Pattern, r) {
				narrow = append(narrow, r)
			}
		}
	}

	if len(broad) == 0 {
		return
	}

	f := Finding{
		ID:        IDBroadAction,
		Severity:  severity,
		Statement: ref(st),
		Action:    strings.Join(broad, ","),
		Message: fmt.Sprintf("%s grants another account %s, which includes %s beyond the required actions",
			st.Label(), strings.Join(broad, ", "), summarize(extras, 4)),
	}
	if strings.Join(broad, ",") == strings.Join(extras, ",") {
		// The granted actions are themselves the extras, with no wildcard
		// to expand.
		f.Message = fmt.Sprintf("%s grants another account %s beyond the required actions", st.Label(), summarize(extras, 4))
	}

	narrow = dedupe(narrow)
	if len(narrow) == 0 {
		f.Fix.Advice = "remove the statement: it grants none of the required actions"
	} else {
		f.Fix.Advice = "grant only the actions delivery needs, as this version does"
		f.Fix.Statement = statementJSON(withActions(*st, narrow))
	}

	a.add(f)
}

// extrasCovered returns the actions of list that an action pattern grants
// and that are not required. A literal bucket write missing from the list
// counts too.
func (a *analysis) extrasCovered(act policy.Action, list []string) []string {
	var out []string

	for _, x := range list {
		if policy.MatchAction(act.Pattern, x) && !a.required[strings.ToLower(x)] {
			out = append(out, x)
		}
	}

	if len(out) == 0 && !strings.ContainsAny(act.Raw, "*?") && isBucketWrite(act.Raw) && !a.required[act.Pattern] {
		out = append(out, act.Raw)
	}

	return out
}

// isBucketWrite reports whether a literal action is a bucket action that
// puts, deletes or creates, such as s3:PutBucketTagging.
func isBucketWrite(action string) bool {
	if !policy.IsS3BucketAction(action) {
		return false
	}

	_, name, _ := strings.Cut(strings.ToLower(action), ":")

	return strings.HasPrefix(name, "put") || strings.HasPrefix(name, "delete") || strings.HasPrefix(name, "create")
}

// summarize lists up to n values and counts the rest.
func summarize(values []string, n int) string {
	values = dedupe(values)
	if len(values) <= n {
		return strings.Join(values, ", ")
	}

	return fmt.Sprintf("%s and %d more", strings.Join(values[:n], ", "), len(values)-n)
}
