package policy

import (
	"fmt"
	"strings"
)

// Kind is the role a policy document plays, which decides the elements it
// must and must not have.
type Kind string

// Policy kinds.
const (
	KindIdentity            Kind = "identity"
	KindResource            Kind = "resource"
	KindTrust               Kind = "trust"
	KindSCP                 Kind = "scp"
	KindRCP                 Kind = "rcp"
	KindPermissionsBoundary Kind = "permissions-boundary"
	KindSession             Kind = "session"
)

// Kinds lists every Kind.
var Kinds = []Kind{KindIdentity, KindResource, KindTrust, KindSCP, KindRCP, KindPermissionsBoundary, KindSession}

// ParseKind returns the Kind named s.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds {
		if string(k) == s {
			return k, nil
		}
	}

	names := make([]string, len(Kinds))
	for i, k := range Kinds {
		names[i] = string(k)
	}

	return "", fmt.Errorf("unknown policy kind %q; use one of %s", s, strings.Join(names, ", "))
}

// needsResource reports whether statements of this kind must have Resource
// or NotResource. Only trust policies have neither.
func (k Kind) needsResource() bool {
	return k != KindTrust
}

// allowsPrincipal reports whether statements of this kind may name a
// principal. Identity policies, SCPs, permissions boundaries and session
// policies apply to the principal they are attached to or passed for.
func (k Kind) allowsPrincipal() bool {
	return k == KindResource || k == KindTrust || k == KindRCP
}

// Severity ranks a finding.
type Severity string

// Severities, from the most to the least serious.
const (
	SeverityError      Severity = "error"
	SeverityWarning    Severity = "warning"
	SeveritySuggestion Severity = "suggestion"
)

// Finding codes.
const (
	CodeMissingResource      = "missing-resource"
	CodeMissingPrincipal     = "missing-principal"
	CodePrincipalNotAllowed  = "principal-not-allowed"
	CodeResourceInTrust      = "resource-in-trust-policy"
	CodeTrustAction          = "trust-policy-action"
	CodeRCPPrincipal         = "rcp-principal-not-wildcard"
	CodeS3ResourceMismatch   = "s3-action-resource-mismatch"
	CodeAllowNotPrincipal    = "allow-with-not-principal"
	CodeUniqueIDPrincipal    = "unique-id-principal"
	CodePublicAccess         = "public-access"
	CodeRedundantStatement   = "redundant-statement"
	CodeUnreachableStatement = "unreachable-statement"
	CodeServicePrefixCase    = "service-prefix-case"
	CodeConditionValue       = "invalid-condition-value"
	CodeVariableWithoutVer   = "variable-without-version"
)

// Finding is one problem that Validate reports.
type Finding struct {
	Severity Severity
	Code     string

	// Statement is the 0-based statement index, or -1 for the whole policy.
	Statement int
	Sid       string

	// Field is the element at fault, such as "Resource".
	Field   string
	Message string
}

func (f Finding) String() string {
	where := statementLabel(f.Statement, f.Sid)
	if f.Statement < 0 {
		where = "policy"
	}

	return fmt.Sprintf("%s: %s: %s: %s [%s]", f.Severity, where, f.Field, f.Message, f.Code)
}

// Validate checks a parsed policy for the given kind, in the spirit of IAM
// Access Analyzer's policy checks, and returns the findings in statement
// order. A nil policy has no findings.
func Validate(p *Policy, kind Kind) []Finding {
	if p == nil {
		return nil
	}

	var findings []Finding

	for i := range p.Statements {
		st := &p.Statements[i]
		report := func(sev Severity, code, field, format string, args ...any) {
			findings = append(findings, Finding{
				Severity:  sev,
				Code:      code,
				Statement: st.Index,
				Sid:       st.Sid,
				Field:     field,
				Message:   fmt.Sprintf(format, args...),
			})
		}

		checkKind(st, kind, report)
		checkPrincipals(st, report)
		checkS3ResourceLevel(st, report)
		checkServicePrefixCase(st, report)
		checkConditionValues(st, report)

		if !p.VariablesEnabled {
			checkVariables(st, report)
		}

		checkShadowing(p, st, report)
	}

	return findings
}

type reportFunc func(sev Severity, code, field, format string, args ...any)

