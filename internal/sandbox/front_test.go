package sandbox

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const (
	testRootAccess = "SANDBOXROOTTEST"
	testRootSecret = "root-secret"
)

// forwarded is a request as versitygw would receive it.
type forwarded struct {
	method    string
	path      string // escaped
	rawQuery  string
	header    http.Header
	body      []byte
	bodyErr   error
	signature *authFailure // nil when the root signature verified
}

// recordingUpstream replaces versitygw in unit tests. It checks that each
// request is signed with the root key and records it.
type recordingUpstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []forwarded
}

func newRecordingUpstream(t *testing.T) *recordingUpstream {
	t.Helper()
	u := &recordingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, bodyErr := io.ReadAll(r.Body)
		rec := forwarded{method: r.Method, path: r.URL.EscapedPath(), rawQuery: r.URL.RawQuery, header: r.Header.Clone(), body: body, bodyErr: bodyErr}

		auth, failure := parseSigV4(r)
		if failure == nil {
			if auth.accessKeyID != testRootAccess {
				failure = authFail(authUnknownKey, "not the root key: %s", auth.accessKeyID)
			} else {
				failure = auth.verify(r, testRootSecret, r.Header.Get("X-Amz-Content-Sha256"))
			}
		}
		rec.signature = failure

		u.mu.Lock()
		u.requests = append(u.requests, rec)
		u.mu.Unlock()

		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/":
			w.Header().Set("Content-Type", "application/xml")
			_, _ = io.WriteString(w, `<ListAllMyBucketsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>root</ID></Owner><Buckets><Bucket><Name>dev-artifacts</Name><CreationDate>2026-01-02T03:04:05.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>`)
		case r.Method == http.MethodHead:
			w.Header().Set(sseMetadataHeader, r.Header.Get("X-Test-Stored-Sse"))
			w.Header().Set("Content-Length", "0")
		case bodyErr != nil:
			w.WriteHeader(http.StatusBadRequest)
		case r.Method == http.MethodPost && r.URL.Query().Has("delete"):
			writeUpstreamDeleteResult(w, body)
		default:
			w.Header().Set("ETag", `"etag"`)
			// versitygw 1.8.0 repeats its request id headers.
			w.Header().Add("X-Amz-Request-Id", "UPSTREAMID")
			w.Header().Add("X-Amz-Request-Id", "UPSTREAMID")
		}
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *recordingUpstream) all() []forwarded {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]forwarded(nil), u.requests...)
}

func (u *recordingUpstream) last(t *testing.T) forwarded {
	t.Helper()
	all := u.all()
	if len(all) == 0 {
		t.Fatal("nothing was forwarded")
	}
	return all[len(all)-1]
}

type denyDeletes struct{}

func (denyDeletes) Authorize(_ context.Context, req AuthzRequest) error {
	if req.Action == "s3:DeleteObject" {
		return &AccessDeniedError{Message: "User: " + req.PrincipalARN + " is not authorized to perform: s3:DeleteObject"}
	}
	return nil
}

type frontFixture struct {
	upstream *recordingUpstream
	server   *httptest.Server
	dir      *Directory
	front    *Front
}

func newFrontFixture(t *testing.T, authorizer Authorizer) *frontFixture {
	t.Helper()
	w, err := DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	return newFrontFixtureWorld(t, authorizer, w)
}

// newFrontFixtureWorld serves w; a nil authorizer uses the one Run uses.
func newFrontFixtureWorld(t *testing.T, authorizer Authorizer, w *World) *frontFixture {
	t.Helper()
	dir, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}
	upstream := newRecordingUpstream(t)

	// nil stands for what Run uses, so the front is tested as it serves.
	policyDir := t.TempDir()
	if authorizer == nil {
		authorizer, err = NewDefaultAuthorizer(dir, policyDir)
		if err != nil {
			t.Fatal(err)
		}
	}

	front, err := NewFront(FrontConfig{
		Directory:   dir,
		PolicyDir:   policyDir,
		SettingsDir: t.TempDir(),
		Authorizer:  authorizer,
		UpstreamURL: upstream.URL,
		RootAccess:  testRootAccess,
		RootSecret:  testRootSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	// As createBuckets does at the first start, without asking versitygw.
	for _, b := range w.Buckets {
		if err := front.policies.Put(b.Name, b.Policy); err != nil {
			t.Fatal(err)
		}
	}
	server := httptest.NewServer(front)
	t.Cleanup(server.Close)
	return &frontFixture{upstream: upstream, server: server, dir: dir, front: front}
}

func (f *frontFixture) s3As(name string, optFns ...func(*s3.Options)) *s3.Client {
	id := f.dir.byName[name]
	opts := s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(f.server.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(id.AccessKeyID, id.SecretAccessKey, id.SessionToken),
		RetryMaxAttempts: 1,
	}
	for _, fn := range optFns {
		fn(&opts)
	}
	return s3.New(opts)
}

// apiError returns the S3 error code and HTTP status of err.
func apiError(t *testing.T, err error) (code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatal("the request succeeded, want an error")
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) {
		code = coded.ErrorCode()
	}
	return code, status
}

