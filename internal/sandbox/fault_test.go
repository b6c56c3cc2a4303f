package sandbox

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const (
	s3Authorization  = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
	stsAuthorization = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sts/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"
)

func newTestFaults(t *testing.T, config FaultConfig) *Faults {
	t.Helper()
	faults, err := NewFaults(config)
	if err != nil {
		t.Fatalf("NewFaults(%+v): %v", config, err)
	}
	return faults
}

func signedS3Request(method, target string) *http.Request {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Authorization", s3Authorization)
	r.Header.Set("X-Amz-Date", "20260101T000000Z")
	return r
}

func TestFaultRatesWithFixedSeed(t *testing.T) {
	const requests = 20000
	config := FaultConfig{SlowDown: 0.10, Drop: 0.02, Seed: 7}
	first := newTestFaults(t, config)
	second := newTestFaults(t, config)

	for i := range requests {
		got, _ := first.pick()
		want, _ := second.pick()
		if got != want {
			t.Fatalf("request %d: fault %d, want %d from an injector with the same seed", i, got, want)
		}
	}

	counts := first.Counts()
	// Binomial standard deviations at n=20000 are about 42 (p=0.10) and 20
	// (p=0.02), so 5 of them leave room without hiding a wrong rate.
	if got := counts.SlowDown; got < 1790 || got > 2210 {
		t.Errorf("SlowDown count = %d, want about %d", got, requests/10)
	}
	if got := counts.Drop; got < 300 || got > 500 {
		t.Errorf("drop count = %d, want about %d", got, requests/50)
	}
	if got := counts.Delayed; got != 0 {
		t.Errorf("delayed count = %d, want 0 without latency", got)
	}
}

func TestFaultSeedChangesSequence(t *testing.T) {
	first := newTestFaults(t, FaultConfig{SlowDown: 0.5, Seed: 1})
	second := newTestFaults(t, FaultConfig{SlowDown: 0.5, Seed: 2})

	same := 0
	for range 200 {
		a, _ := first.pick()
		b, _ := second.pick()
		if a == b {
			same++
		}
	}
	if same == 200 {
		t.Error("seeds 1 and 2 picked the same 200 faults")
	}
}

func TestFaultLimitStopsInjection(t *testing.T) {
	faults := newTestFaults(t, FaultConfig{SlowDown: 1, Limit: 5})

	for i := range 20 {
		got, _ := faults.pick()
		want := faultNone
		if i < 5 {
			want = faultSlowDown
		}
		if got != want {
			t.Errorf("request %d: fault %d, want %d", i, got, want)
		}
	}
	if got := faults.Counts().SlowDown; got != 5 {
		t.Errorf("SlowDown count = %d, want 5", got)
	}
}

func TestFaultConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		config  FaultConfig
		wantErr string
	}{
		{"zero", FaultConfig{}, ""},
		{"maximums", FaultConfig{SlowDown: 0.5, Drop: 0.5, Latency: MaxFaultLatency, Limit: 1}, ""},
		{"slowdown_above_one", FaultConfig{SlowDown: 1.01}, "slowdown: share 1.01 is out of range"},
		{"drop_negative", FaultConfig{Drop: -0.1}, "drop: share -0.1 is out of range"},
		{"shares_above_one", FaultConfig{SlowDown: 0.6, Drop: 0.5}, "more than 1"},
		{"latency_above_max", FaultConfig{Latency: MaxFaultLatency + time.Nanosecond}, "latency 5.000000001s is out of range"},
		{"latency_negative", FaultConfig{Latency: -time.Millisecond}, "latency -1ms is out of range"},
		{"limit_negative", FaultConfig{Limit: -1}, "limit -1 is negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.config.Validate()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("Validate() = %v, want nil", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestFaultSlowDownResponse(t *testing.T) {
	faults := newTestFaults(t, FaultConfig{SlowDown: 1})
	w := httptest.NewRecorder()

	handled := faults.Intercept(w, signedS3Request(http.MethodGet, "/bucket/key"))

	if !handled {
		t.Fatal("Intercept did not answer the request")
	}
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", w.Code)
	}
	if !strings.Contains(w.Body.String(), "<Code>SlowDown</Code>") {
		t.Errorf("body = %q, want an S3 error with code SlowDown", w.Body.String())
	}
	if got := w.Header().Get("Retry-After"); got != "" {
		t.Errorf("Retry-After = %q, want none", got)
	}
	if got := w.Header().Get("Content-Type"); got != "application/xml" {
		t.Errorf("Content-Type = %q, want application/xml", got)
	}
}

func TestFaultSTSUntouched(t *testing.T) {
	faults := newTestFaults(t, FaultConfig{SlowDown: 0.5, Drop: 0.5, Latency: time.Second})

	signed := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	signed.Header.Set("Authorization", stsAuthorization)
	signed.Header.Set("X-Amz-Date", "20260101T000000Z")
	form := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	form.Header.Set("Content-Type", "application/x-www-form-urlencoded")

	for name, r := range map[string]*http.Request{"signed": signed, "unsigned_form": form} {
		start := time.Now()
		if faults.Intercept(httptest.NewRecorder(), r) {
			t.Errorf("%s STS request: Intercept answered it, want it served", name)
		}
		if elapsed := time.Since(start); elapsed >= time.Second {
			t.Errorf("%s STS request: delayed %s, want no latency", name, elapsed)
		}
	}
	if got := faults.Counts(); got != (FaultCounts{}) {
		t.Errorf("counts = %+v, want none for STS", got)
	}
}

func TestFaultLatencyDelaysS3(t *testing.T) {
	const latency = 30 * time.Millisecond
	faults := newTestFaults(t, FaultConfig{Latency: latency})

	start := time.Now()
	handled := faults.Intercept(httptest.NewRecorder(), signedS3Request(http.MethodGet, "/bucket/key"))
	elapsed := time.Since(start)

	if handled {
		t.Error("Intercept answered a request that only gets latency")
	}
	if elapsed < latency {
		t.Errorf("delay = %s, want at least %s", elapsed, latency)
	}
	if got := faults.Counts().Delayed; got != 1 {
		t.Errorf("delayed count = %d, want 1", got)
	}
}

func TestFaultDropClosesConnection(t *testing.T) {
	faults := newTestFaults(t, FaultConfig{Drop: 1})
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !faults.Intercept(w, r) {
			_, _ = io.WriteString(w, "served")
		}
	}))
	defer server.Close()

	request, err := http.NewRequest(http.MethodPut, server.URL+"/bucket/key", strings.NewReader("body"))
	if err != nil {
		t.Fatal(err)
	}
	request.Header.Set("Authorization", s3Authorization)
	request.Header.Set("X-Amz-Date", "20260101T000000Z")
	response, err := server.Client().Do(request)
	if err == nil {
		response.Body.Close()
		t.Fatalf("status = %d, want the connection closed without a response", response.StatusCode)
	}
	if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Errorf("error = %v, want EOF or a reset connection", err)
	}
	if got := faults.Counts().Drop; got != 1 {
		t.Errorf("drop count = %d, want 1", got)
	}
}

func TestNilFaultsServeEverything(t *testing.T) {
	var faults *Faults

	if faults.Intercept(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, faultAdminPath, nil)) {
		t.Error("a nil injector answered the admin path")
	}
}
