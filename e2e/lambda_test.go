package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/countersign/countersign/internal/sandboxtest"
)

// rieInvokePath is where the Lambda runtime interface emulator accepts
// invocations.
const rieInvokePath = "/2015-03-31/functions/function/invocations"

// buildBootstrap builds the audit Lambda for linux/goarch with the flags
// of make lambda.
func buildBootstrap(t testing.TB, goarch string) string {
	t.Helper()

	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w", "-o", out, "./lambda")
	cmd.Dir = sandboxtest.ModuleRoot(t)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)

	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the bootstrap: %v\n%s", err, msg)
	}

	return out
}

// syncBuffer collects a process's output while tests read it.
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

// rie is a running emulator with the bootstrap behind it.
type rie struct {
	cmd    *exec.Cmd
	output *syncBuffer
	url    string
	done   chan struct{}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	return l.Addr().(*net.TCPAddr).Port
}

// startRIE runs bin/aws-lambda-rie on 127.0.0.1 with the bootstrap and
// env, and stops it by PID when the test ends. Both the invoke address
// and the runtime API address are given, because the emulator otherwise
// listens on every interface and on the fixed port 9001.
func startRIE(t testing.TB, bootstrap string, env []string) *rie {
	t.Helper()

	binary := filepath.Join(sandboxtest.ModuleRoot(t), "bin", "aws-lambda-rie")
	if _, err := os.Stat(binary); err != nil {
		t.Fatalf("%s is missing: run make build first", binary)
	}

	invokeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	runtimeAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))

	r := &rie{output: &syncBuffer{}, url: "http://" + invokeAddr + rieInvokePath, done: make(chan struct{})}
	r.cmd = exec.Command(binary, "--runtime-interface-emulator-address", invokeAddr, "--runtime-api-address", runtimeAddr, bootstrap)
	r.cmd.Env = env
	r.cmd.Stdout, r.cmd.Stderr = r.output, r.output

	if err := r.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", binary, err)
	}

	go func() {
		_ = r.cmd.Wait()
		close(r.done)
	}()

	t.Cleanup(func() {
		r.stop()

		if t.Failed() {
			t.Logf("emulator output:\n%s", r.output.String())
		}
	})

	deadline := time.Now().Add(15 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", invokeAddr, time.Second)
		if err == nil {
			conn.Close()
			return r
		}

		select {
		case <-r.done:
			t.Fatalf("the emulator exited during start-up:\n%s", r.output.String())
		default:
		}

		if time.Now().After(deadline) {
			t.Fatalf("the emulator did not listen on %s within 15 s:\n%s", invokeAddr, r.output.String())
		}

		time.Sleep(20 * time.Millisecond)
	}
}

// stop sends SIGTERM to the emulator's PID, which stops the runtime too,
// and kills it if it has not exited after 10 s.
func (r *rie) stop() {
	select {
	case <-r.done:
		return
	default:
	}

	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		_ = r.cmd.Process.Kill()
	}

	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

// invoke posts a payload and returns the status and body.
func (r *rie) invoke(t testing.TB, payload []byte) (int, []byte) {
	t.Helper()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.url, bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("invoke: %v", err)
	}
	defer resp.Body.Close()

	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}

	return resp.StatusCode, body
}

// waitFor waits until the output contains s, because the emulator prints
// its REPORT line after it has sent the response.
func (r *rie) waitFor(t testing.TB, s string) string {
	t.Helper()

	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if out := r.output.String(); strings.Contains(out, s) {
			return out
		}

		time.Sleep(20 * time.Millisecond)
	}

	t.Fatalf("the emulator output lacks %q", s)

	return ""
}

var (
	reportInit = regexp.MustCompile(`REPORT RequestId: \S+\tInit Duration: ([0-9.]+) ms`)
	rapidInit  = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
)

