package sandbox

import (
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"
)

// MaxFaultLatency is the largest delay the sandbox adds before an S3
// request, so that a mistyped value cannot stall a test for minutes.
const MaxFaultLatency = 5 * time.Second

// DefaultFaultSeed seeds the fault random source when no seed is given, so
// that two runs with the same settings and requests inject the same faults.
const DefaultFaultSeed = 1

// FaultConfig sets the faults the sandbox injects into S3 requests. The zero
// value injects none. STS requests never get a fault.
type FaultConfig struct {
	SlowDown float64       // share of S3 requests that get a 503 SlowDown error, 0 to 1
	Drop     float64       // share of S3 requests whose connection is closed without a response, 0 to 1
	Latency  time.Duration // delay before each S3 request, 0 to MaxFaultLatency
	Seed     uint64        // seed of the random source that picks the faulted requests
	Limit    int64         // faults (SlowDown and drop) to inject at most; 0 means no limit
}

// CheckFaultShare rejects a fault share outside 0 to 1.
func CheckFaultShare(share float64) error {
	// The negated form also rejects NaN.
	if !(share >= 0 && share <= 1) {
		return fmt.Errorf("share %v is out of range: use a number from 0 to 1", share)
	}
	return nil
}

// CheckFaultLatency rejects a latency below zero or above MaxFaultLatency.
func CheckFaultLatency(latency time.Duration) error {
	if latency < 0 || latency > MaxFaultLatency {
		return fmt.Errorf("latency %s is out of range: use a duration from 0s to %s", latency, MaxFaultLatency)
	}
	return nil
}

// CheckFaultLimit rejects a negative fault limit.
func CheckFaultLimit(limit int64) error {
	if limit < 0 {
		return fmt.Errorf("limit %d is negative: use 0 for no limit or a positive count", limit)
	}
	return nil
}

// Validate checks every field and that the two shares add up to at most 1,
// because each request gets at most one fault.
func (c FaultConfig) Validate() error {
	if err := CheckFaultShare(c.SlowDown); err != nil {
		return fmt.Errorf("slowdown: %w", err)
	}
	if err := CheckFaultShare(c.Drop); err != nil {
		return fmt.Errorf("drop: %w", err)
	}
	if c.SlowDown+c.Drop > 1 {
		return fmt.Errorf("slowdown %v plus drop %v is more than 1: lower one of them", c.SlowDown, c.Drop)
	}
	if err := CheckFaultLatency(c.Latency); err != nil {
		return err
	}
	return CheckFaultLimit(c.Limit)
}

// faultKind is the fault picked for one request.
type faultKind int

const (
	faultNone faultKind = iota
	faultSlowDown
	faultDrop
)

// FaultCounts is the number of faults injected so far, by kind. Delayed
// counts the S3 requests that waited for the configured latency.
type FaultCounts struct {
	SlowDown int64 `json:"slowdown"`
	Drop     int64 `json:"drop"`
	Delayed  int64 `json:"latency"`
}

// Faults injects the configured faults into S3 requests and serves the admin
// path that reads and changes them. A nil *Faults injects nothing and serves
// no admin path. It is safe for concurrent use.
type Faults struct {
	mu     sync.Mutex
	config FaultConfig
	random *rand.Rand
	counts FaultCounts
}

// NewFaults returns an injector for config, or an error naming the invalid
// field.
func NewFaults(config FaultConfig) (*Faults, error) {
	if err := config.Validate(); err != nil {
		return nil, err
	}
	return &Faults{
		config: config,
		random: rand.New(rand.NewPCG(config.Seed, config.Seed)),
	}, nil
}

// Config returns the current settings.
func (f *Faults) Config() FaultConfig {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.config
}

// Counts returns the faults injected so far.
func (f *Faults) Counts() FaultCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

// pick draws the fault for one S3 request and counts it. One draw per
// request keeps the sequence of faults fixed for a given seed and request
// order.
func (f *Faults) pick() (faultKind, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()

	latency := f.config.Latency
	if latency > 0 {
		f.counts.Delayed++
	}
	if f.config.SlowDown == 0 && f.config.Drop == 0 {
		return faultNone, latency
	}
	if f.config.Limit > 0 && f.counts.SlowDown+f.counts.Drop >= f.config.Limit {
		return faultNone, latency
	}

	draw := f.random.Float64()
	switch {
	case draw < f.config.SlowDown:
		f.counts.SlowDown++
		return faultSlowDown, latency
	case draw < f.config.SlowDown+f.config.Drop:
		f.counts.Drop++
		return faultDrop, latency
	default:
		return faultNone, latency
	}
}

// Intercept serves the admin path or injects a fault into r, and reports
// whether it has handled r, in which case the caller must not serve it.
// Faults happen before any of the body is read or forwarded, so they never
// change stored data.
func (f *Faults) Intercept(w http.ResponseWriter, r *http.Request) bool {
	if f == nil {
		return false
	}
	if r.URL.Path == faultAdminPath {
		f.serveAdmin(w, r)
		return true
	}
	if requestService(r) != "s3" {
		return false
	}

	kind, latency := f.pick()
	if latency > 0 {
		timer := time.NewTimer(latency)
		select {
		case <-timer.C:
		case <-r.Context().Done():
			timer.Stop()
			// The client has gone, so nothing can be sent.
			return true
		}
	}

	switch kind {
	case faultSlowDown:
		writeS3Error(w, r, newRequestID(), &s3Error{
			Status:  http.StatusServiceUnavailable,
			Code:    "SlowDown",
			Message: "Please reduce your request rate.",
		})
		return true
	case faultDrop:
		dropConnection(w)
		return true
	default:
		return false
	}
}

// dropConnection closes the client's connection without a response, as a
// load balancer that resets connections does.
func dropConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		// Only HTTP/1 connections can be hijacked. net/http closes the
		// stream or connection of a handler that panics with
		// ErrAbortHandler, without a response and without logging it.
		panic(http.ErrAbortHandler)
	}
	_ = conn.Close()
}

// requestService returns "s3" or "sts" for r, the service Front.serve picks
// from the SigV4 credential scope, or from the form POST to / that is STS's
// query protocol. Requests with an unparsable signature count as S3, as
// Front.serve treats them.
func requestService(r *http.Request) string {
	auth, _ := parseSigV4(r)
	switch {
	case auth != nil:
		return auth.service
	case r.Method == http.MethodPost && r.URL.Path == "/" &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		return "sts"
	default:
		return "s3"
	}
}

// fromLoopback reports whether r comes from a loopback address.
func fromLoopback(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
