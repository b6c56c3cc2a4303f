package policy

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// findingKeys renders findings as "statement code" pairs in order, so a
// test can compare the whole list and catch extra findings too.
func findingKeys(findings []Finding) []string {
	keys := []string{}
	for _, f := range findings {
		keys = append(keys, strconv.Itoa(f.Statement)+" "+f.Code)
	}

	return keys
}

func TestValidateFixtures(t *testing.T) {
	tests := []struct {
		name string
		file string
		kind Kind
		want []string
	}{
		{"S3LevelMismatch", "validate/s3_level_mismatch.json", KindIdentity, []string{
			"0 s3-action-resource-mismatch",
			"1 s3-action-resource-mismatch",
			"1 redundant-statement",
		}},
		{"BucketPrincipals", "validate/bucket_public_and_principals.json", KindResource, []string{
			"0 public-access",
			"2 unique-id-principal",
			"3 allow-with-not-principal",
			"4 unique-id-principal",
		}},
		{"Shadowing", "validate/shadowing.json", KindIdentity, []string{
			"0 redundant-statement",
			"3 unreachable-statement",
		}},
		{"Duplicates", "validate/duplicates.json", KindIdentity, []string{
			"1 service-prefix-case",
			"1 redundant-statement",
		}},
		{"TrustWideActions", "validate/trust_wide_actions.json", KindTrust, []string{
			"0 resource-in-trust-policy",
			"0 trust-policy-action",
			"0 trust-policy-action",
		}},
		{"ConditionValues", "validate/condition_values.json", KindIdentity, []string{
			"0 invalid-condition-value",
			"0 invalid-condition-value",
			"0 invalid-condition-value",
			"0 invalid-condition-value",
			"0 variable-without-version",
			"0 variable-without-version",
		}},
		{"CleanTrust", "valid/trust_codebuild.json", KindTrust, []string{}},
		{"CleanFederatedTrust", "valid/federated_web_identity.json", KindTrust, []string{}},
		{"CleanRole", "valid/role_delivery.json", KindIdentity, []string{}},
		{"CleanBucket", "valid/bucket_cross_account.json", KindResource, []string{}},
		{"CleanHomeFolder", "valid/user_home_folder.json", KindIdentity, []string{}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, readFixture(t, tt.file))

			got := findingKeys(Validate(p, tt.kind))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateMessages(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		kind      Kind
		index     int
		severity  Severity
		field     string
		sid       string
		substring string
	}{
		{"ObjectActionOnBucket", "validate/s3_level_mismatch.json", KindIdentity, 0, SeverityWarning, "Resource", "ObjectActionsOnBucket", "use arn:aws:s3:::dev-artifacts/* for s3:PutObject"},
		{"BucketActionOnObjects", "validate/s3_level_mismatch.json", KindIdentity, 1, SeverityWarning, "Resource", "BucketActionOnObjects", "use arn:aws:s3:::dev-artifacts for s3:ListBucket"},
		{"RedundantNamesCover", "validate/s3_level_mismatch.json", KindIdentity, 2, SeveritySuggestion, "Action", "BucketActionOnObjects", `statement 2 (Sid "MixedResourcesAreFine") already allows`},
		{"PublicWarning", "validate/bucket_public_and_principals.json", KindResource, 0, SeverityWarning, "Principal", "PublicRead", "public"},
		{"DeletedRoleError", "validate/bucket_public_and_principals.json", KindResource, 1, SeverityError, "Principal", "DeletedRole", `"AROAEXAMPLEROLEID1234" is the unique ID of a deleted role`},
		{"NotPrincipalWarning", "validate/bucket_public_and_principals.json", KindResource, 2, SeverityWarning, "NotPrincipal", "EveryoneButOwner", "AWS recommends"},
		{"GroupIDError", "validate/bucket_public_and_principals.json", KindResource, 3, SeverityError, "Principal", "GroupID", "unique ID of a group, which is never a principal"},
		{"UnreachableNamesDeny", "validate/shadowing.json", KindIdentity, 1, SeverityWarning, "Effect", "DeleteSecrets", `statement 4 (Sid "NoSecrets") denies`},
		{"TrustActionNamed", "validate/trust_wide_actions.json", KindTrust, 1, SeverityWarning, "Action", "TooWide", `"sts:*" is not an action a trust policy grants`},
		{"BoolValue", "validate/condition_values.json", KindIdentity, 0, SeverityWarning, "Condition", "BadValues", `Bool value "no" for aws:SecureTransport never matches`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, readFixture(t, tt.file))
			findings := Validate(p, tt.kind)

			if tt.index >= len(findings) {
				t.Fatalf("got %d findings, want more than %d", len(findings), tt.index)
			}

			f := findings[tt.index]

			if f.Severity != tt.severity {
				t.Errorf("Severity = %q, want %q", f.Severity, tt.severity)
			}

			if f.Field != tt.field {
				t.Errorf("Field = %q, want %q", f.Field, tt.field)
			}

			if f.Sid != tt.sid {
				t.Errorf("Sid = %q, want %q", f.Sid, tt.sid)
			}

			if !strings.Contains(f.Message, tt.substring) {
				t.Errorf("Message %q does not contain %q", f.Message, tt.substring)
			}
		})
	}
}

