package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigRejectsInvalidValues(t *testing.T) {
	tests := []struct {
		name    string
		key     string
		value   any
		wantKey string
		want    string
	}{
		{name: "MissingToolsAccount", key: keyToolsAccount, value: nil, wantKey: keyToolsAccount, want: "is missing"},
		{name: "ShortAccount", key: keyDevAccount, value: "12345", wantKey: keyDevAccount, want: "12-digit"},
		{name: "NumberAccount", key: keyDevAccount, value: 222222222222.0, wantKey: keyDevAccount, want: "JSON string"},
		{name: "BadRegion", key: keyRegion, value: "Europe", wantKey: keyRegion, want: "region code"},
		{name: "UppercaseBucket", key: keyBucketName, value: "Artifacts", wantKey: keyBucketName, want: "S3 bucket name"},
		{name: "IPBucket", key: keyBucketName, value: "192.168.1.1", wantKey: keyBucketName, want: "S3 bucket name"},
		{name: "ReservedBucketSuffix", key: keyBucketName, value: "artifacts-s3alias", wantKey: keyBucketName, want: "S3 bucket name"},
		{name: "RoleNameWithSlash", key: keyRoleName, value: "service-role/build", wantKey: keyRoleName, want: "IAM role name"},
		{name: "ProjectNameWithDot", key: keyProjectName, value: "app.deliver", wantKey: keyProjectName, want: "CodeBuild project name"},
		{name: "PrefixWithTrailingSlash", key: keyPrefix, value: "app/", wantKey: keyPrefix, want: "no leading or trailing slash"},
		{name: "PrefixWithWildcard", key: keyPrefix, value: "app*", wantKey: keyPrefix, want: "no wildcard"},
		{name: "EmptyPrefix", key: keyPrefix, value: "", wantKey: keyPrefix, want: "is missing"},
		{name: "ScheduleWithoutUnit", key: keyAuditSchedule, value: "rate(5)", wantKey: keyAuditSchedule, want: "schedule expression"},
		{name: "UnknownMode", key: keyAuditMode, value: "fix", wantKey: keyAuditMode, want: "report or enforce"},
		{name: "UnknownSeverity", key: keyAlarmSeverity, value: "urgent", wantKey: keyAlarmSeverity, want: "critical, high"},
		{name: "KMSAlias", key: keyKMSKey, value: "alias/artifacts", wantKey: keyKMSKey, want: "an alias does not work across accounts"},
		{name: "KMSKeyInToolsAccount", key: keyKMSKey, value: "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab", wantKey: keyKMSKey, want: "dev account 222222222222"},
		{name: "MissingLambdaZip", key: keyLambdaZip, value: "testdata/missing.zip", wantKey: keyLambdaZip, want: "run make lambda"},
		{name: "MissingBuildspec", key: keyBuildspec, value: "testdata/missing.yml", wantKey: keyBuildspec, want: "buildspec file, which is missing"},
		{name: "UnknownSourceType", key: keySourceType, value: "svn", wantKey: keySourceType, want: "NO_SOURCE, GITHUB"},
		{name: "LocationWithoutSource", key: keySourceLocation, value: "example/app", wantKey: keySourceLocation, want: "sourceType is NO_SOURCE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			context := validContext()
			if tt.value == nil {
				delete(context, tt.key)
			} else {
				context[tt.key] = tt.value
			}

			_, err := ConfigFromContext(lookupIn(context), ".")
			if err == nil {
				t.Fatalf("%s = %v: got no error", tt.key, tt.value)
			}

			var found bool
			for _, e := range unwrapAll(err) {
				var ce *ConfigError
				if errors.As(e, &ce) && ce.Key == tt.wantKey {
					found = true
					if !strings.Contains(ce.Error(), tt.want) {
						t.Errorf("error for %s: got %q, want it to contain %q", tt.wantKey, ce.Error(), tt.want)
					}
				}
			}
			if !found {
				t.Errorf("got %v, want an error naming context key %q", err, tt.wantKey)
			}
		})
	}
}

