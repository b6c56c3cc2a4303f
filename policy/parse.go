package policy

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every error that Parse returns.
var ErrInvalid = errors.New("invalid policy")

// ParseError describes why a document is not a valid policy.
type ParseError struct {
	// Statement is the 0-based statement index, or -1 when the problem is
	// outside the statements.
	Statement int

	// Sid is the statement's Sid when it has one.
	Sid string

	// Field is the element at fault, such as "Action" or "Condition", or ""
	// for the document as a whole.
	Field string

	// Message describes the problem and its fix.
	Message string

	// Err is the underlying JSON syntax error, if any.
	Err error
}

func (e *ParseError) Error() string {
	var b strings.Builder

	if e.Statement >= 0 {
		b.WriteString(statementLabel(e.Statement, e.Sid))
		b.WriteString(": ")
	}

	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}

	b.WriteString(e.Message)

	return b.String()
}

// Unwrap returns ErrInvalid and the underlying error, so that errors.Is
// finds either.
func (e *ParseError) Unwrap() []error {
	if e.Err != nil {
		return []error{ErrInvalid, e.Err}
	}

	return []error{ErrInvalid}
}

func statementLabel(index int, sid string) string {
	if sid == "" {
		return fmt.Sprintf("statement %d", index)
	}

	return fmt.Sprintf("statement %d (Sid %q)", index, sid)
}

// Parse parses a policy document following the IAM JSON policy grammar.
// It rejects malformed documents with a *ParseError that names the
// statement and the element at fault. It accepts a statement without
// Resource and NotResource, as trust policies have; Validate reports that
// for the policy kinds that need one.
func Parse(data []byte) (*Policy, error) {
	root, err := decodeJSON(data)
	if err != nil {
		return nil, &ParseError{Statement: -1, Message: "not valid JSON: " + err.Error(), Err: err}
	}

	if root.kind != jsonObject {
		return nil, topError("", "the document is %s; a policy is a JSON object", root.kind)
	}

	p := &Policy{}
	var statements *jsonValue

	for _, m := range root.members {
		switch m.key {
		case "Version":
			if m.value.kind != jsonString || (m.value.text != Version2012 && m.value.text != Version2008) {
				return nil, topError("Version", "%s is not a policy language version; use %q", describe(m.value), Version2012)
			}

			p.Version = m.value.text
		case "Id":
			if m.value.kind != jsonString {
				return nil, topError("Id", "is %s; write it as a string", m.value.kind)
			}

			p.ID = m.value.text
		case "Statement":
			statements = m.value
		default:
			return nil, topError("", "unknown top-level element %q; the allowed elements are Version, Id and Statement", m.key)
		}
	}

	p.VariablesEnabled = p.Version == Version2012

	if statements == nil {
		return nil, topError("Statement", "missing; add a Statement array")
	}

	items, err := statementItems(statements)
	if err != nil {
		return nil, err
	}

	p.Statements = make([]Statement, 0, len(items))
	for i, item := range items {
		st, err := parseStatement(i, item)
		if err != nil {
			return nil, err
		}

		p.Statements = append(p.Statements, st)
	}

	return p, nil
}

func statementItems(v *jsonValue) ([]*jsonValue, error) {
	switch v.kind {
	case jsonObject:
		return []*jsonValue{v}, nil
	case jsonArray:
		if len(v.items) == 0 {
			return nil, topError("Statement", "empty array; add at least one statement")
		}

		return v.items, nil
	default:
		return nil, topError("Statement", "is %s; write a statement object or an array of them", v.kind)
	}
}

func topError(field, format string, args ...any) *ParseError {
	return &ParseError{Statement: -1, Field: field, Message: fmt.Sprintf(format, args...)}
}

// statementParser carries the statement's identity into every error.
type statementParser struct {
	index int
	sid   string
}

