// Package explain evaluates, offline, whether the CodeBuild role of the
// tools account may deliver artifacts to the bucket of the dev account. It
// checks the role's identity policies, the bucket policy and the role's
// trust policy with package policy, explains each decision statement by
// statement and proposes the smallest statement that fixes a denial.
package explain

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/policy"
)

// SessionName is the role session name of the simulated caller.
const SessionName = "countersign-explain"

// sessionARN is the caller ARN that S3 evaluates for a session of the role.
func sessionARN(role delivery.RoleARN) string {
	return role.SessionARN(SessionName)
}

// DefaultKeyName is the object key checked when no key is given. It goes
// under the prefix when there is one.
const DefaultKeyName = "countersign-explain-probe"

// CodeBuildPrincipal is the service principal that assumes the build role.
const CodeBuildPrincipal = "codebuild.amazonaws.com"

// Document is one parsed policy document and where it came from.
type Document struct {
	// Name is the file path, or STACK/LOGICAL-ID for a document read from
	// a cloud assembly.
	Name   string
	Policy *policy.Policy
}

// Input is everything one check needs.
type Input struct {
	// RoleARN is the build role's ARN with its path.
	RoleARN string

	Identity []Document
	Bucket   Document

	// Trust is the role's trust policy, or nil to skip the sts:AssumeRole
	// check.
	Trust *Document

	BucketName string

	// BucketOwner is the dev account. When empty the bucket is taken to be
	// in the role's account, and a note in the report states it.
	BucketOwner string

	// Prefix is the key prefix sync writes under, and Key the object key
	// checked. An empty Key becomes PREFIX/countersign-explain-probe.
	Prefix string
	Key    string

	// Actions replaces the default actions when not empty.
	Actions []string

	// ProjectARN is the CodeBuild project's ARN, sent as aws:SourceArn in
	// the trust check. It may be empty.
	ProjectARN string

	// Defaults are the inputs taken from the cloud assembly because no
	// flag set them. They are copied into the report.
	Defaults []Default

	// Notes are copied into the report, before the notes Check adds.
	Notes []string
}

// DefaultActions are the S3 actions that preflight and sync need.
var DefaultActions = delivery.DefaultActions

// Decision names as they appear in the JSON output.
const (
	DecisionAllowed      = "allowed"
	DecisionImplicitDeny = "implicit_deny"
	DecisionExplicitDeny = "explicit_deny"
)

// Report is the outcome of Check.
type Report struct {
	RoleARN            string `json:"role_arn"`
	Principal          string `json:"principal"`
	Bucket             string `json:"bucket"`
	BucketOwner        string `json:"bucket_owner"`
	BucketOwnerAssumed bool   `json:"bucket_owner_assumed"`
	Prefix             string `json:"prefix"`
	Key                string `json:"key"`
	ProjectARN         string `json:"project_arn"`
	CrossAccount       bool   `json:"cross_account"`

	// Defaults are the inputs that explain took from the CodeBuild project
	// of a cloud assembly, each with its source.
	Defaults []Default `json:"defaults,omitempty"`

	Results  []ActionResult `json:"results"`
	Findings []Finding      `json:"findings"`

	// Notes are facts the reader needs to trust the results, such as an
	// assumed bucket owner.
	Notes []string `json:"notes,omitempty"`
}

// Denied reports whether any action is denied.
func (r *Report) Denied() bool {
	for _, res := range r.Results {
		if res.Decision != DecisionAllowed {
			return true
		}
	}

	return false
}

// ActionResult is the decision on one action.
type ActionResult struct {
	Action     string            `json:"action"`
	Resource   string            `json:"resource"`
	Principal  string            `json:"principal"`
	Decision   string            `json:"decision"`
	AllowedBy  []string          `json:"allowed_by"`
	DeniedBy   []string          `json:"denied_by"`
	Statements []StatementResult `json:"statements"`
	Fix        *Fix              `json:"fix,omitempty"`
}

