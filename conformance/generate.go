package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/countersign/countersign/policy"
)

// testCase is one generated request with the policy set it is decided
// against.
type testCase struct {
	ID        string              `json:"id"`
	Set       string              `json:"set"`
	Principal string              `json:"principal"`
	Action    string              `json:"action"`
	Resource  string              `json:"resource"`
	Account   string              `json:"resourceAccount"`
	Context   map[string][]string `json:"context"`

	set  *policySetSpec
	now  time.Time
	spec principalSpec
}

// requestTimes are the request times drawn for aws:CurrentTime: before,
// inside and after the 2026 window that id-date-window allows.
var requestTimes = []time.Time{
	time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC),
	time.Date(2026, 3, 15, 8, 30, 0, 0, time.UTC),
	time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC),
}

// optionalKey is a condition key that a case carries with probability one
// half, with values chosen to hit and to miss the corpus conditions.
type optionalKey struct {
	name string

	// values holds the candidate values. A key with several values per
	// request, such as aws:TagKeys, lists them comma-separated.
	values []string

	// callerOnly is set for keys that describe an IAM caller, which
	// anonymous and service callers do not have.
	callerOnly bool

	// fromService is set for keys that a service principal always sends
	// when it acts for a resource, so its cases always carry them.
	fromService bool
}

// NOTE: the corpus tests aws:TagKeys only under ForAnyValue and
// ForAllValues. With a plain StringEquals on a multivalued key the two
// evaluators disagree, and the AWS docs only say such keys require a set
// operator, so no documented answer decides between them.
var optionalKeys = []optionalKey{
	{name: "aws:PrincipalTag/team", values: []string{"blue", "red", "redteam", "green"}, callerOnly: true},
	{name: "aws:MultiFactorAuthPresent", values: []string{"true", "false"}, callerOnly: true},
	{name: "aws:MultiFactorAuthAge", values: []string{"30", "100", "600", "7200", "9000"}, callerOnly: true},
	{name: "aws:PrincipalOrgID", values: []string{"o-example", "o-other"}, callerOnly: true},
	{name: "aws:SourceIp", values: []string{"10.1.2.3", "192.0.2.10", "203.0.113.5"}},
	{name: "aws:ViaAWSService", values: []string{"false", "true"}},
	{name: "aws:RequestedRegion", values: []string{"us-east-1", "eu-west-1", "ap-south-1"}},
	{name: "aws:SourceAccount", values: []string{"111111111111", "333333333333"}, fromService: true},
	{name: "aws:SourceArn", values: []string{"arn:aws:cloudtrail:us-east-1:111111111111:trail/main", "arn:aws:cloudtrail:us-east-1:333333333333:trail/main"}, fromService: true},
	{name: "aws:TagKeys", values: []string{"env", "env,team", "team-a,env", "owner", "env,cost"}},
}

// generate draws n cases from the corpus with a generator seeded by seed,
// so that the same seed and corpus give the same cases.
func generate(c *corpus, seed uint64, n int) []testCase {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	cases := make([]testCase, 0, n)

	for i := range n {
		s := &c.Sets[rng.IntN(len(c.Sets))]
		principalName := s.Principals[rng.IntN(len(s.Principals))]
		spec := c.Principals[principalName]

		group := s.Resources[rng.IntN(len(s.Resources))]
		resources := c.resourcesIn(group)
		resource := resources[rng.IntN(len(resources))]
		actions := actionsFor(resource)

		tc := testCase{
			ID:        fmt.Sprintf("c%04d", i+1),
			Set:       s.Name,
			Principal: principalName,
			Action:    actions[rng.IntN(len(actions))],
			Resource:  resource,
			Account:   c.Resources[resource],
			set:       s,
			now:       requestTimes[rng.IntN(len(requestTimes))],
			spec:      spec,
		}
		tc.Context = requestContext(rng, &tc)
		cases = append(cases, tc)
	}

	return cases
}

func (c *corpus) resourcesIn(group string) []string {
	var out []string

	for _, r := range c.resourceNames {
		if strings.HasPrefix(r, resourceGroups[group]) {
			out = append(out, r)
		}
	}

	return out
}

// actionsFor lists actions whose resource type matches the ARN, because
// the oracle rejects an action on a resource of another type.
func actionsFor(resource string) []string {
	switch {
	case strings.HasPrefix(resource, "arn:aws:s3:::") && strings.Contains(resource, "/"):
		return []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"}
	case strings.HasPrefix(resource, "arn:aws:s3:::"):
		return []string{"s3:ListBucket"}
	case strings.HasPrefix(resource, "arn:aws:sqs:"):
		return []string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage"}
	default:
		return []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:DeleteItem"}
	}
}

