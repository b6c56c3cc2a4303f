package delivery

import "encoding/json"

// Statement is a policy statement to print or write as a fix, with its
// elements in the order the IAM grammar lists them.
type Statement struct {
	Sid       string                    `json:"Sid,omitempty"`
	Effect    string                    `json:"Effect"`
	Principal any                       `json:"Principal,omitempty"`
	Action    any                       `json:"Action"`
	Resource  any                       `json:"Resource,omitempty"`
	Condition map[string]map[string]any `json:"Condition,omitempty"`
}

// Render returns the statement as indented JSON.
func (s Statement) Render() json.RawMessage {
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		// Unreachable: the fields contain strings, string slices and maps of
		// them, which always marshal.
		return nil
	}

	return out
}

// OneOrMany returns a single string for one item, as AWS prints it, and
// the slice otherwise.
func OneOrMany(items []string) any {
	if len(items) == 1 {
		return items[0]
	}

	return items
}
