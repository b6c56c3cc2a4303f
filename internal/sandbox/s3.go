package sandbox

import (
	"errors"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/uuid"
)

// serveS3 authenticates an S3 request, applies the checks that the front
// emulates and calls the Authorizer. It then responds itself or forwards
// the request to versitygw.
func (f *Front) serveS3(w http.ResponseWriter, r *http.Request, requestID string, auth *sigV4Request, failure *authFailure, info *requestLog) {
	call := classifyS3(r.Method, r.URL, r.Header)
	info.operation, info.bucket, info.key = call.Operation, call.Bucket, call.Key

	if failure != nil {
		writeS3Error(w, r, requestID, s3AuthError(failure, false))
		return
	}

	payloadHash, e := s3PayloadHash(r, auth)
	if e != nil {
		writeS3Error(w, r, requestID, e)
		return
	}
	id, failure := f.authenticate(r, auth, payloadHash)
	if failure != nil {
		writeS3Error(w, r, requestID, s3AuthError(failure, auth.presigned))
		return
	}
	if missing := auth.unsignedAmzHeaders(r); len(missing) > 0 {
		writeS3Error(w, r, requestID, errAccessDenied().with("HeadersNotSigned", strings.Join(missing, ", ")).
			withMessage("There were headers present in the request which were not signed"))
		return
	}
	info.principal = id.Name
	info.payload = payloadHash
	if isHexSHA256(payloadHash) {
		info.payload = "sha256"
	}

	req := &s3Request{
		front:       f,
		w:           w,
		r:           r,
		requestID:   requestID,
		auth:        auth,
		id:          id,
		call:        call,
		payloadHash: payloadHash,
	}
	if e := req.handle(); e != nil {
		writeS3Error(w, r, requestID, e)
	}
}

// s3Request is one authenticated S3 request on its way through the front.
type s3Request struct {
	front       *Front
	w           http.ResponseWriter
	r           *http.Request
	requestID   string
	auth        *sigV4Request
	id          *Identity
	call        s3Call
	payloadHash string

	bucket *Bucket // the world's bucket the request names, if any
	sse    *sseSetting
}

// handle returns an error to send, or nil once it has sent the response.
func (q *s3Request) handle() *s3Error {
	switch q.call.Operation {
	case "":
		return (&s3Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
			Message: "The specified method is not allowed against this resource."}).with("Method", q.r.Method)
	case "PostObject":
		return &s3Error{Status: http.StatusNotImplemented, Code: "NotImplemented",
			Message: "POST object uploads from HTML forms are not supported by the sandbox."}
	}

	if e := q.checkBucket(); e != nil {
		return e
	}
	if e := q.checkWriteHeaders(); e != nil {
		return e
	}
	if q.call.Operation == "DeleteObjects" {
		// S3 decides each key of the batch on its own.
		return q.deleteObjects()
	}
	if e := q.authorize(); e != nil {
		return e
	}

	switch q.call.Operation {
	case "ListBuckets":
		return q.listBuckets()
	case "CreateBucket", "DeleteBucket":
		// The world defines the buckets.
		return errAccessDenied()
	case "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy":
		return q.bucketPolicy()
	case "PutBucketAcl", "PutObjectAcl":
		return q.putACL()
	case "GetBucketAcl":
		return q.getBucketACL()
	}
	if bucketSettingsOperations[q.call.Operation] {
		return q.serveBucketSettings()
	}
	return q.forward()
}

