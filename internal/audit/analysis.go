package audit

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/policy"
)

// sessionName is the role session name of the simulated callers.
const sessionName = "countersign-audit"

// probeKeyName is the object key, under the prefix, that object actions
// are evaluated on.
const probeKeyName = "countersign-audit-probe"

// allowAll replaces the expected roles' identity policies, which live
// in the tools account and cannot be read from the dev account. With it,
// a cross-account evaluation decides on the bucket policy alone.
var allowAll = mustParse(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)

func mustParse(doc string) *policy.Policy {
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		panic("audit: built-in policy does not parse: " + err.Error())
	}

	return p
}

// analysis holds what the checks of one audit share.
type analysis struct {
	cfg       Config
	state     State
	roles     []delivery.RoleARN
	partition string
	bucketARN string
	targets   []delivery.Target
	required  map[string]bool // lowercased required actions

	doc      *policy.Policy
	findings []Finding
}

func newAnalysis(cfg Config, state State) *analysis {
	a := &analysis{cfg: cfg, state: state, partition: "aws", required: map[string]bool{}}

	for _, arn := range cfg.RoleARNs {
		// Normalize has checked every ARN.
		if role, err := delivery.ParseRoleARN(arn); err == nil {
			a.roles = append(a.roles, role)
		}
	}

	if len(a.roles) > 0 {
		a.partition = a.roles[0].Partition
	}

	a.bucketARN = delivery.BucketARN(a.partition, cfg.Bucket)
	a.targets, _ = delivery.ResolveActions(cfg.RequiredActions, cfg.Bucket, a.partition)

	for _, action := range cfg.RequiredActions {
		a.required[strings.ToLower(action)] = true
	}

	return a
}

func (a *analysis) add(f Finding) {
	a.findings = append(a.findings, f)
}

func (a *analysis) run() {
	a.checkPolicy()
	a.checkOwnership()
	a.checkPublicAccessBlock()
	a.checkEncryption()
}

func ref(st *policy.Statement) *StatementRef {
	return &StatementRef{Index: st.Index, Sid: st.Sid}
}

func (a *analysis) checkPolicy() {
	if a.state.Policy == nil {
		a.add(Finding{
			ID:       IDNoPolicy,
			Severity: High,
			Message:  fmt.Sprintf("bucket %s has no bucket policy, so no role of another account can use it", a.cfg.Bucket),
			Fix: Fix{
				Advice: "put this bucket policy, which grants the expected roles the required actions (enforce mode writes it)",
				Policy: a.newPolicy(),
			},
		})
		a.checkTLS()

		return
	}

	doc, err := policy.Parse(a.state.Policy)
	if err != nil {
		a.add(Finding{
			ID:       IDPolicyInvalid,
			Severity: High,
			Message:  fmt.Sprintf("the bucket policy of %s does not parse, so none of its statements could be checked: %v", a.cfg.Bucket, err),
			Fix:      Fix{Advice: "correct the statement and element the error names, then put the policy again"},
		})

		return
	}

	a.doc = doc
	a.checkRoles()
	a.checkStalePrincipals()
	a.checkGrants()
	a.checkTLS()
}

// request builds the cross-account request of one role session for one
// required action, as sync would send it.
//
// NOTE: the request carries only the keys AWS fills for a role session
// over TLS, plus s3:prefix. A grant conditioned on other keys, such as
// aws:SourceVpce or aws:PrincipalOrgID, is reported as not granting.
func (a *analysis) request(role delivery.RoleARN, t delivery.Target) policy.Request {
	req := policy.Request{
		Principal:        role.SessionARN(sessionName),
		PrincipalRoleARN: role.ARN,
		Action:           t.Action,
		Resource:         t.Resource,
		ResourceAccount:  a.cfg.BucketOwner,
	}

	if !t.BucketLevel {
		req.Resource += "/" + delivery.ProbeKey(a.cfg.Prefix, "", probeKeyName)
	} else if p := delivery.ListPrefix(a.cfg.Prefix); p != "" {
		// sync lists only under its prefix, and a bucket policy may limit
		// listing with s3:prefix.
		req.Context = map[string][]string{"s3:prefix": {p}}
	}

	return req
}

