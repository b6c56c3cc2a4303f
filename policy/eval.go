package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidRequest is wrapped by the errors that Evaluate returns for a
// malformed request.
var ErrInvalidRequest = errors.New("invalid request")

// PolicySet holds the policies that apply to one request. A nil or empty
// field means the policy type is absent.
type PolicySet struct {
	// Identity holds the caller's identity policies.
	Identity []*Policy

	// Resource is the resource policy, such as a bucket policy.
	Resource *Policy

	// SCPs and RCPs hold one slice per organization level (root, each OU,
	// the account). Every level must allow the request. SCPs are those of
	// the caller's account, RCPs those of the resource's account.
	SCPs [][]*Policy
	RCPs [][]*Policy

	// Boundary is the caller's permissions boundary.
	Boundary *Policy

	// Session holds the session policies passed when the role was assumed.
	Session []*Policy
}

// Evaluate decides a request as AWS's policy evaluation logic does and
// explains the decision statement by statement. It returns an error
// wrapping ErrInvalidRequest for a malformed request, such as an action
// without a service prefix.
func Evaluate(req Request, set PolicySet) (Result, error) {
	return evaluate(&req, set, TypeResource, set.Resource)
}

// EvaluateTrust decides whether the caller may assume a role. The trust
// policy is the role's resource policy and must allow explicitly. When the
// caller is an IAM principal of another account, its own side (identity
// policies, boundary and session policies in caller, and its SCPs) must
// allow too. A service principal has no identity side. req.Resource is the
// role ARN, and req.Action defaults to sts:AssumeRole.
func EvaluateTrust(req Request, trust *Policy, caller PolicySet) (Result, error) {
	if trust == nil {
		return Result{}, fmt.Errorf("evaluate trust: %w: the trust policy is nil; pass the role's AssumeRolePolicyDocument", ErrInvalidRequest)
	}

	if req.Action == "" {
		req.Action = "sts:AssumeRole"
	}

	caller.Resource = nil

	return evaluate(&req, caller, TypeTrust, trust)
}

// evaluation carries what one Evaluate call shares between policies.
type evaluation struct {
	req         *Request
	caller      *caller
	rc          *requestContext
	action      string
	hasBoundary bool
}

func evaluate(req *Request, set PolicySet, resourceType PolicyType, resourcePolicy *Policy) (Result, error) {
	service, name, ok := strings.Cut(req.Action, ":")
	if !ok || service == "" || name == "" {
		return Result{}, fmt.Errorf("evaluate: %w: action %q needs a service prefix, as in s3:PutObject", ErrInvalidRequest, req.Action)
	}

	if req.Resource == "" {
		return Result{}, fmt.Errorf("evaluate: %w: the resource is empty; pass the ARN the action acts on", ErrInvalidRequest)
	}

	c, err := parseCaller(req)
	if err != nil {
		return Result{}, fmt.Errorf("evaluate: %w: %w", ErrInvalidRequest, err)
	}

	resourceAccount := req.ResourceAccount
	if resourceAccount == "" {
		if arn, ok := cutARN(req.Resource); ok {
			resourceAccount = arn.account
		}
	}

	// NOTE: an ARN without an account, as S3 bucket ARNs are, is taken to
	// be in the caller's account unless ResourceAccount names another.
	if resourceAccount == "" {
		resourceAccount = c.account
	}

	ev := evaluation{
		req:         req,
		caller:      &c,
		rc:          newRequestContext(req, &c, resourceAccount),
		action:      strings.ToLower(req.Action),
		hasBoundary: set.Boundary != nil,
	}

	var r Result

	r.CrossAccount = c.isIAM() && c.account != resourceAccount
	r.Policies = make([]PolicyResult, 0, countPolicies(set, resourcePolicy))

	d := ev.collect(&r, set, resourceType, resourcePolicy)
	d.decide(&r, &c, resourceType, resourcePolicy != nil)

	return r, nil
}

func countPolicies(set PolicySet, resourcePolicy *Policy) int {
	n := len(set.Identity) + len(set.Session)

	for _, level := range set.SCPs {
		n += len(level)
	}

	for _, level := range set.RCPs {
		n += len(level)
	}

	if set.Boundary != nil {
		n++
	}

	if resourcePolicy != nil {
		n++
	}

	return n
}

// decisionInputs are the per-type outcomes that the decision combines.
type decisionInputs struct {
	deniedBy []PolicyType

	scpLevelsDenying int
	rcpLevelsDenying int

	identityAllow bool
	boundaryAllow bool
	sessionAllow  bool

	// resourceGrant is the strongest principal match among the resource
	// policy's matching Allow statements.
	resourceGrant PrincipalMatch

	allowedBy []PolicyType
}