// checkBucket resolves the bucket and copy source against the world and
// enforces ExpectedBucketOwner, which versitygw cannot check because it
// owns every bucket itself.
func (q *s3Request) checkBucket() *s3Error {
	if q.call.Bucket == "" {
		return nil
	}

	b, ok := q.front.dir.Bucket(q.call.Bucket)
	if !ok {
		if q.call.Operation == "CreateBucket" {
			return errAccessDenied()
		}
		return errNoSuchBucket(q.call.Bucket)
	}
	q.bucket = b

	if e := checkExpectedOwner(q.r.Header, "X-Amz-Expected-Bucket-Owner", b.Owner); e != nil {
		return e
	}

	if q.call.Operation != "CopyObject" && q.call.Operation != "UploadPartCopy" {
		return nil
	}
	srcBucket, _, ok := parseCopySource(q.r.Header.Get("X-Amz-Copy-Source"))
	if !ok {
		return errInvalidArgument("x-amz-copy-source", q.r.Header.Get("X-Amz-Copy-Source"),
			"Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
	}
	src, ok := q.front.dir.Bucket(srcBucket)
	if !ok {
		return errNoSuchBucket(srcBucket)
	}
	return checkExpectedOwner(q.r.Header, "X-Amz-Source-Expected-Bucket-Owner", src.Owner)
}

// checkExpectedOwner compares an expected-owner header, when present, with
// the bucket's owner account.
func checkExpectedOwner(h http.Header, name, owner string) *s3Error {
	values, ok := h[http.CanonicalHeaderKey(name)]
	if !ok {
		return nil
	}

	expected := strings.TrimSpace(values[0])
	if !accountIDPattern.MatchString(expected) {
		return &s3Error{Status: http.StatusBadRequest, Code: "InvalidBucketOwnerAWSAccountID",
			Message: "The value of the expected bucket owner parameter must be an AWS Account ID... [" + expected + "]"}
	}
	if expected != owner {
		return errAccessDenied()
	}
	return nil
}

func errNoSuchBucket(bucket string) *s3Error {
	return (&s3Error{Status: http.StatusNotFound, Code: "NoSuchBucket", Message: "The specified bucket does not exist"}).
		with("BucketName", bucket)
}

func (e *s3Error) withMessage(message string) *s3Error {
	e.Message = message
	return e
}

// sseSetting is the server-side encryption a write asked for, as S3 reports
// it back.
type sseSetting struct {
	algorithm        string // AES256, aws:kms or aws:kms:dsse
	kmsKeyID         string // key ARN, for aws:kms and aws:kms:dsse
	bucketKeyEnabled string // "true", "false" or empty
}

// checkWriteHeaders applies the bucket's settings to the ACL and SSE headers
// of an object write.
//
// NOTE: versitygw 1.8.0 accepts every canned ACL and ignores SSE headers
// (it stores no encryption setting and reports none), so the front emulates
// S3. It applies the bucket's Object Ownership and public access block to
// the ACL headers (see checkACLHeaders). It validates the SSE headers,
// applies the bucket's default encryption and rejects SSE-C on plain HTTP.
// It drops the ACL and SSE headers before forwarding, and reports the
// encryption in x-amz-server-side-encryption. Objects are never encrypted,
// and SSE-KMS objects keep MD5 ETags where S3 would not.
func (q *s3Request) checkWriteHeaders() *s3Error {
	h := q.r.Header

	for name := range h {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-server-side-encryption-customer-") ||
			strings.HasPrefix(lower, "x-amz-copy-source-server-side-encryption-customer-") {
			return errInvalidRequest("Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
		}
	}

	switch q.call.Operation {
	case "PutObject", "CreateMultipartUpload", "CopyObject":
	default:
		return nil
	}

	settings, err := q.front.settings.Get(q.bucket.Name)
	if err != nil {
		return errInternal(err)
	}
	if e := checkACLHeaders(h, settings, cannedObjectACLs); e != nil {
		return e
	}

	sse, e := parseSSE(h, q.front.region, q.bucket.Owner, settings.Encryption)
	if e != nil {
		return e
	}
	q.sse = sse
	return nil
}

// parseSSE returns the encryption of a write: the one its headers ask for,
// or else the bucket's default encryption.
//
// NOTE: a write to a bucket without default encryption reports AES256, as
// S3 has encrypted every new object with SSE-S3 since January 2023.
func parseSSE(h http.Header, region, owner string, bucketDefault *DefaultEncryption) (*sseSetting, *s3Error) {
	algorithm := h.Get("X-Amz-Server-Side-Encryption")
	keyID := h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
	bucketKey := h.Get("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled")

	if algorithm == "" && keyID == "" && bucketDefault != nil && bucketDefault.SSEAlgorithm != sseS3 {
		return &sseSetting{
			algorithm:        bucketDefault.SSEAlgorithm,
			kmsKeyID:         kmsKeyARN(bucketDefault.KMSKeyID, region, owner),
			bucketKeyEnabled: strconv.FormatBool(bucketDefault.BucketKeyEnabled),
		}, nil
	}

	switch algorithm {
	case "", "AES256":
		if keyID != "" {
			return nil, errInvalidArgument("x-amz-server-side-encryption", algorithm,
				"Server Side Encryption with AWS KMS managed key requires HTTP header x-amz-server-side-encryption : aws:kms")
		}
		return &sseSetting{algorithm: "AES256"}, nil
	case "aws:kms", "aws:kms:dsse":
		if bucketKey != "" && bucketKey != "true" && bucketKey != "false" {
			return nil, errInvalidArgument("x-amz-server-side-encryption-bucket-key-enabled", bucketKey,
				"The bucket key setting must be true or false.")
		}
		return &sseSetting{algorithm: algorithm, kmsKeyID: kmsKeyARN(keyID, region, owner), bucketKeyEnabled: bucketKey}, nil
	default:
		return nil, errInvalidArgument("x-amz-server-side-encryption", algorithm,
			"The encryption method specified is not supported")
	}
}

// kmsKeyARN returns the ARN S3 reports for a KMS key: the given ARN, a key
// ID or alias completed into an ARN, or the bucket owner's aws/s3 key.
func kmsKeyARN(keyID, region, owner string) string {
	prefix := "arn:aws:kms:" + region + ":" + owner + ":"
	switch {
	case keyID == "":
		// A stable stand-in for the AWS managed key aws/s3.
		return prefix + "key/" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("aws/s3:"+owner)).String()
	case strings.HasPrefix(keyID, "arn:"):
		return keyID
	case strings.HasPrefix(keyID, "alias/"):
		return prefix + keyID
	default:
		return prefix + "key/" + keyID
	}
}

// sseMetadataHeader stores a non-default SSE setting with the object in
// versitygw, so that GetObject and HeadObject can report it. The front
// strips it from every request and response.
const sseMetadataHeader = "X-Amz-Meta-Countersign-Sandbox-Sse"

func (s *sseSetting) metadataValue() string {
	return s.algorithm + ";" + s.kmsKeyID + ";" + s.bucketKeyEnabled
}

func sseFromMetadata(value string) *sseSetting {
	parts := strings.SplitN(value, ";", 3)
	if len(parts) != 3 || parts[0] == "" {
		return &sseSetting{algorithm: "AES256"}
	}
	return &sseSetting{algorithm: parts[0], kmsKeyID: parts[1], bucketKeyEnabled: parts[2]}
}

func (s *sseSetting) setResponseHeaders(h http.Header) {
	h.Set("X-Amz-Server-Side-Encryption", s.algorithm)
	if s.kmsKeyID != "" {
		h.Set("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id", s.kmsKeyID)
	}
	if s.bucketKeyEnabled == "true" {
		h.Set("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled", "true")
	}
}

// authorize returns the Authorizer's decision on the request.
func (q *s3Request) authorize() *s3Error {
	err := q.front.authorizer.Authorize(q.r.Context(), q.authzRequest())
	var denied *AccessDeniedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &denied):
		e := errAccessDenied()
		if denied.Message != "" {
			e.Message = denied.Message
		}
		return e
	default:
		return errInternal(err)
	}
}