// grantResource is the ARN a fix grants an action on.
func (a *analysis) grantResource(t delivery.Target) string {
	if t.BucketLevel {
		return t.Resource
	}

	return delivery.ObjectGrantResource(t.Resource, a.cfg.Prefix, "")
}

// checkRoles evaluates every required action for every expected role.
func (a *analysis) checkRoles() {
	set := policy.PolicySet{Identity: []*policy.Policy{allowAll}, Resource: a.doc}

	for _, role := range a.roles {
		denied := map[int][]string{}

		for _, t := range a.targets {
			req := a.request(role, t)

			res, err := policy.Evaluate(req, set)
			if err != nil {
				a.add(Finding{
					ID: IDRoleNotGranted, Severity: High, Principal: role.ARN, Action: t.Action,
					Message: fmt.Sprintf("role %s could not be evaluated for %s on %s: %v", role.ARN, t.Action, req.Resource, err),
					Fix:     Fix{Advice: "check the role ARN and the required actions"},
				})

				continue
			}

			switch res.Decision {
			case policy.Allowed:
			case policy.ExplicitDeny:
				for _, sr := range resourceStatements(res) {
					if sr.Matched && sr.Effect == policy.Deny {
						denied[sr.Index] = append(denied[sr.Index], t.Action)
					}
				}
			default:
				a.add(a.roleNotGranted(role, t, req, res))
			}
		}

		a.addDenies(role, denied)
	}
}

func (a *analysis) roleNotGranted(role delivery.RoleARN, t delivery.Target, req policy.Request, res policy.Result) Finding {
	msg := fmt.Sprintf("role %s cannot call %s on %s: no bucket policy statement allows it", role.ARN, t.Action, req.Resource)

	if closest, ok := a.closestAllow(res, t.Action, req.Resource); ok {
		st := &a.doc.Statements[closest.Index]
		msg += fmt.Sprintf("; the closest, %s, does not apply because of its %s", st.Label(), closest.Reason())
	}

	return Finding{
		ID:        IDRoleNotGranted,
		Severity:  High,
		Message:   msg,
		Principal: role.ARN,
		Action:    t.Action,
		Fix: Fix{
			Advice:    fmt.Sprintf("add this statement to the bucket policy of %s, or run the audit in enforce mode so that the statements it manages grant it", a.cfg.Bucket),
			Statement: a.grantStatement(role, t).Render(),
		},
	}
}

// addDenies reports each Deny statement that blocks a role, with the
// actions it blocks.
func (a *analysis) addDenies(role delivery.RoleARN, denied map[int][]string) {
	indexes := make([]int, 0, len(denied))
	for i := range denied {
		indexes = append(indexes, i)
	}

	sort.Ints(indexes)

	for _, i := range indexes {
		st := a.doc.Statements[i]
		actions := denied[i]

		fix := Fix{
			Advice:    fmt.Sprintf("narrow the Deny so it exempts the expected roles, as this version does with an ArnNotEquals condition on aws:PrincipalArn, or remove %s if the roles should be allowed", strings.Join(actions, ", ")),
			Statement: statementJSON(withPrincipalExemption(st, a.cfg.RoleARNs)),
		}

		if namesRole(st.Principal, role) {
			fix = Fix{Advice: fmt.Sprintf("the Deny names role %s itself: remove the role from its Principal, or remove the statement", role.ARN)}
		}

		a.add(Finding{
			ID:        IDDenyShadowsRole,
			Severity:  High,
			Message:   fmt.Sprintf("%s explicitly denies role %s %s, and an explicit Deny overrides every Allow", st.Label(), role.ARN, strings.Join(actions, ", ")),
			Statement: ref(&st),
			Principal: role.ARN,
			Action:    strings.Join(actions, ","),
			Fix:       fix,
		})
	}
}

