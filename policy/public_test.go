package policy

import (
	"fmt"
	"reflect"
	"testing"
)

// grantUnderTest parses a one-statement bucket policy that allows
// s3:GetObject to principal (a JSON member such as `"Principal": "*"`)
// under condition (a JSON object, or "" for none).
func grantUnderTest(t *testing.T, effect, principal, condition string) *Statement {
	t.Helper()

	st := fmt.Sprintf(`{"Effect": %q, %s, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::dev-artifacts/*"`, effect, principal)
	if condition != "" {
		st += `, "Condition": ` + condition
	}

	doc := `{"Version": "2012-10-17", "Statement": [` + st + `}]}`

	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse %s: %v", doc, err)
	}

	return &p.Statements[0]
}

func TestPublicAccessPublic(t *testing.T) {
	const star = `"Principal": "*"`
	const role = `"Principal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}`
	const kmsKey = "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"

	tests := []struct {
		name      string
		effect    string
		principal string
		condition string
		public    bool
	}{
		// The Principal element.
		{"PrincipalStar", "Allow", star, "", true},
		{"AWSStar", "Allow", `"Principal": {"AWS": "*"}`, "", true},
		{"AWSListWithStar", "Allow", `"Principal": {"AWS": ["arn:aws:iam::111111111111:role/CodeBuildRole", "*"]}`, "", true},
		{"FederatedProvider", "Allow", `"Principal": {"Federated": "graph.facebook.com"}`, "", true},
		{"FederatedLimited", "Allow", `"Principal": {"Federated": "graph.facebook.com"}`, `{"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`, false},
		{"FixedRole", "Allow", role, "", false},
		{"FixedAccount", "Allow", `"Principal": {"AWS": "111111111111"}`, "", false},
		{"RoleWildcard", "Allow", `"Principal": {"AWS": "arn:aws:iam::111111111111:role/*"}`, "", true},
		{"UserVariable", "Allow", `"Principal": {"AWS": "arn:aws:iam::111111111111:user/${aws:username}"}`, "", true},
		{"ServicePrincipal", "Allow", `"Principal": {"Service": "cloudtrail.amazonaws.com"}`, "", false},
		{"CanonicalUser", "Allow", `"Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, "", false},
		{"DenyStar", "Deny", star, "", false},
		{"NotPrincipalAllow", "Allow", `"NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}`, "", true},
		{"NotPrincipalLimited", "Allow", `"NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}`, `{"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`, false},

		// Fixed values of the limiting keys.
		{"SourceVpcFixed", "Allow", star, `{"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}`, false},
		{"SourceVpcWildcard", "Allow", star, `{"StringLike": {"aws:SourceVpc": "vpc-*"}}`, true},
		{"SourceVpcQuestionMark", "Allow", star, `{"StringLike": {"aws:SourceVpc": "vpc-9123732?"}}`, true},
		{"SourceVpcLikeFixed", "Allow", star, `{"StringLike": {"aws:SourceVpc": "vpc-91237329"}}`, false},
		{"SourceVpcEmpty", "Allow", star, `{"StringEquals": {"aws:SourceVpc": ""}}`, true},
		{"PrincipalOrgIDFixed", "Allow", star, `{"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}`, false},
		{"PrincipalOrgIDTwoFixed", "Allow", star, `{"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5", "o-f6g7h8i9j0"]}}`, false},
		{"PrincipalOrgIDOneWildcard", "Allow", star, `{"StringLike": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5", "o-*"]}}`, true},
		{"PrincipalOrgIDVariable", "Allow", star, `{"StringEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}}`, true},
		{"PrincipalAccountFixed", "Allow", star, `{"StringEquals": {"aws:PrincipalAccount": "111111111111"}}`, false},
		{"PrincipalArnFixed", "Allow", star, `{"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/CodeBuildRole"}}`, false},
		{"PrincipalArnWildcard", "Allow", star, `{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/CodeBuildRole"}}`, true},
		{"SourceAccountFixed", "Allow", star, `{"StringEquals": {"aws:SourceAccount": "111111111111"}}`, false},
		{"SourceArnFixed", "Allow", star, `{"ArnEquals": {"aws:SourceArn": "arn:aws:codebuild:us-east-1:111111111111:project/countersign-build"}}`, false},
		{"SourceOwnerFixed", "Allow", star, `{"StringEquals": {"aws:SourceOwner": "111111111111"}}`, false},
		{"KMSKeyFixed", "Allow", star, `{"StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "` + kmsKey + `"}}`, false},
		{"KeyNameCaseIgnored", "Allow", star, `{"StringEquals": {"AWS:SOURCEVPCE": "vpce-1a2b3c4d"}}`, false},
		{"UseridRoleSessions", "Allow", star, `{"StringLike": {"aws:userid": "AROAEXAMPLEROLEID:*"}}`, false},
		{"UseridWildcard", "Allow", star, `{"StringLike": {"aws:userid": "AROA*"}}`, true},
		{"UseridAnyRole", "Allow", star, `{"StringLike": {"aws:userid": "*:build"}}`, true},
		{"AccessPointAnyName", "Allow", star, `{"StringLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}`, false},
		{"AccessPointAnyAccount", "Allow", star, `{"StringLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:*:accesspoint/*"}}`, true},
		{"AccessPointStar", "Allow", star, `{"StringLike": {"s3:DataAccessPointArn": "*"}}`, true},
		{"AccessPointAccountFixed", "Allow", star, `{"StringEquals": {"s3:DataAccessPointAccount": "123456789012"}}`, false},

		// aws:SourceIp ranges.
		{"SourceIPNarrow", "Allow", star, `{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}`, false},
		{"SourceIPSlash8", "Allow", star, `{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}`, false},
		{"SourceIPAddress", "Allow", star, `{"IpAddress": {"aws:SourceIp": "198.51.100.7"}}`, false},
		{"SourceIPSlash1", "Allow", star, `{"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}`, true},
		{"SourceIPSlash7", "Allow", star, `{"IpAddress": {"aws:SourceIp": "10.0.0.0/7"}}`, true},
		{"SourceIPv6Slash32", "Allow", star, `{"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}`, false},
		{"SourceIPv6Slash31", "Allow", star, `{"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}`, true},
		{"SourceIPv6Everything", "Allow", star, `{"IpAddress": {"aws:SourceIp": "::/0"}}`, true},
		{"SourceIPOneBroad", "Allow", star, `{"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}}`, true},
		{"SourceIPNotRange", "Allow", star, `{"IpAddress": {"aws:SourceIp": "office"}}`, true},
		{"SourceIPStringOperator", "Allow", star, `{"StringEquals": {"aws:SourceIp": "203.0.113.7"}}`, true},
		{"IPAddressOtherKey", "Allow", star, `{"IpAddress": {"aws:SourceVpc": "10.0.0.0/16"}}`, true},

		// Operators and qualifiers that do not limit.
		{"NotIPAddress", "Allow", star, `{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}`, true},
		{"NegatedOperator", "Allow", star, `{"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`, true},
		{"IfExists", "Allow", star, `{"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`, true},
		{"ForAllValues", "Allow", star, `{"ForAllValues:StringEquals": {"aws:SourceAccount": "111111111111"}}`, true},
		{"ForAnyValue", "Allow", star, `{"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}`, false},

		// Keys the User Guide does not list.
		{"UnlistedKey", "Allow", star, `{"Bool": {"aws:SecureTransport": "true"}}`, true},
		{"UnlistedOrgPaths", "Allow", star, `{"StringEquals": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"}}`, true},
		{"UnlistedSourceOrgID", "Allow", star, `{"StringEquals": {"aws:SourceOrgID": "o-a1b2c3d4e5"}}`, true},
		{"UnlistedUsername", "Allow", star, `{"StringEquals": {"aws:username": "alice"}}`, true},
		{"OneLimitingKeyEnough", "Allow", star, `{"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceAccount": "111111111111"}}`, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := grantUnderTest(t, tt.effect, tt.principal, tt.condition)

			got := st.PublicAccess()

			if got.Public != tt.public {
				t.Errorf("PublicAccess().Public = %v, want %v for %s %s", got.Public, tt.public, tt.principal, tt.condition)
			}
		})
	}
}