func (sp statementParser) fail(field, format string, args ...any) *ParseError {
	return &ParseError{Statement: sp.index, Sid: sp.sid, Field: field, Message: fmt.Sprintf(format, args...)}
}

func parseStatement(index int, v *jsonValue) (Statement, error) {
	sp := statementParser{index: index}
	st := Statement{Index: index}

	if v.kind != jsonObject {
		return st, sp.fail("", "is %s; a statement is a JSON object", v.kind)
	}

	// The Sid is read first so that every later error can name it, wherever
	// it sits in the object.
	for _, m := range v.members {
		if m.key != "Sid" {
			continue
		}

		if m.value.kind != jsonString {
			return st, sp.fail("Sid", "is %s; write it as a string", m.value.kind)
		}

		st.Sid = m.value.text
		sp.sid = st.Sid
	}

	var err error
	hasEffect := false

	for _, m := range v.members {
		switch m.key {
		case "Sid":
		case "Effect":
			hasEffect = true
			if m.value.kind != jsonString || (m.value.text != string(Allow) && m.value.text != string(Deny)) {
				return st, sp.fail("Effect", "%s is not an effect; use \"Allow\" or \"Deny\" (case matters)", describe(m.value))
			}

			st.Effect = Effect(m.value.text)
		case "Principal":
			st.Principal, err = sp.principal(m.key, m.value)
		case "NotPrincipal":
			st.NotPrincipal, err = sp.principal(m.key, m.value)
		case "Action":
			st.Action, err = sp.actions(m.key, m.value)
		case "NotAction":
			st.NotAction, err = sp.actions(m.key, m.value)
		case "Resource":
			st.Resource, err = sp.resources(m.key, m.value)
		case "NotResource":
			st.NotResource, err = sp.resources(m.key, m.value)
		case "Condition":
			st.Condition, err = sp.conditions(m.value)
		default:
			err = sp.fail("", "unknown element %q; a statement has Sid, Effect, Principal or NotPrincipal, Action or NotAction, Resource or NotResource, and Condition", m.key)
		}

		if err != nil {
			return st, err
		}
	}

	if !hasEffect {
		return st, sp.fail("Effect", "missing; add \"Effect\": \"Allow\" or \"Deny\"")
	}

	if st.Principal != nil && st.NotPrincipal != nil {
		return st, sp.fail("Principal", "both Principal and NotPrincipal are set; keep one")
	}

	if st.Action != nil && st.NotAction != nil {
		return st, sp.fail("Action", "both Action and NotAction are set; keep one")
	}

	if st.Action == nil && st.NotAction == nil {
		return st, sp.fail("Action", "missing; add Action or NotAction")
	}

	if st.Resource != nil && st.NotResource != nil {
		return st, sp.fail("Resource", "both Resource and NotResource are set; keep one")
	}

	return st, nil
}

// stringList reads a string or a non-empty array of non-empty strings.
func (sp statementParser) stringList(field string, v *jsonValue) ([]string, error) {
	switch v.kind {
	case jsonString:
		if v.text == "" {
			return nil, sp.fail(field, "empty string; write a value or remove %s", field)
		}

		return []string{v.text}, nil
	case jsonArray:
		if len(v.items) == 0 {
			return nil, sp.fail(field, "empty array; write at least one value or remove %s", field)
		}

		out := make([]string, 0, len(v.items))
		for i, item := range v.items {
			if item.kind != jsonString {
				return nil, sp.fail(field, "value %d is %s; write it as a string", i, item.kind)
			}

			if item.text == "" {
				return nil, sp.fail(field, "value %d is an empty string; remove it", i)
			}

			out = append(out, item.text)
		}

		return out, nil
	default:
		return nil, sp.fail(field, "is %s; write a string or an array of strings", v.kind)
	}
}

