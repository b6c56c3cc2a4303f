package s3sync

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// fakeCall is one recorded request.
type fakeCall struct {
	op    string
	key   string
	input any
}

type fakeObject struct {
	data []byte
	etag string // quoted, as S3 lists it
}

type fakeUpload struct {
	key   string
	kms   bool
	parts map[int32][]byte
}

// fakeS3 is an in-memory S3 that stores objects, computes S3's ETags and
// records every request. Safe for concurrent use.
type fakeS3 struct {
	mu      sync.Mutex
	objects map[string]fakeObject
	uploads map[string]*fakeUpload
	calls   []fakeCall
	nextID  int

	// inject, when set, runs first in every request; a non-nil error is
	// returned as the request's error (for DeleteObjects, as that key's
	// entry in Errors). It runs without the lock held, so it may block.
	inject func(ctx context.Context, op, key string) error

	// lateParts is how many aborts of an upload a late part survives: the
	// upload is back after each, as when a cut-off part lands after S3
	// processed the abort.
	lateParts int
}

func newFakeS3() *fakeS3 {
	return &fakeS3{objects: map[string]fakeObject{}, uploads: map[string]*fakeUpload{}}
}

func deniedError() error {
	return &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}
}

func (f *fakeS3) record(op, key string, input any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, fakeCall{op: op, key: key, input: input})
}

func (f *fakeS3) check(ctx context.Context, op, key string) error {
	if f.inject == nil {
		return nil
	}
	return f.inject(ctx, op, key)
}

// callsOf returns the recorded calls of one operation.
func (f *fakeS3) callsOf(op string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if c.op == op {
			out = append(out, c)
		}
	}
	return out
}

func (f *fakeS3) allCalls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// writeCalls counts requests that change the bucket.
func (f *fakeS3) writeCalls() int {
	n := 0
	for _, c := range f.allCalls() {
		switch c.op {
		case "PutObject", "CreateMultipartUpload", "UploadPart", "CompleteMultipartUpload", "DeleteObjects":
			n++
		}
	}
	return n
}

func (f *fakeS3) resetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// put stores an object directly, as another tool would have.
func (f *fakeS3) put(key string, data []byte, etag string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.objects[key] = fakeObject{data: data, etag: `"` + etag + `"`}
}

func (f *fakeS3) object(key string) (fakeObject, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	o, ok := f.objects[key]
	return o, ok
}

func (f *fakeS3) keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for k := range f.objects {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func md5Hex(data []byte) string {
	sum := md5.Sum(data)
	return hex.EncodeToString(sum[:])
}

// fakeKMSETag stands in for the ETag of an SSE-KMS object, which is not
// the MD5 of its content.
func (f *fakeS3) fakeKMSETag() string {
	f.nextID++
	return md5Hex([]byte("kms-" + strconv.Itoa(f.nextID)))
}

func (f *fakeS3) ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	f.record("ListObjectsV2", aws.ToString(in.Prefix), in)
	if err := f.check(ctx, "ListObjectsV2", aws.ToString(in.Prefix)); err != nil {
		return nil, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	var keys []string
	for k := range f.objects {
		if strings.HasPrefix(k, aws.ToString(in.Prefix)) && k > aws.ToString(in.ContinuationToken) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)

	limit := int(aws.ToInt32(in.MaxKeys))
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	out := &s3.ListObjectsV2Output{IsTruncated: aws.Bool(len(keys) > limit)}
	if len(keys) > limit {
		keys = keys[:limit]
		out.NextContinuationToken = aws.String(keys[limit-1])
	}
	for _, k := range keys {
		o := f.objects[k]
		out.Contents = append(out.Contents, types.Object{Key: aws.String(k), Size: aws.Int64(int64(len(o.data))), ETag: aws.String(o.etag)})
	}
	out.KeyCount = aws.Int32(int32(len(out.Contents)))
	return out, nil
}

func (f *fakeS3) GetObject(ctx context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Key)
	f.record("GetObject", key, in)
	if err := f.check(ctx, "GetObject", key); err != nil {
		return nil, err
	}
	o, ok := f.object(key)
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchKey", Message: "not found"}
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(o.data)), ETag: aws.String(o.etag)}, nil
}

func (f *fakeS3) PutObject(ctx context.Context, in *s3.PutObjectInput, _ ...func(*s3.Options)) (*s3.PutObjectOutput, error) {
	key := aws.ToString(in.Key)
	f.record("PutObject", key, in)
	if err := f.check(ctx, "PutObject", key); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}
	if in.ContentLength != nil && *in.ContentLength != int64(len(data)) {
		return nil, fmt.Errorf("fake: body has %d bytes, content length %d", len(data), *in.ContentLength)
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	etag := md5Hex(data)
	if in.ServerSideEncryption == types.ServerSideEncryptionAwsKms {
		etag = f.fakeKMSETag()
	}
	f.objects[key] = fakeObject{data: data, etag: `"` + etag + `"`}
	return &s3.PutObjectOutput{ETag: aws.String(`"` + etag + `"`)}, nil
}