// resourceStatements returns the bucket policy's statement results.
func resourceStatements(res policy.Result) []policy.StatementResult {
	for _, p := range res.Policies {
		if p.Type == policy.TypeResource {
			return p.Statements
		}
	}

	return nil
}

// closestAllow returns the Allow statement of the bucket policy that came
// closest to allowing the request: the one whose failed element ranks
// highest by delivery.Closeness. Ties go to the statement whose later
// elements would match: the actions and resources it lists after a
// principal failure, the resources after an action failure. So a grant of
// the right actions to another role ranks above an unrelated statement.
func (a *analysis) closestAllow(res policy.Result, action, resource string) (policy.StatementResult, bool) {
	rank := func(sr policy.StatementResult) int {
		r := 3 * delivery.Closeness(sr.Failed)

		if sr.Failed == policy.ElementPrincipal && a.coversAction(sr.Index, action) {
			r++
		}

		if (sr.Failed == policy.ElementPrincipal || sr.Failed == policy.ElementAction) && a.coversResource(sr.Index, resource) {
			r++
		}

		return r
	}

	var best policy.StatementResult
	found := false

	for _, sr := range resourceStatements(res) {
		if sr.Matched || sr.Effect != policy.Allow || sr.Failed == policy.ElementNone {
			continue
		}

		if !found || rank(sr) > rank(best) {
			best, found = sr, true
		}
	}

	return best, found
}

// coversAction reports whether statement i applies to action by its
// Action or NotAction element.
func (a *analysis) coversAction(i int, action string) bool {
	if i < 0 || i >= len(a.doc.Statements) {
		return false
	}

	actions, not := a.doc.Statements[i].Actions()
	listed := slices.ContainsFunc(actions, func(x policy.Action) bool { return policy.MatchAction(x.Pattern, action) })

	return listed != not
}

// coversResource reports whether statement i lists a resource pattern that
// matches resource.
func (a *analysis) coversResource(i int, resource string) bool {
	if i < 0 || i >= len(a.doc.Statements) {
		return false
	}

	for _, r := range a.doc.Statements[i].Resource {
		if policy.MatchPattern(r.Raw, resource) {
			return true
		}
	}

	return false
}

// namesRole reports whether a principal element names the role by ARN.
func namesRole(p *policy.Principal, role delivery.RoleARN) bool {
	for _, v := range p.Values(policy.PrincipalAWS) {
		if isRoleARN(v, role) {
			return true
		}
	}

	return false
}

// isRoleARN reports whether v is the role's ARN or one of its session
// ARNs. IAM compares role names without regard to case, and a policy may
// name the role without its path.
func isRoleARN(v string, role delivery.RoleARN) bool {
	if v == role.ARN {
		return true
	}

	arn, err := policy.ParseARN(v)
	if err != nil || arn.Account != role.Account {
		return false
	}

	switch {
	case arn.Service == "iam" && strings.HasPrefix(arn.Resource, "role/"):
		return strings.EqualFold(arn.Resource[strings.LastIndexByte(arn.Resource, '/')+1:], role.Name)
	case arn.Service == "sts" && strings.HasPrefix(arn.Resource, "assumed-role/"):
		name, _, _ := strings.Cut(strings.TrimPrefix(arn.Resource, "assumed-role/"), "/")
		return strings.EqualFold(name, role.Name)
	}

	return false
}