func (sp statementParser) actions(field string, v *jsonValue) ([]Action, error) {
	raws, err := sp.stringList(field, v)
	if err != nil {
		return nil, err
	}

	out := make([]Action, 0, len(raws))
	for i, raw := range raws {
		a, ok := splitAction(raw)
		if !ok {
			return nil, sp.fail(field, "value %d %q %s", i, raw, actionFix(raw, raws))
		}

		out = append(out, a)
	}

	return out, nil
}

// splitAction splits "service:name". The service prefix is matched without
// regard to case, as IAM does; Validate suggests lowercase.
func splitAction(raw string) (Action, bool) {
	if raw == "*" {
		return Action{Raw: raw, Service: "*", Name: "*", Pattern: "*"}, true
	}

	service, name, ok := strings.Cut(raw, ":")
	if !ok || !validService(strings.ToLower(service)) || !validActionName(name) {
		return Action{}, false
	}

	return Action{Raw: raw, Service: strings.ToLower(service), Name: name, Pattern: strings.ToLower(raw)}, true
}

func validService(s string) bool {
	if s == "" {
		return false
	}

	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
			return false
		}
	}

	return true
}

// validActionName accepts letters, digits, hyphens, underscores and the
// wildcards * and ?.
//
// NOTE: the policy grammar does not define the action name characters.
// Hyphens and underscores are accepted so that the check errs toward
// accepting a name IAM might accept.
func validActionName(s string) bool {
	if s == "" {
		return false
	}

	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '*' || r == '?' || r == '-' || r == '_') {
			return false
		}
	}

	return true
}

// actionFix explains a malformed action. For a missing prefix it suggests
// the service that the statement's other actions use, when they agree.
func actionFix(raw string, all []string) string {
	service, name, hasColon := strings.Cut(raw, ":")

	if !hasColon {
		return fmt.Sprintf("has no service prefix; write it as %q", guessService(all)+":"+raw)
	}

	if !validService(strings.ToLower(service)) {
		return fmt.Sprintf("has an invalid service prefix %q; a prefix has only letters, digits and hyphens, as in \"s3:GetObject\"", service)
	}

	if name == "" {
		return fmt.Sprintf("has no action name after the colon; write %q for every action of the service", service+":*")
	}

	return fmt.Sprintf("has an invalid action name %q; use only letters, digits, hyphens, underscores and the wildcards * and ?", name)
}

func guessService(all []string) string {
	guess := ""

	for _, raw := range all {
		a, ok := splitAction(raw)
		if !ok || a.Service == "*" {
			continue
		}

		if guess != "" && guess != a.Service {
			return "service"
		}

		guess = a.Service
	}

	if guess == "" {
		return "service"
	}

	return guess
}

func (sp statementParser) resources(field string, v *jsonValue) ([]Resource, error) {
	raws, err := sp.stringList(field, v)
	if err != nil {
		return nil, err
	}

	out := make([]Resource, 0, len(raws))
	for i, raw := range raws {
		r, msg := splitResource(raw)
		if msg != "" {
			return nil, sp.fail(field, "value %d %q %s", i, raw, msg)
		}

		out = append(out, r)
	}

	return out, nil
}

// splitResource splits an ARN into its six parts. It returns a message when
// the value is neither "*" nor an ARN, because IAM rejects such resources.
func splitResource(raw string) (Resource, string) {
	if raw == "*" {
		return Resource{Raw: raw}, ""
	}

	if !strings.HasPrefix(raw, "arn:") {
		return Resource{}, `is not an ARN; write an ARN such as "arn:aws:s3:::bucket/*", or "*"`
	}

	parts := strings.SplitN(raw, ":", 6)
	if len(parts) < 6 {
		// A wildcard may stand for the missing parts, as in "arn:aws:s3*".
		if strings.ContainsAny(raw, "*?") {
			return Resource{Raw: raw, IsARN: true}, ""
		}

		return Resource{}, `has fewer than six colon-separated parts; an ARN is "arn:partition:service:region:account:resource"`
	}

	return Resource{
		Raw:        raw,
		IsARN:      true,
		Partition:  parts[1],
		Service:    parts[2],
		Region:     parts[3],
		Account:    parts[4],
		ResourceID: parts[5],
	}, ""
}

