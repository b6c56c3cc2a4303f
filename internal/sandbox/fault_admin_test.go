package sandbox

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func adminRequest(method, body string) *http.Request {
	r := httptest.NewRequest(method, faultAdminPath, strings.NewReader(body))
	r.RemoteAddr = "127.0.0.1:40000"
	return r
}

func decodeStatus(t *testing.T, w *httptest.ResponseRecorder) faultStatus {
	t.Helper()
	var status faultStatus
	if err := json.Unmarshal(w.Body.Bytes(), &status); err != nil {
		t.Fatalf("decode %q: %v", w.Body.String(), err)
	}
	return status
}

func TestFaultAdminUpdate(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantStatus int
		wantError  string
		want       FaultConfig
	}{
		{
			name:       "all_fields",
			body:       `{"slowdown":0.1,"drop":0.01,"latency":"10ms","limit":3}`,
			wantStatus: http.StatusOK,
			want:       FaultConfig{SlowDown: 0.1, Drop: 0.01, Latency: 10 * time.Millisecond, Limit: 3, Seed: 9},
		},
		{
			name:       "omitted_fields_kept",
			body:       `{"drop":0.2}`,
			wantStatus: http.StatusOK,
			want:       FaultConfig{SlowDown: 0.05, Drop: 0.2, Seed: 9},
		},
		{
			name:       "all_off",
			body:       `{"slowdown":0,"drop":0,"latency":"0s","limit":0}`,
			wantStatus: http.StatusOK,
			want:       FaultConfig{Seed: 9},
		},
		{"slowdown_out_of_range", `{"slowdown":2}`, http.StatusBadRequest, "slowdown: share 2 is out of range", FaultConfig{}},
		{"drop_negative", `{"drop":-0.5}`, http.StatusBadRequest, "drop: share -0.5 is out of range", FaultConfig{}},
		{"shares_above_one", `{"slowdown":0.6,"drop":0.6}`, http.StatusBadRequest, "more than 1", FaultConfig{}},
		{"latency_not_duration", `{"latency":"soon"}`, http.StatusBadRequest, `latency "soon" is not a duration`, FaultConfig{}},
		{"latency_above_max", `{"latency":"6s"}`, http.StatusBadRequest, "latency 6s is out of range", FaultConfig{}},
		{"limit_negative", `{"limit":-1}`, http.StatusBadRequest, "limit -1 is negative", FaultConfig{}},
		{"unknown_field", `{"slowdwn":0.1}`, http.StatusBadRequest, `unknown field "slowdwn"`, FaultConfig{}},
		{"not_json", `slowdown=0.1`, http.StatusBadRequest, "invalid JSON body", FaultConfig{}},
		{"two_objects", `{"drop":0.1}{"drop":0.2}`, http.StatusBadRequest, "more than one value", FaultConfig{}},
		{"too_large", `{"drop":0.1,"latency":"` + strings.Repeat("1", maxFaultAdminBody) + `ms"}`, http.StatusRequestEntityTooLarge, "larger than", FaultConfig{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			initial := FaultConfig{SlowDown: 0.05, Seed: 9}
			faults := newTestFaults(t, initial)
			w := httptest.NewRecorder()

			faults.Intercept(w, adminRequest(http.MethodPost, tt.body))

			if w.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", w.Code, tt.wantStatus, w.Body.String())
			}
			if tt.wantError != "" {
				var body struct{ Error string }
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatalf("decode %q: %v", w.Body.String(), err)
				}
				if !strings.Contains(body.Error, tt.wantError) {
					t.Errorf("error = %q, want it to contain %q", body.Error, tt.wantError)
				}
				if got := faults.Config(); got != initial {
					t.Errorf("settings after a rejected update = %+v, want %+v unchanged", got, initial)
				}
				return
			}
			if got := faults.Config(); got != tt.want {
				t.Errorf("settings = %+v, want %+v", got, tt.want)
			}
			status := decodeStatus(t, w)
			if status.Latency != tt.want.Latency.String() {
				t.Errorf("response latency = %q, want %q", status.Latency, tt.want.Latency.String())
			}
		})
	}
}

func TestFaultAdminGetCounts(t *testing.T) {
	faults := newTestFaults(t, FaultConfig{SlowDown: 1, Latency: time.Millisecond, Limit: 2})
	for range 3 {
		faults.Intercept(httptest.NewRecorder(), signedS3Request(http.MethodGet, "/bucket/key"))
	}
	w := httptest.NewRecorder()

	faults.Intercept(w, adminRequest(http.MethodGet, ""))

	if w.Code != http.StatusOK {
		t.Fatalf("status = %d, want 200; body %s", w.Code, w.Body.String())
	}
	status := decodeStatus(t, w)
	want := FaultCounts{SlowDown: 2, Drop: 0, Delayed: 3}
	if status.Injected != want {
		t.Errorf("injected = %+v, want %+v", status.Injected, want)
	}
	if status.SlowDown != 1 || status.Limit != 2 || status.Latency != "1ms" || status.Seed != 0 {
		t.Errorf("settings = %+v, want slowdown 1, limit 2, latency 1ms, seed 0", status)
	}
}

func TestFaultAdminRejects(t *testing.T) {
	faults := newTestFaults(t, FaultConfig{})

	remote := adminRequest(http.MethodPost, `{"slowdown":1}`)
	remote.RemoteAddr = "192.0.2.10:40000"
	w := httptest.NewRecorder()
	faults.Intercept(w, remote)
	if w.Code != http.StatusForbidden {
		t.Errorf("non-loopback client: status = %d, want 403", w.Code)
	}
	if got := faults.Config().SlowDown; got != 0 {
		t.Errorf("non-loopback client changed slowdown to %v", got)
	}

	w = httptest.NewRecorder()
	faults.Intercept(w, adminRequest(http.MethodDelete, ""))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE: status = %d, want 405", w.Code)
	}
	if got := w.Header().Get("Allow"); got != "GET, POST" {
		t.Errorf("DELETE: Allow = %q, want GET, POST", got)
	}
}
