package s3sync

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkPlan measures a re-sync of 5,000 small unchanged files: walk,
// list, hash every file and skip it.
func BenchmarkPlan(b *testing.B) {
	src := b.TempDir()
	fake := newFakeS3()
	for i := range 5000 {
		rel := fmt.Sprintf("d%02d/f%04d.txt", i%50, i)
		data := []byte(fmt.Sprintf("content of file %d\n", i))
		path := filepath.Join(src, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
		fake.put(rel, data, md5Hex(data))
	}
	opts := Options{Source: src, Bucket: testBucket, MaxDelete: -1, Progress: ProgressNone}

	b.ResetTimer()
	for b.Loop() {
		report, err := Run(b.Context(), fake, opts)
		if err != nil {
			b.Fatal(err)
		}
		if report.Summary.Skipped != 5000 {
			b.Fatalf("skipped = %d, want 5000", report.Summary.Skipped)
		}
	}
}
