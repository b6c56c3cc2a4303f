package preflight

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/countersign/countersign/internal/denial"
	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/identity"
	"github.com/countersign/countersign/internal/s3sync"
)

const (
	sessionARN = "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-1"
	roleARN    = "arn:aws:iam::111111111111:role/CodeBuildRole"
)

// apiError builds the error shape the SDK returns for an S3 error answer.
func apiError(status int, code, message string) error {
	return &smithy.OperationError{
		ServiceID: "S3",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      &smithy.GenericAPIError{Code: code, Message: message},
			},
		},
	}
}

type fakeSTS struct{ arn string }

func (f fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	return &sts.GetCallerIdentityOutput{Arn: aws.String(f.arn), Account: aws.String("111111111111")}, nil
}

// fakeS3 records each call and answers from a map of injected errors.
type fakeS3 struct {
	mu      sync.Mutex
	errs    map[string]error // by operation; "HeadBucketProbe" for a HeadBucket without owner
	corrupt bool             // GetObject returns other bytes
	objects map[string][]byte
	calls   []string
	owners  []string // ExpectedBucketOwner per call, "" when unset
	puts    []*s3.PutObjectInput
}

func newFakeS3() *fakeS3 {
	return &fakeS3{errs: map[string]error{}, objects: map[string][]byte{}}
}

func (f *fakeS3) record(op string, owner *string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
	f.owners = append(f.owners, aws.ToString(owner))
	return f.errs[op]
}

func (f *fakeS3) HeadBucket(_ context.Context, in *s3.HeadBucketInput, _ ...func(*s3.Options)) (*s3.HeadBucketOutput, error) {
	if in.ExpectedBucketOwner == nil {
		return nil, f.record("HeadBucketProbe", nil)
	}
	return nil, f.record("HeadBucket", in.ExpectedBucketOwner)
}

func (f *fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	if err := f.record("ListObjectsV2", in.ExpectedBucketOwner); err != nil {
		return nil, err
	}
	return &s3.ListObjectsV2Output{}, nil
}

func (f *fakeS3) PutObject(_ context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	if err := f.record("PutObject", in.ExpectedBucketOwner); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.objects[aws.ToString(in.Key)] = data
	f.puts = append(f.puts, in)
	f.mu.Unlock()
	return &s3.PutObjectOutput{}, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	if err := f.record("GetObject", in.ExpectedBucketOwner); err != nil {
		return nil, err
	}
	data := f.objects[aws.ToString(in.Key)]
	if f.corrupt {
		data = append(bytes.Clone(data), 'x')
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(data))}, nil
}

func (f *fakeS3) DeleteObject(_ context.Context, in *s3.DeleteObjectInput, _ ...func(*s3.Options)) (*s3.DeleteObjectOutput, error) {
	if err := f.record("DeleteObject", in.ExpectedBucketOwner); err != nil {
		return nil, err
	}
	delete(f.objects, aws.ToString(in.Key))
	return &s3.DeleteObjectOutput{}, nil
}