func (sp statementParser) principal(field string, v *jsonValue) (*Principal, error) {
	switch v.kind {
	case jsonString:
		if v.text != "*" {
			return nil, sp.fail(field, "%q is not a principal; write \"*\" or a map such as {\"AWS\": %q}", v.text, v.text)
		}

		return &Principal{Star: true}, nil
	case jsonObject:
		if len(v.members) == 0 {
			return nil, sp.fail(field, "empty object; name at least one principal, or write \"*\"")
		}

		p := &Principal{}
		for _, m := range v.members {
			t := PrincipalType(m.key)
			switch t {
			case PrincipalAWS, PrincipalService, PrincipalFederated, PrincipalCanonicalUser:
			default:
				return nil, sp.fail(field, "unknown principal type %q; use AWS, Service, Federated or CanonicalUser", m.key)
			}

			values, err := sp.stringList(field+"."+m.key, m.value)
			if err != nil {
				return nil, err
			}

			p.Entries = append(p.Entries, PrincipalEntry{Type: t, Values: values})
		}

		return p, nil
	default:
		return nil, sp.fail(field, "is %s; write \"*\" or a map of principal types to values", v.kind)
	}
}

func (sp statementParser) conditions(v *jsonValue) ([]Condition, error) {
	if v.kind != jsonObject {
		return nil, sp.fail("Condition", "is %s; write a map of operators to key-value maps", v.kind)
	}

	if len(v.members) == 0 {
		return nil, sp.fail("Condition", "empty object; add an operator or remove Condition")
	}

	var out []Condition
	for _, op := range v.members {
		base, set, ifExists, err := parseOperator(op.key)
		if err != nil {
			return nil, sp.fail("Condition", "%s", err.Error())
		}

		field := "Condition." + op.key
		if op.value.kind != jsonObject {
			return nil, sp.fail(field, "is %s; write a map of condition keys to values", op.value.kind)
		}

		if len(op.value.members) == 0 {
			return nil, sp.fail(field, "has no condition keys; add one or remove the operator")
		}

		for _, key := range op.value.members {
			if key.key == "" {
				return nil, sp.fail(field, "empty condition key; name a key such as \"aws:SourceAccount\"")
			}

			values, err := sp.conditionValues(field+"."+key.key, key.value)
			if err != nil {
				return nil, err
			}

			out = append(out, Condition{
				Operator: op.key,
				Base:     base,
				Set:      set,
				IfExists: ifExists,
				Key:      key.key,
				KeyLower: strings.ToLower(key.key),
				Values:   values,
			})
		}
	}

	return out, nil
}

// conditionValues reads a scalar or a non-empty array of scalars. Unlike
// other elements, an empty string is a valid value here: it matches a key
// whose value is empty.
func (sp statementParser) conditionValues(field string, v *jsonValue) ([]string, error) {
	switch v.kind {
	case jsonString, jsonNumber, jsonBool:
		return []string{v.text}, nil
	case jsonArray:
		if len(v.items) == 0 {
			return nil, sp.fail(field, "has no values; add at least one value")
		}

		out := make([]string, 0, len(v.items))
		for i, item := range v.items {
			switch item.kind {
			case jsonString, jsonNumber, jsonBool:
				out = append(out, item.text)
			default:
				return nil, sp.fail(field, "value %d is %s; write a string, number or boolean", i, item.kind)
			}
		}

		return out, nil
	default:
		return nil, sp.fail(field, "is %s; write a string, number or boolean, or an array of them", v.kind)
	}
}

// describe renders a JSON value for an error message.
func describe(v *jsonValue) string {
	if v.kind == jsonString {
		return fmt.Sprintf("%q", v.text)
	}

	return v.kind.String()
}
