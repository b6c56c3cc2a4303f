package sandbox

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/countersign/countersign/policy"
)

// grant returns a one-statement bucket policy that allows s3:GetObject to
// principal (JSON) under condition (JSON, or "" for none).
func grant(effect, principal, condition string) string {
	st := fmt.Sprintf(`{"Effect": %q, %s, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::dev-artifacts/*"`, effect, principal)
	if condition != "" {
		st += `, "Condition": ` + condition
	}
	return `{"Version": "2012-10-17", "Statement": [` + st + `}]}`
}

func TestPublicStatement(t *testing.T) {
	const star = `"Principal": "*"`
	const role = `"Principal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}`

	tests := []struct {
		name   string
		doc    string
		public bool
	}{
		{"PrincipalStar", grant("Allow", star, ""), true},
		{"AWSStar", grant("Allow", `"Principal": {"AWS": "*"}`, ""), true},
		{"FederatedProvider", grant("Allow", `"Principal": {"Federated": "graph.facebook.com"}`, ""), true},
		{"FixedRole", grant("Allow", role, ""), false},
		{"FixedAccount", grant("Allow", `"Principal": {"AWS": "111111111111"}`, ""), false},
		{"ServicePrincipal", grant("Allow", `"Principal": {"Service": "cloudtrail.amazonaws.com"}`, ""), false},
		{"CanonicalUser", grant("Allow", `"Principal": {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}`, ""), false},
		{"DenyStar", grant("Deny", star, ""), false},
		{"NotPrincipalAllow", grant("Allow", `"NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}`, ""), true},
		{"NotPrincipalLimited", grant("Allow", `"NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}`, `{"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`), false},
		{"SourceVpcFixed", grant("Allow", star, `{"StringEquals": {"aws:SourceVpc": "vpc-91237329"}}`), false},
		{"SourceVpcWildcard", grant("Allow", star, `{"StringLike": {"aws:SourceVpc": "vpc-*"}}`), true},
		{"SourceVpcLikeFixed", grant("Allow", star, `{"StringLike": {"aws:SourceVpc": "vpc-91237329"}}`), false},
		{"PrincipalOrgIDFixed", grant("Allow", star, `{"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}`), false},
		{"PrincipalOrgIDVariable", grant("Allow", star, `{"StringEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}}`), true},
		{"PrincipalAccountFixed", grant("Allow", star, `{"StringEquals": {"aws:PrincipalAccount": "111111111111"}}`), false},
		{"PrincipalArnFixed", grant("Allow", star, `{"ArnEquals": {"aws:PrincipalArn": "arn:aws:iam::111111111111:role/CodeBuildRole"}}`), false},
		{"PrincipalArnWildcard", grant("Allow", star, `{"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/CodeBuildRole"}}`), true},
		{"SourceAccountFixed", grant("Allow", star, `{"StringEquals": {"aws:SourceAccount": "111111111111"}}`), false},
		{"SourceArnFixed", grant("Allow", star, `{"ArnEquals": {"aws:SourceArn": "arn:aws:codebuild:us-east-1:111111111111:project/countersign-build"}}`), false},
		{"SourceOwnerFixed", grant("Allow", star, `{"StringEquals": {"aws:SourceOwner": "111111111111"}}`), false},
		{"KMSKeyFixed", grant("Allow", star, `{"StringEquals": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "`+testKMSKey+`"}}`), false},
		{"KeyNameCaseIgnored", grant("Allow", star, `{"StringEquals": {"AWS:SOURCEVPCE": "vpce-1a2b3c4d"}}`), false},
		{"UseridRoleSessions", grant("Allow", star, `{"StringLike": {"aws:userid": "AROAEXAMPLEROLEID:*"}}`), false},
		{"UseridWildcard", grant("Allow", star, `{"StringLike": {"aws:userid": "AROA*"}}`), true},
		{"AccessPointAnyName", grant("Allow", star, `{"StringLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:123456789012:accesspoint/*"}}`), false},
		{"AccessPointAnyAccount", grant("Allow", star, `{"StringLike": {"s3:DataAccessPointArn": "arn:aws:s3:us-west-2:*:accesspoint/*"}}`), true},
		{"AccessPointAccountFixed", grant("Allow", star, `{"StringEquals": {"s3:DataAccessPointAccount": "123456789012"}}`), false},
		{"SourceIPNarrow", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}`), false},
		{"SourceIPSlash8", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}`), false},
		{"SourceIPAddress", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": "198.51.100.7"}}`), false},
		{"SourceIPSlash1", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}`), true},
		{"SourceIPSlash7", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": "10.0.0.0/7"}}`), true},
		{"SourceIPv6Slash32", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": "2001:db8::/32"}}`), false},
		{"SourceIPv6Slash31", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": "2001:db8::/31"}}`), true},
		{"SourceIPOneBroad", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "0.0.0.0/0"]}}`), true},
		{"SourceIPNotRange", grant("Allow", star, `{"IpAddress": {"aws:SourceIp": "office"}}`), true},
		{"SourceIPStringOperator", grant("Allow", star, `{"StringEquals": {"aws:SourceIp": "203.0.113.7"}}`), true},
		{"NotIPAddress", grant("Allow", star, `{"NotIpAddress": {"aws:SourceIp": "203.0.113.0/24"}}`), true},
		{"NegatedOperator", grant("Allow", star, `{"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`), true},
		{"IfExists", grant("Allow", star, `{"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}`), true},
		{"ForAllValues", grant("Allow", star, `{"ForAllValues:StringEquals": {"aws:SourceAccount": "111111111111"}}`), true},
		{"ForAnyValue", grant("Allow", star, `{"ForAnyValue:StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}`), false},
		{"UnlistedKey", grant("Allow", star, `{"Bool": {"aws:SecureTransport": "true"}}`), true},
		{"UnlistedOrgPaths", grant("Allow", star, `{"StringEquals": {"aws:PrincipalOrgPaths": "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/"}}`), true},
		{"OneLimitingKeyEnough", grant("Allow", star, `{"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:SourceAccount": "111111111111"}}`), false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := policy.Parse([]byte(tt.doc))
			if err != nil {
				t.Fatalf("parse %s: %v", tt.doc, err)
			}

			got := publicStatement(p)

			if (got != nil) != tt.public {
				t.Errorf("publicStatement(%s) = %v, want public %v", tt.doc, got, tt.public)
			}
		})
	}
}

