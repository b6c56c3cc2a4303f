// Package audittest builds bucket policies for tests of the audit.
package audittest

import (
	"fmt"
	"strings"
	"testing"
)

// CompactPolicy returns a one-line bucket policy of exactly size bytes for
// the bucket dev-artifacts: read grants to roles of the owner account
// 222222222222, the last one padded with a longer Sid. Tests use it to
// probe the 20 KB bucket policy limit.
func CompactPolicy(t testing.TB, size int) []byte {
	t.Helper()

	const head, tail = `{"Version":"2012-10-17","Statement":[`, `]}`

	filler := func(i int, pad string) string {
		return fmt.Sprintf(`{"Sid":"Reader%d%s","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:role/Reader%d"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::dev-artifacts/reports/%d/*"}`, i, pad, i, i)
	}

	var statements []string
	for i := 0; ; i++ {
		next := append(statements, filler(i, ""))
		if len(head)+len(strings.Join(next, ","))+len(tail) > size {
			break
		}

		statements = next
	}

	if len(statements) == 0 {
		t.Fatalf("a %d-byte policy cannot hold one statement", size)
	}

	last := len(statements) - 1
	missing := size - (len(head) + len(strings.Join(statements, ",")) + len(tail))
	statements[last] = filler(last, strings.Repeat("X", missing))

	doc := []byte(head + strings.Join(statements, ",") + tail)
	if len(doc) != size {
		t.Fatalf("built a %d-byte policy, want %d", len(doc), size)
	}

	return doc
}