// collect evaluates every applicable policy into r and gathers the
// per-type outcomes.
func (ev *evaluation) collect(r *Result, set PolicySet, resourceType PolicyType, resourcePolicy *Policy) decisionInputs {
	c := ev.caller
	d := decisionInputs{boundaryAllow: set.Boundary == nil, sessionAllow: len(set.Session) == 0}

	noteDeny := func(pr *PolicyResult) {
		if pr.Denies && !containsType(d.deniedBy, pr.Type) {
			d.deniedBy = append(d.deniedBy, pr.Type)
		}
	}

	noteAllow := func(t PolicyType) {
		if !containsType(d.allowedBy, t) {
			d.allowedBy = append(d.allowedBy, t)
		}
	}

	// SCPs restrict the IAM principals of member accounts, and neither
	// SCPs nor RCPs restrict service-linked roles.
	if c.isIAM() && !c.serviceLinked() {
		d.scpLevelsDenying = ev.collectLevels(r, set.SCPs, TypeSCP, noteDeny)
	}

	// NOTE: RCPs are applied to every caller but service-linked roles,
	// service principals included; the AWS examples exempt service
	// principals with an aws:PrincipalIsAWSService condition.
	if !c.serviceLinked() {
		d.rcpLevelsDenying = ev.collectLevels(r, set.RCPs, TypeRCP, noteDeny)
	}

	if c.isIAM() {
		for i, p := range set.Identity {
			pr, _ := ev.evalPolicy(p, TypeIdentity, i, 0)
			d.identityAllow = d.identityAllow || pr.Allows
			noteDeny(&pr)
			r.Policies = append(r.Policies, pr)
		}

		if set.Boundary != nil {
			pr, _ := ev.evalPolicy(set.Boundary, TypeBoundary, 0, 0)
			d.boundaryAllow = pr.Allows
			noteDeny(&pr)
			r.Policies = append(r.Policies, pr)
		}

		for i, p := range set.Session {
			pr, _ := ev.evalPolicy(p, TypeSession, i, 0)
			d.sessionAllow = d.sessionAllow || pr.Allows
			noteDeny(&pr)
			r.Policies = append(r.Policies, pr)
		}
	}

	if resourcePolicy != nil {
		pr, grant := ev.evalPolicy(resourcePolicy, resourceType, 0, 0)
		d.resourceGrant = grant
		noteDeny(&pr)
		r.Policies = append(r.Policies, pr)
	}

	if d.identityAllow {
		noteAllow(TypeIdentity)
	}

	if d.resourceGrant != PrincipalNoMatch {
		noteAllow(resourceType)
	}

	return d
}

// collectLevels evaluates organization policies level by level and
// returns how many levels have no Allow.
func (ev *evaluation) collectLevels(r *Result, levels [][]*Policy, t PolicyType, noteDeny func(*PolicyResult)) int {
	denying, index := 0, 0

	for level, policies := range levels {
		allows := false

		for _, p := range policies {
			pr, _ := ev.evalPolicy(p, t, index, level)
			allows = allows || pr.Allows
			noteDeny(&pr)
			r.Policies = append(r.Policies, pr)
			index++
		}

		if !allows {
			denying++
		}
	}

	return denying
}

// decide combines the outcomes as the AWS policy evaluation logic does:
// an explicit Deny wins, then every SCP and RCP level must allow, then the
// identity and resource sides are combined for a same-account or a
// cross-account request.
func (d *decisionInputs) decide(r *Result, c *caller, resourceType PolicyType, hasResource bool) {
	if len(d.deniedBy) > 0 {
		r.Decision, r.DeniedBy = ExplicitDeny, d.deniedBy

		return
	}

	var missing []PolicyType

	if d.scpLevelsDenying > 0 {
		missing = append(missing, TypeSCP)
	}

	if d.rcpLevelsDenying > 0 {
		missing = append(missing, TypeRCP)
	}

	// The root user has every permission in its own account unless an SCP
	// or an explicit Deny takes it away.
	identityAllow := d.identityAllow || c.kind == principalAccount
	grant := d.resourceGrant

	if !c.isIAM() {
		// Anonymous callers and service principals have no identity
		// side, so only the resource policy can allow them.
		if grant == PrincipalNoMatch {
			missing = append(missing, resourceType)
		}
	} else if r.CrossAccount {
		missing = d.identitySideMissing(missing, identityAllow)

		if grant == PrincipalNoMatch {
			missing = append(missing, resourceType)
		}
	} else if grant != PrincipalMatchDirect {
		// A resource policy that names the role, everyone or the account
		// is limited by the boundary and session policies, and naming the
		// account only delegates to the identity policies.
		//
		// NOTE: the boundary and session policy references describe the
		// role ARN and the session ARN; treating "*" like the role ARN is
		// an assumption.
		if grant == PrincipalMatchRole || grant == PrincipalMatchWildcard {
			identityAllow = true
		}

		missing = d.identitySideMissing(missing, identityAllow)

		if !identityAllow && hasResource && grant == PrincipalNoMatch && resourceType != TypeTrust {
			missing = append(missing, resourceType)
		}
	}

	// A trust policy must allow even when the identity side does.
	if resourceType == TypeTrust && grant == PrincipalNoMatch && !containsType(missing, TypeTrust) {
		missing = append(missing, TypeTrust)
	}

	if len(missing) > 0 {
		r.Decision, r.DeniedBy = ImplicitDeny, missing

		return
	}

	r.Decision = Allowed
	r.AllowedBy = d.allowedBy

	if c.kind == principalAccount && !d.identityAllow && !containsType(r.AllowedBy, TypeIdentity) {
		r.AllowedBy = append(r.AllowedBy, TypeIdentity)
	}
}

