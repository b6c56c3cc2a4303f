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

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/policy"
)

// maxPolicySize is the largest bucket policy S3 accepts: 20 KB, taken as
// 20,480 bytes. The Amazon S3 User Guide ("Bucket policies and user
// policies") gives the limit without saying whether whitespace counts, so
// the check counts every byte of the document as sent, whitespace
// included.
const maxPolicySize = 20 * 1024

// newPolicyIndent lays out a policy written to a bucket that had none.
const newPolicyIndent = "  "

// EnforceResult is the outcome of enforce mode.
type EnforceResult struct {
	// Changed is true when the bucket policy was written.
	Changed bool `json:"changed"`

	// Skipped is the reason the policy was left unchanged although the
	// managed statements differ, such as a policy that does not parse.
	Skipped string `json:"skipped,omitempty"`

	// PreviousPolicy is the policy before the write, to put back for a
	// rollback; empty when the bucket had none or nothing was written.
	PreviousPolicy string `json:"previous_policy,omitempty"`

	// CountsBefore are the finding counts of the audit before the write.
	CountsBefore map[Severity]int `json:"counts_before"`
}

// enforce writes the managed statements when they differ from those in
// the policy. It returns an error only when the write failed.
func enforce(ctx context.Context, client S3API, cfg Config, state State, before *Report) (*EnforceResult, error) {
	log := zerolog.Ctx(ctx).With().Str("bucket", cfg.Bucket).Strs("sids", []string{ManagedSid, ManagedListSid}).Logger()
	res := &EnforceResult{CountsBefore: before.Counts}

	doc, changed, skipped := planEnforce(cfg, state)

	switch {
	case skipped != "":
		res.Skipped = skipped
		log.Error().Str("reason", skipped).Msg("enforce write skipped; the bucket policy is unchanged")

		return res, nil
	case !changed:
		log.Info().Msg("managed statements already up to date; nothing written")
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

	log.Info().Int("bytes", len(doc)).Msg("bucket policy written with the managed statements")

	res.Changed = true
	res.PreviousPolicy = string(state.Policy)

	return res, nil
}

// rawPolicy is a bucket policy whose elements are kept as the bytes read,
// so that a rewrite changes no statement but the managed ones.
type rawPolicy struct {
	Version   json.RawMessage
	ID        json.RawMessage
	Statement []json.RawMessage
}

// newPolicy returns the bucket policy enforce writes to a bucket without
// one: the managed statements alone.
func (a *analysis) newPolicy() json.RawMessage {
	out := rawPolicy{Version: json.RawMessage(`"` + policy.Version2012 + `"`)}
	for _, st := range a.managedStatements(nil) {
		out.Statement = append(out.Statement, renderStatement(st, newPolicyIndent))
	}

	return encodePolicy(out, newPolicyIndent)
}

// planEnforce returns the policy to write and whether it differs from the
// current one, or the reason it must not be written.
func planEnforce(cfg Config, state State) (doc []byte, changed bool, skipped string) {
	a := newAnalysis(cfg, state)

	if state.Policy == nil {
		return a.newPolicy(), true, ""
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
		if isManagedSid(old.Statements[i].Sid) {
			managed = append(managed, i)
		}
	}

	// The managed statements take the layout of the policy around them.
	indent := policyIndent(state.Policy)
	desired := a.managedStatements(ownerPrincipals(old, managed, cfg.BucketOwner))
	upToDate := len(managed) == len(desired)

	var desiredJSON []json.RawMessage
	for _, st := range desired {
		rendered := renderStatement(st, indent)

		want, err := parseStatement(rendered)
		if err != nil {
			return nil, false, "the managed statement does not parse: " + err.Error()
		}

		upToDate = upToDate && slices.ContainsFunc(managed, func(i int) bool { return sameStatement(&old.Statements[i], want) })
		desiredJSON = append(desiredJSON, rendered)
	}

	if upToDate {
		return nil, false, ""
	}

	out := rawPolicy{Version: raw.Version, ID: raw.ID}
	placed := false

	for i, r := range raw.Statement {
		if !slices.Contains(managed, i) {
			out.Statement = append(out.Statement, r)
			continue
		}

		// The managed statements take the place of the first one; further
		// statements with their Sids go, since the audit owns them all.
		if !placed {
			out.Statement = append(out.Statement, desiredJSON...)
			placed = true
		}
	}

	if !placed {
		out.Statement = append(out.Statement, desiredJSON...)
	}

	doc = encodePolicy(out, indent)

	// S3 stores the document as sent, so its length is what the limit
	// applies to.
	if len(doc) > maxPolicySize {
		return nil, false, fmt.Sprintf("the policy with the managed statements would be %d bytes as sent, over the S3 limit of %d; remove or shorten other statements first", len(doc), maxPolicySize)
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

// splitPolicy reads a policy document into its elements, keeping the
// bytes of each as written.
func splitPolicy(doc []byte) (rawPolicy, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return rawPolicy{}, fmt.Errorf("the bucket policy is not a JSON object: %w", err)
	}

	var out rawPolicy

	for key, value := range top {
		switch key {
		case "Version":
			out.Version = value
		case "Id":
			out.ID = value
		case "Statement":
			if t := bytes.TrimSpace(value); len(t) > 0 && t[0] == '{' {
				out.Statement = []json.RawMessage{value}
			} else if err := json.Unmarshal(value, &out.Statement); err != nil {
				return rawPolicy{}, fmt.Errorf("read element Statement of the bucket policy: %w", err)
			}
		default:
			return rawPolicy{}, fmt.Errorf("the bucket policy has an element %q that a rewrite would drop; remove it first", key)
		}
	}

	return out, nil
}

// policyIndent returns the indent unit of an indented policy document:
// the white space that starts its second line. It returns "" for a
// document on one line, which is then written compact.
//
// NOTE: the lines that enforce writes end in "\n" even when the policy read
// used "\r\n". The statements kept still have their own line ends.
func policyIndent(doc []byte) string {
	_, rest, ok := bytes.Cut(doc, []byte("\n"))
	if !ok {
		return ""
	}

	return string(rest[:len(rest)-len(bytes.TrimLeft(rest, " \t"))])
}

// renderStatement writes a statement compact, or indented as an element
// of the Statement array of a policy indented by indent.
func renderStatement(st delivery.Statement, indent string) json.RawMessage {
	var (
		out []byte
		err error
	)

	if indent == "" {
		out, err = json.Marshal(st)
	} else {
		out, err = json.MarshalIndent(st, indent+indent, indent)
	}

	if err != nil {
		// Unreachable: the fields contain strings, string slices and maps of
		// them, which always marshal.
		return nil
	}

	return out
}

// encodePolicy writes a policy with Version, Id and Statement in that
// order, compact or indented by indent. Each statement is written as its
// bytes, so those read from the bucket keep their text exactly.
func encodePolicy(p rawPolicy, indent string) []byte {
	newline, colon := "", ":"
	if indent != "" {
		newline, colon = "\n", ": "
	}

	var b bytes.Buffer

	b.WriteString("{")

	for _, m := range []struct {
		name  string
		value json.RawMessage
	}{{"Version", p.Version}, {"Id", p.ID}} {
		if len(m.value) > 0 {
			b.WriteString(newline + indent + `"` + m.name + `"` + colon)
			b.Write(m.value)
			b.WriteString(",")
		}
	}

	b.WriteString(newline + indent + `"Statement"` + colon + "[")

	for i, st := range p.Statement {
		if i > 0 {
			b.WriteString(",")
		}

		b.WriteString(newline + indent + indent)
		b.Write(st)
	}

	b.WriteString(newline + indent + "]" + newline + "}")

	return b.Bytes()
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
// managed statements may be how they reach the bucket.
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
// ignoring the order of values and the case of actions and condition
// keys.
func sameStatement(a, b *policy.Statement) bool {
	if a.Sid != b.Sid || a.Effect != b.Effect || a.NotPrincipal != nil || b.NotPrincipal != nil ||
		len(a.NotAction) > 0 || len(b.NotAction) > 0 || len(a.NotResource) > 0 || len(b.NotResource) > 0 {
		return false
	}

	if !samePrincipal(a.Principal, b.Principal) || !sameConditions(a.Condition, b.Condition) {
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

// sameConditions reports whether two condition lists hold the same
// operators, keys and value sets.
func sameConditions(a, b []policy.Condition) bool {
	if len(a) != len(b) {
		return false
	}

	for _, x := range a {
		match := slices.ContainsFunc(b, func(y policy.Condition) bool {
			return x.Operator == y.Operator && x.KeyLower == y.KeyLower && sameSet(x.Values, y.Values)
		})
		if !match {
			return false
		}
	}

	return true
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
		if !isManagedSid(old.Statements[i].Sid) {
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
				return fmt.Sprintf("the rewrite would take %s away from %s of the bucket owner's account; move that grant out of the %s and %s statements first", action, p, ManagedSid, ManagedListSid)
			}
		}
	}

	return ""
}
