package logging

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		format  string
		level   string
		wantErr bool
	}{
		{"autoInfo", FormatAuto, "info", false},
		{"jsonDebug", FormatJSON, "debug", false},
		{"console", FormatConsole, "warn", false},
		{"badFormat", "yaml", "info", true},
		{"badLevel", FormatJSON, "loud", true},
		{"emptyLevel", FormatJSON, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(&bytes.Buffer{}, tt.format, tt.level)
			if (err != nil) != tt.wantErr {
				t.Errorf("New(%q, %q) error = %v, want error %v", tt.format, tt.level, err, tt.wantErr)
			}
		})
	}
}

func TestAutoWritesJSONOffTerminal(t *testing.T) {
	var out bytes.Buffer
	log, err := New(&out, FormatAuto, "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info().Str("bucket", "dev-artifacts").Msg("plan")
	log.Debug().Msg("hidden")

	var line map[string]any
	if err := json.Unmarshal(out.Bytes(), &line); err != nil {
		t.Fatalf("output is not one JSON line: %q", out.String())
	}
	if line["bucket"] != "dev-artifacts" || line["message"] != "plan" {
		t.Errorf("line = %v", line)
	}
}