func TestFrontPutObjectForwarded(t *testing.T) {
	f := newFrontFixture(t, nil)
	client := f.s3As("build")
	key := "dir/a b+c/ü.txt"

	out, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket:              aws.String("dev-artifacts"),
		Key:                 aws.String(key),
		Body:                strings.NewReader("hello world"),
		ExpectedBucketOwner: aws.String("222222222222"),
		ACL:                 s3types.ObjectCannedACLBucketOwnerFullControl,
		ContentType:         aws.String("text/plain"),
		Metadata:            map[string]string{"build": "42"},
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	got := f.upstream.last(t)
	if got.signature != nil {
		t.Errorf("forwarded request is not signed with the root key: %v", got.signature)
	}
	if got.path != "/dev-artifacts/dir/a%20b%2Bc/%C3%BC.txt" {
		t.Errorf("forwarded path %q", got.path)
	}
	if string(got.body) != "hello world" {
		t.Errorf("forwarded body %q", got.body)
	}
	for _, name := range []string{"X-Amz-Expected-Bucket-Owner", "X-Amz-Acl", "X-Amz-Security-Token"} {
		if v := got.header.Get(name); v != "" {
			t.Errorf("%s = %q was forwarded", name, v)
		}
	}
	for name, want := range map[string]string{"Content-Type": "text/plain", "X-Amz-Meta-Build": "42"} {
		if v := got.header.Get(name); v != want {
			t.Errorf("forwarded %s = %q, want %q", name, v, want)
		}
	}
	if out.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
		t.Errorf("ServerSideEncryption = %q, want AES256", out.ServerSideEncryption)
	}
	if aws.ToString(out.ETag) != `"etag"` {
		t.Errorf("ETag = %q, want versitygw's", aws.ToString(out.ETag))
	}
}

func TestFrontExpectedBucketOwner(t *testing.T) {
	f := newFrontFixture(t, nil)
	client := f.s3As("build")
	ctx := context.Background()

	tests := []struct {
		name       string
		owner      string
		wantCode   string
		wantStatus int
	}{
		{"Right", "222222222222", "", 0},
		{"Wrong", "111111111111", "AccessDenied", 403},
		{"NotAnAccount", "dev", "InvalidBucketOwnerAWSAccountID", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(f.upstream.all())

			_, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("dev-artifacts"), ExpectedBucketOwner: aws.String(tt.owner)})

			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("ListObjectsV2: %v", err)
				}
				return
			}
			code, status := apiError(t, err)
			if code != tt.wantCode || status != tt.wantStatus {
				t.Errorf("got %s %d, want %s %d", code, status, tt.wantCode, tt.wantStatus)
			}
			if after := len(f.upstream.all()); after != before {
				t.Errorf("a rejected request was forwarded")
			}
		})
	}

	_, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dev-artifacts"), Key: aws.String("k"), ExpectedBucketOwner: aws.String("333333333333")})
	if _, status := apiError(t, err); status != 403 {
		t.Errorf("HeadObject with the wrong owner: status %d, want 403", status)
	}
}