func checkKind(st *Statement, kind Kind, report reportFunc) {
	hasResource := len(st.Resource) > 0 || len(st.NotResource) > 0
	hasPrincipal := st.Principal != nil || st.NotPrincipal != nil

	if kind.needsResource() && !hasResource {
		report(SeverityError, CodeMissingResource, "Resource", "%s policy statements need Resource or NotResource; add the ARNs this one applies to", kind)
	}

	if !kind.allowsPrincipal() && hasPrincipal {
		report(SeverityError, CodePrincipalNotAllowed, "Principal", "%s policies apply to the principal they are attached to, so Principal is not allowed; remove it", kind)
	}

	if kind.allowsPrincipal() && !hasPrincipal {
		report(SeverityError, CodeMissingPrincipal, "Principal", "%s policy statements need Principal or NotPrincipal; name who this one applies to", kind)
	}

	switch kind {
	case KindTrust:
		if hasResource {
			report(SeverityError, CodeResourceInTrust, "Resource", "a trust policy applies to its own role and takes no Resource; remove it")
		}

		checkTrustActions(st, report)
	case KindRCP:
		// NOTE: custom resource control policies also accept only Deny
		// statements, which is not checked here.
		if st.NotPrincipal != nil || (st.Principal != nil && !st.Principal.Star) {
			report(SeverityError, CodeRCPPrincipal, "Principal", "a resource control policy accepts only \"Principal\": \"*\"; narrow it with conditions such as aws:PrincipalAccount")
		}
	}
}

// trustActions are the sts actions that a role trust policy grants: the
// three AssumeRole calls and the session attributes set while assuming.
var trustActions = []string{
	"sts:assumerole",
	"sts:assumerolewithsaml",
	"sts:assumerolewithwebidentity",
	"sts:tagsession",
	"sts:setsourceidentity",
	"sts:setcontext",
}

func checkTrustActions(st *Statement, report reportFunc) {
	if len(st.NotAction) > 0 {
		report(SeverityWarning, CodeTrustAction, "NotAction", "a trust policy should list the sts actions it grants in Action, such as \"sts:AssumeRole\"")
		return
	}

	for _, a := range st.Action {
		if isTrustAction(a.Pattern) {
			continue
		}

		report(SeverityWarning, CodeTrustAction, "Action", "%q is not an action a trust policy grants; use sts:AssumeRole, sts:AssumeRoleWithSAML, sts:AssumeRoleWithWebIdentity, sts:TagSession or sts:SetSourceIdentity", a.Raw)
	}
}

// isTrustAction reports whether every action that pattern matches is a
// trust policy action. "sts:AssumeRole*" qualifies; "sts:*" does not.
func isTrustAction(pattern string) bool {
	if PatternCovers("sts:assumerole*", pattern) {
		return true
	}

	for _, t := range trustActions {
		if pattern == t {
			return true
		}
	}

	return false
}

// uniqueIDPrefixes are the first four characters of IAM unique IDs, from
// "Understanding unique ID prefixes" in the IAM User Guide page "IAM
// identifiers". Per the AWS Knowledge Center article on unknown principal
// formats, a resource policy shows an AIDA or AROA ID in place of an ARN
// once the user or role was deleted.
var uniqueIDPrefixes = map[string]string{
	"ABIA": "STS service bearer token",
	"ACCA": "context-specific credential",
	"AGPA": "group",
	"AIDA": "IAM user",
	"AIPA": "EC2 instance profile",
	"AKIA": "access key",
	"ANPA": "managed policy",
	"ANVA": "managed policy version",
	"APKA": "public key",
	"AROA": "role",
	"ASCA": "certificate",
	"ASIA": "temporary access key",
}

func uniqueIDKind(value string) (string, bool) {
	if len(value) < 16 || len(value) > 128 {
		return "", false
	}

	for _, r := range value {
		if !(r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return "", false
		}
	}

	kind, ok := uniqueIDPrefixes[value[:4]]

	return kind, ok
}