// requestContext builds the full request context. It spells out the keys
// that Evaluate would fill from the principal, because the oracle does not
// derive them, so both evaluators see the same context.
func requestContext(rng *rand.Rand, tc *testCase) map[string][]string {
	ctx := map[string][]string{}
	set := func(k string, v ...string) { ctx[k] = v }
	spec := tc.spec

	switch {
	case spec.Anonymous:
		set("aws:PrincipalType", "Anonymous")
		set("aws:userid", "anonymous")
		set("aws:PrincipalIsAWSService", "false")
	case spec.Service != "":
		set("aws:PrincipalIsAWSService", "true")
	default:
		account := strings.Split(spec.ARN, ":")[4]
		set("aws:PrincipalAccount", account)
		set("aws:PrincipalIsAWSService", "false")
		set("aws:userid", spec.UserID)
		set("aws:PrincipalArn", spec.ARN)

		switch {
		case spec.RoleARN != "":
			set("aws:PrincipalArn", spec.RoleARN)
			set("aws:PrincipalType", "AssumedRole")
		case strings.HasSuffix(spec.ARN, ":root"):
			set("aws:PrincipalType", "Account")
		default:
			set("aws:PrincipalType", "User")
			set("aws:username", spec.ARN[strings.LastIndexByte(spec.ARN, '/')+1:])
		}
	}

	set("aws:ResourceAccount", tc.Account)
	set("aws:CurrentTime", tc.now.Format(time.RFC3339))
	set("aws:EpochTime", strconv.FormatInt(tc.now.Unix(), 10))

	secure := "true"
	if rng.IntN(5) == 0 {
		secure = "false"
	}

	set("aws:SecureTransport", secure)

	for _, k := range optionalKeys {
		// Draw both numbers for every key, so that adding a principal kind
		// does not shift the draws of the cases after it.
		include, pick := rng.IntN(2) == 0, rng.IntN(len(k.values))
		include = include || (k.fromService && spec.Service != "")

		if !include || (k.callerOnly && (spec.Anonymous || spec.Service != "")) {
			continue
		}

		set(k.name, strings.Split(k.values[pick], ",")...)
	}

	return ctx
}

// request builds the policy package's request for tc.
func (tc *testCase) request() policy.Request {
	req := policy.Request{
		PrincipalRoleARN: tc.spec.RoleARN,
		Action:           tc.Action,
		Resource:         tc.Resource,
		ResourceAccount:  tc.Account,
		Context:          tc.Context,
		Now:              tc.now,
	}

	switch {
	case tc.spec.Service != "":
		req.Principal = tc.spec.Service
	case !tc.spec.Anonymous:
		req.Principal = tc.spec.ARN
	}

	return req
}

// Oracle input, in the shape of the Simulation type of
// @cloud-copilot/iam-simulate 0.1.173.
type (
	simulation struct {
		Request                 simRequest      `json:"request"`
		IdentityPolicies        []namedPolicy   `json:"identityPolicies"`
		ServiceControlPolicies  []orgPolicies   `json:"serviceControlPolicies"`
		ResourceControlPolicies []orgPolicies   `json:"resourceControlPolicies"`
		ResourcePolicy          json.RawMessage `json:"resourcePolicy,omitempty"`
		PermissionBoundaries    []namedPolicy   `json:"permissionBoundaryPolicies,omitempty"`
		SessionPolicy           json.RawMessage `json:"sessionPolicy,omitempty"`
	}

	simRequest struct {
		// Principal is null for an anonymous request, and oracle.mjs
		// replaces null with the library's anonymous marker.
		Principal        *string             `json:"principal"`
		Action           string              `json:"action"`
		Resource         simResource         `json:"resource"`
		ContextVariables map[string][]string `json:"contextVariables"`
	}

	simResource struct {
		Resource  string `json:"resource"`
		AccountID string `json:"accountId"`
	}

	namedPolicy struct {
		Name   string          `json:"name"`
		Policy json.RawMessage `json:"policy"`
	}

	orgPolicies struct {
		OrgIdentifier string        `json:"orgIdentifier"`
		Policies      []namedPolicy `json:"policies"`
	}
)

// simulation builds the oracle's input for tc. The oracle takes a single
// session policy, so the corpus gives each set at most one.
func (c *corpus) simulation(tc *testCase) simulation {
	s := tc.set
	sim := simulation{
		IdentityPolicies:        []namedPolicy{},
		ServiceControlPolicies:  c.orgLevels(s.SCPs, "scp"),
		ResourceControlPolicies: c.oracleRCPLevels(s.RCPs),
		Request: simRequest{
			Action:           tc.Action,
			Resource:         simResource{Resource: tc.Resource, AccountID: tc.Account},
			ContextVariables: tc.Context,
		},
	}

	switch {
	case tc.spec.Service != "":
		sim.Request.Principal = &tc.spec.Service
	case !tc.spec.Anonymous:
		sim.Request.Principal = &tc.spec.ARN
	}

	for _, n := range s.Identity {
		sim.IdentityPolicies = append(sim.IdentityPolicies, namedPolicy{Name: n, Policy: c.raw[n]})
	}

	if s.Resource != "" {
		sim.ResourcePolicy = c.raw[s.Resource]
	}

	if s.Boundary != "" {
		sim.PermissionBoundaries = []namedPolicy{{Name: s.Boundary, Policy: c.raw[s.Boundary]}}
	}

	if len(s.Session) > 0 {
		sim.SessionPolicy = c.raw[s.Session[0]]
	}

	return sim
}

func (c *corpus) orgLevels(levels [][]string, prefix string) []orgPolicies {
	out := []orgPolicies{}

	for i, level := range levels {
		op := orgPolicies{OrgIdentifier: fmt.Sprintf("%s-level-%d", prefix, i)}
		for _, n := range level {
			op.Policies = append(op.Policies, namedPolicy{Name: n, Policy: c.raw[n]})
		}

		out = append(out, op)
	}

	return out
}

// oracleRCPLevels leaves out the RCPs that contain an Allow statement. The
// oracle accepts only Deny statements in an RCP and adds RCPFullAWSAccess
// to the simulation itself, as its README states, while Evaluate needs
// that Allow at every level, so the corpus spells it out.
func (c *corpus) oracleRCPLevels(levels [][]string) []orgPolicies {
	denyOnly := make([][]string, 0, len(levels))

	for _, level := range levels {
		var names []string

		for _, n := range level {
			if !hasAllow(c.parsed[n]) {
				names = append(names, n)
			}
		}

		denyOnly = append(denyOnly, names)
	}

	return c.orgLevels(denyOnly, "rcp")
}

func hasAllow(p *policy.Policy) bool {
	for _, st := range p.Statements {
		if st.Effect == policy.Allow {
			return true
		}
	}

	return false
}
