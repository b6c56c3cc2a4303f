package policy

import "testing"

// BenchmarkEvaluateCrossAccount evaluates a cross-account PutObject
// against the 20 KB bucket policy of largeBucketPolicy and one identity
// policy. The caller is named by the last statement, so every statement
// is checked.
func BenchmarkEvaluateCrossAccount(b *testing.B) {
	bucket, err := Parse(largeBucketPolicy())
	if err != nil {
		b.Fatal(err)
	}

	identity := loadEvalPolicy(b, "identity_put_artifacts")
	identity.Statements[0].Resource[0].Raw = "arn:aws:s3:::shared-artifacts/*"

	set := PolicySet{Identity: []*Policy{identity}, Resource: bucket}
	req := Request{
		Principal:        "arn:aws:sts::444455556649:assumed-role/build-49/build-7",
		PrincipalRoleARN: "arn:aws:iam::444455556649:role/service-role/build-49",
		Action:           "s3:PutObject",
		Resource:         "arn:aws:s3:::shared-artifacts/project-49/app.zip",
		ResourceAccount:  "999988887777",
		Context: map[string][]string{
			"aws:PrincipalOrgID": {"o-exampleorg1"},
			"s3:x-amz-acl":       {"bucket-owner-full-control"},
		},
	}

	got, err := Evaluate(req, set)
	if err != nil {
		b.Fatal(err)
	}

	if got.Decision != Allowed || !got.CrossAccount {
		b.Fatalf("benchmark request: decision %v cross-account %t, want Allowed across accounts\n%s", got.Decision, got.CrossAccount, got)
	}

	b.ReportAllocs()

	for b.Loop() {
		if _, err := Evaluate(req, set); err != nil {
			b.Fatal(err)
		}
	}
}