func TestValidateKinds(t *testing.T) {
	const (
		withPrincipal    = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*", "Condition": {"Bool": {"aws:SecureTransport": true}}}]}`
		withoutPrincipal = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]}`
		withoutResource  = `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]}`
		rcpStar          = `{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*", "Condition": {"StringNotEquals": {"aws:PrincipalOrgID": "o-exampleorg1"}}}]}`
	)

	tests := []struct {
		name string
		doc  string
		kind Kind
		want []string
	}{
		{"IdentityWithPrincipal", withPrincipal, KindIdentity, []string{"0 principal-not-allowed"}},
		{"IdentityWithoutResource", withoutResource, KindIdentity, []string{"0 missing-resource"}},
		{"IdentityPlain", withoutPrincipal, KindIdentity, []string{}},
		{"ResourceWithoutPrincipal", withoutPrincipal, KindResource, []string{"0 missing-principal"}},
		{"ResourceWithPrincipal", withPrincipal, KindResource, []string{}},
		{"TrustWithoutPrincipal", withoutResource, KindTrust, []string{"0 missing-principal", "0 trust-policy-action"}},
		{"SCPWithPrincipal", withPrincipal, KindSCP, []string{"0 principal-not-allowed"}},
		{"SCPPlain", withoutPrincipal, KindSCP, []string{}},
		{"RCPNamedPrincipal", withPrincipal, KindRCP, []string{"0 rcp-principal-not-wildcard"}},
		{"RCPStar", rcpStar, KindRCP, []string{}},
		{"BoundaryWithoutResource", withoutResource, KindPermissionsBoundary, []string{"0 missing-resource"}},
		{"SessionWithPrincipal", withPrincipal, KindSession, []string{"0 principal-not-allowed"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, []byte(tt.doc))

			got := findingKeys(Validate(p, tt.kind))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("findings:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestValidateTrustActionPatterns(t *testing.T) {
	tests := []struct {
		pattern string
		want    bool
	}{
		{"sts:assumerole", true},
		{"sts:assumerole*", true},
		{"sts:assumerolewith*", true},
		{"sts:tagsession", true},
		{"sts:setsourceidentity", true},
		{"sts:*", false},
		{"*", false},
		{"sts:getcalleridentity", false},
	}

	for _, tt := range tests {
		t.Run(strings.NewReplacer(":", "_", "*", "Star").Replace(tt.pattern), func(t *testing.T) {
			got := isTrustAction(tt.pattern)
			if got != tt.want {
				t.Errorf("isTrustAction(%q) = %v, want %v", tt.pattern, got, tt.want)
			}
		})
	}
}

func TestValidateNilPolicy(t *testing.T) {
	got := Validate(nil, KindIdentity)
	if got != nil {
		t.Errorf("Validate(nil) = %v, want nil", got)
	}
}

func TestParseKind(t *testing.T) {
	for _, k := range Kinds {
		got, err := ParseKind(string(k))
		if err != nil {
			t.Errorf("ParseKind(%q): %v", k, err)
		}

		if got != k {
			t.Errorf("ParseKind(%q) = %q", k, got)
		}
	}

	if _, err := ParseKind("bucket"); err == nil {
		t.Errorf("ParseKind(%q) returned no error", "bucket")
	}
}

func TestFindingString(t *testing.T) {
	f := Finding{Severity: SeverityWarning, Code: CodePublicAccess, Statement: 1, Sid: "Pub", Field: "Principal", Message: "public"}

	got := f.String()
	want := `warning: statement 1 (Sid "Pub"): Principal: public [public-access]`
	if got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