func (f *fakeS3) CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error) {
	key := aws.ToString(in.Key)
	f.record("CreateMultipartUpload", key, in)
	if err := f.check(ctx, "CreateMultipartUpload", key); err != nil {
		return nil, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextID++
	id := "upload-" + strconv.Itoa(f.nextID)
	f.uploads[id] = &fakeUpload{key: key, kms: in.ServerSideEncryption == types.ServerSideEncryptionAwsKms, parts: map[int32][]byte{}}
	return &s3.CreateMultipartUploadOutput{UploadId: aws.String(id)}, nil
}

func (f *fakeS3) UploadPart(ctx context.Context, in *s3.UploadPartInput, _ ...func(*s3.Options)) (*s3.UploadPartOutput, error) {
	key := aws.ToString(in.Key)
	f.record("UploadPart", key, in)
	if err := f.check(ctx, "UploadPart", key); err != nil {
		return nil, err
	}
	data, err := io.ReadAll(in.Body)
	if err != nil {
		return nil, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	up, ok := f.uploads[aws.ToString(in.UploadId)]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchUpload", Message: "no such upload"}
	}
	up.parts[aws.ToInt32(in.PartNumber)] = data
	return &s3.UploadPartOutput{ETag: aws.String(`"` + md5Hex(data) + `"`)}, nil
}

func (f *fakeS3) CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, _ ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error) {
	key := aws.ToString(in.Key)
	f.record("CompleteMultipartUpload", key, in)
	if err := f.check(ctx, "CompleteMultipartUpload", key); err != nil {
		return nil, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.UploadId)
	up, ok := f.uploads[id]
	if !ok {
		return nil, &smithy.GenericAPIError{Code: "NoSuchUpload", Message: "no such upload"}
	}

	var data []byte
	var digests []byte
	for i, p := range in.MultipartUpload.Parts {
		if aws.ToInt32(p.PartNumber) != int32(i+1) {
			return nil, &smithy.GenericAPIError{Code: "InvalidPartOrder", Message: "parts out of order"}
		}
		part, ok := up.parts[int32(i+1)]
		if !ok || aws.ToString(p.ETag) != `"`+md5Hex(part)+`"` {
			return nil, &smithy.GenericAPIError{Code: "InvalidPart", Message: "part missing or ETag differs"}
		}
		data = append(data, part...)
		d, _ := hex.DecodeString(md5Hex(part))
		digests = append(digests, d...)
	}
	etag := fmt.Sprintf("%s-%d", md5Hex(digests), len(in.MultipartUpload.Parts))
	if up.kms {
		etag = fmt.Sprintf("%s-%d", f.fakeKMSETag(), len(in.MultipartUpload.Parts))
	}
	f.objects[key] = fakeObject{data: data, etag: `"` + etag + `"`}
	delete(f.uploads, id)
	return &s3.CompleteMultipartUploadOutput{ETag: aws.String(`"` + etag + `"`)}, nil
}

func (f *fakeS3) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, _ ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	key := aws.ToString(in.Key)
	f.record("AbortMultipartUpload", key, abortRecord{in: in, ctxErr: ctx.Err()})
	if err := f.check(ctx, "AbortMultipartUpload", key); err != nil {
		return nil, err
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	id := aws.ToString(in.UploadId)
	if _, ok := f.uploads[id]; !ok {
		return nil, &types.NoSuchUpload{Message: aws.String("The specified upload does not exist.")}
	}
	if f.lateParts > 0 {
		f.lateParts--
		return &s3.AbortMultipartUploadOutput{}, nil
	}
	delete(f.uploads, id)
	return &s3.AbortMultipartUploadOutput{}, nil
}

// abortRecord keeps the context's state at the time of the abort request.
type abortRecord struct {
	in     *s3.AbortMultipartUploadInput
	ctxErr error
}

func (f *fakeS3) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, _ ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	f.record("DeleteObjects", "", in)
	if err := f.check(ctx, "DeleteObjects", ""); err != nil {
		return nil, err
	}

	out := &s3.DeleteObjectsOutput{}
	for _, id := range in.Delete.Objects {
		key := aws.ToString(id.Key)
		if err := f.check(ctx, "DeleteObject", key); err != nil {
			code := "InternalError"
			if apiErr, ok := err.(smithy.APIError); ok {
				code = apiErr.ErrorCode()
			}
			out.Errors = append(out.Errors, types.Error{Key: aws.String(key), Code: aws.String(code), Message: aws.String(err.Error())})
			continue
		}
		f.mu.Lock()
		delete(f.objects, key)
		f.mu.Unlock()
		out.Deleted = append(out.Deleted, types.DeletedObject{Key: aws.String(key)})
	}
	return out, nil
}

// openUploads returns the number of multipart uploads neither completed
// nor aborted.
func (f *fakeS3) openUploads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.uploads)
}

// expectedOwner returns the ExpectedBucketOwner of a recorded input.
func expectedOwner(input any) (string, bool) {
	switch in := input.(type) {
	case *s3.ListObjectsV2Input:
		return aws.ToString(in.ExpectedBucketOwner), true
	case *s3.GetObjectInput:
		return aws.ToString(in.ExpectedBucketOwner), true
	case *s3.PutObjectInput:
		return aws.ToString(in.ExpectedBucketOwner), true
	case *s3.CreateMultipartUploadInput:
		return aws.ToString(in.ExpectedBucketOwner), true
	case *s3.UploadPartInput:
		return aws.ToString(in.ExpectedBucketOwner), true
	case *s3.CompleteMultipartUploadInput:
		return aws.ToString(in.ExpectedBucketOwner), true
	case abortRecord:
		return aws.ToString(in.in.ExpectedBucketOwner), true
	case *s3.DeleteObjectsInput:
		return aws.ToString(in.ExpectedBucketOwner), true
	}
	return "", false
}
