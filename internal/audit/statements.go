package audit

import (
	"bytes"
	"encoding/json"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/policy"
)

// ManagedSid is the Sid of the one bucket policy statement that enforce
// mode owns and rewrites.
const ManagedSid = "CountersignManagedAccess"

// managedStatement is the statement enforce mode writes: the expected
// roles, and any bucket owner principals it must keep, get exactly the
// required actions. Bucket actions need the bucket ARN and object actions
// the prefix's object ARN, so the statement lists whichever it needs.
func (a *analysis) managedStatement(keepPrincipals []string) delivery.Statement {
	principals := append(append([]string(nil), a.cfg.RoleARNs...), keepPrincipals...)

	var resources []string
	bucket, objects := false, false

	for _, t := range a.targets {
		if t.BucketLevel && !bucket {
			bucket = true
			resources = append(resources, a.bucketARN)
		}

		if !t.BucketLevel && !objects {
			objects = true
			resources = append(resources, delivery.ObjectGrantResource(a.bucketARN, a.cfg.Prefix, ""))
		}
	}

	return delivery.Statement{
		Sid:       ManagedSid,
		Effect:    string(policy.Allow),
		Principal: map[string]any{"AWS": delivery.OneOrMany(dedupe(principals))},
		Action:    delivery.OneOrMany(a.cfg.RequiredActions),
		Resource:  delivery.OneOrMany(resources),
	}
}

// tlsStatement is the Deny that rejects every request to the bucket made
// without TLS, as the S3 security best practices recommend.
func (a *analysis) tlsStatement() delivery.Statement {
	return delivery.Statement{
		Sid:       "DenyInsecureTransport",
		Effect:    string(policy.Deny),
		Principal: "*",
		Action:    "s3:*",
		Resource:  []string{a.bucketARN, a.bucketARN + "/*"},
		Condition: map[string]map[string]any{"Bool": {"aws:SecureTransport": "false"}},
	}
}

// statementJSON renders a parsed statement as indented JSON with
// policy's canonical writer, so a fix based on an existing statement
// keeps every element the audit did not change.
func statementJSON(st policy.Statement) json.RawMessage {
	p := &policy.Policy{Statements: []policy.Statement{st}}

	compact, err := p.MarshalJSON()
	if err != nil {
		return nil
	}

	var doc struct {
		Statement []json.RawMessage
	}

	if err := json.Unmarshal(compact, &doc); err != nil || len(doc.Statement) != 1 {
		return nil
	}

	var out bytes.Buffer
	if err := json.Indent(&out, doc.Statement[0], "", "  "); err != nil {
		return nil
	}

	return out.Bytes()
}

// withPrincipalValues returns a copy of st whose AWS principal values are
// replaced by values. Other principal types are kept.
func withPrincipalValues(st policy.Statement, values []string) policy.Statement {
	out := st
	out.Principal = &policy.Principal{}

	if st.Principal != nil {
		for _, e := range st.Principal.Entries {
			if e.Type != policy.PrincipalAWS {
				out.Principal.Entries = append(out.Principal.Entries, e)
			}
		}
	}

	if len(values) > 0 {
		out.Principal.Entries = append([]policy.PrincipalEntry{{Type: policy.PrincipalAWS, Values: values}}, out.Principal.Entries...)
	}

	return out
}

// withActions returns a copy of st that allows exactly actions.
func withActions(st policy.Statement, actions []string) policy.Statement {
	out := st
	out.NotAction = nil
	out.Action = make([]policy.Action, len(actions))

	for i, a := range actions {
		out.Action[i] = policy.Action{Raw: a}
	}

	return out
}

// withPrincipalExemption returns a copy of a Deny statement that no longer
// applies to the given role ARNs, by requiring aws:PrincipalArn to be
// another ARN. A role session's aws:PrincipalArn is its role's ARN.
func withPrincipalExemption(st policy.Statement, roleARNs []string) policy.Statement {
	out := st
	out.Condition = append([]policy.Condition(nil), st.Condition...)

	for i, c := range out.Condition {
		if c.Operator == "ArnNotEquals" && c.KeyLower == "aws:principalarn" {
			out.Condition[i].Values = dedupe(append(append([]string(nil), c.Values...), roleARNs...))
			return out
		}
	}

	out.Condition = append(out.Condition, policy.Condition{
		Operator: "ArnNotEquals",
		Base:     "ArnNotEquals",
		Key:      "aws:PrincipalArn",
		KeyLower: "aws:principalarn",
		Values:   roleARNs,
	})

	return out
}

func dedupe(values []string) []string {
	seen := make(map[string]bool, len(values))
	out := make([]string, 0, len(values))

	for _, v := range values {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}

	return out
}
