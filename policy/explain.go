package policy

import (
	"fmt"
	"strings"
)

// Decision is the outcome of an evaluation.
type Decision int

// Decisions as AWS names them.
const (
	ImplicitDeny Decision = iota
	Allowed
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allowed:
		return "Allowed"
	case ExplicitDeny:
		return "ExplicitDeny"
	}

	return "ImplicitDeny"
}

// PolicyType names the kind of policy in a result.
type PolicyType string

// Policy types that Evaluate and EvaluateTrust consider.
const (
	TypeIdentity PolicyType = "identity"
	TypeResource PolicyType = "resource"
	TypeSCP      PolicyType = "scp"
	TypeRCP      PolicyType = "rcp"
	TypeBoundary PolicyType = "boundary"
	TypeSession  PolicyType = "session"
	TypeTrust    PolicyType = "trust"
)

// Element names the statement element that decided a match.
type Element string

// Elements that can keep a statement from applying.
const (
	ElementNone      Element = ""
	ElementPrincipal Element = "principal"
	ElementAction    Element = "action"
	ElementResource  Element = "resource"
	ElementCondition Element = "condition"
)

// Result is the decision with the reasons for it.
type Result struct {
	Decision Decision

	// AllowedBy lists the policy types that allowed the request. DeniedBy
	// lists those that denied it explicitly, or, for an implicit deny, the
	// types whose missing Allow decided it.
	AllowedBy []PolicyType
	DeniedBy  []PolicyType

	CrossAccount bool

	Policies []PolicyResult
}

// PolicyResult is the evaluation of one policy.
type PolicyResult struct {
	Type PolicyType

	// Index is the position among the policies of this type; for SCPs and
	// RCPs it counts across all levels, Level giving the level.
	Index int
	Level int
	ID    string

	Allows bool
	Denies bool

	Statements []StatementResult
}

// StatementResult is the evaluation of one statement.
type StatementResult struct {
	Index  int
	Sid    string
	Effect Effect

	// Matched is true when the statement applies to the request.
	Matched bool

	// Failed is the first element that did not match, or ElementNone.
	Failed Element

	// Principal is the way the Principal element named the caller.
	Principal PrincipalMatch

	// Condition explains the first failed condition when Failed is
	// ElementCondition, and is nil otherwise. Unresolved is set when Failed
	// is ElementResource because of a variable without a value.
	Condition  *ConditionFailure
	Unresolved string
}

// Reason describes in words why the statement did not apply, or "" when
// it did.
func (s StatementResult) Reason() string {
	switch s.Failed {
	case ElementNone:
		return ""
	case ElementPrincipal:
		return "principal: the caller is not named"
	case ElementAction:
		return "action: the request action is not listed"
	case ElementResource:
		if s.Unresolved != "" {
			return fmt.Sprintf("resource: variable %s has no value", s.Unresolved)
		}

		return "resource: the request resource is not listed"
	}

	c := s.Condition
	if c == nil {
		return "condition: not met"
	}

	switch {
	case c.Unresolved != "":
		return fmt.Sprintf("condition %s %s: variable %s has no value", c.Operator, c.Key, c.Unresolved)
	case c.KeyMissing:
		return fmt.Sprintf("condition %s %s: key missing, policy wants %q", c.Operator, c.Key, c.PolicyValues)
	}

	return fmt.Sprintf("condition %s %s: request has %q, policy wants %q", c.Operator, c.Key, c.RequestValues, c.PolicyValues)
}

// String renders the result for people: the decision, then each policy
// and statement with the reason it did or did not apply.
func (r Result) String() string {
	var b strings.Builder

	fmt.Fprintf(&b, "decision: %s", r.Decision)

	if len(r.AllowedBy) > 0 {
		fmt.Fprintf(&b, ", allowed by %s", joinTypes(r.AllowedBy))
	}

	if len(r.DeniedBy) > 0 {
		fmt.Fprintf(&b, ", denied by %s", joinTypes(r.DeniedBy))
	}

	if r.CrossAccount {
		b.WriteString(" (cross-account)")
	}

	b.WriteByte('\n')

	for _, p := range r.Policies {
		fmt.Fprintf(&b, "%s policy %d", p.Type, p.Index)

		if p.ID != "" {
			fmt.Fprintf(&b, " (Id %q)", p.ID)
		}

		fmt.Fprintf(&b, ": allows=%t denies=%t\n", p.Allows, p.Denies)

		for _, s := range p.Statements {
			fmt.Fprintf(&b, "  %s %s: ", statementLabel(s.Index, s.Sid), s.Effect)

			if s.Matched {
				b.WriteString("applies\n")
			} else {
				b.WriteString(s.Reason())
				b.WriteByte('\n')
			}
		}
	}

	return b.String()
}

func joinTypes(types []PolicyType) string {
	parts := make([]string, len(types))
	for i, t := range types {
		parts[i] = string(t)
	}

	return strings.Join(parts, ", ")
}