func TestRun(t *testing.T) {
	denied := apiError(403, "AccessDenied", "Access Denied")
	headDenied := apiError(403, "Forbidden", "")

	tests := []struct {
		name        string
		errs        map[string]error
		corrupt     bool
		expectRole  string
		wantCode    int
		wantStatus  []Status // whoami, head, list, put, get, delete
		wantKind    denial.Kind
		kindStep    int
		wantLeft    bool
		wantObjects int
	}{
		{
			name:       "allPass",
			wantCode:   exitcode.OK,
			wantStatus: []Status{StatusOK, StatusOK, StatusOK, StatusOK, StatusOK, StatusOK},
		},
		{
			name:       "ownerMismatch",
			errs:       map[string]error{"HeadBucket": headDenied, "ListObjectsV2": denied, "PutObject": denied},
			wantCode:   exitcode.AccessDenied,
			wantStatus: []Status{StatusOK, StatusDenied, StatusSkipped, StatusSkipped, StatusSkipped, StatusSkipped},
			wantKind:   denial.KindOwnerMismatch,
			kindStep:   1,
		},
		{
			// A grant limited by s3:prefix denies HeadBucket but allows the
			// listing sync does, so preflight passes.
			name:       "headDeniedListAllowed",
			errs:       map[string]error{"HeadBucket": headDenied},
			wantCode:   exitcode.OK,
			wantStatus: []Status{StatusOK, StatusOK, StatusOK, StatusOK, StatusOK, StatusOK},
		},
		{
			name:       "bucketMissing",
			errs:       map[string]error{"HeadBucket": apiError(404, "NotFound", "")},
			wantCode:   exitcode.Failure,
			wantStatus: []Status{StatusOK, StatusError, StatusSkipped, StatusSkipped, StatusSkipped, StatusSkipped},
		},
		{
			name:       "putDenied",
			errs:       map[string]error{"PutObject": apiError(403, "AccessDenied", "User: "+sessionARN+" is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::dev-artifacts/app/.countersign/x\" because no resource-based policy allows the s3:PutObject action")},
			wantCode:   exitcode.AccessDenied,
			wantStatus: []Status{StatusOK, StatusOK, StatusOK, StatusDenied, StatusSkipped, StatusSkipped},
			wantKind:   denial.KindImplicitDeny,
			kindStep:   3,
		},
		{
			name:        "deleteDeniedLeavesCanary",
			errs:        map[string]error{"DeleteObject": denied},
			wantCode:    exitcode.AccessDenied,
			wantStatus:  []Status{StatusOK, StatusOK, StatusOK, StatusOK, StatusOK, StatusDenied},
			wantKind:    denial.KindBare,
			kindStep:    5,
			wantLeft:    true,
			wantObjects: 1,
		},
		{
			name:       "corruptedReadBack",
			corrupt:    true,
			wantCode:   exitcode.Failure,
			wantStatus: []Status{StatusOK, StatusOK, StatusOK, StatusOK, StatusError, StatusOK},
		},
		{
			name:       "wrongRole",
			expectRole: "arn:aws:iam::111111111111:role/DeployRole",
			wantCode:   exitcode.IdentityWrong,
			wantStatus: []Status{StatusMismatch, StatusSkipped, StatusSkipped, StatusSkipped, StatusSkipped, StatusSkipped},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeS3()
			for op, err := range tt.errs {
				fake.errs[op] = err
			}
			fake.corrupt = tt.corrupt
			expect := roleARN
			if tt.expectRole != "" {
				expect = tt.expectRole
			}

			res, err := Run(context.Background(), fake, fakeSTS{arn: sessionARN}, Options{
				Bucket:      "dev-artifacts",
				Prefix:      "/app/",
				BucketOwner: "222222222222",
				Identity:    identity.Options{ExpectRole: expect},
				Headers:     s3sync.ObjectHeaders{ACL: "bucket-owner-full-control", SSE: "AES256"},
			})
			if got := exitcode.For(err); got != tt.wantCode {
				t.Fatalf("exit code = %d (err %v), want %d", got, err, tt.wantCode)
			}
			if len(res.Steps) != len(tt.wantStatus) {
				t.Fatalf("got %d steps, want %d", len(res.Steps), len(tt.wantStatus))
			}
			for i, want := range tt.wantStatus {
				if res.Steps[i].Status != want {
					t.Errorf("step %s = %s, want %s", res.Steps[i].Name, res.Steps[i].Status, want)
				}
			}
			if tt.wantKind != "" {
				d := res.Steps[tt.kindStep].Diagnosis
				if d == nil || d.Kind != tt.wantKind {
					t.Errorf("step %s diagnosis = %+v, want kind %s", res.Steps[tt.kindStep].Name, d, tt.wantKind)
				}
			}
			if res.CanaryLeft != tt.wantLeft {
				t.Errorf("canary left = %v, want %v", res.CanaryLeft, tt.wantLeft)
			}
			if len(fake.objects) != tt.wantObjects {
				t.Errorf("bucket holds %d objects after preflight, want %d", len(fake.objects), tt.wantObjects)
			}
			if res.Passed != (tt.wantCode == exitcode.OK) {
				t.Errorf("passed = %v", res.Passed)
			}
			for i, op := range fake.calls {
				if op != "HeadBucketProbe" && fake.owners[i] != "222222222222" {
					t.Errorf("%s sent ExpectedBucketOwner %q, want 222222222222", op, fake.owners[i])
				}
			}
		})
	}
}