func TestFrontACLAndSSE(t *testing.T) {
	f := newFrontFixture(t, nil)
	client := f.s3As("build")
	ctx := context.Background()
	put := func(in *s3.PutObjectInput) (*s3.PutObjectOutput, error) {
		in.Bucket, in.Key, in.Body = aws.String("dev-artifacts"), aws.String("k"), strings.NewReader("x")
		return client.PutObject(ctx, in)
	}

	_, err := put(&s3.PutObjectInput{ACL: s3types.ObjectCannedACLPublicRead})
	if code, status := apiError(t, err); code != "AccessControlListNotSupported" || status != 400 {
		t.Errorf("public-read: got %s %d, want AccessControlListNotSupported 400", code, status)
	}
	_, err = put(&s3.PutObjectInput{GrantRead: aws.String("id=abc")})
	if code, _ := apiError(t, err); code != "AccessControlListNotSupported" {
		t.Errorf("grant header: got %s, want AccessControlListNotSupported", code)
	}
	_, err = put(&s3.PutObjectInput{ServerSideEncryption: "AES128"})
	if code, _ := apiError(t, err); code != "InvalidArgument" {
		t.Errorf("unknown SSE: got %s, want InvalidArgument", code)
	}
	_, err = put(&s3.PutObjectInput{SSECustomerAlgorithm: aws.String("AES256"), SSECustomerKey: aws.String(strings.Repeat("k", 32))})
	if code, _ := apiError(t, err); code != "InvalidRequest" {
		t.Errorf("SSE-C over HTTP: got %s, want InvalidRequest", code)
	}

	out, err := put(&s3.PutObjectInput{ServerSideEncryption: s3types.ServerSideEncryptionAwsKms})
	if err != nil {
		t.Fatalf("aws:kms: %v", err)
	}
	if out.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || !strings.HasPrefix(aws.ToString(out.SSEKMSKeyId), "arn:aws:kms:us-east-1:222222222222:key/") {
		t.Errorf("aws:kms reported %q key %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
	}
	got := f.upstream.last(t)
	if got.header.Get("X-Amz-Server-Side-Encryption") != "" {
		t.Error("the SSE header was forwarded")
	}
	stored := got.header.Get(sseMetadataHeader)
	if !strings.HasPrefix(stored, "aws:kms;arn:aws:kms:") {
		t.Errorf("recorded SSE metadata %q", stored)
	}

	// HeadObject reports what was recorded with the object; the recording
	// upstream returns the metadata that the test requests.
	head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("dev-artifacts"), Key: aws.String("k")},
		func(o *s3.Options) {
			o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue("X-Test-Stored-Sse", stored))
		})
	if err != nil {
		t.Fatalf("HeadObject: %v", err)
	}
	if head.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms {
		t.Errorf("HeadObject SSE = %q, want aws:kms", head.ServerSideEncryption)
	}
	if head.Metadata["countersign-sandbox-sse"] != "" {
		t.Error("the SSE record leaked into the object's metadata")
	}
}

func TestFrontBucketsFromWorld(t *testing.T) {
	f := newFrontFixture(t, nil)
	ctx := context.Background()
	admin := f.s3As("dev-admin")

	_, err := admin.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("new-bucket")})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("CreateBucket: got %s %d, want AccessDenied 403", code, status)
	}
	_, err = admin.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String("dev-artifacts")})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Errorf("DeleteBucket: got %s, want AccessDenied", code)
	}
	_, err = admin.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("other-bucket"), Key: aws.String("k")})
	if code, status := apiError(t, err); code != "NoSuchBucket" || status != 404 {
		t.Errorf("unknown bucket: got %s %d, want NoSuchBucket 404", code, status)
	}
	if n := len(f.upstream.all()); n != 0 {
		t.Errorf("%d requests reached versitygw, want none", n)
	}

	list, err := admin.ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets as dev-admin: %v", err)
	}
	if len(list.Buckets) != 1 || aws.ToString(list.Buckets[0].Name) != "dev-artifacts" {
		t.Errorf("dev-admin lists %v, want dev-artifacts", list.Buckets)
	}
	account, _ := f.dir.Account("222222222222")
	if aws.ToString(list.Owner.ID) != account.Canonical() {
		t.Errorf("owner ID %q, want the dev account's canonical ID", aws.ToString(list.Owner.ID))
	}
	if want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC); !aws.ToTime(list.Buckets[0].CreationDate).Equal(want) {
		t.Errorf("creation date %v, want versitygw's %v", list.Buckets[0].CreationDate, want)
	}

	// The build role lacks s3:ListAllMyBuckets, as the world grants least privilege.
	_, err = f.s3As("build").ListBuckets(ctx, &s3.ListBucketsInput{})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("ListBuckets as build: got %s %d, want AccessDenied 403", code, status)
	}

	// Allowed to list, build gets only its own account's buckets.
	open := newFrontFixture(t, AllowAll{})
	list, err = open.s3As("build").ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets as build under AllowAll: %v", err)
	}
	if len(list.Buckets) != 0 {
		t.Errorf("build lists %v, but its account owns no bucket", list.Buckets)
	}
}

