// Package policy parses and validates AWS IAM JSON policy documents: trust
// policies, identity (role) policies and resource policies such as S3
// bucket policies.
//
// The types keep what an evaluator needs ready to use: action patterns are
// lowercased once, resource ARNs are split into their six parts, and
// conditions stay in document order.
package policy

import "strings"

// Policy language versions. A policy without a Version element is treated
// by AWS as Version2008.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Effect is the Effect element of a statement.
type Effect string

// Effects that AWS accepts, spelled exactly as in a policy.
const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Policy is a parsed policy document.
type Policy struct {
	// Version is the Version element as written, or "" when it is absent.
	Version string

	// ID is the Id element, or "".
	ID string

	// VariablesEnabled reports whether policy variables such as
	// ${aws:username} are substituted. AWS substitutes them only under
	// Version 2012-10-17; under 2008-10-17 they are literal text.
	VariablesEnabled bool

	// Statements in document order. A single statement object is stored
	// as a one-element slice.
	Statements []Statement
}

// EffectiveVersion returns the version AWS applies: Version, or 2008-10-17
// when the element is absent.
func (p *Policy) EffectiveVersion() string {
	if p.Version == "" {
		return Version2008
	}

	return p.Version
}

// Statement is one element of the Statement array.
type Statement struct {
	// Index is the 0-based position in the Statement array.
	Index int

	Sid    string
	Effect Effect

	// At most one of Principal and NotPrincipal is set.
	Principal    *Principal
	NotPrincipal *Principal

	// Exactly one of Action and NotAction is non-empty.
	Action    []Action
	NotAction []Action

	// At most one of Resource and NotResource is non-empty. Trust policies
	// have neither, so whether one is required depends on the policy kind
	// and is checked by Validate.
	Resource    []Resource
	NotResource []Resource

	// Condition lists every operator and key pair in document order. All of
	// them must match for the statement to apply.
	Condition []Condition
}

// Label returns "statement N" or `statement N (Sid "X")`, the form used in
// errors and findings.
func (s *Statement) Label() string {
	return statementLabel(s.Index, s.Sid)
}

// Actions returns Action or NotAction, whichever is set, and whether it is
// NotAction.
func (s *Statement) Actions() (actions []Action, not bool) {
	if len(s.NotAction) > 0 {
		return s.NotAction, true
	}

	return s.Action, false
}

// Resources returns Resource or NotResource, whichever is set, and whether
// it is NotResource.
func (s *Statement) Resources() (resources []Resource, not bool) {
	if len(s.NotResource) > 0 {
		return s.NotResource, true
	}

	return s.Resource, false
}

// Action is one value of an Action or NotAction element.
type Action struct {
	// Raw is the value as written, such as "s3:GetObject" or "*".
	Raw string

	// Service is the lowercased service prefix ("s3"), or "*" for the
	// bare wildcard.
	Service string

	// Name is the part after the colon as written ("GetObject", "Get*").
	Name string

	// Pattern is Raw lowercased, because AWS compares actions without
	// regard to case.
	Pattern string
}

// Resource is one value of a Resource or NotResource element.
type Resource struct {
	// Raw is the value as written, such as "arn:aws:s3:::bucket/*" or "*".
	Raw string

	// IsARN is false only for the bare "*" wildcard.
	IsARN bool

	// The six ARN parts, filled when Raw has all of them. ResourceID keeps
	// any further colons, as in "function:name:alias".
	Partition, Service, Region, Account, ResourceID string
}

// HasVariable reports whether the resource contains a policy variable such
// as ${aws:username}. Variables are substituted only when
// Policy.VariablesEnabled is true.
func (r Resource) HasVariable() bool {
	return strings.Contains(r.Raw, "${")
}

// PrincipalType is a key of a Principal map.
type PrincipalType string

// The four principal types that the policy grammar allows.
const (
	PrincipalAWS           PrincipalType = "AWS"
	PrincipalService       PrincipalType = "Service"
	PrincipalFederated     PrincipalType = "Federated"
	PrincipalCanonicalUser PrincipalType = "CanonicalUser"
)

// Principal is a Principal or NotPrincipal element. The values are kept as
// written, and a caller that needs an ARN's parts splits it with ParseARN.
type Principal struct {
	// Star is true when the element is the string "*".
	Star bool

	// Entries are the map's keys in document order. It is empty when Star
	// is true.
	Entries []PrincipalEntry
}

// PrincipalEntry is one key of a Principal map with its values.
type PrincipalEntry struct {
	Type   PrincipalType
	Values []string
}

// IsWildcard reports whether the principal matches everyone: "*" or an AWS
// entry containing "*".
func (p *Principal) IsWildcard() bool {
	if p == nil {
		return false
	}

	if p.Star {
		return true
	}

	for _, v := range p.Values(PrincipalAWS) {
		if v == "*" {
			return true
		}
	}

	return false
}

// Values returns the values of the given type, or nil.
func (p *Principal) Values(t PrincipalType) []string {
	if p == nil {
		return nil
	}

	for _, e := range p.Entries {
		if e.Type == t {
			return e.Values
		}
	}

	return nil
}

// SetQualifier is the ForAnyValue: or ForAllValues: prefix of a condition
// operator, or "" when there is none.
type SetQualifier string

// Set qualifiers for multivalued condition keys.
const (
	ForAnyValue  SetQualifier = "ForAnyValue"
	ForAllValues SetQualifier = "ForAllValues"
)

// Condition is one key of one condition operator block, such as
// "StringEquals": {"aws:SourceAccount": "111122223333"}.
type Condition struct {
	// Operator is the operator as written, e.g. "ForAnyValue:StringLikeIfExists".
	Operator string

	// Base is the operator without qualifier and suffix, e.g. "StringLike".
	Base string

	// Set is the ForAnyValue or ForAllValues qualifier, or "".
	Set SetQualifier

	// IfExists is true when the operator ends with "IfExists".
	IfExists bool

	// Key is the condition key as written. KeyLower is the same key
	// lowercased, because AWS matches condition key names without regard to
	// case.
	Key      string
	KeyLower string

	// Values are the values as strings. JSON numbers keep their literal text
	// and JSON booleans become "true" or "false".
	Values []string
}
