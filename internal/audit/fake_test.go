package audit

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// fakeS3 is a recording fake of the S3 calls the audit makes. A nil
// setting makes the call return the error S3 sends for a bucket without it.
type fakeS3 struct {
	mu sync.Mutex

	policy     []byte
	ownership  types.ObjectOwnership
	pab        *types.PublicAccessBlockConfiguration
	encryption []types.ServerSideEncryptionRule

	// errs fails the named operation with the error.
	errs map[string]error

	calls []fakeCall
	puts  [][]byte
}

type fakeCall struct {
	operation     string
	bucket        string
	expectedOwner string
}

func (f *fakeS3) record(op string, bucket, owner *string) error {
	f.mu.Lock()
	defer f.mu.Unlock()

	f.calls = append(f.calls, fakeCall{operation: op, bucket: aws.ToString(bucket), expectedOwner: aws.ToString(owner)})

	return f.errs[op]
}

func notFound(code string) error {
	return &smithy.GenericAPIError{Code: code, Message: "not configured"}
}

func (f *fakeS3) GetBucketPolicy(_ context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	if err := f.record("GetBucketPolicy", in.Bucket, in.ExpectedBucketOwner); err != nil {
		return nil, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()

	if f.policy == nil {
		return nil, notFound(codeNoSuchBucketPolicy)
	}

	return &s3.GetBucketPolicyOutput{Policy: aws.String(string(f.policy))}, nil
}

func (f *fakeS3) PutBucketPolicy(_ context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	if err := f.record("PutBucketPolicy", in.Bucket, in.ExpectedBucketOwner); err != nil {
		return nil, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()

	f.policy = []byte(aws.ToString(in.Policy))
	f.puts = append(f.puts, f.policy)

	return &s3.PutBucketPolicyOutput{}, nil
}

func (f *fakeS3) GetBucketOwnershipControls(_ context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	if err := f.record("GetBucketOwnershipControls", in.Bucket, in.ExpectedBucketOwner); err != nil {
		return nil, err
	}

	if f.ownership == "" {
		return nil, notFound(codeNoOwnershipControls)
	}

	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &types.OwnershipControls{
		Rules: []types.OwnershipControlsRule{{ObjectOwnership: f.ownership}},
	}}, nil
}

func (f *fakeS3) GetPublicAccessBlock(_ context.Context, in *s3.GetPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	if err := f.record("GetPublicAccessBlock", in.Bucket, in.ExpectedBucketOwner); err != nil {
		return nil, err
	}

	if f.pab == nil {
		return nil, notFound(codeNoPublicAccessBlock)
	}

	return &s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: f.pab}, nil
}

func (f *fakeS3) GetBucketEncryption(_ context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	if err := f.record("GetBucketEncryption", in.Bucket, in.ExpectedBucketOwner); err != nil {
		return nil, err
	}

	if f.encryption == nil {
		return nil, notFound(codeNoEncryptionConfiguration)
	}

	return &s3.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: f.encryption}}, nil
}

// hardened returns a fake bucket whose settings raise no finding, with
// the named policy fixture.
func hardened(t testing.TB, fixture string) *fakeS3 {
	t.Helper()

	f := &fakeS3{
		ownership: types.ObjectOwnershipBucketOwnerEnforced,
		pab: &types.PublicAccessBlockConfiguration{
			BlockPublicAcls: aws.Bool(true), IgnorePublicAcls: aws.Bool(true),
			BlockPublicPolicy: aws.Bool(true), RestrictPublicBuckets: aws.Bool(true),
		},
		encryption: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256},
		}},
	}

	if fixture != "" {
		f.policy = readFixture(t, fixture)
	}

	return f
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()

	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}

	return data
}

const (
	testBucket = "dev-artifacts"
	testOwner  = "222222222222"
	testRole   = "arn:aws:iam::111111111111:role/CodeBuildRole"
)

func testConfig() Config {
	return Config{Bucket: testBucket, BucketOwner: testOwner, RoleARNs: []string{testRole}, Prefix: "app"}
}