// lambdaEnv is the dev administrator's sandbox environment without the
// bucket owner, so the function finds its account with STS as in AWS,
// plus the function's configuration.
func lambdaEnv(t testing.TB, sb *sandboxtest.Sandbox, extra ...string) []string {
	t.Helper()

	env := slices.DeleteFunc(sb.Env(t, "dev-admin"), func(kv string) bool {
		return strings.HasPrefix(kv, "COUNTERSIGN_")
	})

	return append(env, append([]string{
		"COUNTERSIGN_BUCKET=dev-artifacts",
		"COUNTERSIGN_ROLE_ARNS=" + auditRole,
		"COUNTERSIGN_PREFIX=app",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=30",
	}, extra...)...)
}

func readScheduledEvent(t testing.TB) []byte {
	t.Helper()

	event, err := os.ReadFile(filepath.Join(sandboxtest.ModuleRoot(t), "lambda", "testdata", "scheduled-event.json"))
	if err != nil {
		t.Fatal(err)
	}

	return event
}

func TestLambdaUnderEmulator(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	putPolicy(t, s3Client(t, sb.Env(t, "dev-admin")), "no-tls.json")

	r := startRIE(t, buildBootstrap(t, runtime.GOARCH), lambdaEnv(t, sb))

	status, body := r.invoke(t, readScheduledEvent(t))
	if status != http.StatusOK {
		t.Fatalf("status %d, body %s", status, body)
	}

	var rep auditReport
	if err := json.Unmarshal(body, &rep); err != nil {
		t.Fatalf("response is not a report: %v\n%s", err, body)
	}

	if rep.Bucket != auditBucket || rep.BucketOwner != "222222222222" {
		t.Errorf("report bucket %q owner %q, want dev-artifacts owned by 222222222222 (from STS)", rep.Bucket, rep.BucketOwner)
	}

	if got := rep.ids(); !slices.Equal(got, []string{"TLS_NOT_ENFORCED"}) {
		t.Errorf("finding ids = %v, want [TLS_NOT_ENFORCED]", got)
	}

	out := r.waitFor(t, "REPORT RequestId:")
	metrics := emfLines(t, out)

	if len(metrics) != 5 {
		t.Fatalf("got %d EMF lines, want one per severity", len(metrics))
	}

	for _, m := range metrics {
		want := 0
		if m.Severity == "medium" {
			want = 1
		}

		if m.DriftFindings != want || m.Bucket != auditBucket {
			t.Errorf("EMF line for %s: DriftFindings %d bucket %q, want %d for %s", m.Severity, m.DriftFindings, m.Bucket, want, auditBucket)
		}

		if len(m.AWS.CloudWatchMetrics) != 1 || m.AWS.CloudWatchMetrics[0].Namespace != "Countersign" || m.AWS.Timestamp < time.Now().Add(-time.Hour).UnixMilli() {
			t.Errorf("EMF metadata = %+v, want namespace Countersign and a Timestamp in ms", m.AWS)
		}
	}

	if !strings.Contains(out, `"finding":"TLS_NOT_ENFORCED"`) || !strings.Contains(out, `"message":"audit summary"`) {
		t.Error("the function did not log the finding and the summary as JSON lines")
	}

	if m := reportInit.FindStringSubmatch(out); m == nil {
		t.Error("the REPORT line has no Init Duration")
	} else {
		t.Logf("REPORT Init Duration: %s ms", m[1])
	}
}

