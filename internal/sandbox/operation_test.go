package sandbox

import (
	"net/http"
	"net/url"
	"testing"
)

func TestClassifyS3(t *testing.T) {
	copySource := http.Header{"X-Amz-Copy-Source": {"/src-bucket/src%20key"}}
	form := http.Header{"Content-Type": {"multipart/form-data; boundary=x"}}

	tests := []struct {
		name       string
		method     string
		target     string
		header     http.Header
		wantOp     string
		wantAction string
		wantBucket string
		wantKey    string
	}{
		{"ListBuckets", "GET", "/", nil, "ListBuckets", "s3:ListAllMyBuckets", "", ""},
		{"RootPut", "PUT", "/", nil, "", "", "", ""},
		{"ListObjectsV2", "GET", "/b?list-type=2&prefix=a", nil, "ListObjectsV2", "s3:ListBucket", "b", ""},
		{"ListObjectsV1", "GET", "/b?prefix=a", nil, "ListObjects", "s3:ListBucket", "b", ""},
		{"ListObjectsTrailingSlash", "GET", "/b/?list-type=2", nil, "ListObjectsV2", "s3:ListBucket", "b", ""},
		{"HeadBucket", "HEAD", "/b", nil, "HeadBucket", "s3:ListBucket", "b", ""},
		{"CreateBucket", "PUT", "/b", nil, "CreateBucket", "s3:CreateBucket", "b", ""},
		{"DeleteBucket", "DELETE", "/b", nil, "DeleteBucket", "s3:DeleteBucket", "b", ""},
		{"GetBucketPolicy", "GET", "/b?policy", nil, "GetBucketPolicy", "s3:GetBucketPolicy", "b", ""},
		{"PutBucketPolicy", "PUT", "/b?policy", nil, "PutBucketPolicy", "s3:PutBucketPolicy", "b", ""},
		{"DeleteBucketPolicy", "DELETE", "/b?policy", nil, "DeleteBucketPolicy", "s3:DeleteBucketPolicy", "b", ""},
		{"GetBucketAcl", "GET", "/b?acl", nil, "GetBucketAcl", "s3:GetBucketAcl", "b", ""},
		{"PutBucketAcl", "PUT", "/b?acl", nil, "PutBucketAcl", "s3:PutBucketAcl", "b", ""},
		{"GetBucketLocation", "GET", "/b?location", nil, "GetBucketLocation", "s3:GetBucketLocation", "b", ""},
		{"GetBucketEncryption", "GET", "/b?encryption", nil, "GetBucketEncryption", "s3:GetEncryptionConfiguration", "b", ""},
		{"GetBucketOwnershipControls", "GET", "/b?ownershipControls", nil, "GetBucketOwnershipControls", "s3:GetBucketOwnershipControls", "b", ""},
		{"GetPublicAccessBlock", "GET", "/b?publicAccessBlock", nil, "GetPublicAccessBlock", "s3:GetBucketPublicAccessBlock", "b", ""},
		{"PutBucketLifecycle", "PUT", "/b?lifecycle", nil, "PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration", "b", ""},
		{"ListMultipartUploads", "GET", "/b?uploads", nil, "ListMultipartUploads", "s3:ListBucketMultipartUploads", "b", ""},
		{"ListObjectVersions", "GET", "/b?versions", nil, "ListObjectVersions", "s3:ListBucketVersions", "b", ""},
		{"DeleteObjects", "POST", "/b?delete", nil, "DeleteObjects", "s3:DeleteObject", "b", ""},
		{"PostObject", "POST", "/b", form, "PostObject", "s3:PutObject", "b", ""},
		{"BucketPostWithoutSubresource", "POST", "/b", nil, "", "", "b", ""},
		{"PutObject", "PUT", "/b/dir/file.txt", nil, "PutObject", "s3:PutObject", "b", "dir/file.txt"},
		{"PutObjectEncodedKey", "PUT", "/b/a%20b%2Bc", nil, "PutObject", "s3:PutObject", "b", "a b+c"},
		{"GetObject", "GET", "/b/k", nil, "GetObject", "s3:GetObject", "b", "k"},
		{"GetObjectVersion", "GET", "/b/k?versionId=v1", nil, "GetObject", "s3:GetObjectVersion", "b", "k"},
		{"HeadObject", "HEAD", "/b/k", nil, "HeadObject", "s3:GetObject", "b", "k"},
		{"DeleteObject", "DELETE", "/b/k", nil, "DeleteObject", "s3:DeleteObject", "b", "k"},
		{"DeleteObjectVersion", "DELETE", "/b/k?versionId=v1", nil, "DeleteObject", "s3:DeleteObjectVersion", "b", "k"},
		{"CopyObject", "PUT", "/b/k", copySource, "CopyObject", "s3:PutObject", "b", "k"},
		{"CreateMultipartUpload", "POST", "/b/k?uploads", nil, "CreateMultipartUpload", "s3:PutObject", "b", "k"},
		{"UploadPart", "PUT", "/b/k?partNumber=1&uploadId=u", nil, "UploadPart", "s3:PutObject", "b", "k"},
		{"UploadPartCopy", "PUT", "/b/k?partNumber=1&uploadId=u", copySource, "UploadPartCopy", "s3:PutObject", "b", "k"},
		{"CompleteMultipartUpload", "POST", "/b/k?uploadId=u", nil, "CompleteMultipartUpload", "s3:PutObject", "b", "k"},
		{"AbortMultipartUpload", "DELETE", "/b/k?uploadId=u", nil, "AbortMultipartUpload", "s3:AbortMultipartUpload", "b", "k"},
		{"ListParts", "GET", "/b/k?uploadId=u", nil, "ListParts", "s3:ListMultipartUploadParts", "b", "k"},
		{"GetObjectAcl", "GET", "/b/k?acl", nil, "GetObjectAcl", "s3:GetObjectAcl", "b", "k"},
		{"PutObjectAcl", "PUT", "/b/k?acl", nil, "PutObjectAcl", "s3:PutObjectAcl", "b", "k"},
		{"GetObjectTagging", "GET", "/b/k?tagging", nil, "GetObjectTagging", "s3:GetObjectTagging", "b", "k"},
		{"PutObjectTaggingVersion", "PUT", "/b/k?tagging&versionId=v", nil, "PutObjectTagging", "s3:PutObjectVersionTagging", "b", "k"},
		{"DeleteObjectTagging", "DELETE", "/b/k?tagging", nil, "DeleteObjectTagging", "s3:DeleteObjectTagging", "b", "k"},
		{"GetObjectAttributes", "GET", "/b/k?attributes", nil, "GetObjectAttributes", "s3:GetObject", "b", "k"},
		{"RestoreObject", "POST", "/b/k?restore", nil, "RestoreObject", "s3:RestoreObject", "b", "k"},
		{"ObjectPostWithoutSubresource", "POST", "/b/k", nil, "", "", "b", "k"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.ParseRequestURI(tt.target)
			if err != nil {
				t.Fatal(err)
			}
			header := tt.header
			if header == nil {
				header = http.Header{}
			}

			got := classifyS3(tt.method, u, header)

			if got.Operation != tt.wantOp {
				t.Errorf("operation = %q, want %q", got.Operation, tt.wantOp)
			}
			if got.Action != tt.wantAction {
				t.Errorf("action = %q, want %q", got.Action, tt.wantAction)
			}
			if got.Bucket != tt.wantBucket {
				t.Errorf("bucket = %q, want %q", got.Bucket, tt.wantBucket)
			}
			if got.Key != tt.wantKey {
				t.Errorf("key = %q, want %q", got.Key, tt.wantKey)
			}
		})
	}
}

func TestParseCopySource(t *testing.T) {
	tests := []struct {
		name       string
		value      string
		wantBucket string
		wantKey    string
		wantOK     bool
	}{
		{"LeadingSlash", "/src/dir/key", "src", "dir/key", true},
		{"NoLeadingSlash", "src/key", "src", "key", true},
		{"Encoded", "src/a%20b%2Bc", "src", "a b+c", true},
		{"VersionID", "src/key?versionId=abc", "src", "key", true},
		{"BucketOnly", "/src", "", "", false},
		{"BadEscape", "src/%zz", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucket, key, ok := parseCopySource(tt.value)

			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if ok && (bucket != tt.wantBucket || key != tt.wantKey) {
				t.Errorf("got %q %q, want %q %q", bucket, key, tt.wantBucket, tt.wantKey)
			}
		})
	}
}
