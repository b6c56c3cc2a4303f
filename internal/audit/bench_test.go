package audit

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// largePolicy builds a bucket policy of about size bytes: statements that
// grant roles of the owner's and the allowed account prefixes of their
// own, then the delivery grants and the TLS deny, so every check walks
// every statement.
func largePolicy(tb testing.TB, size int) []byte {
	tb.Helper()

	var statements []string
	for i := 0; len(strings.Join(statements, ",")) < size-1200; i++ {
		statements = append(statements, fmt.Sprintf(
			`{"Sid":"Team%d","Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:role/Team%d","arn:aws:iam::444444444444:role/Reader%d"]},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::dev-artifacts/teams/%d/*","Condition":{"StringEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}`,
			i, i, i, i))
	}

	clean := string(readFixture(tb, "clean.json"))
	start := strings.Index(clean, "[")

	doc := clean[:start+1] + strings.Join(statements, ",") + "," + clean[start+1:]
	if len(doc) > maxPolicySize {
		tb.Fatalf("generated policy is %d bytes, over %d", len(doc), maxPolicySize)
	}

	return []byte(doc)
}

// BenchmarkAudit20KB runs a whole audit, parse included, of a bucket
// policy of about 20 KB against the recording fake.
func BenchmarkAudit20KB(b *testing.B) {
	f := hardened(b, "")
	f.policy = largePolicy(b, maxPolicySize)

	cfg := testConfig()
	cfg.AllowedAccounts = []string{"444444444444"}

	rep, err := Run(context.Background(), f, cfg)
	if err != nil {
		b.Fatal(err)
	}

	if len(rep.Findings) != 0 {
		b.Fatalf("got %d findings on the generated policy, want none: %+v", len(rep.Findings), rep.Findings)
	}

	b.ResetTimer()

	for b.Loop() {
		if _, err := Run(context.Background(), f, cfg); err != nil {
			b.Fatal(err)
		}
	}

	b.ReportMetric(float64(len(f.policy)), "policy-bytes")
}

func TestLargePolicyHasNoFindings(t *testing.T) {
	f := hardened(t, "")
	f.policy = largePolicy(t, maxPolicySize)

	cfg := testConfig()
	cfg.AllowedAccounts = []string{"444444444444"}

	rep := runFake(t, f, cfg)
	checkFindings(t, rep.Findings, nil)

	if len(f.policy) < maxPolicySize-1500 {
		t.Errorf("generated policy is %d bytes, want about %d", len(f.policy), maxPolicySize)
	}
}
