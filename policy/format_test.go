package policy

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestFormatRoundTrip(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "valid", "*.json"))
	if err != nil {
		t.Fatal(err)
	}

	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}

			first := mustParse(t, data)

			formatted, err := Format(first)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}

			second, err := Parse(formatted)
			if err != nil {
				t.Fatalf("Parse of formatted policy: %v\n%s", err, formatted)
			}

			if !reflect.DeepEqual(second, first) {
				t.Errorf("round trip changed the policy:\n got %+v\nwant %+v", second, first)
			}

			again, err := Format(second)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}

			if string(again) != string(formatted) {
				t.Errorf("Format is not stable:\n got %s\nwant %s", again, formatted)
			}
		})
	}
}

func TestFormatCanonicalShape(t *testing.T) {
	doc := `{"Statement": {"Effect": "Deny", "Sid": "S",
		"Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
		"Action": ["s3:GetObject"],
		"Condition": {"Bool": {"aws:SecureTransport": false}, "NumericLessThan": {"s3:TlsVersion": 1.2}},
		"Principal": {"AWS": ["111122223333"], "Service": "codebuild.amazonaws.com"}}}`
	p := mustParse(t, []byte(doc))

	got, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("json.Marshal: %v", err)
	}

	want := `{"Statement":[{"Sid":"S","Effect":"Deny",` +
		`"Principal":{"AWS":"111122223333","Service":"codebuild.amazonaws.com"},` +
		`"Action":"s3:GetObject",` +
		`"Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],` +
		`"Condition":{"Bool":{"aws:SecureTransport":"false"},"NumericLessThan":{"s3:TlsVersion":"1.2"}}}]}`
	if string(got) != want {
		t.Errorf("canonical JSON:\n got %s\nwant %s", got, want)
	}
}

func TestFormatKeepsVersionAndID(t *testing.T) {
	p := mustParse(t, []byte(`{"Id": "x", "Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "*"}}`))

	got, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}

	want := `{"Version":"2012-10-17","Id":"x","Statement":[{"Effect":"Allow","Principal":"*","Action":"*"}]}`
	if string(got) != want {
		t.Errorf("canonical JSON:\n got %s\nwant %s", got, want)
	}
}