func TestFrontBucketPolicy(t *testing.T) {
	f := newFrontFixture(t, nil)
	ctx := context.Background()
	admin := f.s3As("dev-admin")
	bucket := aws.String("dev-artifacts")

	got, err := admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	if err != nil {
		t.Fatalf("GetBucketPolicy: %v", err)
	}
	if !strings.Contains(aws.ToString(got.Policy), "AllowBuildRoleObjects") {
		t.Errorf("initial policy %q is not the world's", aws.ToString(got.Policy))
	}

	doc := "{ \"Version\": \"2012-10-17\",\n  \"Statement\": {\"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"s3:*\", \"Resource\": \"*\"} }\n"
	if _, err := admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(doc)}); err != nil {
		t.Fatalf("PutBucketPolicy: %v", err)
	}
	got, err = admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	if err != nil {
		t.Fatalf("GetBucketPolicy: %v", err)
	}
	if aws.ToString(got.Policy) != doc {
		t.Errorf("policy %q, want the bytes put %q", aws.ToString(got.Policy), doc)
	}

	_, err = admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(`{"Statement": [{"Effect": "Perhaps"}]}`)})
	if code, status := apiError(t, err); code != "MalformedPolicy" || status != 400 {
		t.Errorf("malformed policy: got %s %d, want MalformedPolicy 400", code, status)
	}
	_, err = admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(`{"Statement": {"Effect": "Allow"}, "pad": "` + strings.Repeat("x", 21*1024) + `"}`)})
	if code, _ := apiError(t, err); code != "MalformedPolicy" {
		t.Errorf("oversized policy: got %s, want MalformedPolicy", code)
	}

	// S3 returns 403 to a caller without s3:GetBucketPolicy, and 405 to a
	// caller that has it but is outside the bucket owner's account.
	_, err = f.s3As("build").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("policy read without permission: got %s %d, want AccessDenied 403", code, status)
	}
	_, err = newFrontFixture(t, AllowAll{}).s3As("build").GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	if code, status := apiError(t, err); code != "MethodNotAllowed" || status != 405 {
		t.Errorf("policy read from another account: got %s %d, want MethodNotAllowed 405", code, status)
	}

	if _, err := admin.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket}); err != nil {
		t.Fatalf("DeleteBucketPolicy: %v", err)
	}
	if _, err := admin.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket}); err != nil {
		t.Errorf("DeleteBucketPolicy without a policy: %v", err)
	}
	_, err = admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: bucket})
	if code, status := apiError(t, err); code != "NoSuchBucketPolicy" || status != 404 {
		t.Errorf("after delete: got %s %d, want NoSuchBucketPolicy 404", code, status)
	}

	if n := len(f.upstream.all()); n != 0 {
		t.Errorf("%d policy requests reached versitygw, want none", n)
	}
}

func TestFrontAuthenticationErrors(t *testing.T) {
	f := newFrontFixture(t, nil)
	ctx := context.Background()
	build := f.dir.byName["build"]
	list := func(client *s3.Client) error {
		_, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("dev-artifacts")})
		return err
	}
	withCreds := func(key, secret, token string) func(*s3.Options) {
		return func(o *s3.Options) { o.Credentials = credentials.NewStaticCredentialsProvider(key, secret, token) }
	}

	tests := []struct {
		name       string
		opt        func(*s3.Options)
		wantCode   string
		wantStatus int
	}{
		{"UnknownKey", withCreds("AKIAUNKNOWN000000000", "secret", ""), "InvalidAccessKeyId", 403},
		{"WrongSecret", withCreds(build.AccessKeyID, "wrong", build.SessionToken), "SignatureDoesNotMatch", 403},
		{"MissingToken", withCreds(build.AccessKeyID, build.SecretAccessKey, ""), "InvalidAccessKeyId", 403},
		{"WrongToken", withCreds(build.AccessKeyID, build.SecretAccessKey, "other-token"), "InvalidToken", 400},
		{"WrongRegion", func(o *s3.Options) { o.Region = "eu-west-1" }, "AuthorizationHeaderMalformed", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := list(f.s3As("build", tt.opt))

			code, status := apiError(t, err)
			if code != tt.wantCode || status != tt.wantStatus {
				t.Errorf("got %s %d, want %s %d", code, status, tt.wantCode, tt.wantStatus)
			}
		})
	}
	if n := len(f.upstream.all()); n != 0 {
		t.Errorf("%d unauthenticated requests reached versitygw", n)
	}
}

