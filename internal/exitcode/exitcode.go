// Package exitcode maps errors to the process exit codes that every
// countersign command shares.
package exitcode

import (
	"errors"
	"strings"
)

// Exit codes, the same for every command.
const (
	OK             = 0
	Failure        = 1 // a transfer or AWS call failed
	Usage          = 2 // invalid flags or arguments
	IdentityWrong  = 3 // the caller is not the expected role
	AccessDenied   = 4 // AWS denied a request
	RefusedByGuard = 5 // a safety guard stopped the run
	Findings       = 6 // the audit found problems at or above the failure severity
)

// Sentinel classes. Packages wrap one of these so that main picks the exit
// code from the error alone.
var (
	ErrUsage            = errors.New("usage error")
	ErrIdentityMismatch = errors.New("identity is not the expected role")
	ErrAccessDenied     = errors.New("access denied")
	ErrRefused          = errors.New("refused by a safety guard")
	ErrFindings         = errors.New("audit findings at or above the failure severity")
)

// For returns the exit code for err. When err wraps several classes, the
// most specific one wins in this order: usage, refused, identity, denied,
// findings.
func For(err error) int {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, ErrUsage):
		return Usage
	case errors.Is(err, ErrRefused):
		return RefusedByGuard
	case errors.Is(err, ErrIdentityMismatch):
		return IdentityWrong
	case errors.Is(err, ErrAccessDenied):
		return AccessDenied
	case errors.Is(err, ErrFindings):
		return Findings
	default:
		return Failure
	}
}

// Message returns err's text without the trailing class name that
// wrapping a sentinel appends, because the exit code already reports the
// class.
func Message(err error) string {
	text := err.Error()
	for _, class := range []error{ErrUsage, ErrIdentityMismatch, ErrAccessDenied, ErrRefused, ErrFindings} {
		if trimmed, ok := strings.CutSuffix(text, ": "+class.Error()); ok {
			return trimmed
		}
	}
	return text
}