func TestCanarySendsSyncHeaders(t *testing.T) {
	fake := newFakeS3()
	headers := s3sync.ObjectHeaders{ACL: "bucket-owner-full-control", SSE: "aws:kms", SSEKMSKeyID: "alias/artifacts", CacheControl: "no-cache"}

	res, err := Run(context.Background(), fake, fakeSTS{arn: sessionARN}, Options{Bucket: "dev-artifacts", Prefix: "app", Headers: headers})
	if err != nil {
		t.Fatalf("preflight: %v", err)
	}
	if len(fake.puts) != 1 {
		t.Fatalf("got %d puts, want 1", len(fake.puts))
	}
	put := fake.puts[0]
	if string(put.ACL) != headers.ACL {
		t.Errorf("ACL = %q, want %q", put.ACL, headers.ACL)
	}
	if string(put.ServerSideEncryption) != headers.SSE || aws.ToString(put.SSEKMSKeyId) != headers.SSEKMSKeyID {
		t.Errorf("SSE = %q %q, want %q %q", put.ServerSideEncryption, aws.ToString(put.SSEKMSKeyId), headers.SSE, headers.SSEKMSKeyID)
	}
	if aws.ToString(put.CacheControl) != headers.CacheControl {
		t.Errorf("Cache-Control = %q", aws.ToString(put.CacheControl))
	}
	if put.ChecksumAlgorithm == "" {
		t.Error("the canary sends no checksum")
	}
	if !strings.HasPrefix(res.CanaryKey, "app/.countersign/preflight-") {
		t.Errorf("canary key = %q", res.CanaryKey)
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"noBucket", Options{}},
		{"badACL", Options{Bucket: "b", Headers: s3sync.ObjectHeaders{ACL: "owner-only"}}},
		{"shortBucketOwner", Options{Bucket: "b", BucketOwner: "12"}},
		{"bucketOwnerWithLetters", Options{Bucket: "b", BucketOwner: "22222222222a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeS3()
			_, err := Run(context.Background(), fake, fakeSTS{arn: sessionARN}, tt.opts)
			if got := exitcode.For(err); got != exitcode.Usage {
				t.Errorf("exit code = %d (err %v), want %d", got, err, exitcode.Usage)
			}
			if len(fake.calls) != 0 {
				t.Errorf("made calls %v before validating input", fake.calls)
			}
		})
	}
}

func TestWriteTextNamesDiagnosis(t *testing.T) {
	fake := newFakeS3()
	fake.errs["HeadBucket"] = apiError(403, "Forbidden", "")
	res, _ := Run(context.Background(), fake, fakeSTS{arn: sessionARN}, Options{Bucket: "dev-artifacts", BucketOwner: "333333333333"})

	var out bytes.Buffer
	WriteText(&out, res)
	text := out.String()
	for _, want := range []string{"head-bucket", "DENIED", "333333333333", "preflight FAILED"} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q:\n%s", want, text)
		}
	}
}

func TestWriteTextWrongRoleNamesCallerOnce(t *testing.T) {
	const expected = "arn:aws:iam::111111111111:role/DeployRole"
	fake := newFakeS3()
	res, err := Run(context.Background(), fake, fakeSTS{arn: sessionARN}, Options{
		Bucket:   "dev-artifacts",
		Identity: identity.Options{ExpectRole: expected},
	})
	if got := exitcode.For(err); got != exitcode.IdentityWrong {
		t.Fatalf("exit code = %d (err %v), want %d", got, err, exitcode.IdentityWrong)
	}

	var out bytes.Buffer
	WriteText(&out, res)
	var row string
	for line := range strings.Lines(out.String()) {
		if strings.HasPrefix(strings.TrimSpace(line), StepWhoami+" ") {
			row = line
		}
	}
	if row == "" {
		t.Fatalf("no whoami row in:\n%s", out.String())
	}
	if got := strings.Count(row, sessionARN); got != 1 {
		t.Errorf("whoami row names the caller %d times, want once: %q", got, row)
	}
	if !strings.Contains(row, expected) {
		t.Errorf("whoami row lacks the expected role %s: %q", expected, row)
	}
	if !strings.Contains(row, string(StatusMismatch)) {
		t.Errorf("whoami row lacks %s: %q", StatusMismatch, row)
	}
}

func TestRunNotesMissingPrefix(t *testing.T) {
	for _, prefix := range []string{"", "app"} {
		t.Run("prefix"+prefix, func(t *testing.T) {
			fake := newFakeS3()
			fake.errs["HeadBucket"] = apiError(403, "Forbidden", "")
			fake.errs["ListObjectsV2"] = apiError(403, "AccessDenied", "Access Denied")

			res, _ := Run(context.Background(), fake, fakeSTS{arn: sessionARN}, Options{
				Bucket:      "dev-artifacts",
				Prefix:      prefix,
				BucketOwner: "222222222222",
				Identity:    identity.Options{ExpectRole: roleARN},
			})

			d := res.Steps[1].Diagnosis
			if d == nil {
				t.Fatalf("head-bucket has no diagnosis: %+v", res.Steps[1])
			}

			got := slices.Contains(d.Notes, noPrefixNote)
			if want := prefix == ""; got != want {
				t.Errorf("note about the missing prefix present = %v, want %v (notes %q)", got, want, d.Notes)
			}
		})
	}
}