func TestFrontAuthorizerDenies(t *testing.T) {
	f := newFrontFixture(t, denyDeletes{})
	client := f.s3As("build")

	_, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("dev-artifacts"), Key: aws.String("k")})

	code, status := apiError(t, err)
	if code != "AccessDenied" || status != 403 {
		t.Errorf("got %s %d, want AccessDenied 403", code, status)
	}
	if !strings.Contains(err.Error(), "is not authorized to perform: s3:DeleteObject") {
		t.Errorf("error %v does not carry the authorizer's message", err)
	}
	if n := len(f.upstream.all()); n != 0 {
		t.Errorf("a denied request reached versitygw")
	}
}

func TestFrontPresignedGet(t *testing.T) {
	f := newFrontFixture(t, nil)
	presigner := s3.NewPresignClient(f.s3As("build"))

	req, err := presigner.PresignGetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("dev-artifacts"), Key: aws.String("a b/c")})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(req.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	got := f.upstream.last(t)
	if got.signature != nil {
		t.Errorf("forwarded request is not signed with the root key: %v", got.signature)
	}
	if strings.Contains(got.rawQuery, "X-Amz-Signature") || strings.Contains(got.rawQuery, "X-Amz-Credential") {
		t.Errorf("the client's presigned query was forwarded: %s", got.rawQuery)
	}
}

func TestFrontGetCallerIdentity(t *testing.T) {
	f := newFrontFixture(t, nil)
	build := f.dir.byName["build"]
	client := sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(f.server.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(build.AccessKeyID, build.SecretAccessKey, build.SessionToken),
	})

	out, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})

	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if aws.ToString(out.Arn) != build.ARN || aws.ToString(out.Account) != "111111111111" || aws.ToString(out.UserId) != build.UserID {
		t.Errorf("got %s %s %s, want %s 111111111111 %s", aws.ToString(out.Arn), aws.ToString(out.Account), aws.ToString(out.UserId), build.ARN, build.UserID)
	}
}

