package policy

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParse checks that Parse, Validate and PublicStatements never panic,
// that PublicStatements names only Allow statements with an open
// principal, and that every policy Parse accepts survives a format and
// parse round trip unchanged.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid", "validate"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil {
			f.Fatal(err)
		}

		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}

			f.Add(data)
		}
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse(data)
		if err != nil {
			return
		}

		for _, kind := range Kinds {
			Validate(p, kind)
		}

		for _, i := range PublicStatements(p) {
			st := &p.Statements[i]
			if st.Effect != Allow || !st.PublicAccess().OpenPrincipal {
				t.Fatalf("PublicStatements names %s, which is not an Allow with an open principal", st.Label())
			}
		}

		formatted, err := Format(p)
		if err != nil {
			t.Fatalf("Format: %v", err)
		}

		again, err := Parse(formatted)
		if err != nil {
			t.Fatalf("Parse of formatted policy: %v\n%s", err, formatted)
		}

		if !reflect.DeepEqual(again, p) {
			t.Fatalf("round trip changed the policy:\n got %+v\nwant %+v", again, p)
		}
	})
}
