package s3sync

import (
	"bytes"
	"context"
	"crypto/md5"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/rs/zerolog"
)

const testBucket = "dev-artifacts"
const testOwner = "111122223333"

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// testRun holds what one Run call produced.
type testRun struct {
	report *Report
	err    error
	out    string // Options.Out
	log    string // zerolog output
}

// logContext returns a context whose logger writes JSON lines to buf.
func logContext(buf *syncBuffer) context.Context {
	logger := zerolog.New(buf).Level(zerolog.DebugLevel)
	return logger.WithContext(context.Background())
}

// runSync runs the engine with test defaults: the fake's bucket and owner,
// no progress output, and a logger captured for assertions.
func runSync(t *testing.T, client Client, opts Options) testRun {
	t.Helper()
	return runSyncContext(t, nil, client, opts)
}

func runSyncContext(t *testing.T, ctx context.Context, client Client, opts Options) testRun {
	t.Helper()
	var logs, out syncBuffer
	if ctx == nil {
		ctx = logContext(&logs)
	} else {
		ctx = zerolog.New(&logs).Level(zerolog.DebugLevel).WithContext(ctx)
	}
	if opts.Bucket == "" {
		opts.Bucket = testBucket
	}
	if opts.ExpectedBucketOwner == "" {
		opts.ExpectedBucketOwner = testOwner
	}
	if opts.Progress == "" {
		opts.Progress = ProgressNone
	}
	if opts.MaxDelete == 0 {
		opts.MaxDelete = -1
	}
	opts.Out = &out

	report, err := Run(ctx, client, opts)
	if report == nil {
		t.Fatalf("Run returned a nil report (error %v)", err)
	}
	return testRun{report: report, err: err, out: out.String(), log: logs.String()}
}

// writeTree creates files under dir from a map of relative path to content.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for rel, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// writeSized creates a file of size bytes with content that depends on seed.
func writeSized(t *testing.T, path string, size int64, seed byte) {
	t.Helper()
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i*7) ^ seed
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func countLines(s, substr string) int {
	n := 0
	for _, line := range strings.Split(s, "\n") {
		if strings.Contains(line, substr) {
			n++
		}
	}
	return n
}

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }

func md5Sum(data []byte) []byte {
	sum := md5.Sum(data)
	return sum[:]
}

func itoa(i int) string { return strconv.Itoa(i) }
