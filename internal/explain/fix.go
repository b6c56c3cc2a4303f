package explain

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/internal/denial"
	"github.com/countersign/countersign/policy"
)

// maxClosest bounds the statements shown as closest to matching per side.
const maxClosest = 3

// Fix is the set of document changes that turns a denial into an allow.
type Fix struct {
	Changes []Change `json:"changes"`
}

// Change is one edit to one document.
type Change struct {
	// Side is the policy type at fault: identity, resource, trust, or
	// another type from denied_by.
	Side string `json:"side"`

	// Label names the side for people, such as "the dev account's bucket
	// policy (account 222222222222)".
	Label    string `json:"label"`
	Document string `json:"document"`
	Advice   string `json:"advice"`

	// Statement is the statement to add, with the real ARNs. It is absent
	// when the fix is to remove or narrow an explicit Deny.
	Statement json.RawMessage `json:"statement,omitempty"`

	// Closest are the statements of the document that came closest to
	// applying, or, for an explicit deny, the Deny statements that applied.
	Closest []StatementResult `json:"closest"`
}

func s3Fix(r policy.Result, out ActionResult, role delivery.RoleARN, rep *Report, t delivery.Target, fixResource string, names documentNames) *Fix {
	if r.Decision == policy.Allowed {
		return nil
	}

	fix := &Fix{}

	for _, side := range r.DeniedBy {
		c := Change{Side: string(side), Label: sideLabel(side, role, rep), Document: sideDocument(side, names)}

		switch {
		case r.Decision == policy.ExplicitDeny:
			c.Advice = "remove or narrow the Deny statements that apply to this request"
			c.Closest = appliedDenies(out.Statements, side)
		case side == policy.TypeIdentity:
			c.Advice = fmt.Sprintf("add this statement to an identity policy of role %s", role.ARN)
			c.Statement = denial.IdentityStatementJSON([]string{t.Action}, fixResource)
			c.Closest = closest(out.Statements, side)
		case side == policy.TypeResource:
			c.Advice = fmt.Sprintf("add this statement to the bucket policy of %s; it names the role ARN, because a bucket policy naming a session ARN stops matching at the next session", rep.Bucket)
			c.Statement = denial.ResourceStatementJSON([]string{t.Action}, fixResource, role.ARN)
			c.Closest = closest(out.Statements, side)
		default:
			c.Advice = fmt.Sprintf("the %s policies have no Allow for this request; allow it there", side)
			c.Closest = closest(out.Statements, side)
		}

		fix.Changes = append(fix.Changes, c)
	}

	return fix
}

func trustFix(r policy.Result, out ActionResult, role delivery.RoleARN, projectARN string, names documentNames) *Fix {
	if r.Decision == policy.Allowed {
		return nil
	}

	c := Change{Side: string(policy.TypeTrust), Label: sideLabel(policy.TypeTrust, role, nil), Document: names.trust}

	if r.Decision == policy.ExplicitDeny {
		c.Advice = "remove or narrow the Deny statements that apply to CodeBuild"
		c.Closest = appliedDenies(out.Statements, policy.TypeTrust)
	} else {
		c.Advice = fmt.Sprintf("add this statement to the trust policy of %s so CodeBuild may assume it for one project", role.ARN)
		c.Statement = denial.TrustStatementJSON(role.Account, projectARN)
		c.Closest = closest(out.Statements, policy.TypeTrust)
	}

	return &Fix{Changes: []Change{c}}
}

func sideLabel(side policy.PolicyType, role delivery.RoleARN, rep *Report) string {
	switch side {
	case policy.TypeIdentity:
		return fmt.Sprintf("the tools account's identity policy (account %s)", role.Account)
	case policy.TypeResource:
		if rep.BucketOwnerAssumed {
			return fmt.Sprintf("the bucket policy (owner assumed to be account %s)", rep.BucketOwner)
		}

		return fmt.Sprintf("the dev account's bucket policy (account %s)", rep.BucketOwner)
	case policy.TypeTrust:
		return fmt.Sprintf("the trust policy of role %s", role.ARN)
	}

	return fmt.Sprintf("the %s policies", side)
}

func sideDocument(side policy.PolicyType, names documentNames) string {
	switch side {
	case policy.TypeIdentity:
		docs := make([]string, len(names.identity))
		for i, d := range names.identity {
			docs[i] = d.Name
		}

		return strings.Join(docs, ", ")
	case policy.TypeResource:
		return names.resource
	case policy.TypeTrust:
		return names.trust
	}

	return ""
}

func appliedDenies(statements []StatementResult, side policy.PolicyType) []StatementResult {
	out := []StatementResult{}

	for _, s := range statements {
		if s.PolicyType == string(side) && s.Matched && s.Effect == string(policy.Deny) {
			out = append(out, s)
		}
	}

	return out
}

// closest returns the Allow statements of one side that did not apply,
// those that got furthest first.
func closest(statements []StatementResult, side policy.PolicyType) []StatementResult {
	out := []StatementResult{}

	for _, s := range statements {
		if s.PolicyType == string(side) && !s.Matched && s.Effect == string(policy.Allow) {
			out = append(out, s)
		}
	}

	sort.SliceStable(out, func(i, j int) bool {
		return delivery.Closeness(policy.Element(out[i].Failed)) > delivery.Closeness(policy.Element(out[j].Failed))
	})

	if len(out) > maxClosest {
		out = out[:maxClosest]
	}

	return out
}
