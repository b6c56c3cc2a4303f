package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/policy"
)

// maxPolicySize is the largest bucket policy S3 accepts, 20 KB.
const maxPolicySize = 20 * 1024

// EnforceResult is the outcome of enforce mode.
type EnforceResult struct {
	// Changed is true when the bucket policy was written.
	Changed bool `json:"changed"`

	// Skipped is the reason the policy was left unchanged although the
	// managed statement differs, such as a policy that does not parse.
	Skipped string `json:"skipped,omitempty"`

	// PreviousPolicy is the policy before the write, to put back for a
	// rollback; empty when the bucket had none or nothing was written.
	PreviousPolicy string `json:"previous_policy,omitempty"`

	// CountsBefore are the finding counts of the audit before the write.
	CountsBefore map[Severity]int `json:"counts_before"`
}

// enforce writes the managed statement when it differs from the one in
// the policy. It returns an error only when the write failed.
func enforce(ctx context.Context, client S3API, cfg Config, state State, before *Report) (*EnforceResult, error) {
	log := zerolog.Ctx(ctx).With().Str("bucket", cfg.Bucket).Str("sid", ManagedSid).Logger()
	res := &EnforceResult{CountsBefore: before.Counts}

	doc, changed, skipped := planEnforce(cfg, state)

	switch {
	case skipped != "":
		res.Skipped = skipped
		log.Error().Str("reason", skipped).Msg("enforce write skipped; the bucket policy is unchanged")

		return res, nil
	case !changed:
		log.Info().Msg("managed statement already up to date; nothing written")
		return res, nil
	}

	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("enforce on bucket %s: stopped before the write: %w", cfg.Bucket, err)
	}

	// Logged before the write, so the rollback copy exists even when the
	// write fails halfway.
	log.Info().Str("previous_policy", string(state.Policy)).Bool("had_policy", state.Policy != nil).
		Msg("bucket policy before enforce; put previous_policy back to roll back")

	_, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{
		Bucket:              aws.String(cfg.Bucket),
		ExpectedBucketOwner: aws.String(cfg.BucketOwner),
		Policy:              aws.String(string(doc)),
	})
	if err != nil {
		return nil, fmt.Errorf("enforce: put the bucket policy of %s: the credentials need s3:PutBucketPolicy on it: %w", cfg.Bucket, err)
	}

	log.Info().Int("bytes", len(doc)).Msg("bucket policy written with the managed statement")

	res.Changed = true
	res.PreviousPolicy = string(state.Policy)

	return res, nil
}

// rawPolicy is a bucket policy whose statements are kept as written, so
// that a rewrite changes no statement but the managed one.
type rawPolicy struct {
	Version   string            `json:"Version,omitempty"`
	ID        string            `json:"Id,omitempty"`
	Statement []json.RawMessage `json:"Statement"`
}

// planEnforce returns the policy to write and whether it differs from the
// current one, or the reason it must not be written.
func planEnforce(cfg Config, state State) (doc []byte, changed bool, skipped string) {
	a := newAnalysis(cfg, state)

	if state.Policy == nil {
		doc, err := encodePolicy(rawPolicy{Version: policy.Version2012, Statement: []json.RawMessage{a.managedStatement(nil).Render()}})
		if err != nil {
			return nil, false, err.Error()
		}

		return doc, true, ""
	}

	old, err := policy.Parse(state.Policy)
	if err != nil {
		return nil, false, fmt.Sprintf("the bucket policy does not parse, so its other statements cannot be kept (%v); correct it first", err)
	}

	raw, err := splitPolicy(state.Policy)
	if err != nil {
		return nil, false, err.Error()
	}

	if len(raw.Statement) != len(old.Statements) {
		return nil, false, fmt.Sprintf("the bucket policy has %d statements as JSON but %d parsed; correct it first", len(raw.Statement), len(old.Statements))
	}

	var managed []int
	for i := range old.Statements {
		if old.Statements[i].Sid == ManagedSid {
			managed = append(managed, i)
		}
	}

	desired := a.managedStatement(ownerPrincipals(old, managed, cfg.BucketOwner))
	desiredJSON := desired.Render()

	want, err := parseStatement(desiredJSON)
	if err != nil {
		return nil, false, "the managed statement does not parse: " + err.Error()
	}

	if len(managed) == 1 && sameStatement(&old.Statements[managed[0]], want) {
		return nil, false, ""
	}

	out := rawPolicy{Version: raw.Version, ID: raw.ID}
	placed := false

	for i, r := range raw.Statement {
		if !slices.Contains(managed, i) {
			out.Statement = append(out.Statement, r)
			continue
		}

		// The first managed statement keeps its place; duplicates of the
		// Sid go, since the audit owns every statement with it.
		if !placed {
			out.Statement = append(out.Statement, desiredJSON)
			placed = true
		}
	}

	if !placed {
		out.Statement = append(out.Statement, desiredJSON)
	}

	doc, err = encodePolicy(out)
	if err != nil {
		return nil, false, err.Error()
	}

	if len(doc) > maxPolicySize {
		return nil, false, fmt.Sprintf("the policy with the managed statement would be %d bytes, over the S3 limit of %d", len(doc), maxPolicySize)
	}

	written, err := policy.Parse(doc)
	if err != nil {
		return nil, false, "the rewritten policy does not parse: " + err.Error()
	}

	if lost := a.ownerAccessLost(old, written); lost != "" {
		return nil, false, lost
	}

	return doc, true, ""
}