func checkPrincipals(st *Statement, report reportFunc) {
	if st.Effect == Allow && st.NotPrincipal != nil {
		report(SeverityWarning, CodeAllowNotPrincipal, "NotPrincipal", "Allow with NotPrincipal grants access to every principal not listed, including anonymous users; AWS recommends naming the principals in Principal instead")
	}

	if st.Effect == Allow && st.Principal.IsWildcard() && len(st.Condition) == 0 {
		report(SeverityWarning, CodePublicAccess, "Principal", "the wildcard principal with no condition makes this statement public; name the principals, or add a condition such as aws:PrincipalOrgID or aws:SourceAccount")
	}

	for _, field := range []struct {
		name string
		p    *Principal
	}{{"Principal", st.Principal}, {"NotPrincipal", st.NotPrincipal}} {
		for _, v := range field.p.Values(PrincipalAWS) {
			kind, ok := uniqueIDKind(v)
			if !ok {
				continue
			}

			if kind == "role" || kind == "IAM user" {
				report(SeverityError, CodeUniqueIDPrincipal, field.name, "%q is the unique ID of a deleted %s, so it matches no principal, not even one recreated with the same name; write the %s's ARN again", v, kind, kind)
				continue
			}

			report(SeverityError, CodeUniqueIDPrincipal, field.name, "%q is the unique ID of a %s, which is never a principal; name a role, user or account by ARN", v, kind)
		}
	}
}

// s3ARNScope is the S3 resource type an ARN can match.
type s3ARNScope int

const (
	s3ScopeUnknown s3ARNScope = iota // not an S3 ARN, or may match both
	s3ScopeBucket
	s3ScopeObject
)

func s3Scope(r Resource) s3ARNScope {
	if !r.IsARN || r.Service != "s3" || r.Region != "" || r.Account != "" || r.ResourceID == "" {
		return s3ScopeUnknown
	}

	if strings.Contains(r.ResourceID, "/") {
		return s3ScopeObject
	}

	// A wildcard in a bucket ARN without a slash also matches object ARNs,
	// as "arn:aws:s3:::*" does.
	if strings.ContainsAny(r.ResourceID, "*?") {
		return s3ScopeUnknown
	}

	return s3ScopeBucket
}

func checkS3ResourceLevel(st *Statement, report reportFunc) {
	if len(st.Action) == 0 || len(st.Resource) == 0 {
		return
	}

	scope := s3Scope(st.Resource[0])
	if scope == s3ScopeUnknown {
		return
	}

	for _, r := range st.Resource[1:] {
		if s3Scope(r) != scope {
			return
		}
	}

	verb := "grants"
	if st.Effect == Deny {
		verb = "denies"
	}

	first := st.Resource[0].Raw

	for _, a := range st.Action {
		if a.Service != "s3" {
			continue
		}

		name := strings.TrimPrefix(a.Pattern, "s3:")

		if scope == s3ScopeBucket && s3ObjectActions[name] != "" {
			report(SeverityWarning, CodeS3ResourceMismatch, "Resource", "%s is an object action but every resource is a bucket ARN, so the statement %s nothing for it; use %s/* for %s", a.Raw, verb, first, a.Raw)
		}

		if scope == s3ScopeObject && s3BucketActions[name] != "" {
			bucket, _, _ := strings.Cut(first, "/")
			report(SeverityWarning, CodeS3ResourceMismatch, "Resource", "%s is a bucket action but every resource is an object ARN, so the statement %s nothing for it; use %s for %s", a.Raw, verb, bucket, a.Raw)
		}
	}
}

func checkServicePrefixCase(st *Statement, report reportFunc) {
	actions, not := st.Actions()
	field := "Action"
	if not {
		field = "NotAction"
	}

	for _, a := range actions {
		service, _, _ := strings.Cut(a.Raw, ":")
		if a.Service != "*" && service != a.Service {
			report(SeveritySuggestion, CodeServicePrefixCase, field, "write the service prefix of %q in lowercase, as %q; IAM ignores case in actions but every AWS document uses lowercase", a.Raw, a.Service+":"+a.Name)
		}
	}
}

func checkVariables(st *Statement, report reportFunc) {
	resources, not := st.Resources()
	field := "Resource"
	if not {
		field = "NotResource"
	}

	for _, r := range resources {
		if r.HasVariable() {
			report(SeverityWarning, CodeVariableWithoutVer, field, "%q contains a policy variable, which is literal text unless the policy has \"Version\": \"2012-10-17\"; add that Version", r.Raw)
		}
	}

	for _, c := range st.Condition {
		for _, v := range c.Values {
			if strings.Contains(v, "${") {
				report(SeverityWarning, CodeVariableWithoutVer, "Condition", "value %q of %s contains a policy variable, which is literal text unless the policy has \"Version\": \"2012-10-17\"; add that Version", v, c.Key)
				break
			}
		}
	}
}
