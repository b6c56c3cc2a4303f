package policy

import "testing"

func TestIsS3BucketAction(t *testing.T) {
	tests := []struct {
		action string
		want   bool
	}{
		{"s3:ListBucket", true},
		{"S3:listbucket", true},
		{"s3:GetBucketPolicy", true},
		{"s3:ListBucketMultipartUploads", true},
		{"s3:PutBucketSomethingNew", true},
		{"s3:GetObject", false},
		{"s3:PutObject", false},
		{"s3:DeleteObject", false},
		{"s3:ListMultipartUploadParts", false},
		{"sqs:ListQueues", false},
		{"ListBucket", false},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			if got := IsS3BucketAction(tt.action); got != tt.want {
				t.Errorf("IsS3BucketAction(%q) = %v, want %v", tt.action, got, tt.want)
			}
		})
	}
}

func TestSuggestS3Action(t *testing.T) {
	tests := []struct {
		action string
		want   string // empty when there is no suggestion
	}{
		{"s3:GetObjekt", "s3:GetObject"},
		{"s3:putobject", ""},
		{"s3:ListBuckets", "s3:ListBucket"},
		{"s3:GetBucketCors", ""},
		{"s3:GetStorageLensConfiguration", ""},
		{"iam:PassRol", ""},
		{"GetObjekt", ""},
	}

	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			got, ok := SuggestS3Action(tt.action)

			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("SuggestS3Action(%q) = %q, %v; want %q", tt.action, got, ok, tt.want)
			}
		})
	}
}
