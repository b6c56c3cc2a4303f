package cfn

import (
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadCloudAssemblyMalformed(t *testing.T) {
	tests := []struct {
		dir  string
		file string // the file the error must name
		text string // a phrase the error must contain
	}{
		{"no-manifest", "", "run cdk synth"},
		{"manifest-not-json", "manifest.json", "input ends before the JSON value is complete"},
		{"manifest-trailing-data", "manifest.json", "after the top-level value"},
		{"manifest-no-artifacts", "manifest.json", "has no artifacts"},
		{"manifest-array", "manifest.json", "is an array; expected an object"},
		{"manifest-no-stacks", "manifest.json", "no artifact of type aws:cloudformation:stack"},
		{"environment-short-account", "manifest.json", `has account "1234"`},
		{"environment-no-scheme", "manifest.json", "does not start with aws://"},
		{"environment-bad-region", "manifest.json", `has region "Europe"`},
		{"template-file-missing", "manifest.json", "properties.templateFile is missing"},
		{"template-file-escapes", "manifest.json", "not a relative path inside the assembly folder"},
		{"template-not-found", "", "read template of stack \"Tools\""},
		{"template-not-json", "Tools.template.json", "not valid JSON"},
		{"template-duplicate-key", "Tools.template.json", `duplicate key "Bucket"`},
		{"template-no-resources", "Tools.template.json", "no Resources section"},
		{"template-resource-no-type", "Tools.template.json", "resource Bucket is not an object with a string Type"},
		{"template-parameters-array", "Tools.template.json", "Parameters is an array"},
		{"nested-loop", "manifest.json", "deeper than 16 levels"},
		{"nested-escapes", "manifest.json", "directoryName \"../stages\" is not a relative path inside the assembly folder"},
		{"nested-no-manifest", "assembly-Prod/manifest.json", "run cdk synth"},
	}

	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			dir := filepath.Join("testdata", "malformed", tt.dir)

			a, err := LoadCloudAssembly(dir)
			if err == nil {
				t.Fatalf("got assembly with %d stacks, want an error", len(a.Stacks))
			}

			msg := err.Error()
			if tt.file != "" && !strings.Contains(msg, filepath.Join(dir, tt.file)) {
				t.Errorf("error %q does not name %s", msg, filepath.Join(dir, tt.file))
			}

			if !strings.Contains(msg, tt.text) {
				t.Errorf("error %q does not contain %q", msg, tt.text)
			}
		})
	}
}

func TestLoadCloudAssemblyMissingFiles(t *testing.T) {
	for _, dir := range []string{"no-manifest", "template-not-found"} {
		t.Run(dir, func(t *testing.T) {
			_, err := LoadCloudAssembly(filepath.Join("testdata", "malformed", dir))
			if !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("got %v, want an error wrapping fs.ErrNotExist", err)
			}
		})
	}
}
