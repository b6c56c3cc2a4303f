package policy

import (
	"fmt"
	"strings"
	"testing"
)

// largeBucketPolicy builds a bucket policy of about 20 KB: one statement per
// build prefix, each with a principal, two actions, two resources and a
// condition, which is the shape of a bucket shared by many projects.
func largeBucketPolicy() []byte {
	var b strings.Builder

	b.WriteString(`{"Version": "2012-10-17", "Id": "SharedArtifacts", "Statement": [`)
	for i := 0; i < 50; i++ {
		if i > 0 {
			b.WriteString(",\n")
		}

		fmt.Fprintf(&b, `{"Sid": "Project%d", "Effect": "Allow",
 "Principal": {"AWS": ["arn:aws:iam::4444555566%02d:role/service-role/build-%d"]},
 "Action": ["s3:PutObject", "s3:GetObject"],
 "Resource": ["arn:aws:s3:::shared-artifacts/project-%d/*", "arn:aws:s3:::shared-artifacts/common/project-%d/*"],
 "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-exampleorg1", "s3:x-amz-acl": "bucket-owner-full-control"}}}`, i, i, i, i, i)
	}
	b.WriteString("]}")

	return []byte(b.String())
}

func BenchmarkParse(b *testing.B) {
	data := largeBucketPolicy()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()

	for b.Loop() {
		if _, err := Parse(data); err != nil {
			b.Fatal(err)
		}
	}
}

func TestLargeBucketPolicySize(t *testing.T) {
	got := len(largeBucketPolicy())
	if got < 18_000 || got > 24_000 {
		t.Errorf("benchmark policy is %d bytes, want about 20 KB", got)
	}

	if _, err := Parse(largeBucketPolicy()); err != nil {
		t.Errorf("Parse: %v", err)
	}
}
