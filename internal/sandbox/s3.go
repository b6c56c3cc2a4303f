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

// Object ownership "bucket owner enforced", S3's default for new buckets,
// accepts only these canned ACLs.
const bucketOwnerFullControl = "bucket-owner-full-control"

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

// NOTE: versitygw 1.8.0 accepts every canned ACL and ignores SSE headers
// (it stores no encryption setting and reports none). The front emulates S3
// with object ownership "bucket owner enforced" and default SSE-S3: it
// rejects ACLs other than bucket-owner-full-control with
// AccessControlListNotSupported, validates the SSE headers, rejects SSE-C
// on plain HTTP, drops the ACL and SSE headers before forwarding, and
// reports the encryption in x-amz-server-side-encryption. Objects are never
// encrypted, and SSE-KMS objects keep MD5 ETags where S3 would not.
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

	if e := checkCannedACL(h, bucketOwnerFullControl); e != nil {
		return e
	}

	sse, e := parseSSE(h, q.front.region, q.bucket.Owner)
	if e != nil {
		return e
	}
	q.sse = sse
	return nil
}

// checkCannedACL accepts no ACL or one of the allowed canned ACLs, and no
// grant headers, as S3 does when ACLs are disabled.
func checkCannedACL(h http.Header, allowed ...string) *s3Error {
	notSupported := &s3Error{Status: http.StatusBadRequest, Code: "AccessControlListNotSupported", Message: "The bucket does not allow ACLs"}

	if acl := h.Get("X-Amz-Acl"); acl != "" && !slices.Contains(allowed, acl) {
		return notSupported
	}
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-grant-") {
			return notSupported
		}
	}
	return nil
}

func parseSSE(h http.Header, region, owner string) (*sseSetting, *s3Error) {
	algorithm := h.Get("X-Amz-Server-Side-Encryption")
	keyID := h.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id")
	bucketKey := h.Get("X-Amz-Server-Side-Encryption-Bucket-Key-Enabled")

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
	req := AuthzRequest{
		PrincipalName: q.id.Name,
		PrincipalARN:  q.id.ARN,
		Account:       q.id.Account,
		RoleARN:       q.id.RoleARN,
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

	err := q.front.authorizer.Authorize(q.r.Context(), req)
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

// putACL accepts only the ACLs that a bucket with ACLs disabled accepts,
// and stores nothing, because such a bucket ignores ACLs.
//
// NOTE: PutObjectAcl does not check that the object exists.
func (q *s3Request) putACL() *s3Error {
	if e := checkCannedACL(q.r.Header, bucketOwnerFullControl, "private"); e != nil {
		return e
	}
	if q.r.Header.Get("X-Amz-Acl") == "" || q.r.ContentLength != 0 {
		// An AccessControlPolicy body sets grants.
		return &s3Error{Status: http.StatusBadRequest, Code: "AccessControlListNotSupported", Message: "The bucket does not allow ACLs"}
	}

	setRequestIDHeaders(q.w, q.requestID)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

// getBucketACL returns the only ACL a bucket with ACLs disabled has: full
// control for the owner's account. versitygw would name its root user.
func (q *s3Request) getBucketACL() *s3Error {
	account, _ := q.front.dir.Account(q.bucket.Owner)
	owner := xmlOwner{ID: account.Canonical(), DisplayName: displayName(account)}
	result := accessControlPolicy{
		Owner: owner,
		Grants: []xmlGrant{{
			Grantee:    xmlGrantee{XMLNSXSI: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: owner.ID, DisplayName: owner.DisplayName},
			Permission: "FULL_CONTROL",
		}},
	}
	writeXML(q.w, q.r, q.requestID, http.StatusOK, result)
	return nil
}

type accessControlPolicy struct {
	XMLName struct{}   `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
	Owner   xmlOwner   `xml:"Owner"`
	Grants  []xmlGrant `xml:"AccessControlList>Grant"`
}

type xmlGrant struct {
	Grantee    xmlGrantee `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type xmlGrantee struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
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