// authzRequest describes the request for the Authorizer.
func (q *s3Request) authzRequest() AuthzRequest {
	req := AuthzRequest{
		PrincipalName: q.id.Name,
		PrincipalARN:  q.id.ARN,
		Account:       q.id.Account,
		RoleARN:       q.id.RoleARN,
		UserARN:       q.id.UserARN,
		SourceAccount: q.id.SourceAccount,
		SourceARN:     q.id.SourceARN,
		SessionPolicy: q.id.SessionPolicy,
		Operation:     q.call.Operation,
		Action:        q.call.Action,
		Bucket:        q.call.Bucket,
		Key:           q.call.Key,
		Query:         q.r.URL.Query(),
		Header:        clientHeaders(q.r.Header),
		TLS:           q.r.TLS != nil,
		SourceIP:      remoteIP(q.r),
	}
	if q.bucket != nil {
		req.BucketOwner = q.bucket.Owner
	}
	if q.call.Operation == "CopyObject" || q.call.Operation == "UploadPartCopy" {
		req.CopySourceBucket, req.CopySourceKey, _ = parseCopySource(q.r.Header.Get("X-Amz-Copy-Source"))
	}
	return req
}

// clientHeaders returns a copy of h without the request's credentials.
func clientHeaders(h http.Header) http.Header {
	c := h.Clone()
	c.Del("Authorization")
	c.Del("X-Amz-Security-Token")
	return c
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// listBuckets returns the caller's account's buckets, as S3 does, with the
// creation dates versitygw recorded.
//
// NOTE: pagination (max-buckets, continuation-token) is not implemented;
// every matching bucket is returned in one page.
func (q *s3Request) listBuckets() *s3Error {
	out, err := q.front.root.ListBuckets(q.r.Context(), &s3.ListBucketsInput{})
	if err != nil {
		return errInternal(err)
	}
	created := make(map[string]time.Time, len(out.Buckets))
	for _, b := range out.Buckets {
		if b.Name != nil && b.CreationDate != nil {
			created[*b.Name] = *b.CreationDate
		}
	}

	account, _ := q.front.dir.Account(q.id.Account)
	result := listAllMyBucketsResult{
		Owner:  xmlOwner{ID: account.Canonical(), DisplayName: displayName(account)},
		Prefix: q.r.URL.Query().Get("prefix"),
	}
	for _, b := range q.front.dir.World.Buckets {
		if b.Owner != q.id.Account || !strings.HasPrefix(b.Name, result.Prefix) {
			continue
		}
		result.Buckets = append(result.Buckets, xmlBucket{
			Name:         b.Name,
			CreationDate: created[b.Name].UTC().Format(time.RFC3339),
			BucketRegion: q.front.region,
		})
	}
	slices.SortFunc(result.Buckets, func(a, b xmlBucket) int { return strings.Compare(a.Name, b.Name) })

	writeXML(q.w, q.r, q.requestID, http.StatusOK, result)
	return nil
}

type listAllMyBucketsResult struct {
	XMLName struct{}    `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ListAllMyBucketsResult"`
	Owner   xmlOwner    `xml:"Owner"`
	Buckets []xmlBucket `xml:"Buckets>Bucket"`
	Prefix  string      `xml:"Prefix,omitempty"`
}

type xmlOwner struct {
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}

type xmlBucket struct {
	Name         string `xml:"Name"`
	CreationDate string `xml:"CreationDate"`
	BucketRegion string `xml:"BucketRegion"`
}

func displayName(a *Account) string {
	if a.Alias != "" {
		return a.Alias
	}
	return a.ID
}

// bucketPolicy serves the bucket policy operations from the front's store.
// Only the bucket owner's account may use them: S3 answers other accounts
// with 405 even when a policy grants them the action.
func (q *s3Request) bucketPolicy() *s3Error {
	if q.id.Account != q.bucket.Owner {
		return (&s3Error{Status: http.StatusMethodNotAllowed, Code: "MethodNotAllowed",
			Message: "The specified method is not allowed against this resource."}).
			with("Method", q.r.Method).with("ResourceType", "BUCKETPOLICY")
	}
	store := q.front.policies

	switch q.call.Operation {
	case "GetBucketPolicy":
		doc, ok, err := store.Get(q.bucket.Name)
		if err != nil {
			return errInternal(err)
		}
		if !ok {
			return (&s3Error{Status: http.StatusNotFound, Code: "NoSuchBucketPolicy", Message: "The bucket policy does not exist"}).
				with("BucketName", q.bucket.Name)
		}
		setRequestIDHeaders(q.w, q.requestID)
		q.w.Header().Set("Content-Type", "application/json")
		q.w.Header().Set("Content-Length", strconv.Itoa(len(doc)))
		q.w.WriteHeader(http.StatusOK)
		if q.r.Method != http.MethodHead {
			_, _ = q.w.Write(doc)
		}
		return nil

	case "PutBucketPolicy":
		doc, e := q.readBody(maxBucketPolicySize)
		if e != nil {
			return e
		}
		if len(doc) > maxBucketPolicySize {
			// NOTE: the error code S3 uses for an oversized policy is not
			// documented; MalformedPolicy is the closest documented one.
			return &s3Error{Status: http.StatusBadRequest, Code: "MalformedPolicy",
				Message: "Policy exceeds the maximum allowed document size of 20 KB."}
		}
		if err := ValidatePolicy(doc); err != nil {
			return &s3Error{Status: http.StatusBadRequest, Code: "MalformedPolicy", Message: err.Error()}
		}
		if e := q.checkBlockPublicPolicy(doc); e != nil {
			return e
		}
		if err := store.Put(q.bucket.Name, doc); err != nil {
			return errInternal(err)
		}

	case "DeleteBucketPolicy":
		if err := store.Delete(q.bucket.Name); err != nil {
			return errInternal(err)
		}
	}

	setRequestIDHeaders(q.w, q.requestID)
	q.w.WriteHeader(http.StatusNoContent)
	return nil
}

// s3AuthError turns an authentication failure into S3's error response.
func s3AuthError(f *authFailure, presigned bool) *s3Error {
	switch f.kind {
	case authMissing:
		// TODO: evaluate anonymous requests against bucket policies that
		// allow Principal "*" once the policy evaluator exists.
		return errAccessDenied()
	case authMalformed, authWrongRegion:
		code := "AuthorizationHeaderMalformed"
		message := "The authorization header is malformed; " + f.detail
		if presigned {
			code = "AuthorizationQueryParametersError"
			message = "Error parsing the X-Amz-Credential parameter; " + f.detail
		}
		if f.kind == authMalformed {
			message = f.detail
		}
		e := &s3Error{Status: http.StatusBadRequest, Code: code, Message: message}
		if f.region != "" {
			e.with("Region", f.region)
		}
		return e
	case authUnsupported:
		return errInvalidRequest("%s", f.detail)
	case authUnknownKey:
		return (&s3Error{Status: http.StatusForbidden, Code: "InvalidAccessKeyId", Message: f.detail}).
			with("AWSAccessKeyId", f.accessKeyID)
	case authInvalidToken:
		return &s3Error{Status: http.StatusBadRequest, Code: "InvalidToken", Message: f.detail}
	case authSignatureMismatch:
		return (&s3Error{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch", Message: f.detail}).
			with("AWSAccessKeyId", f.accessKeyID).
			with("StringToSign", f.stringToSign).
			with("CanonicalRequest", f.canonicalRequest)
	case authClockSkew:
		return (&s3Error{Status: http.StatusForbidden, Code: "RequestTimeTooSkewed", Message: f.detail}).
			with("MaxAllowedSkewMilliseconds", strconv.FormatInt(maxClockSkew.Milliseconds(), 10))
	case authExpired, authNotYetValid:
		return &s3Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: f.detail}
	case authExpiredToken:
		return &s3Error{Status: http.StatusBadRequest, Code: "ExpiredToken", Message: f.detail}
	case authBadContentSHA256:
		return errInvalidArgument("x-amz-content-sha256", "", "%s", f.detail)
	}
	return &s3Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: f.detail}
}

// s3PayloadHash returns the payload hash the client put into its canonical
// request. Header-signed S3 requests must state it in x-amz-content-sha256;
// presigned URLs default to UNSIGNED-PAYLOAD.
func s3PayloadHash(r *http.Request, auth *sigV4Request) (string, *s3Error) {
	value := r.Header.Get("X-Amz-Content-Sha256")
	if value == "" {
		if auth.presigned {
			return unsignedPayload, nil
		}
		return "", errInvalidRequest("Missing required header for this request: x-amz-content-sha256")
	}

	switch {
	case value == unsignedPayload, value == streamingSigned, value == streamingSignedTrailer, value == streamingUnsignedTrailer:
		return value, nil
	case isHexSHA256(value):
		return value, nil
	case strings.HasPrefix(value, streamingECDSAPrefix):
		return "", errInvalidRequest("Signature Version 4A (%s) is not supported by the sandbox; sign with %s.", value, sigV4Algorithm)
	}
	return "", errInvalidArgument("x-amz-content-sha256", value,
		"x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER or a valid sha256 value.")
}
