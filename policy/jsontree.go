package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// maxDepth bounds nesting. A valid policy nests six levels deep at most
// (policy, Statement array, statement, Condition, operator, value array),
// so anything deeper is rejected before it can cost stack or time.
const maxDepth = 16

type jsonKind int

const (
	jsonString jsonKind = iota
	jsonNumber
	jsonBool
	jsonNull
	jsonArray
	jsonObject
)

func (k jsonKind) String() string {
	switch k {
	case jsonString:
		return "a string"
	case jsonNumber:
		return "a number"
	case jsonBool:
		return "a boolean"
	case jsonNull:
		return "null"
	case jsonArray:
		return "an array"
	default:
		return "an object"
	}
}

// jsonValue is a decoded JSON value that keeps object members in document
// order, which encoding/json maps do not.
type jsonValue struct {
	kind    jsonKind
	text    string // string contents, number literal, or "true"/"false"
	items   []*jsonValue
	members []jsonMember
}

type jsonMember struct {
	key   string
	value *jsonValue
}

// decodeJSON decodes exactly one JSON value from data and rejects trailing
// data and duplicate object keys.
func decodeJSON(data []byte) (*jsonValue, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()

	v, err := readValue(dec, 0)
	if err != nil {
		return nil, err
	}

	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the policy object at byte %d; remove it", dec.InputOffset())
	}

	return v, nil
}

func readValue(dec *json.Decoder, depth int) (*jsonValue, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nesting deeper than %d levels at byte %d", maxDepth, dec.InputOffset())
	}

	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("unexpected end of input")
		}

		return nil, err
	}

	switch t := tok.(type) {
	case string:
		return &jsonValue{kind: jsonString, text: t}, nil
	case json.Number:
		return &jsonValue{kind: jsonNumber, text: t.String()}, nil
	case bool:
		text := "false"
		if t {
			text = "true"
		}

		return &jsonValue{kind: jsonBool, text: text}, nil
	case nil:
		return &jsonValue{kind: jsonNull}, nil
	case json.Delim:
		switch t {
		case '[':
			return readArray(dec, depth)
		case '{':
			return readObject(dec, depth)
		}
	}

	return nil, fmt.Errorf("unexpected token %v at byte %d", tok, dec.InputOffset())
}

func readArray(dec *json.Decoder, depth int) (*jsonValue, error) {
	v := &jsonValue{kind: jsonArray}

	for dec.More() {
		item, err := readValue(dec, depth+1)
		if err != nil {
			return nil, err
		}

		v.items = append(v.items, item)
	}

	if _, err := dec.Token(); err != nil {
		return nil, err
	}

	return v, nil
}

func readObject(dec *json.Decoder, depth int) (*jsonValue, error) {
	v := &jsonValue{kind: jsonObject}
	seen := map[string]bool{}

	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}

		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is not a string at byte %d", dec.InputOffset())
		}

		// NOTE: encoding/json keeps the last of duplicate keys silently.
		// A duplicate in a policy is almost always an editing mistake, so
		// it is rejected here rather than guessing which one IAM keeps.
		if seen[key] {
			return nil, fmt.Errorf("duplicate key %q at byte %d; merge the two into one", key, dec.InputOffset())
		}
		seen[key] = true

		val, err := readValue(dec, depth+1)
		if err != nil {
			return nil, err
		}

		v.members = append(v.members, jsonMember{key: key, value: val})
	}

	if _, err := dec.Token(); err != nil {
		return nil, err
	}

	return v, nil
}