// StatementResult is the evaluation of one statement of one document.
type StatementResult struct {
	PolicyType string `json:"policy_type"`
	Policy     string `json:"policy"`
	Index      int    `json:"index"`
	Sid        string `json:"sid,omitempty"`
	Effect     string `json:"effect"`
	Matched    bool   `json:"matched"`

	// Failed is the first element that did not match: principal, action,
	// resource or condition. Reason says the same in words.
	Failed    string           `json:"failed,omitempty"`
	Reason    string           `json:"reason,omitempty"`
	Condition *ConditionResult `json:"condition,omitempty"`

	// Conditions lists, for a Deny that applied, the conditions that held,
	// such as `StringNotEquals aws:PrincipalOrgID ["o-example"]`.
	Conditions []string `json:"conditions,omitempty"`
}

// ConditionResult is the condition that kept a statement from applying.
type ConditionResult struct {
	Operator      string   `json:"operator"`
	Key           string   `json:"key"`
	KeyMissing    bool     `json:"key_missing"`
	RequestValues []string `json:"request_values"`
	PolicyValues  []string `json:"policy_values"`
}

// Finding is a policy.Validate finding on one document.
type Finding struct {
	Document  string `json:"document"`
	Kind      string `json:"kind"`
	Severity  string `json:"severity"`
	Code      string `json:"code"`
	Statement int    `json:"statement"`
	Sid       string `json:"sid,omitempty"`
	Field     string `json:"field"`
	Message   string `json:"message"`
}

// Check evaluates every action of in and validates every document. It
// returns an error wrapping exitcode.ErrUsage for invalid input, such as
// a malformed role ARN or action.
func Check(in Input) (*Report, error) {
	role, err := delivery.ParseRoleARN(in.RoleARN)
	if err != nil {
		return nil, err
	}

	if in.BucketName == "" {
		return nil, fmt.Errorf("the bucket name is empty; pass --bucket: %w", exitcode.ErrUsage)
	}

	targets, err := delivery.ResolveActions(in.Actions, in.BucketName, role.Partition)
	if err != nil {
		return nil, err
	}

	rep := &Report{
		RoleARN:     in.RoleARN,
		Principal:   sessionARN(role),
		Bucket:      in.BucketName,
		BucketOwner: in.BucketOwner,
		Prefix:      in.Prefix,
		Key:         delivery.ProbeKey(in.Prefix, in.Key, DefaultKeyName),
		ProjectARN:  in.ProjectARN,
		Defaults:    append([]Default(nil), in.Defaults...),
		Findings:    []Finding{},
		Notes:       append([]string(nil), in.Notes...),
	}

	if rep.BucketOwner == "" {
		rep.BucketOwner, rep.BucketOwnerAssumed = role.Account, true
		rep.Notes = append(rep.Notes, fmt.Sprintf("bucket owner not given: the bucket is taken to be in the role's account %s, so the cross-account rule is not checked; pass --bucket-owner with the dev account id", role.Account))
	}

	rep.CrossAccount = rep.BucketOwner != role.Account

	set := policy.PolicySet{Resource: in.Bucket.Policy}
	for _, d := range in.Identity {
		set.Identity = append(set.Identity, d.Policy)
	}

	for _, t := range targets {
		res, err := checkS3(in, role, rep, t, set)
		if err != nil {
			return nil, err
		}

		rep.Results = append(rep.Results, res)
	}

	rep.Notes = append(rep.Notes, conditionNotes(in, rep)...)

	if in.Trust != nil {
		res, err := checkTrust(in, role, *in.Trust)
		if err != nil {
			return nil, err
		}

		if in.ProjectARN == "" {
			rep.Notes = append(rep.Notes, "CodeBuild project ARN not given: the trust check sends no aws:SourceArn, so a trust condition on it does not match; pass --project-arn")
		}

		rep.Results = append(rep.Results, res)
	}

	rep.Findings = validateAll(in)

	return rep, nil
}

