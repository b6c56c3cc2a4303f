package audit

import (
	"bytes"
	"encoding/json"
	"strings"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/policy"
)

// Sids of the bucket policy statements that enforce mode owns and
// rewrites. ManagedListSid exists only when a prefix is configured and
// s3:ListBucket is required: it grants the listing under the prefix alone.
const (
	ManagedSid     = "CountersignManagedAccess"
	ManagedListSid = "CountersignManagedList"
)

// isManagedSid reports whether enforce mode owns the statement with sid.
func isManagedSid(sid string) bool {
	return sid == ManagedSid || sid == ManagedListSid
}

// managedStatements returns the statements enforce mode writes: the
// expected roles, and any bucket owner principals it must keep, get
// exactly the required actions. Bucket actions need the bucket ARN and object actions
// the prefix's object ARN, so a statement lists whichever it needs. With a
// prefix, s3:ListBucket goes into a statement of its own, limited with
// s3:prefix to the keys sync lists, so the roles cannot list the rest of
// the bucket.
func (a *analysis) managedStatements(keepPrincipals []string) []delivery.Statement {
	principals := delivery.OneOrMany(dedupe(append(append([]string(nil), a.cfg.RoleARNs...), keepPrincipals...)))

	var actions, resources []string
	var list *delivery.Statement
	bucket, objects := false, false

	for _, t := range a.targets {
		if cond := a.listCondition(t); cond != nil {
			list = &delivery.Statement{
				Sid:       ManagedListSid,
				Effect:    string(policy.Allow),
				Principal: map[string]any{"AWS": principals},
				Action:    t.Action,
				Resource:  a.bucketARN,
				Condition: cond,
			}

			continue
		}

		actions = append(actions, t.Action)

		if t.BucketLevel && !bucket {
			bucket = true
			resources = append(resources, a.bucketARN)
		}

		if !t.BucketLevel && !objects {
			objects = true
			resources = append(resources, delivery.ObjectGrantResource(a.bucketARN, a.cfg.Prefix, ""))
		}
	}

	var out []delivery.Statement

	if len(actions) > 0 {
		out = append(out, delivery.Statement{
			Sid:       ManagedSid,
			Effect:    string(policy.Allow),
			Principal: map[string]any{"AWS": principals},
			Action:    delivery.OneOrMany(actions),
			Resource:  delivery.OneOrMany(resources),
		})
	}

	if list != nil {
		out = append(out, *list)
	}

	return out
}

// listCondition returns the s3:prefix condition that limits a grant of
// s3:ListBucket to the keys sync lists, as preflight's fix has it, or nil
// when no prefix is configured or t is another action. The value matches
// the s3:prefix that the audit's request and sync send.
func (a *analysis) listCondition(t delivery.Target) map[string]map[string]any {
	p := delivery.ListPrefix(a.cfg.Prefix)
	if p == "" || !strings.EqualFold(t.Action, "s3:ListBucket") {
		return nil
	}

	return map[string]map[string]any{"StringLike": {"s3:prefix": p + "*"}}
}

// grantStatement returns the statement a ROLE_NOT_GRANTED fix adds: the one
// action for the role on the narrowest resource, listing limited to the
// prefix. It has the form of preflight's fix for the same denial.
func (a *analysis) grantStatement(role delivery.RoleARN, t delivery.Target) delivery.Statement {
	_, name, _ := strings.Cut(t.Action, ":")

	return delivery.Statement{
		Sid:       "CountersignAllow" + name,
		Effect:    string(policy.Allow),
		Principal: map[string]string{"AWS": role.ARN},
		Action:    t.Action,
		Resource:  a.grantResource(t),
		Condition: a.listCondition(t),
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