// isStaleID reports whether a principal value is the unique id of an IAM
// role (AROA) or user (AIDA). A bucket policy shows such an id in place of
// the ARN once the role or user it named was deleted.
func isStaleID(v string) bool {
	if len(v) < 16 || len(v) > 128 || (!strings.HasPrefix(v, "AROA") && !strings.HasPrefix(v, "AIDA")) {
		return false
	}

	for _, r := range v {
		if (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}

	return true
}

func (a *analysis) checkStalePrincipals() {
	for i := range a.doc.Statements {
		st := &a.doc.Statements[i]

		for _, field := range []struct {
			name string
			p    *policy.Principal
		}{{"Principal", st.Principal}, {"NotPrincipal", st.NotPrincipal}} {
			for _, v := range field.p.Values(policy.PrincipalAWS) {
				if isStaleID(v) {
					a.add(a.stalePrincipal(st, field.name, v))
				}
			}
		}
	}
}

func (a *analysis) stalePrincipal(st *policy.Statement, field, id string) Finding {
	f := Finding{
		ID:        IDStalePrincipal,
		Severity:  Medium,
		Statement: ref(st),
		Principal: id,
		Message: fmt.Sprintf("%s names %q in %s, the unique id of a deleted IAM role or user, so it matches nobody, not even one recreated with the same name",
			st.Label(), id, field),
	}

	switch {
	case st.Effect == policy.Deny && field == "Principal":
		// A Deny whose principal no longer exists matches no caller, so it
		// protects nothing.
		f.Severity = High
		f.Fix.Advice = "write the ARN of the principal this Deny was meant for in place of the unique id"
	case st.Effect == policy.Allow && field == "Principal":
		var values []string
		for _, v := range st.Principal.Values(policy.PrincipalAWS) {
			if v == id {
				values = append(values, a.cfg.RoleARNs...)
			} else {
				values = append(values, v)
			}
		}

		f.Fix.Statement = statementJSON(withPrincipalValues(*st, dedupe(values)))
		f.Fix.Advice = "write the principal's ARN in place of the unique id; this version names the expected roles"

		if isManagedSid(st.Sid) {
			f.Fix.Advice = fmt.Sprintf("run the audit in enforce mode, which rewrites %s with the expected role ARNs", st.Sid)
		}
	default:
		f.Fix.Advice = "write the ARN of the principal the NotPrincipal element was meant to exempt in place of the unique id"
	}

	return f
}

// checkTLS probes the policy with requests made without TLS: anonymous,
// by each expected role and by the bucket owner. Every one must meet an
// explicit Deny.
func (a *analysis) checkTLS() {
	if a.doc != nil && a.tlsEnforced() {
		return
	}

	a.add(Finding{
		ID:       IDTLSNotEnforced,
		Severity: Medium,
		Message:  fmt.Sprintf("the bucket policy of %s does not deny requests made without TLS, so requests and the objects they carry may travel unencrypted over plain HTTP", a.cfg.Bucket),
		Fix: Fix{
			Advice:    "add this statement to the bucket policy",
			Statement: a.tlsStatement().Render(),
		},
	})
}

func (a *analysis) tlsEnforced() bool {
	set := policy.PolicySet{Identity: []*policy.Policy{allowAll}, Resource: a.doc}
	insecure := map[string][]string{"aws:SecureTransport": {"false"}}

	var requests []policy.Request

	callers := []policy.Request{{Principal: ""}, {Principal: "arn:" + a.partition + ":iam::" + a.cfg.BucketOwner + ":root"}}
	for _, role := range a.roles {
		callers = append(callers, policy.Request{Principal: role.SessionARN(sessionName), PrincipalRoleARN: role.ARN})
	}

	for _, c := range callers {
		for _, t := range a.targets {
			req := a.request(delivery.RoleARN{}, t)
			req.Principal, req.PrincipalRoleARN = c.Principal, c.PrincipalRoleARN
			requests = append(requests, req)
		}

		// A Deny scoped to the prefix leaves the rest of the bucket open.
		req := policy.Request{Principal: c.Principal, PrincipalRoleARN: c.PrincipalRoleARN, Action: "s3:GetObject", Resource: a.bucketARN + "/" + probeKeyName, ResourceAccount: a.cfg.BucketOwner}
		requests = append(requests, req)
	}

	for _, req := range requests {
		ctx := map[string][]string{}
		for k, v := range req.Context {
			ctx[k] = v
		}

		for k, v := range insecure {
			ctx[k] = v
		}

		req.Context = ctx

		res, err := policy.Evaluate(req, set)
		if err != nil || res.Decision != policy.ExplicitDeny {
			return false
		}
	}

	return true
}