func checkS3(in Input, role delivery.RoleARN, rep *Report, t delivery.Target, set policy.PolicySet) (ActionResult, error) {
	resource, fixResource := t.Resource, t.Resource
	if !t.BucketLevel {
		resource = t.Resource + "/" + rep.Key
		fixResource = delivery.ObjectGrantResource(t.Resource, in.Prefix, in.Key)
	}

	req := policy.Request{
		Principal:        rep.Principal,
		PrincipalRoleARN: in.RoleARN,
		Action:           t.Action,
		Resource:         resource,
		ResourceAccount:  rep.BucketOwner,
	}

	// sync lists only under its prefix, and a bucket policy may limit
	// listing with s3:prefix.
	if t.BucketLevel && in.Prefix != "" {
		req.Context = map[string][]string{"s3:prefix": {delivery.ListPrefix(in.Prefix)}}
	}

	result, err := policy.Evaluate(req, set)
	if err != nil {
		return ActionResult{}, fmt.Errorf("evaluate %s on %s: %w", t.Action, resource, err)
	}

	names := documentNames{
		identity: in.Identity,
		resource: in.Bucket.Name,
		policies: map[policy.PolicyType][]*policy.Policy{policy.TypeIdentity: set.Identity, policy.TypeResource: {set.Resource}},
	}
	out := newActionResult(t.Action, resource, rep.Principal, result, names)
	out.Fix = s3Fix(result, out, role, rep, t, fixResource, names)

	return out, nil
}

func checkTrust(in Input, role delivery.RoleARN, trust Document) (ActionResult, error) {
	req := policy.Request{
		Principal: CodeBuildPrincipal,
		Action:    "sts:AssumeRole",
		Resource:  in.RoleARN,
		Context:   map[string][]string{"aws:SourceAccount": {role.Account}},
	}

	if in.ProjectARN != "" {
		req.Context["aws:SourceArn"] = []string{in.ProjectARN}
	}

	result, err := policy.EvaluateTrust(req, trust.Policy, policy.PolicySet{})
	if err != nil {
		return ActionResult{}, fmt.Errorf("evaluate sts:AssumeRole on %s: %w", in.RoleARN, err)
	}

	names := documentNames{trust: trust.Name, policies: map[policy.PolicyType][]*policy.Policy{policy.TypeTrust: {trust.Policy}}}
	out := newActionResult(req.Action, req.Resource, CodeBuildPrincipal, result, names)
	out.Fix = trustFix(result, out, role, in.ProjectARN, names)

	return out, nil
}

// documentNames maps the policies of a result back to their documents.
type documentNames struct {
	identity []Document
	resource string
	trust    string

	// policies are the documents by policy type, to quote the conditions
	// of a Deny that applied.
	policies map[policy.PolicyType][]*policy.Policy
}

func (n documentNames) statement(p policy.PolicyResult, index int) *policy.Statement {
	docs := n.policies[p.Type]
	if p.Index >= len(docs) || docs[p.Index] == nil || index < 0 || index >= len(docs[p.Index].Statements) {
		return nil
	}

	return &docs[p.Index].Statements[index]
}

func (n documentNames) of(p policy.PolicyResult) string {
	switch p.Type {
	case policy.TypeIdentity:
		if p.Index < len(n.identity) {
			return n.identity[p.Index].Name
		}
	case policy.TypeResource:
		return n.resource
	case policy.TypeTrust:
		return n.trust
	}

	return fmt.Sprintf("%s policy %d", p.Type, p.Index)
}

func newActionResult(action, resource, principal string, r policy.Result, names documentNames) ActionResult {
	out := ActionResult{
		Action:     action,
		Resource:   resource,
		Principal:  principal,
		Decision:   decisionName(r.Decision),
		AllowedBy:  typeNames(r.AllowedBy),
		DeniedBy:   typeNames(r.DeniedBy),
		Statements: []StatementResult{},
	}

	for _, p := range r.Policies {
		name := names.of(p)

		for i, s := range p.Statements {
			sr := newStatementResult(p.Type, name, s)

			if st := names.statement(p, i); st != nil && s.Matched && s.Effect == policy.Deny {
				sr.Conditions = describeConditions(st.Condition)
			}

			out.Statements = append(out.Statements, sr)
		}
	}

	return out
}

