package cfn

import (
	"encoding/json"
	"testing"
)

func TestKindOf(t *testing.T) {
	decoded, err := decodeJSON([]byte(`{"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}`))
	if err != nil {
		t.Fatalf("decodeJSON: %v", err)
	}

	tests := []struct {
		name  string
		value any
		want  string
	}{
		{"Null", nil, "null"},
		{"Boolean", true, "a boolean"},
		{"Number", json.Number("3"), "a number"},
		{"PlainNumber", 3.5, "a number"},
		{"String", "BucketOwnerEnforced", "a string"},
		{"Array", []any{"a", "b"}, "an array"},
		{"OrderedObject", decoded, "an object"},
		{"PlainObject", map[string]any{"Rules": []any{}}, "an object"},
		{"OtherType", []string{"a"}, "a []string"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := KindOf(tt.value)

			if got != tt.want {
				t.Errorf("KindOf(%#v) = %q, want %q", tt.value, got, tt.want)
			}
		})
	}
}
