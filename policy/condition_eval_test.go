package policy

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
)

// conditionUnderTest parses one operator and key pair inside a policy, so
// the condition has the fields that Parse fills.
func conditionUnderTest(t *testing.T, operator, key string, values []string) (*Policy, *Condition) {
	t.Helper()

	encoded, err := json.Marshal(map[string]map[string][]string{operator: {key: values}})
	if err != nil {
		t.Fatal(err)
	}

	doc := fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", "Condition": %s}]}`, encoded)

	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse condition %s: %v", operator, err)
	}

	return p, &p.Statements[0].Condition[0]
}

func TestConditionOperators(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name     string
		operator string
		key      string
		values   []string
		// context nil means the key is missing from the request.
		context []string
		want    bool
	}{
		{"StringEqualsMatch", "StringEquals", "aws:SourceAccount", []string{"111111111111"}, []string{"111111111111"}, true},
		{"StringEqualsCase", "StringEquals", "aws:SourceAccount", []string{"abc"}, []string{"ABC"}, false},
		{"StringEqualsAnyPolicyValue", "StringEquals", "k", []string{"a", "b"}, []string{"b"}, true},
		{"StringEqualsMissing", "StringEquals", "k", []string{"a"}, nil, false},
		{"StringNotEqualsOther", "StringNotEquals", "k", []string{"a", "b"}, []string{"c"}, true},
		{"StringNotEqualsNoneOfValues", "StringNotEquals", "k", []string{"a", "b"}, []string{"b"}, false},
		{"StringNotEqualsMissing", "StringNotEquals", "k", []string{"a"}, nil, true},
		{"StringEqualsIgnoreCaseMatch", "StringEqualsIgnoreCase", "k", []string{"Blue"}, []string{"bLUE"}, true},
		{"StringNotEqualsIgnoreCaseMatch", "StringNotEqualsIgnoreCase", "k", []string{"Blue"}, []string{"bLUE"}, false},
		{"StringLikeStar", "StringLike", "k", []string{"build-*"}, []string{"build-42"}, true},
		{"StringLikeQuestion", "StringLike", "k", []string{"build-?"}, []string{"build-42"}, false},
		{"StringNotLikeMissing", "StringNotLike", "k", []string{"x*"}, nil, true},
		{"StringEqualsIfExistsMissing", "StringEqualsIfExists", "k", []string{"a"}, nil, true},
		{"StringEqualsIfExistsPresent", "StringEqualsIfExists", "k", []string{"a"}, []string{"b"}, false},

		{"NumericLessThan", "NumericLessThan", "s3:max-keys", []string{"10"}, []string{"9"}, true},
		{"NumericLessThanEqualsEdge", "NumericLessThanEquals", "s3:max-keys", []string{"10"}, []string{"10"}, true},
		{"NumericGreaterThan", "NumericGreaterThan", "s3:max-keys", []string{"10"}, []string{"10"}, false},
		{"NumericGreaterThanEquals", "NumericGreaterThanEquals", "s3:max-keys", []string{"10"}, []string{"10.5"}, true},
		{"NumericEquals", "NumericEquals", "s3:max-keys", []string{"10"}, []string{"10.0"}, true},
		{"NumericNotEquals", "NumericNotEquals", "s3:max-keys", []string{"10"}, []string{"11"}, true},
		{"NumericNotANumber", "NumericEquals", "s3:max-keys", []string{"10"}, []string{"ten"}, false},
		{"NumericMissing", "NumericLessThan", "s3:max-keys", []string{"10"}, nil, false},

		{"DateLessThanCurrentTime", "DateLessThan", "aws:CurrentTime", []string{"2027-01-01T00:00:00Z"}, nil, true},
		{"DateGreaterThanCurrentTime", "DateGreaterThan", "aws:CurrentTime", []string{"2027-01-01T00:00:00Z"}, nil, false},
		{"DateEpochPolicyValue", "DateGreaterThanEquals", "aws:CurrentTime", []string{"1780315200"}, nil, true},
		{"DateEpochTimeKey", "DateLessThan", "aws:EpochTime", []string{"2026-06-01T12:00:01Z"}, nil, true},
		{"DateEquals", "DateEquals", "aws:TokenIssueTime", []string{"2026-06-01T12:00:00Z"}, []string{"2026-06-01T12:00:00Z"}, true},
		{"DateNotEqualsMissing", "DateNotEquals", "aws:TokenIssueTime", []string{"2026-06-01T12:00:00Z"}, nil, true},
		{"DateLessThanEqualsMissing", "DateLessThanEquals", "aws:TokenIssueTime", []string{"2026-06-01"}, nil, false},

		{"BoolTrue", "Bool", "aws:SecureTransport", []string{"true"}, nil, true},
		{"BoolFalse", "Bool", "aws:SecureTransport", []string{"false"}, nil, false},
		{"BoolIfExistsMissing", "BoolIfExists", "aws:MultiFactorAuthPresent", []string{"false"}, nil, true},
		{"BoolMissing", "Bool", "aws:MultiFactorAuthPresent", []string{"false"}, nil, false},

		{"BinaryEqualsMatch", "BinaryEquals", "k", []string{"QmluYXJ5"}, []string{"QmluYXJ5"}, true},
		{"BinaryEqualsDiffers", "BinaryEquals", "k", []string{"QmluYXJ5"}, []string{"T3RoZXI="}, false},
		{"BinaryEqualsNotBase64", "BinaryEquals", "k", []string{"QmluYXJ5"}, []string{"%%%"}, false},

		{"IpAddressInBlock", "IpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, []string{"203.0.113.7"}, true},
		{"IpAddressOutside", "IpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, []string{"198.51.100.7"}, false},
		{"IpAddressV6", "IpAddress", "aws:SourceIp", []string{"2001:db8::/32"}, []string{"2001:db8::1"}, true},
		{"IpAddressSingle", "IpAddress", "aws:SourceIp", []string{"203.0.113.7"}, []string{"203.0.113.7"}, true},
		{"NotIpAddressOutside", "NotIpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, []string{"198.51.100.7"}, true},
		{"NotIpAddressMissing", "NotIpAddress", "aws:SourceIp", []string{"203.0.113.0/24"}, nil, true},

		{"ArnLikePerSegment", "ArnLike", "aws:SourceArn", []string{"arn:aws:codebuild:*:111111111111:project/*"}, []string{"arn:aws:codebuild:eu-west-1:111111111111:project/app"}, true},
		{"ArnLikeStarStaysInSegment", "ArnLike", "aws:SourceArn", []string{"arn:aws:codebuild:*:project/*"}, []string{"arn:aws:codebuild:eu-west-1:111111111111:project/app"}, false},
		{"ArnEqualsExact", "ArnEquals", "aws:PrincipalArn", []string{"arn:aws:iam::222222222222:role/deployer"}, nil, true},
		{"ArnNotEqualsSame", "ArnNotEquals", "aws:PrincipalArn", []string{"arn:aws:iam::222222222222:role/deployer"}, nil, false},
		{"ArnNotLikeOther", "ArnNotLike", "aws:PrincipalArn", []string{"arn:aws:iam::*:role/admin-*"}, nil, true},
		{"ArnLikeMissing", "ArnLike", "aws:SourceArn", []string{"arn:*"}, nil, false},

		{"NullTrueMissing", "Null", "aws:TokenIssueTime", []string{"true"}, nil, true},
		{"NullTruePresent", "Null", "aws:PrincipalArn", []string{"true"}, nil, false},
		{"NullFalsePresent", "Null", "aws:PrincipalArn", []string{"false"}, nil, true},
		{"NullFalseMissing", "Null", "aws:TokenIssueTime", []string{"false"}, nil, false},

		{"ForAnyValueOneMatches", "ForAnyValue:StringEquals", "aws:TagKeys", []string{"team", "env"}, []string{"owner", "env"}, true},
		{"ForAnyValueNoneMatch", "ForAnyValue:StringEquals", "aws:TagKeys", []string{"team"}, []string{"owner"}, false},
		{"ForAnyValueMissing", "ForAnyValue:StringEquals", "aws:TagKeys", []string{"team"}, nil, false},
		{"ForAnyValueEmpty", "ForAnyValue:StringEquals", "aws:TagKeys", []string{"team"}, []string{}, false},
		{"ForAllValuesSubset", "ForAllValues:StringEquals", "aws:TagKeys", []string{"team", "env"}, []string{"env"}, true},
		{"ForAllValuesExtra", "ForAllValues:StringEquals", "aws:TagKeys", []string{"team"}, []string{"team", "owner"}, false},
		{"ForAllValuesMissing", "ForAllValues:StringEquals", "aws:TagKeys", []string{"team"}, nil, true},
		{"ForAllValuesEmpty", "ForAllValues:StringEquals", "aws:TagKeys", []string{"team"}, []string{}, true},
		{"ForAllValuesNotEqualsDisjoint", "ForAllValues:StringNotEquals", "aws:TagKeys", []string{"secret"}, []string{"team", "env"}, true},
		{"ForAllValuesNotEqualsOverlap", "ForAllValues:StringNotEquals", "aws:TagKeys", []string{"secret"}, []string{"team", "secret"}, false},
		{"ForAnyValueNotEqualsOneOther", "ForAnyValue:StringNotEquals", "aws:TagKeys", []string{"secret"}, []string{"secret", "team"}, true},
		{"ForAnyValueLike", "ForAnyValue:StringLike", "aws:TagKeys", []string{"cost-*"}, []string{"team", "cost-center"}, true},
		{"NoQualifierNegatedNor", "StringNotEquals", "aws:TagKeys", []string{"secret"}, []string{"team", "secret"}, false},

		{"VariableInValue", "StringEquals", "s3:prefix", []string{"home/${aws:username}/"}, []string{"home/carol/"}, true},
		{"VariableUnresolved", "StringEquals", "s3:prefix", []string{"home/${aws:PrincipalTag/team}/"}, []string{"home//"}, false},
		{"VariableUnresolvedNegated", "StringNotEquals", "s3:prefix", []string{"home/${aws:PrincipalTag/team}/"}, []string{"x"}, false},
		{"VariableDefault", "StringEquals", "s3:prefix", []string{"home/${aws:PrincipalTag/team, 'none'}/"}, []string{"home/none/"}, true},
		{"VariableDollar", "StringEquals", "k", []string{"${$}5"}, []string{"$5"}, true},
		{"VariableLiteralStarInLike", "StringLike", "k", []string{"a${*}"}, []string{"abc"}, false},
		{"VariableLiteralStarMatches", "StringLike", "k", []string{"a${*}"}, []string{"a*"}, true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, cond := conditionUnderTest(t, tt.operator, tt.key, tt.values)

			req := Request{
				Principal: carolUser,
				Action:    "s3:GetObject",
				Resource:  artifact,
				Now:       now,
			}
			if tt.context != nil {
				req.Context = map[string][]string{tt.key: tt.context}
			}

			c, err := parseCaller(&req)
			if err != nil {
				t.Fatal(err)
			}

			// carolUser is an IAM user, so aws:username is "carol" and
			// aws:PrincipalArn is her user ARN; use a role for Arn tests.
			if tt.key == "aws:PrincipalArn" {
				req.Principal = "arn:aws:sts::222222222222:assumed-role/deployer/alice"

				if c, err = parseCaller(&req); err != nil {
					t.Fatal(err)
				}
			}

			rc := newRequestContext(&req, &c, devAccount)

			got, fail := evalCondition(cond, rc, p.VariablesEnabled)
			if got != tt.want {
				t.Errorf("evalCondition = %t, want %t (failure %+v)", got, tt.want, fail)
			}
		})
	}
}

func TestContextKeysFilled(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

	tests := []struct {
		name      string
		principal string
		action    string
		key       string
		want      []string
	}{
		{"SessionPrincipalArnIsRole", aliceSession, "s3:GetObject", "aws:PrincipalArn", []string{"arn:aws:iam::222222222222:role/deployer"}},
		{"SessionPrincipalType", aliceSession, "s3:GetObject", "AWS:PRINCIPALTYPE", []string{"AssumedRole"}},
		{"UserPrincipalType", carolUser, "s3:GetObject", "aws:PrincipalType", []string{"User"}},
		{"UserName", carolUser, "s3:GetObject", "aws:username", []string{"carol"}},
		{"RootType", devRoot, "s3:GetObject", "aws:PrincipalType", []string{"Account"}},
		{"RootUserID", devRoot, "s3:GetObject", "aws:userid", []string{devAccount}},
		{"AnonymousType", "", "s3:GetObject", "aws:PrincipalType", []string{"Anonymous"}},
		{"PrincipalAccount", aliceSession, "s3:GetObject", "aws:PrincipalAccount", []string{devAccount}},
		{"ServiceFlag", "codebuild.amazonaws.com", "sts:AssumeRole", "aws:PrincipalIsAWSService", []string{"true"}},
		{"NotServiceFlag", aliceSession, "s3:GetObject", "aws:PrincipalIsAWSService", []string{"false"}},
		{"SecureTransport", aliceSession, "s3:GetObject", "aws:SecureTransport", []string{"true"}},
		{"CurrentTime", aliceSession, "s3:GetObject", "aws:CurrentTime", []string{"2026-06-01T12:00:00Z"}},
		{"EpochTime", aliceSession, "s3:GetObject", "aws:EpochTime", []string{"1780315200"}},
		{"ResourceAccount", aliceSession, "s3:GetObject", "aws:ResourceAccount", []string{devAccount}},
		{"S3ResourceAccount", aliceSession, "s3:GetObject", "s3:ResourceAccount", []string{devAccount}},
		{"S3ResourceAccountOtherService", aliceSession, "sqs:SendMessage", "s3:ResourceAccount", nil},
		{"SessionUsernameMissing", aliceSession, "s3:GetObject", "aws:username", nil},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Principal: tt.principal, Action: tt.action, Resource: artifact, Now: now}

			c, err := parseCaller(&req)
			if err != nil {
				t.Fatal(err)
			}

			got, ok := newRequestContext(&req, &c, devAccount).lookup(tt.key)
			if ok != (tt.want != nil) {
				t.Fatalf("lookup(%q) found = %t, want %t (values %q)", tt.key, ok, tt.want != nil, got)
			}

			if fmt.Sprint(got) != fmt.Sprint(tt.want) && tt.want != nil {
				t.Errorf("lookup(%q) = %q, want %q", tt.key, got, tt.want)
			}
		})
	}
}

func TestContextCallerOverrides(t *testing.T) {
	req := Request{Principal: aliceSession, Action: "s3:GetObject", Resource: artifact,
		Context: map[string][]string{"AWS:SecureTransport": {"false"}}}

	c, err := parseCaller(&req)
	if err != nil {
		t.Fatal(err)
	}

	got, _ := newRequestContext(&req, &c, devAccount).lookup("aws:securetransport")
	if len(got) != 1 || got[0] != "false" {
		t.Errorf("aws:SecureTransport = %q, want the caller's [false]", got)
	}
}
