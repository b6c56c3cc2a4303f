package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/rs/zerolog"
)

// faultAdminPath is the path on which GET returns the fault settings and
// counters and POST changes the settings. It is served before
// authentication, so no sandbox bucket can be named countersign-sandbox.
const faultAdminPath = "/countersign-sandbox/faults"

// maxFaultAdminBody caps the admin request body, which is a few dozen bytes.
const maxFaultAdminBody = 4096

// faultUpdate is the body of a POST to the admin path. Omitted fields keep
// their current values.
type faultUpdate struct {
	SlowDown *float64 `json:"slowdown"`
	Drop     *float64 `json:"drop"`
	Latency  *string  `json:"latency"` // a Go duration such as "10ms"
	Limit    *int64   `json:"limit"`
}

// faultStatus is the body of the admin responses.
type faultStatus struct {
	SlowDown float64     `json:"slowdown"`
	Drop     float64     `json:"drop"`
	Latency  string      `json:"latency"`
	Limit    int64       `json:"limit"`
	Seed     uint64      `json:"seed"`
	Injected FaultCounts `json:"injected"`
}

// apply returns config with the fields of u set, or an error naming the
// invalid field.
func (u faultUpdate) apply(config FaultConfig) (FaultConfig, error) {
	if u.SlowDown != nil {
		if err := CheckFaultShare(*u.SlowDown); err != nil {
			return config, fmt.Errorf("slowdown: %w", err)
		}
		config.SlowDown = *u.SlowDown
	}
	if u.Drop != nil {
		if err := CheckFaultShare(*u.Drop); err != nil {
			return config, fmt.Errorf("drop: %w", err)
		}
		config.Drop = *u.Drop
	}
	if u.Latency != nil {
		latency, err := time.ParseDuration(*u.Latency)
		if err != nil {
			return config, fmt.Errorf("latency %q is not a duration: use a value such as \"10ms\"", *u.Latency)
		}
		config.Latency = latency
	}
	if u.Limit != nil {
		config.Limit = *u.Limit
	}
	return config, config.Validate()
}

// parseFaultUpdate decodes one JSON object and rejects unknown fields, so
// that a misspelt field is an error instead of a silent no-op.
func parseFaultUpdate(body []byte) (faultUpdate, error) {
	var u faultUpdate
	decoder := json.NewDecoder(bytes.NewReader(body))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&u); err != nil {
		return u, fmt.Errorf("invalid JSON body: %v: send an object such as {\"slowdown\":0.1,\"drop\":0.01,\"latency\":\"10ms\",\"limit\":0}", err)
	}
	if decoder.More() {
		return u, fmt.Errorf("invalid JSON body: more than one value: send one object")
	}
	return u, nil
}

func (f *Faults) status() faultStatus {
	f.mu.Lock()
	defer f.mu.Unlock()
	return faultStatus{
		SlowDown: f.config.SlowDown,
		Drop:     f.config.Drop,
		Latency:  f.config.Latency.String(),
		Limit:    f.config.Limit,
		Seed:     f.config.Seed,
		Injected: f.counts,
	}
}

// serveAdmin serves GET and POST on the admin path, to loopback clients only.
func (f *Faults) serveAdmin(w http.ResponseWriter, r *http.Request) {
	if !fromLoopback(r) {
		writeAdminError(w, http.StatusForbidden, "the fault settings can be read and changed from loopback only")
		return
	}

	switch r.Method {
	case http.MethodGet:
		writeAdminJSON(w, http.StatusOK, f.status())
	case http.MethodPost:
		f.updateFromRequest(w, r)
	default:
		w.Header().Set("Allow", "GET, POST")
		writeAdminError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed: use GET or POST")
	}
}

func (f *Faults) updateFromRequest(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFaultAdminBody+1))
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if len(body) > maxFaultAdminBody {
		writeAdminError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("body is larger than %d bytes: send one small JSON object", maxFaultAdminBody))
		return
	}
	update, err := parseFaultUpdate(body)
	if err != nil {
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}

	f.mu.Lock()
	config, err := update.apply(f.config)
	if err == nil {
		f.config = config
	}
	f.mu.Unlock()
	if err != nil {
		zerolog.Ctx(r.Context()).Warn().Err(err).Msg("fault settings change rejected")
		writeAdminError(w, http.StatusBadRequest, err.Error())
		return
	}

	zerolog.Ctx(r.Context()).Info().
		Float64("slowdown", config.SlowDown).
		Float64("drop", config.Drop).
		Str("latency", config.Latency.String()).
		Int64("limit", config.Limit).
		Msg("fault settings changed")
	writeAdminJSON(w, http.StatusOK, f.status())
}

func writeAdminJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		writeAdminError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

func writeAdminError(w http.ResponseWriter, status int, message string) {
	data, _ := json.Marshal(map[string]string{"error": message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}
