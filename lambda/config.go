package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/countersign/countersign/internal/audit"
)

// Environment variables that configure the function.
const (
	envBucket          = "COUNTERSIGN_BUCKET"
	envBucketOwner     = "COUNTERSIGN_BUCKET_OWNER"
	envRoleARNs        = "COUNTERSIGN_ROLE_ARNS"
	envRequiredActions = "COUNTERSIGN_REQUIRED_ACTIONS"
	envPrefix          = "COUNTERSIGN_PREFIX"
	envAllowedAccounts = "COUNTERSIGN_ALLOWED_ACCOUNTS"
	envMode            = "COUNTERSIGN_MODE"
	envLogLevel        = "COUNTERSIGN_LOG_LEVEL"
)

// envNames maps each configuration field to its variable.
var envNames = map[audit.Field]string{
	audit.FieldBucket:          envBucket,
	audit.FieldBucketOwner:     envBucketOwner,
	audit.FieldRoleARNs:        envRoleARNs,
	audit.FieldRequiredActions: envRequiredActions,
	audit.FieldPrefix:          envPrefix,
	audit.FieldAllowedAccounts: envAllowedAccounts,
	audit.FieldMode:            envMode,
}

// overrides is the payload of a direct invocation. A field that is
// present replaces the environment variable of the same meaning.
type overrides struct {
	Bucket          *string  `json:"bucket"`
	BucketOwner     *string  `json:"bucket_owner"`
	RoleARNs        []string `json:"role_arns"`
	RequiredActions []string `json:"required_actions"`
	Prefix          *string  `json:"prefix"`
	AllowedAccounts []string `json:"allowed_accounts"`
	Mode            *string  `json:"mode"`
}

// invocation is one invocation's configuration and where each field came
// from, so an error names the variable or the payload key the user set.
type invocation struct {
	cfg       audit.Config
	fromEvent map[audit.Field]bool
	scheduled bool
}

// parseInvocation builds the audit configuration from the environment and,
// for a direct invocation, the payload. An EventBridge event (a scheduled
// rule sends one) uses the environment alone.
func parseInvocation(getenv func(string) string, payload json.RawMessage) (invocation, error) {
	inv := invocation{
		cfg: audit.Config{
			Bucket:          getenv(envBucket),
			BucketOwner:     getenv(envBucketOwner),
			RoleARNs:        audit.SplitList(getenv(envRoleARNs)),
			RequiredActions: audit.SplitList(getenv(envRequiredActions)),
			Prefix:          getenv(envPrefix),
			AllowedAccounts: audit.SplitList(getenv(envAllowedAccounts)),
			Mode:            audit.Mode(strings.TrimSpace(getenv(envMode))),
		},
		fromEvent: map[audit.Field]bool{},
	}

	trimmed := bytes.TrimSpace(payload)
	if len(trimmed) == 0 || bytes.Equal(trimmed, []byte("null")) {
		return inv, nil
	}

	if isEventBridge(trimmed) {
		inv.scheduled = true
		return inv, nil
	}

	var o overrides

	dec := json.NewDecoder(bytes.NewReader(trimmed))
	dec.DisallowUnknownFields()

	if err := dec.Decode(&o); err != nil {
		return inv, fmt.Errorf("invalid invocation payload: %w; send an EventBridge event, or an object with the keys bucket, bucket_owner, role_arns, required_actions, prefix, allowed_accounts and mode", err)
	}

	inv.apply(o)

	return inv, nil
}

func (inv *invocation) apply(o overrides) {
	set := func(f audit.Field, apply func()) {
		apply()
		inv.fromEvent[f] = true
	}

	if o.Bucket != nil {
		set(audit.FieldBucket, func() { inv.cfg.Bucket = *o.Bucket })
	}

	if o.BucketOwner != nil {
		set(audit.FieldBucketOwner, func() { inv.cfg.BucketOwner = *o.BucketOwner })
	}

	if o.RoleARNs != nil {
		set(audit.FieldRoleARNs, func() { inv.cfg.RoleARNs = o.RoleARNs })
	}

	if o.RequiredActions != nil {
		set(audit.FieldRequiredActions, func() { inv.cfg.RequiredActions = o.RequiredActions })
	}

	if o.Prefix != nil {
		set(audit.FieldPrefix, func() { inv.cfg.Prefix = *o.Prefix })
	}

	if o.AllowedAccounts != nil {
		set(audit.FieldAllowedAccounts, func() { inv.cfg.AllowedAccounts = o.AllowedAccounts })
	}

	if o.Mode != nil {
		set(audit.FieldMode, func() { inv.cfg.Mode = audit.Mode(*o.Mode) })
	}
}

// nameSource rewrites a configuration error to name the environment
// variable, or the payload key when the payload set the field.
func (inv *invocation) nameSource(err error) error {
	var ce *audit.ConfigError
	if !errors.As(err, &ce) {
		return err
	}

	if inv.fromEvent[ce.Field] {
		ce.Name = "payload key " + string(ce.Field)
	} else {
		ce.Name = envNames[ce.Field]
	}

	return err
}

// isEventBridge reports whether a payload is an EventBridge event, which
// always carries source and detail-type.
func isEventBridge(payload []byte) bool {
	var e events.EventBridgeEvent
	if err := json.Unmarshal(payload, &e); err != nil {
		return false
	}

	return e.Source != "" && e.DetailType != ""
}
