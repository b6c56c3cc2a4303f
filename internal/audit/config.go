package audit

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/internal/exitcode"
)

// Mode selects whether the audit may change the bucket policy.
type Mode string

// Modes. Report only reads; enforce also rewrites the statements whose
// Sids are ManagedSid and ManagedListSid.
const (
	ModeReport  Mode = "report"
	ModeEnforce Mode = "enforce"
)

// Config is the input of one audit: the bucket, the roles and actions
// delivery needs, and the accounts that may be granted access.
type Config struct {
	Bucket string

	// BucketOwner is the dev account id, sent as ExpectedBucketOwner on
	// every request. Its principals are never foreign grantees.
	BucketOwner string

	// RoleARNs are the build roles that must be able to deliver, with
	// their paths.
	RoleARNs []string

	// RequiredActions are S3 actions such as s3:PutObject. Bucket actions
	// are checked on the bucket ARN and object actions on a key under
	// Prefix. Empty means delivery.DefaultActions.
	RequiredActions []string

	// Prefix is the key prefix sync writes under; empty means the whole
	// bucket.
	Prefix string

	// AllowedAccounts may be granted access besides the expected roles.
	AllowedAccounts []string

	// Mode is report (the default) or enforce.
	Mode Mode
}

// Field names a Config field in errors. The names are the keys of a
// direct Lambda invocation's payload.
type Field string

// Config fields.
const (
	FieldBucket          Field = "bucket"
	FieldBucketOwner     Field = "bucket_owner"
	FieldRoleARNs        Field = "role_arns"
	FieldRequiredActions Field = "required_actions"
	FieldPrefix          Field = "prefix"
	FieldAllowedAccounts Field = "allowed_accounts"
	FieldMode            Field = "mode"
)

// ConfigError is an invalid or missing Config field. Callers name the
// field as their users set it: a flag, an environment variable or a
// payload key.
type ConfigError struct {
	Field  Field
	Value  string
	Reason string

	// Name is the field's name as the user set it, such as --expect-role
	// or COUNTERSIGN_ROLE_ARNS. Error uses Field when it is empty.
	Name string
}

func (e *ConfigError) Error() string {
	name := e.Name
	if name == "" {
		name = string(e.Field)
	}

	if e.Value == "" {
		return fmt.Sprintf("%s is missing: %s", name, e.Reason)
	}

	return fmt.Sprintf("invalid %s %q: %s", name, e.Value, e.Reason)
}

// Unwrap returns exitcode.ErrUsage, so a command exits with the usage code.
func (e *ConfigError) Unwrap() error {
	return exitcode.ErrUsage
}

// Normalize checks every field and returns the configuration with
// defaults filled in and actions spelled s3:Name.
func (c Config) Normalize() (Config, error) {
	out := c
	out.Bucket = strings.TrimSpace(c.Bucket)
	out.BucketOwner = strings.TrimSpace(c.BucketOwner)

	if err := checkBucketName(out.Bucket); err != nil {
		return out, err
	}

	if !delivery.IsAccountID(out.BucketOwner) {
		return out, &ConfigError{Field: FieldBucketOwner, Value: out.BucketOwner, Reason: "want the 12-digit id of the account that owns the bucket"}
	}

	out.RoleARNs = trimAll(c.RoleARNs)
	if len(out.RoleARNs) == 0 {
		return out, &ConfigError{Field: FieldRoleARNs, Reason: "name at least one build role ARN, such as arn:aws:iam::111111111111:role/CodeBuildRole"}
	}

	partition := ""
	for _, arn := range out.RoleARNs {
		role, err := delivery.ParseRoleARN(arn)
		if err != nil {
			return out, &ConfigError{Field: FieldRoleARNs, Value: arn, Reason: "want arn:aws:iam::ACCOUNT:role/PATH/NAME with a 12-digit account"}
		}

		if partition != "" && role.Partition != partition {
			return out, &ConfigError{Field: FieldRoleARNs, Value: arn, Reason: "every role must be in the same partition as " + out.RoleARNs[0]}
		}

		partition = role.Partition
	}

	targets, err := delivery.ResolveActions(trimAll(c.RequiredActions), out.Bucket, partition)
	if err != nil {
		return out, &ConfigError{Field: FieldRequiredActions, Value: strings.Join(c.RequiredActions, ","), Reason: "want S3 actions without wildcards, such as s3:PutObject"}
	}

	out.RequiredActions = make([]string, len(targets))
	for i, t := range targets {
		out.RequiredActions[i] = t.Action
	}

	if strings.ContainsAny(c.Prefix, "*?") {
		return out, &ConfigError{Field: FieldPrefix, Value: c.Prefix, Reason: "a prefix is literal text and must not contain * or ?"}
	}

	out.AllowedAccounts = trimAll(c.AllowedAccounts)
	for _, a := range out.AllowedAccounts {
		if !delivery.IsAccountID(a) {
			return out, &ConfigError{Field: FieldAllowedAccounts, Value: a, Reason: "want 12-digit account ids"}
		}
	}

	switch c.Mode {
	case "":
		out.Mode = ModeReport
	case ModeReport, ModeEnforce:
	default:
		return out, &ConfigError{Field: FieldMode, Value: string(c.Mode), Reason: "use report or enforce"}
	}

	return out, nil
}

// checkBucketName applies the S3 naming rules that matter for building
// ARNs: 3 to 63 characters of lowercase letters, digits, dots and hyphens.
func checkBucketName(name string) error {
	if name == "" {
		return &ConfigError{Field: FieldBucket, Reason: "name the bucket to audit"}
	}

	if len(name) < 3 || len(name) > 63 {
		return &ConfigError{Field: FieldBucket, Value: name, Reason: "a bucket name has 3 to 63 characters"}
	}

	for _, r := range name {
		if (r < 'a' || r > 'z') && (r < '0' || r > '9') && r != '.' && r != '-' {
			return &ConfigError{Field: FieldBucket, Value: name, Reason: "a bucket name has only lowercase letters, digits, dots and hyphens"}
		}
	}

	return nil
}

// SplitList splits a comma-separated value, as the environment variables
// carry lists, and drops empty items.
func SplitList(s string) []string {
	var out []string

	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}

	return out
}

func trimAll(values []string) []string {
	var out []string

	for _, v := range values {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}

	return out
}