func TestLambdaBadConfigNamesVariable(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})

	r := startRIE(t, buildBootstrap(t, runtime.GOARCH), lambdaEnv(t, sb, "COUNTERSIGN_ROLE_ARNS=CodeBuildRole"))

	_, body := r.invoke(t, readScheduledEvent(t))

	var failure struct {
		ErrorMessage string `json:"errorMessage"`
		ErrorType    string `json:"errorType"`
	}
	if err := json.Unmarshal(body, &failure); err != nil || failure.ErrorMessage == "" {
		t.Fatalf("response %s is not a Lambda error: %v", body, err)
	}

	if !strings.Contains(failure.ErrorMessage, "COUNTERSIGN_ROLE_ARNS") {
		t.Errorf("error %q does not name COUNTERSIGN_ROLE_ARNS", failure.ErrorMessage)
	}

	// A direct invocation's payload key is named the same way.
	_, body = r.invoke(t, []byte(`{"role_arns":["`+auditRole+`"],"mode":"repair"}`))
	if !strings.Contains(string(body), "payload key mode") {
		t.Errorf("response %s does not name the payload key mode", body)
	}
}

// emfMetric mirrors one EMF line of the function.
type emfMetric struct {
	AWS struct {
		Timestamp         int64 `json:"Timestamp"`
		CloudWatchMetrics []struct {
			Namespace  string     `json:"Namespace"`
			Dimensions [][]string `json:"Dimensions"`
		} `json:"CloudWatchMetrics"`
	} `json:"_aws"`
	Bucket        string `json:"Bucket"`
	Severity      string `json:"Severity"`
	DriftFindings int    `json:"DriftFindings"`
}

// emfLines returns the output lines that are EMF documents.
func emfLines(t testing.TB, out string) []emfMetric {
	t.Helper()

	var metrics []emfMetric

	for _, line := range strings.Split(out, "\n") {
		if !strings.HasPrefix(line, `{"_aws"`) {
			continue
		}

		var m emfMetric
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("EMF line %q is not JSON: %v", line, err)
		}

		metrics = append(metrics, m)
	}

	return metrics
}

// TestLambdaFigures prints the figures recorded in docs/benchmarks.md: the
// size of the arm64 bootstrap and the init time of five cold starts under
// the emulator. It runs only with COUNTERSIGN_LAMBDA_FIGURES=1, because it
// takes a few seconds and its timings vary with the machine's load.
func TestLambdaFigures(t *testing.T) {
	if os.Getenv("COUNTERSIGN_LAMBDA_FIGURES") != "1" {
		t.Skip("set COUNTERSIGN_LAMBDA_FIGURES=1 to measure the Lambda figures")
	}

	arm := buildBootstrap(t, "arm64")

	info, err := os.Stat(arm)
	if err != nil {
		t.Fatal(err)
	}

	t.Logf("bootstrap (linux/arm64): %d bytes (%.2f MB)", info.Size(), float64(info.Size())/1e6)

	if info.Size() > 12_000_000 {
		t.Errorf("bootstrap is %d bytes, over the 12 MB target", info.Size())
	}

	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	putPolicy(t, s3Client(t, sb.Env(t, "dev-admin")), "clean.json")

	host := buildBootstrap(t, runtime.GOARCH)
	event := readScheduledEvent(t)

	var reported, rapid []float64

	for i := range 5 {
		r := startRIE(t, host, lambdaEnv(t, sb))

		if status, body := r.invoke(t, event); status != http.StatusOK {
			t.Fatalf("cold start %d: status %d, body %s", i, status, body)
		}

		out := r.waitFor(t, "REPORT RequestId:")
		reported = append(reported, parseFloat(t, reportInit.FindStringSubmatch(out)))
		rapid = append(rapid, parseFloat(t, rapidInit.FindStringSubmatch(out)))

		r.stop()
	}

	slices.Sort(reported)
	slices.Sort(rapid)

	t.Logf("REPORT Init Duration (ms), 5 cold starts: %v, median %.2f", reported, reported[2])
	t.Logf("INIT REPORT durationMs (process start to first /next), 5 cold starts: %v, median %.2f", rapid, rapid[2])
}

func parseFloat(t testing.TB, match []string) float64 {
	t.Helper()

	if len(match) != 2 {
		t.Fatal("the emulator output lacks an init duration")
	}

	v, err := strconv.ParseFloat(match[1], 64)
	if err != nil {
		t.Fatal(err)
	}

	return v
}