func TestPublicAccessOpenPrincipal(t *testing.T) {
	tests := []struct {
		name      string
		principal string
		open      bool
	}{
		{"PrincipalStar", `"Principal": "*"`, true},
		{"AWSStar", `"Principal": {"AWS": "*"}`, true},
		{"NotPrincipal", `"NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}`, true},
		{"Federated", `"Principal": {"Federated": "cognito-identity.amazonaws.com"}`, true},
		{"RoleWildcard", `"Principal": {"AWS": "arn:aws:iam::111111111111:role/build-*"}`, true},
		{"FixedRole", `"Principal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}`, false},
		{"FixedAccountAndService", `"Principal": {"AWS": "111111111111", "Service": "cloudtrail.amazonaws.com"}`, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := grantUnderTest(t, "Allow", tt.principal, `{"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`)

			got := st.PublicAccess()

			if got.OpenPrincipal != tt.open {
				t.Errorf("PublicAccess().OpenPrincipal = %v, want %v for %s", got.OpenPrincipal, tt.open, tt.principal)
			}

			// The condition limits every one of these principals.
			if got.Public {
				t.Errorf("PublicAccess().Public = true, want false: aws:SourceVpce limits %s", tt.principal)
			}
		})
	}
}

func TestPublicAccessLimits(t *testing.T) {
	condition := `{
		"Bool": {"aws:SecureTransport": "true"},
		"StringEquals": {"aws:PrincipalAccount": ["111111111111", "333333333333"], "aws:SourceVpc": "vpc-*"},
		"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/CodeBuildRole"}
	}`
	st := grantUnderTest(t, "Allow", `"Principal": "*"`, condition)

	got := st.PublicAccess()

	if got.Public {
		t.Errorf("Public = true, want false: aws:PrincipalAccount and aws:PrincipalArn have fixed values")
	}

	if !got.OpenPrincipal {
		t.Errorf("OpenPrincipal = false, want true for Principal *")
	}

	var keys []string
	for _, c := range got.Limits {
		keys = append(keys, c.KeyLower)
	}

	wantKeys := []string{"aws:principalaccount", "aws:principalarn"}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Fatalf("Limits keys = %v, want %v", keys, wantKeys)
	}

	wantAccounts := []string{"111111111111", "333333333333"}
	if !reflect.DeepEqual(got.Limits[0].Values, wantAccounts) {
		t.Errorf("aws:PrincipalAccount values = %v, want %v", got.Limits[0].Values, wantAccounts)
	}
}