func (d *decisionInputs) identitySideMissing(missing []PolicyType, identityAllow bool) []PolicyType {
	if !identityAllow {
		missing = append(missing, TypeIdentity)
	}

	if !d.boundaryAllow {
		missing = append(missing, TypeBoundary)
	}

	if !d.sessionAllow {
		missing = append(missing, TypeSession)
	}

	return missing
}

func containsType(types []PolicyType, t PolicyType) bool {
	for _, x := range types {
		if x == t {
			return true
		}
	}

	return false
}

// evalPolicy evaluates each statement of p. It also returns the strongest
// principal match among the Allow statements that apply, which matters
// for resource and trust policies.
func (ev *evaluation) evalPolicy(p *Policy, t PolicyType, index, level int) (PolicyResult, PrincipalMatch) {
	pr := PolicyResult{Type: t, Index: index, Level: level, ID: p.ID}
	pr.Statements = make([]StatementResult, len(p.Statements))
	grant := PrincipalNoMatch

	for i := range p.Statements {
		st := &p.Statements[i]
		sr := &pr.Statements[i]
		ev.evalStatement(p, st, t, sr)

		if !sr.Matched {
			continue
		}

		if st.Effect == Deny {
			pr.Denies = true
		} else {
			pr.Allows = true
			grant = max(grant, sr.Principal)
		}
	}

	return pr, grant
}

// takesPrincipal reports whether a policy type names principals.
func takesPrincipal(t PolicyType) bool {
	return t == TypeResource || t == TypeTrust || t == TypeRCP
}

func (ev *evaluation) evalStatement(p *Policy, st *Statement, t PolicyType, sr *StatementResult) {
	sr.Index, sr.Sid, sr.Effect = st.Index, st.Sid, st.Effect

	if takesPrincipal(t) {
		sr.Principal = ev.matchStatementPrincipal(st)
		if sr.Principal == PrincipalNoMatch {
			sr.Failed = ElementPrincipal

			return
		}
	}

	actions, notAction := st.Actions()
	if ev.matchActions(actions) == notAction {
		sr.Failed = ElementAction

		return
	}

	resources, notResource := st.Resources()
	if len(resources) > 0 {
		hit, unresolved := ev.matchResources(p, resources)
		if hit == notResource {
			sr.Failed, sr.Unresolved = ElementResource, unresolved

			return
		}
	}

	for i := range st.Condition {
		ok, fail := evalCondition(&st.Condition[i], ev.rc, p.VariablesEnabled)
		if !ok {
			failure := fail
			sr.Failed, sr.Condition = ElementCondition, &failure

			return
		}
	}

	sr.Matched = true
}

func (ev *evaluation) matchStatementPrincipal(st *Statement) PrincipalMatch {
	if st.Principal != nil {
		return ev.caller.matchPrincipal(st.Principal)
	}

	if st.NotPrincipal == nil {
		return PrincipalNoMatch
	}

	// The NotPrincipal reference warns that a Deny with NotPrincipal
	// always denies an IAM principal that has a permissions boundary.
	if st.Effect == Deny && ev.hasBoundary && ev.caller.isIAM() {
		return PrincipalMatchWildcard
	}

	if ev.caller.listedIn(st.NotPrincipal) {
		return PrincipalNoMatch
	}

	return PrincipalMatchWildcard
}

func (ev *evaluation) matchActions(actions []Action) bool {
	for _, a := range actions {
		if MatchPattern(a.Pattern, ev.action) {
			return true
		}
	}

	return false
}

// matchResources reports whether any resource pattern matches. A pattern
// whose variable has no value matches nothing, and the first such
// variable is returned.
func (ev *evaluation) matchResources(p *Policy, resources []Resource) (bool, string) {
	unresolved := ""

	for _, r := range resources {
		pattern := r.Raw

		if p.VariablesEnabled && r.HasVariable() {
			out, missing, ok := substitute(pattern, ev.rc, true)
			if !ok {
				if unresolved == "" {
					unresolved = missing
				}

				continue
			}

			if matchSubstituted(out, ev.req.Resource) {
				return true, ""
			}

			continue
		}

		if MatchPattern(pattern, ev.req.Resource) {
			return true, ""
		}
	}

	return false, unresolved
}