func TestFrontSTSInvalidAction(t *testing.T) {
	f := newFrontFixture(t, nil)
	admin := f.dir.byName["dev-admin"]
	body := "Action=AssumeRoot&Version=2011-06-15"
	req, err := http.NewRequest(http.MethodPost, f.server.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	creds := aws.Credentials{AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hexSHA256(body), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	text, _ := io.ReadAll(resp.Body)

	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want 400", resp.StatusCode)
	}
	if !strings.Contains(string(text), "<Code>InvalidAction</Code>") || !strings.Contains(string(text), `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">`) {
		t.Errorf("body %s, want an STS InvalidAction error", text)
	}
}

func hexSHA256(s string) string {
	return fmt.Sprintf("%x", sha256Sum([]byte(s)))
}

// streamingPut sends a PutObject with an aws-chunked signed body, signed
// the way SDKs that stream do.
func streamingPut(t *testing.T, f *frontFixture, data []byte, trailers []trailer, corrupt bool) *http.Response {
	t.Helper()
	id := f.dir.byName["build"]
	payload := streamingSigned
	if len(trailers) > 0 {
		payload = streamingSignedTrailer
	}

	req, err := http.NewRequest(http.MethodPut, f.server.URL+"/dev-artifacts/streamed", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", payload)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(data)))
	if len(trailers) > 0 {
		req.Header.Set("X-Amz-Trailer", trailers[0].name)
	}
	now := time.Now().UTC()
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey, SessionToken: id.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", now); err != nil {
		t.Fatal(err)
	}

	seed := req.Header.Get("Authorization")
	seed = seed[strings.LastIndex(seed, "Signature=")+len("Signature="):]
	auth := &sigV4Request{scopeDate: now.Format(scopeDateFormat), region: "us-east-1", service: "s3"}
	signer := chunkSigner{key: auth.signingKey(id.SecretAccessKey), amzDate: now.Format(amzDateFormat), scope: auth.scope(), previous: seed}

	body := signedChunks(signer, data, 64*1024, trailers)
	if corrupt {
		body[len(body)/2] ^= 1
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestFrontStreamingSigned(t *testing.T) {
	f := newFrontFixture(t, nil)
	data := bytes.Repeat([]byte("streamed "), 30000)

	resp := streamingPut(t, f, data, nil, false)

	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, text)
	}
	got := f.upstream.last(t)
	if got.signature != nil {
		t.Errorf("forwarded request is not signed with the root key: %v", got.signature)
	}
	if !bytes.Equal(got.body, data) {
		t.Errorf("versitygw received %d bytes, want the %d decoded bytes", len(got.body), len(data))
	}
	if v := got.header.Get("X-Amz-Content-Sha256"); v != unsignedPayload {
		t.Errorf("forwarded payload hash %q, want UNSIGNED-PAYLOAD", v)
	}
	if v := got.header.Get("Content-Encoding"); v != "" {
		t.Errorf("forwarded Content-Encoding %q, want none", v)
	}
}

func TestFrontStreamingSignedTrailer(t *testing.T) {
	f := newFrontFixture(t, nil)
	data := bytes.Repeat([]byte("trailer "), 30000)
	checksum := base64Checksum(data)

	resp := streamingPut(t, f, data, []trailer{{"x-amz-checksum-crc32", checksum}}, false)

	if resp.StatusCode != http.StatusOK {
		text, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d: %s", resp.StatusCode, text)
	}
	got := f.upstream.last(t)
	if got.signature != nil {
		t.Errorf("forwarded request is not signed with the root key: %v", got.signature)
	}
	if v := got.header.Get("X-Amz-Content-Sha256"); v != streamingUnsignedTrailer {
		t.Errorf("forwarded payload hash %q, want %s", v, streamingUnsignedTrailer)
	}
	decoder := newChunkedBody(bytes.NewReader(got.body), nil, int64(len(data)), []string{"x-amz-checksum-crc32"})
	decoded, err := io.ReadAll(decoder)
	if err != nil {
		t.Fatalf("versitygw could not decode the forwarded body: %v", err)
	}
	if !bytes.Equal(decoded, data) {
		t.Errorf("forwarded %d bytes, want %d", len(decoded), len(data))
	}
	if tr := decoder.Trailers(); len(tr) != 1 || tr[0].value != checksum {
		t.Errorf("forwarded trailers %v, want the crc32", tr)
	}
}

func TestFrontStreamingCorrupt(t *testing.T) {
	f := newFrontFixture(t, nil)
	data := bytes.Repeat([]byte("corrupt "), 30000)

	resp := streamingPut(t, f, data, nil, true)

	if resp.StatusCode != http.StatusForbidden && resp.StatusCode != http.StatusBadRequest {
		t.Errorf("status %d, want the chunk check to fail the upload", resp.StatusCode)
	}
	for _, got := range f.upstream.all() {
		if got.bodyErr == nil && len(got.body) == len(data) {
			t.Errorf("versitygw received the whole body of a corrupt upload")
		}
	}
}

func TestFrontSendsOneRequestID(t *testing.T) {
	f := newFrontFixture(t, nil)
	presigned, err := s3.NewPresignClient(f.s3As("build")).PresignPutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("dev-artifacts"),
		Key:    aws.String("one-id.txt"),
	})
	if err != nil {
		t.Fatal(err)
	}

	req, err := http.NewRequest(presigned.Method, presigned.URL, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range presigned.SignedHeader {
		req.Header[name] = values
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}
	if got := resp.Header.Values("X-Amz-Request-Id"); len(got) != 1 {
		t.Errorf("X-Amz-Request-Id values = %q, want one", got)
	}
}

// writeUpstreamDeleteResult responds to a DeleteObjects body as versitygw
// would: every key is deleted, except keys that contain "fail", which get
// an InternalError entry. Quiet mode lists only the errors.
func writeUpstreamDeleteResult(w http.ResponseWriter, body []byte) {
	var in deleteRequest
	if err := xml.Unmarshal(body, &in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}

	var out deleteResult
	for _, obj := range in.Objects {
		switch {
		case strings.Contains(obj.Key, "fail"):
			out.Entries = append(out.Entries, deleteEntry{XMLName: xml.Name{Local: "Error"}, Key: obj.Key, VersionID: obj.VersionID, Code: "InternalError", Message: "upstream failure"})
		case !in.Quiet:
			out.Entries = append(out.Entries, deleteEntry{XMLName: xml.Name{Local: "Deleted"}, Key: obj.Key, VersionID: obj.VersionID})
		}
	}
	data, _ := xml.Marshal(out)
	w.Header().Set("Content-Type", "application/xml")
	_, _ = w.Write(data)
}
