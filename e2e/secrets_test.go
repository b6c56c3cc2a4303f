package e2e

import (
	"strings"
	"testing"
)

// TestNoSecretsInOutput runs every command at the most verbose level and
// checks that neither the secret key nor the session token appears.
func TestNoSecretsInOutput(t *testing.T) {
	_, env := startSandbox(t)
	secrets := map[string]string{
		"AWS_SECRET_ACCESS_KEY": envValue(env, "AWS_SECRET_ACCESS_KEY"),
		"AWS_SESSION_TOKEN":     envValue(env, "AWS_SESSION_TOKEN"),
	}
	for name, value := range secrets {
		if value == "" {
			t.Fatalf("the sandbox environment has no %s", name)
		}
	}

	src := t.TempDir()
	writeTree(t, src, map[string][]byte{"a.txt": []byte("a\n")})
	runs := [][]string{
		{"--log-level", "trace", "whoami"},
		{"--log-level", "trace", "preflight", "--prefix", "secrets", "--output", "json"},
		{"--log-level", "trace", "sync", src, "s3://" + bucket + "/secrets", "--progress", "lines"},
		{"--log-level", "trace", "preflight", "--prefix", "secrets", "--bucket-owner", "333333333333"},
	}
	for _, args := range runs {
		res := runAgent(t, env, args...)
		for name, value := range secrets {
			if strings.Contains(res.stdout, value) || strings.Contains(res.stderr, value) {
				t.Errorf("countersign %s printed %s", strings.Join(args, " "), name)
			}
		}
	}
}
