package exitcode

import (
	"errors"
	"fmt"
	"testing"
)

func TestFor(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"nil", nil, OK},
		{"plain", errors.New("boom"), Failure},
		{"usage", fmt.Errorf("parse flags: %w", ErrUsage), Usage},
		{"identity", fmt.Errorf("whoami: %w", ErrIdentityMismatch), IdentityWrong},
		{"denied", fmt.Errorf("put: %w", ErrAccessDenied), AccessDenied},
		{"refused", fmt.Errorf("delete guard: %w", ErrRefused), RefusedByGuard},
		{"refusedBeatsDenied", errors.Join(ErrAccessDenied, ErrRefused), RefusedByGuard},
		{"identityBeatsDenied", errors.Join(ErrAccessDenied, ErrIdentityMismatch), IdentityWrong},
		{"findings", fmt.Errorf("audit: 2 findings at high or above: %w", ErrFindings), Findings},
		{"usageBeatsFindings", errors.Join(ErrFindings, ErrUsage), Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := For(tt.err); got != tt.want {
				t.Errorf("For(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

func TestMessage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"usageSuffix", fmt.Errorf("invalid destination %q: use s3://BUCKET/PREFIX: %w", "x", ErrUsage), `invalid destination "x": use s3://BUCKET/PREFIX`},
		{"refusedSuffix", fmt.Errorf("source is empty: %w", ErrRefused), "source is empty"},
		{"findingsSuffix", fmt.Errorf("2 findings at high or above: %w", ErrFindings), "2 findings at high or above"},
		{"classInMiddle", fmt.Errorf("%w: list failed", ErrAccessDenied), "access denied: list failed"},
		{"plain", errors.New("boom"), "boom"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Message(tt.err); got != tt.want {
				t.Errorf("Message() = %q, want %q", got, tt.want)
			}
		})
	}
}
