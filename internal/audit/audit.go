// Package audit checks the dev account's side of a cross-account delivery:
// the bucket policy, Object Ownership, the public access block and default
// encryption. It reports findings with a fixed id, a severity, the
// statement concerned and the fix, and in enforce mode rewrites the
// bucket policy statements it owns. The audit Lambda and `countersign
// audit` share it.
package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"
)

// Finding ids. Alarms, dashboards and later checks match on them, so they
// never change.
const (
	IDNoPolicy             = "NO_POLICY"
	IDPolicyInvalid        = "POLICY_INVALID"
	IDRoleNotGranted       = "ROLE_NOT_GRANTED"
	IDStalePrincipal       = "STALE_PRINCIPAL"
	IDDenyShadowsRole      = "DENY_SHADOWS_ROLE"
	IDPublicGrant          = "PUBLIC_GRANT"
	IDForeignGrantee       = "FOREIGN_GRANTEE"
	IDBroadAction          = "BROAD_ACTION"
	IDTLSNotEnforced       = "TLS_NOT_ENFORCED"
	IDACLsEnabled          = "ACLS_ENABLED"
	IDPublicAccessBlockOff = "PUBLIC_ACCESS_BLOCK_OFF"
	IDKMSKeyPolicyNeeded   = "KMS_KEY_POLICY_NEEDED"
)

// Severity ranks a finding.
type Severity string

// Severities, from the most to the least serious.
const (
	Critical Severity = "critical"
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
	Info     Severity = "info"
)

// Severities lists every severity from the most to the least serious.
var Severities = []Severity{Critical, High, Medium, Low, Info}

// Rank orders severities: 4 for critical down to 0 for info, and -1 for an
// unknown value.
func (s Severity) Rank() int {
	for i, v := range Severities {
		if v == s {
			return len(Severities) - 1 - i
		}
	}

	return -1
}

// ParseSeverity returns the severity named s.
func ParseSeverity(s string) (Severity, error) {
	if Severity(s).Rank() < 0 {
		return "", fmt.Errorf("invalid severity %q: use critical, high, medium, low or info", s)
	}

	return Severity(s), nil
}

// Finding is one problem the audit found.
type Finding struct {
	ID       string   `json:"id"`
	Severity Severity `json:"severity"`
	Message  string   `json:"message"`

	// Statement is the bucket policy statement concerned, or nil for a
	// finding about the whole policy or a bucket setting.
	Statement *StatementRef `json:"statement,omitempty"`

	// Principal and Action narrow a finding about one expected role and
	// one required action.
	Principal string `json:"principal,omitempty"`
	Action    string `json:"action,omitempty"`

	Fix Fix `json:"fix"`
}

// StatementRef names a statement of the bucket policy.
type StatementRef struct {
	// Index is the 0-based position in the Statement array.
	Index int    `json:"index"`
	Sid   string `json:"sid,omitempty"`
}

// Fix is the change that resolves a finding.
type Fix struct {
	// Advice is the change in words.
	Advice string `json:"advice"`

	// Statement is the policy statement to add or to put in place of the
	// one concerned, with the real ARNs. For KMS_KEY_POLICY_NEEDED it
	// belongs in the KMS key policy, not the bucket policy.
	Statement json.RawMessage `json:"statement,omitempty"`

	// Policy is a whole bucket policy to put, for a bucket without one.
	Policy json.RawMessage `json:"policy,omitempty"`

	// Setting is the bucket setting to apply, in the JSON form that the
	// S3 API and the AWS CLI take.
	Setting json.RawMessage `json:"setting,omitempty"`
}

// Report is the outcome of one audit.
type Report struct {
	Bucket          string   `json:"bucket"`
	BucketOwner     string   `json:"bucket_owner"`
	Mode            Mode     `json:"mode"`
	ExpectedRoles   []string `json:"expected_roles"`
	RequiredActions []string `json:"required_actions"`
	Prefix          string   `json:"prefix"`
	AllowedAccounts []string `json:"allowed_accounts"`

	// Findings are sorted from the most to the least serious.
	Findings []Finding `json:"findings"`

	// Counts has the number of findings of each severity, with every
	// severity present.
	Counts map[Severity]int `json:"counts"`

	// Enforce is set in enforce mode.
	Enforce *EnforceResult `json:"enforce,omitempty"`

	CheckedAt time.Time `json:"checked_at"`
}