func TestPublicAccessFixedPrincipalKeepsLimits(t *testing.T) {
	st := grantUnderTest(t, "Allow", `"Principal": {"AWS": "111111111111"}`, `{"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`)

	got := st.PublicAccess()

	if got.Public || got.OpenPrincipal {
		t.Errorf("Public = %v, OpenPrincipal = %v, want both false for a fixed account", got.Public, got.OpenPrincipal)
	}

	if len(got.Limits) != 1 || got.Limits[0].KeyLower != "aws:sourcevpce" {
		t.Errorf("Limits = %+v, want the aws:SourceVpce condition", got.Limits)
	}
}

func TestPublicAccessDenyIsZero(t *testing.T) {
	st := grantUnderTest(t, "Deny", `"NotPrincipal": {"AWS": "111111111111"}`, `{"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`)

	got := st.PublicAccess()

	if !reflect.DeepEqual(got, PublicAccess{}) {
		t.Errorf("PublicAccess() of a Deny = %+v, want the zero value", got)
	}
}

func TestPublicStatements(t *testing.T) {
	tests := []struct {
		name    string
		fixture string
		want    []int
	}{
		// PublicRead and FacebookUpload; the Deny, the fixed role and the
		// grants limited by aws:PrincipalOrgID and aws:SourceVpce are not.
		{"Mixed", "valid/bucket_public_mixed.json", []int{2, 4}},
		{"CrossAccount", "valid/bucket_cross_account.json", nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := mustParse(t, readFixture(t, tt.fixture))

			got := PublicStatements(p)

			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PublicStatements(%s) = %v, want %v", tt.fixture, got, tt.want)
			}
		})
	}
}

func TestFixedValue(t *testing.T) {
	tests := []struct {
		name  string
		value string
		want  bool
	}{
		{"Plain", "vpc-91237329", true},
		{"DollarWithoutBrace", "cost$center", true},
		{"Empty", "", false},
		{"Star", "vpc-*", false},
		{"QuestionMark", "vpc-9123732?", false},
		{"Variable", "${aws:PrincipalAccount}", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := FixedValue(tt.value)

			if got != tt.want {
				t.Errorf("FixedValue(%q) = %v, want %v", tt.value, got, tt.want)
			}
		})
	}
}
