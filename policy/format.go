package policy

import (
	"bytes"
	"encoding/json"
)

// MarshalJSON writes the policy as canonical JSON: elements in the order of
// the IAM grammar, a single value as a string and several as an array, and
// statements, principal types, condition operators and keys in document
// order. Condition values are written as strings, which IAM treats the same
// as the numbers and booleans they may have been.
func (p *Policy) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer

	b.WriteByte('{')
	first := true

	if p.Version != "" {
		writeKey(&b, &first, "Version")
		writeString(&b, p.Version)
	}

	if p.ID != "" {
		writeKey(&b, &first, "Id")
		writeString(&b, p.ID)
	}

	writeKey(&b, &first, "Statement")
	b.WriteByte('[')
	for i := range p.Statements {
		if i > 0 {
			b.WriteByte(',')
		}

		writeStatement(&b, &p.Statements[i])
	}
	b.WriteString("]}")

	return b.Bytes(), nil
}

// Format returns the canonical JSON of MarshalJSON, indented with two
// spaces and ending in a newline.
func Format(p *Policy) ([]byte, error) {
	compact, err := p.MarshalJSON()
	if err != nil {
		return nil, err
	}

	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, err
	}
	out.WriteByte('\n')

	return out.Bytes(), nil
}

func writeStatement(b *bytes.Buffer, s *Statement) {
	b.WriteByte('{')
	first := true

	if s.Sid != "" {
		writeKey(b, &first, "Sid")
		writeString(b, s.Sid)
	}

	writeKey(b, &first, "Effect")
	writeString(b, string(s.Effect))

	writePrincipal(b, &first, "Principal", s.Principal)
	writePrincipal(b, &first, "NotPrincipal", s.NotPrincipal)

	writeActions(b, &first, "Action", s.Action)
	writeActions(b, &first, "NotAction", s.NotAction)

	writeResources(b, &first, "Resource", s.Resource)
	writeResources(b, &first, "NotResource", s.NotResource)

	if len(s.Condition) > 0 {
		writeKey(b, &first, "Condition")
		writeConditions(b, s.Condition)
	}

	b.WriteByte('}')
}

func writePrincipal(b *bytes.Buffer, first *bool, name string, p *Principal) {
	if p == nil {
		return
	}

	writeKey(b, first, name)

	if p.Star {
		writeString(b, "*")
		return
	}

	b.WriteByte('{')
	inner := true
	for _, e := range p.Entries {
		writeKey(b, &inner, string(e.Type))
		writeValues(b, e.Values)
	}
	b.WriteByte('}')
}

func writeActions(b *bytes.Buffer, first *bool, name string, actions []Action) {
	if len(actions) == 0 {
		return
	}

	raws := make([]string, len(actions))
	for i, a := range actions {
		raws[i] = a.Raw
	}

	writeKey(b, first, name)
	writeValues(b, raws)
}

func writeResources(b *bytes.Buffer, first *bool, name string, resources []Resource) {
	if len(resources) == 0 {
		return
	}

	raws := make([]string, len(resources))
	for i, r := range resources {
		raws[i] = r.Raw
	}

	writeKey(b, first, name)
	writeValues(b, raws)
}

// writeConditions groups the flat condition list back under its operators.
// Parse rejects duplicate operators, so each operator's keys are written
// under the operator's first appearance.
func writeConditions(b *bytes.Buffer, conditions []Condition) {
	var operators []string
	byOperator := map[string][]Condition{}

	for _, c := range conditions {
		if _, ok := byOperator[c.Operator]; !ok {
			operators = append(operators, c.Operator)
		}

		byOperator[c.Operator] = append(byOperator[c.Operator], c)
	}

	b.WriteByte('{')
	first := true
	for _, op := range operators {
		writeKey(b, &first, op)

		b.WriteByte('{')
		inner := true
		for _, c := range byOperator[op] {
			writeKey(b, &inner, c.Key)
			writeValues(b, c.Values)
		}
		b.WriteByte('}')
	}
	b.WriteByte('}')
}

func writeKey(b *bytes.Buffer, first *bool, key string) {
	if !*first {
		b.WriteByte(',')
	}
	*first = false

	writeString(b, key)
	b.WriteByte(':')
}

func writeValues(b *bytes.Buffer, values []string) {
	if len(values) == 1 {
		writeString(b, values[0])
		return
	}

	b.WriteByte('[')
	for i, v := range values {
		if i > 0 {
			b.WriteByte(',')
		}

		writeString(b, v)
	}
	b.WriteByte(']')
}

func writeString(b *bytes.Buffer, s string) {
	// json.Marshal of a string cannot fail. It escapes <, > and &, which
	// keeps the output valid JSON.
	quoted, _ := json.Marshal(s)
	b.Write(quoted)
}