func TestPublicStatementPicksPublicOne(t *testing.T) {
	doc := `{"Version": "2012-10-17", "Statement": [
		{"Sid": "Build", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:role/CodeBuildRole"}, "Action": "s3:*", "Resource": "arn:aws:s3:::dev-artifacts/*"},
		{"Sid": "NoDeletes", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::dev-artifacts/*"},
		{"Sid": "PublicRead", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::dev-artifacts/*"}
	]}`
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}

	got := publicStatement(p)

	if got == nil || got.Sid != "PublicRead" {
		t.Errorf("publicStatement = %+v, want the PublicRead statement", got)
	}
}

func TestFrontBlockPublicPolicy(t *testing.T) {
	f := newFrontFixture(t, nil)
	ctx := context.Background()
	admin := f.s3As("dev-admin")
	bucket := aws.String(testBucket)
	public := grant("Allow", `"Principal": "*"`, "")
	limited := grant("Allow", `"Principal": "*"`, `{"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}`)
	put := func(doc string) error {
		_, err := admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(doc)})
		return err
	}
	current := func() string {
		out, err := admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
		if err != nil {
			t.Fatalf("GetBucketPolicy: %v", err)
		}
		return aws.ToString(out.Policy)
	}
	putBlock := func(blockPublicPolicy bool) {
		_, err := admin.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: bucket, PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true), BlockPublicPolicy: aws.Bool(blockPublicPolicy), RestrictPublicBuckets: aws.Bool(true),
		}})
		if err != nil {
			t.Fatalf("PutPublicAccessBlock: %v", err)
		}
	}

	// The default world's bucket has all four settings on.
	err := put(public)
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("public policy under BlockPublicPolicy: got %s %d, want AccessDenied 403", code, status)
	}
	var apiErr smithy.APIError
	want := `User: arn:aws:iam::222222222222:root is not authorized to perform: s3:PutBucketPolicy on resource: "arn:aws:s3:::dev-artifacts" because public policies are blocked by the BlockPublicPolicy block public access setting.`
	if !errors.As(err, &apiErr) {
		t.Fatalf("error %v is not an S3 API error", err)
	}
	if got := apiErr.ErrorMessage(); got != want {
		t.Errorf("message %q\nwant    %q", got, want)
	}
	if got := current(); strings.Contains(got, `"Principal": "*"`) {
		t.Errorf("policy after the rejected put = %s, want the world's", got)
	}

	err = put(`{"Statement": [{"Effect": "Allow", "Principal": "*"`)
	if code, status := apiError(t, err); code != "MalformedPolicy" || status != 400 {
		t.Errorf("malformed policy under BlockPublicPolicy: got %s %d, want MalformedPolicy 400", code, status)
	}

	if err := put(limited); err != nil {
		t.Errorf("policy limited by aws:PrincipalOrgID under BlockPublicPolicy: %v", err)
	}

	putBlock(false)
	if err := put(public); err != nil {
		t.Fatalf("public policy with BlockPublicPolicy off: %v", err)
	}

	// Turning the setting on again leaves the policy in place, as in S3.
	putBlock(true)
	if got := current(); got != public {
		t.Errorf("policy after BlockPublicPolicy is on again = %s, want the public one kept", got)
	}
	if code, _ := apiError(t, put(public)); code != "AccessDenied" {
		t.Errorf("second public put: got %s, want AccessDenied", code)
	}

	if _, err := admin.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: bucket}); err != nil {
		t.Fatalf("DeletePublicAccessBlock: %v", err)
	}
	if err := put(public); err != nil {
		t.Errorf("public policy without a public access block: %v", err)
	}
}