func TestConfigSourceLocations(t *testing.T) {
	tests := []struct {
		name       string
		sourceType string
		location   string
		wantErr    bool
	}{
		{name: "GitHubOwnerRepo", sourceType: "github", location: "example/app"},
		{name: "GitHubWithoutOwner", sourceType: "GITHUB", location: "app", wantErr: true},
		{name: "CodeCommitName", sourceType: "CODECOMMIT", location: "app"},
		{name: "CodeCommitEmpty", sourceType: "CODECOMMIT", location: "", wantErr: true},
		{name: "S3BucketKey", sourceType: "S3", location: "tools-sources/app/source.zip"},
		{name: "S3BucketOnly", sourceType: "S3", location: "tools-sources", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			context := validContext()
			context[keySourceType] = tt.sourceType
			context[keySourceLocation] = tt.location

			cfg, err := ConfigFromContext(lookupIn(context), ".")
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error %v", err, tt.wantErr)
			}
			if err == nil && cfg.SourceType != strings.ToUpper(tt.sourceType) {
				t.Errorf("source type: got %s, want %s", cfg.SourceType, strings.ToUpper(tt.sourceType))
			}
			if err != nil && !strings.Contains(err.Error(), `"`+keySourceLocation+`"`) {
				t.Errorf("got %v, want it to name %s", err, keySourceLocation)
			}
		})
	}
}

func TestConfigReportsEveryInvalidKey(t *testing.T) {
	context := validContext()
	context[keyRegion] = "nowhere"
	context[keyAuditMode] = "loud"

	_, err := ConfigFromContext(lookupIn(context), ".")
	if err == nil {
		t.Fatal("got no error")
	}
	for _, key := range []string{keyRegion, keyAuditMode} {
		if !strings.Contains(err.Error(), `"`+key+`"`) {
			t.Errorf("got %v, want it to name %s", err, key)
		}
	}
}

func TestConfigDefaults(t *testing.T) {
	context := validContext()
	for _, key := range []string{keyAuditSchedule, keyAuditMode, keyKMSKey, keyAlarmSeverity, keyAuditFunctionName, keyBuildspec, keySourceType} {
		delete(context, key)
	}

	cfg, err := ConfigFromContext(lookupIn(context), ".")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AuditSchedule != "rate(1 hour)" || cfg.AuditMode != "report" || cfg.KMSKey != "" || cfg.AlarmSeverity != "high" || cfg.AuditFunctionName != "countersign-audit" {
		t.Errorf("defaults: got %+v", cfg)
	}
	if cfg.SourceType != sourceNone {
		t.Errorf("source type: got %s, want %s", cfg.SourceType, sourceNone)
	}
	if want := filepath.Join(".", "../buildspec.yml"); cfg.Buildspec != want {
		t.Errorf("buildspec: got %s, want %s", cfg.Buildspec, want)
	}
}

func TestReadContextFileErrors(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "cdk.json")
	if err := os.WriteFile(broken, []byte(`{"context": {`), 0o644); err != nil {
		t.Fatal(err)
	}

	if _, err := ReadContextFile(broken); err == nil || !strings.Contains(err.Error(), broken) {
		t.Errorf("broken cdk.json: got %v, want an error naming %s", err, broken)
	}

	context, err := ReadContextFile(filepath.Join(dir, "absent.json"))
	if err != nil || len(context) != 0 {
		t.Errorf("absent cdk.json: got %v, %v; want an empty context", context, err)
	}
}

// validContext returns a valid context whose files are the repository's.
func validContext() map[string]any {
	return map[string]any{
		keyToolsAccount: "111111111111",
		keyDevAccount:   "222222222222",
		keyRegion:       "eu-west-1",
		keyBucketName:   "countersign-dev-artifacts-222222222222",
		keyRoleName:     "countersign-build",
		keyProjectName:  "countersign-deliver",
		keyPrefix:       "app",
		keyLambdaZip:    "testdata/package.zip",
		keyBuildspec:    "../buildspec.yml",
	}
}

func lookupIn(context map[string]any) func(string) (any, bool) {
	return func(key string) (any, bool) {
		value, ok := context[key]
		return value, ok
	}
}

// unwrapAll flattens errors.Join trees.
func unwrapAll(err error) []error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range joined.Unwrap() {
			out = append(out, unwrapAll(e)...)
		}
		return out
	}
	return []error{err}
}
