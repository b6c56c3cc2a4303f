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

	// S3 calls an aws:SourceIp range broader than /8 public, and a grant to
	// a Federated identity provider reaches anyone who signs in there.
	for _, doc := range []string{
		grant("Allow", `"Principal": "*"`, `{"IpAddress": {"aws:SourceIp": "0.0.0.0/1"}}`),
		grant("Allow", `"Principal": {"Federated": "graph.facebook.com"}`, ""),
	} {
		err := put(doc)
		if code, _ := apiError(t, err); code != "AccessDenied" {
			t.Errorf("put %s under BlockPublicPolicy: got %s, want AccessDenied", doc, code)
		}
		if err != nil && !strings.Contains(err.Error(), "BlockPublicPolicy") {
			t.Errorf("put %s under BlockPublicPolicy: error %v does not name BlockPublicPolicy", doc, err)
		}
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
