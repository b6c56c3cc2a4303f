package sandbox

import (
	"net/http"
	"net/url"
	"strings"
)

// s3Call is what a path-style S3 request addresses and which API operation
// it calls.
type s3Call struct {
	Operation string // S3 API operation, such as PutObject; empty when unknown
	Action    string // IAM action that authorizes it, such as s3:PutObject
	Bucket    string
	Key       string
}

// bucketSubresources maps a bucket-level query parameter to the operation
// that each method calls with it. Order matters only for requests that
// carry several, which S3 clients do not send.
var bucketSubresources = []struct {
	param            string
	get, put, delete string
}{
	{"policy", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"},
	{"policyStatus", "GetBucketPolicyStatus", "", ""},
	{"acl", "GetBucketAcl", "PutBucketAcl", ""},
	{"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls"},
	{"encryption", "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"},
	{"publicAccessBlock", "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock"},
	{"versioning", "GetBucketVersioning", "PutBucketVersioning", ""},
	{"tagging", "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"},
	{"lifecycle", "GetBucketLifecycleConfiguration", "PutBucketLifecycleConfiguration", "DeleteBucketLifecycle"},
	{"cors", "GetBucketCors", "PutBucketCors", "DeleteBucketCors"},
	{"object-lock", "GetObjectLockConfiguration", "PutObjectLockConfiguration", ""},
	{"notification", "GetBucketNotificationConfiguration", "PutBucketNotificationConfiguration", ""},
	{"logging", "GetBucketLogging", "PutBucketLogging", ""},
	{"website", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite"},
	{"replication", "GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication"},
	{"requestPayment", "GetBucketRequestPayment", "PutBucketRequestPayment", ""},
	{"accelerate", "GetBucketAccelerateConfiguration", "PutBucketAccelerateConfiguration", ""},
	{"location", "GetBucketLocation", "", ""},
	{"uploads", "ListMultipartUploads", "", ""},
	{"versions", "ListObjectVersions", "", ""},
}

// actions lists the operations whose IAM action is not "s3:" plus the
// operation name, from the S3 "Required permissions for Amazon S3 API
// operations" table.
var actions = map[string]string{
	"ListBuckets":                        "s3:ListAllMyBuckets",
	"ListObjects":                        "s3:ListBucket",
	"ListObjectsV2":                      "s3:ListBucket",
	"HeadBucket":                         "s3:ListBucket",
	"ListObjectVersions":                 "s3:ListBucketVersions",
	"ListMultipartUploads":               "s3:ListBucketMultipartUploads",
	"ListParts":                          "s3:ListMultipartUploadParts",
	"HeadObject":                         "s3:GetObject",
	"GetObjectAttributes":                "s3:GetObject",
	"SelectObjectContent":                "s3:GetObject",
	"CreateMultipartUpload":              "s3:PutObject",
	"UploadPart":                         "s3:PutObject",
	"UploadPartCopy":                     "s3:PutObject",
	"CompleteMultipartUpload":            "s3:PutObject",
	"CopyObject":                         "s3:PutObject",
	"PostObject":                         "s3:PutObject",
	"DeleteObjects":                      "s3:DeleteObject",
	"GetBucketLifecycleConfiguration":    "s3:GetLifecycleConfiguration",
	"PutBucketLifecycleConfiguration":    "s3:PutLifecycleConfiguration",
	"DeleteBucketLifecycle":              "s3:PutLifecycleConfiguration",
	"GetBucketEncryption":                "s3:GetEncryptionConfiguration",
	"PutBucketEncryption":                "s3:PutEncryptionConfiguration",
	"DeleteBucketEncryption":             "s3:PutEncryptionConfiguration",
	"GetBucketCors":                      "s3:GetBucketCORS",
	"PutBucketCors":                      "s3:PutBucketCORS",
	"DeleteBucketCors":                   "s3:PutBucketCORS",
	"GetPublicAccessBlock":               "s3:GetBucketPublicAccessBlock",
	"PutPublicAccessBlock":               "s3:PutBucketPublicAccessBlock",
	"DeletePublicAccessBlock":            "s3:PutBucketPublicAccessBlock",
	"DeleteBucketOwnershipControls":      "s3:PutBucketOwnershipControls",
	"DeleteBucketTagging":                "s3:PutBucketTagging",
	"GetBucketNotificationConfiguration": "s3:GetBucketNotification",
	"PutBucketNotificationConfiguration": "s3:PutBucketNotification",
	"GetBucketReplication":               "s3:GetReplicationConfiguration",
	"PutBucketReplication":               "s3:PutReplicationConfiguration",
	"DeleteBucketReplication":            "s3:PutReplicationConfiguration",
	"GetBucketAccelerateConfiguration":   "s3:GetAccelerateConfiguration",
	"PutBucketAccelerateConfiguration":   "s3:PutAccelerateConfiguration",
	"GetObjectLockConfiguration":         "s3:GetBucketObjectLockConfiguration",
	"PutObjectLockConfiguration":         "s3:PutBucketObjectLockConfiguration",
}

// versionActions are the actions that become their *Version form when the
// request names an object version.
var versionActions = map[string]string{
	"s3:GetObject":           "s3:GetObjectVersion",
	"s3:DeleteObject":        "s3:DeleteObjectVersion",
	"s3:GetObjectAcl":        "s3:GetObjectVersionAcl",
	"s3:PutObjectAcl":        "s3:PutObjectVersionAcl",
	"s3:GetObjectTagging":    "s3:GetObjectVersionTagging",
	"s3:PutObjectTagging":    "s3:PutObjectVersionTagging",
	"s3:DeleteObjectTagging": "s3:DeleteObjectVersionTagging",
}

// classifyS3 splits a path-style request into bucket and key and names the
// operation it calls.
func classifyS3(method string, u *url.URL, header http.Header) s3Call {
	bucket, key := splitBucketKey(u.Path)
	query := u.Query()

	var op string
	switch {
	case bucket == "":
		if method == http.MethodGet {
			op = "ListBuckets"
		}
	case key == "":
		op = bucketOperation(method, query, header)
	default:
		op = objectOperation(method, query, header)
	}

	call := s3Call{Operation: op, Bucket: bucket, Key: key}
	if op == "" {
		return call
	}

	call.Action = "s3:" + op
	if a, ok := actions[op]; ok {
		call.Action = a
	}
	if query.Has("versionId") {
		if a, ok := versionActions[call.Action]; ok {
			call.Action = a
		}
	}
	return call
}

// splitBucketKey takes the bucket from the first path segment and the key
// from the rest, as path-style addressing does.
func splitBucketKey(path string) (bucket, key string) {
	path = strings.TrimPrefix(path, "/")
	bucket, key, _ = strings.Cut(path, "/")
	return bucket, key
}

func bucketOperation(method string, query url.Values, header http.Header) string {
	for _, s := range bucketSubresources {
		if !query.Has(s.param) {
			continue
		}
		switch method {
		case http.MethodGet:
			return s.get
		case http.MethodPut:
			return s.put
		case http.MethodDelete:
			return s.delete
		}
		return ""
	}

	switch method {
	case http.MethodGet:
		if query.Get("list-type") == "2" {
			return "ListObjectsV2"
		}
		return "ListObjects"
	case http.MethodHead:
		return "HeadBucket"
	case http.MethodPut:
		return "CreateBucket"
	case http.MethodDelete:
		return "DeleteBucket"
	case http.MethodPost:
		if query.Has("delete") {
			return "DeleteObjects"
		}
		if strings.HasPrefix(header.Get("Content-Type"), "multipart/form-data") {
			return "PostObject"
		}
	}
	return ""
}

func objectOperation(method string, query url.Values, header http.Header) string {
	copySource := header.Get("X-Amz-Copy-Source") != ""

	switch method {
	case http.MethodGet:
		switch {
		case query.Has("uploadId"):
			return "ListParts"
		case query.Has("acl"):
			return "GetObjectAcl"
		case query.Has("tagging"):
			return "GetObjectTagging"
		case query.Has("attributes"):
			return "GetObjectAttributes"
		case query.Has("retention"):
			return "GetObjectRetention"
		case query.Has("legal-hold"):
			return "GetObjectLegalHold"
		case query.Has("torrent"):
			return "GetObjectTorrent"
		}
		return "GetObject"
	case http.MethodHead:
		return "HeadObject"
	case http.MethodPut:
		switch {
		case query.Has("partNumber") && query.Has("uploadId"):
			if copySource {
				return "UploadPartCopy"
			}
			return "UploadPart"
		case query.Has("acl"):
			return "PutObjectAcl"
		case query.Has("tagging"):
			return "PutObjectTagging"
		case query.Has("retention"):
			return "PutObjectRetention"
		case query.Has("legal-hold"):
			return "PutObjectLegalHold"
		case copySource:
			return "CopyObject"
		}
		return "PutObject"
	case http.MethodPost:
		switch {
		case query.Has("uploads"):
			return "CreateMultipartUpload"
		case query.Has("uploadId"):
			return "CompleteMultipartUpload"
		case query.Has("restore"):
			return "RestoreObject"
		case query.Has("select"):
			return "SelectObjectContent"
		}
	case http.MethodDelete:
		switch {
		case query.Has("uploadId"):
			return "AbortMultipartUpload"
		case query.Has("tagging"):
			return "DeleteObjectTagging"
		}
		return "DeleteObject"
	}
	return ""
}

// parseCopySource splits x-amz-copy-source ("[/]bucket/key[?versionId=v]",
// URL-encoded) into bucket and key.
func parseCopySource(value string) (bucket, key string, ok bool) {
	path, _, _ := strings.Cut(value, "?")
	decoded, err := url.PathUnescape(path)
	if err != nil {
		return "", "", false
	}
	bucket, key = splitBucketKey(decoded)
	return bucket, key, bucket != "" && key != ""
}