func newStatementResult(t policy.PolicyType, name string, s policy.StatementResult) StatementResult {
	out := StatementResult{
		PolicyType: string(t),
		Policy:     name,
		Index:      s.Index,
		Sid:        s.Sid,
		Effect:     string(s.Effect),
		Matched:    s.Matched,
		Failed:     string(s.Failed),
		Reason:     s.Reason(),
	}

	if c := s.Condition; c != nil {
		out.Condition = &ConditionResult{
			Operator:      c.Operator,
			Key:           c.Key,
			KeyMissing:    c.KeyMissing,
			RequestValues: nonNil(c.RequestValues),
			PolicyValues:  nonNil(c.PolicyValues),
		}
	}

	return out
}

func describeConditions(conditions []policy.Condition) []string {
	out := make([]string, 0, len(conditions))
	for _, c := range conditions {
		out = append(out, fmt.Sprintf("%s %s %q", c.Operator, c.Key, c.Values))
	}

	return out
}

func nonNil(values []string) []string {
	if values == nil {
		return []string{}
	}

	return values
}

func decisionName(d policy.Decision) string {
	switch d {
	case policy.Allowed:
		return DecisionAllowed
	case policy.ExplicitDeny:
		return DecisionExplicitDeny
	}

	return DecisionImplicitDeny
}

func typeNames(types []policy.PolicyType) []string {
	out := make([]string, len(types))
	for i, t := range types {
		out[i] = string(t)
	}

	return out
}

func validateAll(in Input) []Finding {
	findings := []Finding{}

	add := func(d Document, kind policy.Kind) {
		for _, f := range policy.Validate(d.Policy, kind) {
			findings = append(findings, Finding{
				Document:  d.Name,
				Kind:      string(kind),
				Severity:  string(f.Severity),
				Code:      f.Code,
				Statement: f.Statement,
				Sid:       f.Sid,
				Field:     f.Field,
				Message:   f.Message,
			})
		}
	}

	for _, d := range in.Identity {
		add(d, policy.KindIdentity)
	}

	add(in.Bucket, policy.KindResource)

	if in.Trust != nil {
		add(*in.Trust, policy.KindTrust)
	}

	return findings
}

// MarshalJSON keeps empty lists as [] so that readers of the JSON need no
// null checks.
func (r ActionResult) MarshalJSON() ([]byte, error) {
	type plain ActionResult

	out := plain(r)
	out.AllowedBy = nonNil(out.AllowedBy)
	out.DeniedBy = nonNil(out.DeniedBy)

	return json.Marshal(out)
}

// conditionNotes explains two request values that the check fixes and a
// policy may test: the prefix a listing sends as s3:prefix, and TLS.
func conditionNotes(in Input, rep *Report) []string {
	keys := map[string]bool{}
	docs := append([]Document{in.Bucket}, in.Identity...)
	for _, d := range docs {
		if d.Policy == nil {
			continue
		}
		for _, st := range d.Policy.Statements {
			for _, c := range st.Condition {
				keys[c.KeyLower] = true
			}
		}
	}

	var notes []string

	listDenied := slices.ContainsFunc(rep.Results, func(r ActionResult) bool {
		return strings.EqualFold(r.Action, "s3:ListBucket") && r.Decision != DecisionAllowed
	})
	if in.Prefix == "" && listDenied && keys["s3:prefix"] {
		notes = append(notes, "prefix not given: s3:ListBucket was checked without s3:prefix, which a grant limited by an s3:prefix condition does not match; pass --prefix with the build's COUNTERSIGN_PREFIX rather than widening the grant")
	}

	if keys["aws:securetransport"] {
		notes = append(notes, "requests are checked as sent over HTTPS (aws:SecureTransport true), as the AWS SDK sends them; a build that reaches S3 over plain HTTP is denied by a statement that tests aws:SecureTransport")
	}

	return notes
}
