package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
)

// divergence records a known disagreement with the oracle and the AWS
// documentation that decides it. A case matches when every non-empty
// selector equals the case's value and both decisions are the recorded
// ones, so a change in either evaluator brings the case back as a
// mismatch.
type divergence struct {
	Name string `json:"name"`

	Set       string `json:"set"`
	Principal string `json:"principal"`
	Action    string `json:"action"`
	Resource  string `json:"resource"`

	// ContextKey and ContextValue select cases whose context has the key,
	// with the value among its values when ContextValue is set.
	// ContextAbsent selects cases whose context lacks the key.
	ContextKey    string `json:"contextKey"`
	ContextValue  string `json:"contextValue"`
	ContextAbsent string `json:"contextAbsent"`

	Countersign string `json:"countersign"`
	Oracle      string `json:"oracle"`

	// Correct names the evaluator whose decision the documentation
	// supports: "countersign" or "oracle".
	Correct  string `json:"correct"`
	DocTitle string `json:"docTitle"`
	DocPoint string `json:"docPoint"`
}

type divergences []divergence

func loadDivergences(path string) (divergences, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}

	if err != nil {
		return nil, fmt.Errorf("read divergences: %w", err)
	}

	var file struct {
		Divergences divergences `json:"divergences"`
	}

	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}

	for _, d := range file.Divergences {
		if d.Name == "" || d.Countersign == "" || d.Oracle == "" || d.DocTitle == "" || d.DocPoint == "" {
			return nil, fmt.Errorf("divergence %q in %s: name, countersign, oracle, docTitle and docPoint are required", d.Name, path)
		}

		if d.Correct != "countersign" && d.Correct != "oracle" {
			return nil, fmt.Errorf("divergence %q in %s: invalid correct %q: use countersign or oracle", d.Name, path, d.Correct)
		}
	}

	return file.Divergences, nil
}

// find returns the recorded divergence that covers tc with these
// decisions, or nil.
func (ds divergences) find(tc *testCase, countersign, oracle string) *divergence {
	for i := range ds {
		if ds[i].covers(tc, countersign, oracle) {
			return &ds[i]
		}
	}

	return nil
}

func (d *divergence) covers(tc *testCase, countersign, oracle string) bool {
	if d.Countersign != countersign || d.Oracle != oracle {
		return false
	}

	for _, f := range [][2]string{{d.Set, tc.Set}, {d.Principal, tc.Principal}, {d.Action, tc.Action}, {d.Resource, tc.Resource}} {
		if f[0] != "" && f[0] != f[1] {
			return false
		}
	}

	if d.ContextKey != "" {
		values, ok := tc.Context[d.ContextKey]
		if !ok || (d.ContextValue != "" && !slices.Contains(values, d.ContextValue)) {
			return false
		}
	}

	if d.ContextAbsent != "" {
		if _, ok := tc.Context[d.ContextAbsent]; ok {
			return false
		}
	}

	return true
}