// Worst returns the most serious severity among the findings, or "" when
// there are none.
func (r *Report) Worst() Severity {
	if len(r.Findings) == 0 {
		return ""
	}

	return r.Findings[0].Severity
}

// AtOrAbove returns the findings whose severity is at least min.
func (r *Report) AtOrAbove(min Severity) []Finding {
	var out []Finding

	for _, f := range r.Findings {
		if f.Severity.Rank() >= min.Rank() {
			out = append(out, f)
		}
	}

	return out
}

// S3API is the part of the S3 client the audit calls.
type S3API interface {
	GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error)
	PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, optFns ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error)
	GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, optFns ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error)
	GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, optFns ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error)
	GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, optFns ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error)
}

// Run audits the bucket that cfg names. It returns an error only when the
// audit could not run: invalid configuration (wrapping exitcode.ErrUsage)
// or a bucket setting that could not be read. In enforce mode it rewrites
// the statements with ManagedSid and ManagedListSid when needed and
// returns the report of a second audit made after the write.
func Run(ctx context.Context, client S3API, cfg Config) (*Report, error) {
	cfg, err := cfg.Normalize()
	if err != nil {
		return nil, err
	}

	state, err := readState(ctx, client, cfg)
	if err != nil {
		return nil, err
	}

	rep := Analyze(cfg, state)

	if cfg.Mode != ModeEnforce {
		return rep, nil
	}

	result, err := enforce(ctx, client, cfg, state, rep)
	if err != nil {
		return nil, err
	}

	if result.Changed {
		state, err = readState(ctx, client, cfg)
		if err != nil {
			return nil, fmt.Errorf("audit after the enforce write: %w", err)
		}

		rep = Analyze(cfg, state)
	}

	rep.Enforce = result

	return rep, nil
}

// Analyze checks a bucket's settings, already read, against cfg, which
// must come from Config.Normalize. It makes no AWS call.
func Analyze(cfg Config, state State) *Report {
	a := newAnalysis(cfg, state)
	a.run()

	rep := &Report{
		Bucket:          cfg.Bucket,
		BucketOwner:     cfg.BucketOwner,
		Mode:            cfg.Mode,
		ExpectedRoles:   cfg.RoleARNs,
		RequiredActions: cfg.RequiredActions,
		Prefix:          cfg.Prefix,
		AllowedAccounts: nonNil(cfg.AllowedAccounts),
		Findings:        a.findings,
		Counts:          map[Severity]int{},
		CheckedAt:       time.Now().UTC(),
	}

	if rep.Findings == nil {
		rep.Findings = []Finding{}
	}

	// Stable, so findings of one severity keep the order of the checks.
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		return rep.Findings[i].Severity.Rank() > rep.Findings[j].Severity.Rank()
	})

	for _, s := range Severities {
		rep.Counts[s] = 0
	}

	for _, f := range rep.Findings {
		rep.Counts[f.Severity]++
	}

	return rep
}

// LogFindings writes one log line per finding: warn for medium and above,
// info below, with the finding's ids as fields. The context's logger is
// expected to carry the bucket.
func LogFindings(ctx context.Context, rep *Report) {
	log := zerolog.Ctx(ctx)

	for _, f := range rep.Findings {
		ev := log.Warn()
		if f.Severity.Rank() <= Low.Rank() {
			ev = log.Info()
		}

		ev = ev.Str("finding", f.ID).Str("severity", string(f.Severity))
		if f.Statement != nil {
			ev = ev.Int("statement", f.Statement.Index).Str("sid", f.Statement.Sid)
		}

		if f.Principal != "" {
			ev = ev.Str("principal", f.Principal)
		}

		if f.Action != "" {
			ev = ev.Str("action", f.Action)
		}

		ev.Str("fix", f.Fix.Advice).Msg(f.Message)
	}
}

func nonNil(values []string) []string {
	if values == nil {
		return []string{}
	}

	return values
}
