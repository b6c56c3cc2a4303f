package cfn

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// maxDepth bounds the nesting of decoded JSON and of intrinsic resolution,
// so that a hostile template cannot exhaust the stack.
const maxDepth = 200

// object is a JSON object that keeps its keys in document order, so that
// resolved policies list statements and conditions as the template does.
type object struct {
	keys   []string
	fields map[string]any
}

func (o *object) get(key string) (any, bool) {
	v, ok := o.fields[key]
	return v, ok
}

func (o *object) set(key string, v any) {
	if _, ok := o.fields[key]; !ok {
		o.keys = append(o.keys, key)
	}

	o.fields[key] = v
}

func newObject() *object {
	return &object{fields: map[string]any{}}
}

// decodeJSON decodes one JSON value into string, json.Number, bool, nil,
// []any and *object. It rejects duplicate keys and trailing data, because
// CloudFormation rejects templates with either.
func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()

	v, err := decodeValue(dec, 0)
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("input ends before the JSON value is complete: %w", io.ErrUnexpectedEOF)
	}

	if err != nil {
		return nil, err
	}

	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("unexpected data after the top-level value at byte %d", dec.InputOffset())
	}

	return v, nil
}

func decodeValue(dec *json.Decoder, depth int) (any, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("nesting deeper than %d levels at byte %d", maxDepth, dec.InputOffset())
	}

	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}

	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return decodeArray(dec, depth)
		}

		if t == '{' {
			return decodeObject(dec, depth)
		}

		return nil, fmt.Errorf("unexpected %q at byte %d", t, dec.InputOffset())
	default:
		return t, nil
	}
}

func decodeArray(dec *json.Decoder, depth int) (any, error) {
	items := []any{}

	for dec.More() {
		v, err := decodeValue(dec, depth+1)
		if err != nil {
			return nil, err
		}

		items = append(items, v)
	}

	if _, err := dec.Token(); err != nil {
		return nil, err
	}

	return items, nil
}

func decodeObject(dec *json.Decoder, depth int) (any, error) {
	obj := newObject()

	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}

		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is not a string at byte %d", dec.InputOffset())
		}

		if _, dup := obj.fields[key]; dup {
			return nil, fmt.Errorf("duplicate key %q at byte %d", key, dec.InputOffset())
		}

		v, err := decodeValue(dec, depth+1)
		if err != nil {
			return nil, err
		}

		obj.set(key, v)
	}

	if _, err := dec.Token(); err != nil {
		return nil, err
	}

	return obj, nil
}

// encodeJSON writes a decoded value back as indented JSON, keeping key
// order.
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	if err := writeValue(&b, v, ""); err != nil {
		return nil, err
	}

	b.WriteByte('\n')

	return b.Bytes(), nil
}

func writeValue(b *bytes.Buffer, v any, indent string) error {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(t))
	case json.Number:
		b.WriteString(t.String())
	case string:
		quoted, err := json.Marshal(t)
		if err != nil {
			return err
		}

		b.Write(quoted)
	case []any:
		return writeArray(b, t, indent)
	case *object:
		return writeObject(b, t, indent)
	default:
		return fmt.Errorf("cannot encode a value of type %T", v)
	}

	return nil
}

func writeArray(b *bytes.Buffer, items []any, indent string) error {
	if len(items) == 0 {
		b.WriteString("[]")
		return nil
	}

	inner := indent + "  "
	b.WriteString("[\n")

	for i, item := range items {
		b.WriteString(inner)
		if err := writeValue(b, item, inner); err != nil {
			return err
		}

		if i < len(items)-1 {
			b.WriteByte(',')
		}

		b.WriteByte('\n')
	}

	b.WriteString(indent + "]")

	return nil
}

func writeObject(b *bytes.Buffer, obj *object, indent string) error {
	if len(obj.keys) == 0 {
		b.WriteString("{}")
		return nil
	}

	inner := indent + "  "
	b.WriteString("{\n")

	for i, key := range obj.keys {
		quoted, err := json.Marshal(key)
		if err != nil {
			return err
		}

		b.WriteString(inner)
		b.Write(quoted)
		b.WriteString(": ")

		if err := writeValue(b, obj.fields[key], inner); err != nil {
			return err
		}

		if i < len(obj.keys)-1 {
			b.WriteByte(',')
		}

		b.WriteByte('\n')
	}

	b.WriteString(indent + "}")

	return nil
}

// KindOf names the JSON type of a value for error messages, with its
// article ("a string", "an object"). It takes both the values this package
// decodes, whose objects keep their key order, and the plain values that
// Stack.ResolveProperty and encoding/json return, whose objects are
// map[string]any.
func KindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case *object, map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