// splitPolicy reads a policy document into its elements, keeping each
// statement's JSON as written.
func splitPolicy(doc []byte) (rawPolicy, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return rawPolicy{}, fmt.Errorf("the bucket policy is not a JSON object: %w", err)
	}

	var out rawPolicy

	for key, value := range top {
		var err error

		switch key {
		case "Version":
			err = json.Unmarshal(value, &out.Version)
		case "Id":
			err = json.Unmarshal(value, &out.ID)
		case "Statement":
			if t := bytes.TrimSpace(value); len(t) > 0 && t[0] == '{' {
				out.Statement = []json.RawMessage{value}
			} else {
				err = json.Unmarshal(value, &out.Statement)
			}
		default:
			return rawPolicy{}, fmt.Errorf("the bucket policy has an element %q that a rewrite would drop; remove it first", key)
		}

		if err != nil {
			return rawPolicy{}, fmt.Errorf("read element %s of the bucket policy: %w", key, err)
		}
	}

	return out, nil
}

func encodePolicy(p rawPolicy) ([]byte, error) {
	compact, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode the bucket policy: %w", err)
	}

	var out bytes.Buffer
	if err := json.Indent(&out, compact, "", "  "); err != nil {
		return nil, fmt.Errorf("indent the bucket policy: %w", err)
	}

	return out.Bytes(), nil
}

func parseStatement(st json.RawMessage) (*policy.Statement, error) {
	p, err := policy.Parse([]byte(`{"Version":"2012-10-17","Statement":[` + string(st) + `]}`))
	if err != nil {
		return nil, err
	}

	return &p.Statements[0], nil
}

// ownerPrincipals returns the principals of the bucket owner's account
// that the managed statements name. Enforce keeps them, because the
// managed statement may be how they reach the bucket.
func ownerPrincipals(p *policy.Policy, managed []int, owner string) []string {
	var out []string

	for _, i := range managed {
		for _, v := range p.Statements[i].Principal.Values(policy.PrincipalAWS) {
			if g, ok := classify(v); ok && g.account == owner {
				out = append(out, v)
			}
		}
	}

	return dedupe(out)
}

// sameStatement reports whether two statements grant the same thing,
// ignoring the order of values and the case of actions.
func sameStatement(a, b *policy.Statement) bool {
	if a.Sid != b.Sid || a.Effect != b.Effect || a.NotPrincipal != nil || b.NotPrincipal != nil ||
		len(a.NotAction) > 0 || len(b.NotAction) > 0 || len(a.NotResource) > 0 || len(b.NotResource) > 0 ||
		len(a.Condition) != len(b.Condition) || len(a.Condition) > 0 {
		return false
	}

	if !samePrincipal(a.Principal, b.Principal) {
		return false
	}

	actions := func(s *policy.Statement) []string {
		out := make([]string, len(s.Action))
		for i, x := range s.Action {
			out[i] = x.Pattern
		}

		return out
	}

	resources := func(s *policy.Statement) []string {
		out := make([]string, len(s.Resource))
		for i, x := range s.Resource {
			out[i] = x.Raw
		}

		return out
	}

	return sameSet(actions(a), actions(b)) && sameSet(resources(a), resources(b))
}

func samePrincipal(a, b *policy.Principal) bool {
	if a == nil || b == nil {
		return a == b
	}

	if a.Star != b.Star || len(a.Entries) != len(b.Entries) {
		return false
	}

	for _, e := range a.Entries {
		if !sameSet(e.Values, b.Values(e.Type)) {
			return false
		}
	}

	return true
}

func sameSet(a, b []string) bool {
	x, y := dedupe(a), dedupe(b)
	if len(x) != len(y) {
		return false
	}

	sort.Strings(x)
	sort.Strings(y)

	return slices.Equal(x, y)
}

// ownerAdminActions are the bucket owner's own operations that a rewrite
// must never take away.
var ownerAdminActions = []string{"s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:ListBucket", "s3:GetObject", "s3:PutObject", "s3:DeleteObject"}

// ownerAccessLost checks that every principal of the bucket owner's account
// that the old policy names, and the account root, keeps each action the
// old policy allowed it. It returns why the rewrite must not happen, or "".
// Principals other than the root are evaluated without identity policies,
// so the bucket policy alone decides, as for a role that relies on it.
func (a *analysis) ownerAccessLost(old, written *policy.Policy) string {
	principals := []string{"arn:" + a.partition + ":iam::" + a.cfg.BucketOwner + ":root"}

	for i := range old.Statements {
		for _, v := range old.Statements[i].Principal.Values(policy.PrincipalAWS) {
			if g, ok := classify(v); ok && g.account == a.cfg.BucketOwner && !g.wholeAccount && !strings.ContainsAny(v, "*?") {
				principals = append(principals, v)
			}
		}
	}

	actions := append(append([]string(nil), ownerAdminActions...), a.cfg.RequiredActions...)
	for i := range old.Statements {
		if old.Statements[i].Sid != ManagedSid {
			continue
		}

		for _, act := range old.Statements[i].Action {
			if !strings.ContainsAny(act.Raw, "*?") {
				actions = append(actions, act.Raw)
			}
		}
	}

	for _, p := range dedupe(principals) {
		for _, action := range dedupe(actions) {
			resource := a.bucketARN + "/" + probeKeyName
			if policy.IsS3BucketAction(action) {
				resource = a.bucketARN
			}

			req := policy.Request{Principal: p, Action: action, Resource: resource, ResourceAccount: a.cfg.BucketOwner}

			before, errBefore := policy.Evaluate(req, policy.PolicySet{Resource: old})
			after, errAfter := policy.Evaluate(req, policy.PolicySet{Resource: written})

			if errBefore != nil || errAfter != nil {
				continue
			}

			if before.Decision == policy.Allowed && after.Decision != policy.Allowed {
				return fmt.Sprintf("the rewrite would take %s away from %s of the bucket owner's account; move that grant out of the %s statement first", action, p, ManagedSid)
			}
		}
	}

	return ""
}
