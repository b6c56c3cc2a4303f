package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/sync/errgroup"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/sandboxtest"
)

// faultCounts mirrors the "injected" object of the sandbox's fault admin
// responses.
type faultCounts struct {
	SlowDown int64 `json:"slowdown"`
	Drop     int64 `json:"drop"`
	Delayed  int64 `json:"latency"`
}

type faultStatus struct {
	SlowDown float64     `json:"slowdown"`
	Drop     float64     `json:"drop"`
	Latency  string      `json:"latency"`
	Limit    int64       `json:"limit"`
	Injected faultCounts `json:"injected"`
}

// callFaultAdmin sends a GET (empty body) or a POST (JSON body) to the
// sandbox's fault admin path and returns the settings and counters.
func callFaultAdmin(t testing.TB, sb *sandboxtest.Sandbox, body string) faultStatus {
	t.Helper()
	endpoint := sb.Endpoint()
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("sandbox endpoint %q is not on 127.0.0.1", endpoint)
	}

	method := http.MethodGet
	if body != "" {
		method = http.MethodPost
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	request, err := http.NewRequestWithContext(ctx, method, endpoint+"/countersign-sandbox/faults", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	response, err := http.DefaultClient.Do(request)
	if err != nil {
		t.Fatalf("%s fault settings: %v", method, err)
	}
	defer response.Body.Close()
	data, err := io.ReadAll(response.Body)
	if err != nil {
		t.Fatalf("%s fault settings: read body: %v", method, err)
	}
	if response.StatusCode != http.StatusOK {
		t.Fatalf("%s fault settings: status %d: %s", method, response.StatusCode, data)
	}

	var status faultStatus
	if err := json.Unmarshal(data, &status); err != nil {
		t.Fatalf("%s fault settings: decode %q: %v", method, data, err)
	}
	return status
}

// TestSyncUnderFaults syncs 1,000 small files and one multipart file while
// the sandbox rejects some S3 requests with SlowDown and drops others, and
// checks that the agent's retries still store every object intact.
func TestSyncUnderFaults(t *testing.T) {
	const (
		smallFiles = 1000
		largeSize  = 20<<20 + 12345 // three parts at the default 8 MiB part size
		prefix     = "faults"
	)
	start := time.Now()
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	buildEnv := sb.Env(t, "build")
	admin := s3Client(t, sb.Env(t, "dev-admin"))

	files := make(map[string][]byte, smallFiles+1)
	for i := range smallFiles {
		files[fmt.Sprintf("small/%03d/file-%04d.txt", i%20, i)] = fmt.Appendf(nil, "file %d of the fault test\n", i)
	}
	files["large.bin"] = randomBytes(t, largeSize)
	src := t.TempDir()
	writeTree(t, src, files)

	// NOTE: at 30% SlowDown and 10% drop, 2 of 1,001 files used up all 6
	// attempts (one run on 2 cores; 0.4^6 predicts about 4), so those
	// rates cannot pass every time. The client's retry quota is off, so a
	// burst of faults no longer stops retries early.
	settings := callFaultAdmin(t, sb, `{"slowdown":0.10,"drop":0.02,"latency":"0s","limit":0}`)
	if settings.SlowDown != 0.10 || settings.Drop != 0.02 {
		t.Fatalf("fault settings = %+v, want slowdown 0.1 and drop 0.02", settings)
	}

	report := filepath.Join(t.TempDir(), "report.json")
	syncStart := time.Now()
	res := runAgent(t, buildEnv, "sync", src, "s3://"+bucket+"/"+prefix, "--report", report)
	syncTime := time.Since(syncStart)

	injected := callFaultAdmin(t, sb, "").Injected
	off := callFaultAdmin(t, sb, `{"slowdown":0,"drop":0,"latency":"0s","limit":0}`)
	t.Logf("faults injected during sync: %d SlowDown, %d dropped connections; sync took %s, %s after the sandbox started",
		injected.SlowDown, injected.Drop, syncTime.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

	if res.code != exitcode.OK {
		t.Fatalf("sync exit code = %d, want 0", res.code)
	}
	if injected.SlowDown == 0 {
		t.Error("no SlowDown fault was injected during the sync")
	}
	if injected.Drop == 0 {
		t.Error("no connection was dropped during the sync")
	}
	if off.SlowDown != 0 || off.Drop != 0 {
		t.Errorf("fault settings after turning them off = %+v, want none", off)
	}
	if got := readReport(t, report).Summary.Failed; got != 0 {
		t.Errorf("report lists %d failed files, want 0", got)
	}

	keys := listKeys(t, admin, bucket, prefix+"/")
	if got, want := len(keys), len(files); got != want {
		t.Errorf("%d objects under %s/, want %d", got, prefix, want)
	}
	checkObjects(t, admin, prefix, files)

	uploads, err := admin.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("list multipart uploads: %v", err)
	}
	for _, upload := range uploads.Uploads {
		t.Errorf("incomplete multipart upload left: key %s, upload ID %s", aws.ToString(upload.Key), aws.ToString(upload.UploadId))
	}
}

// checkObjects reads every file back from S3 and compares the bytes.
func checkObjects(t *testing.T, client *s3.Client, prefix string, files map[string][]byte) {
	t.Helper()

	var mismatched atomic.Int64
	group, ctx := errgroup.WithContext(context.Background())
	group.SetLimit(8)
	for name, want := range files {
		key := prefix + "/" + name
		group.Go(func() error {
			out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
			if err != nil {
				return fmt.Errorf("get s3://%s/%s: %w", bucket, key, err)
			}
			defer out.Body.Close()
			got, err := io.ReadAll(out.Body)
			if err != nil {
				return fmt.Errorf("read s3://%s/%s: %w", bucket, key, err)
			}
			if !bytes.Equal(got, want) {
				mismatched.Add(1)
				t.Errorf("s3://%s/%s: %d bytes differ from the %d-byte file", bucket, key, len(got), len(want))
			}
			return nil
		})
	}
	if err := group.Wait(); err != nil {
		t.Fatal(err)
	}
	if n := mismatched.Load(); n > 0 {
		t.Errorf("%d objects differ from their files", n)
	}
}
