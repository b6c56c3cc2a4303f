package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/countersign/countersign/policy"
)

// principalSpec describes one caller of the corpus. Exactly one of ARN,
// Service and Anonymous is set.
type principalSpec struct {
	ARN       string `json:"arn"`
	RoleARN   string `json:"roleArn"`
	UserID    string `json:"userId"`
	Service   string `json:"service"`
	Anonymous bool   `json:"anonymous"`
}

// policySetSpec names the corpus policies that apply together, the callers
// to draw and the resource groups to draw from.
type policySetSpec struct {
	Name       string     `json:"name"`
	Identity   []string   `json:"identity"`
	Resource   string     `json:"resource"`
	SCPs       [][]string `json:"scps"`
	RCPs       [][]string `json:"rcps"`
	Boundary   string     `json:"boundary"`
	Session    []string   `json:"session"`
	Principals []string   `json:"principals"`
	Resources  []string   `json:"resources"`
}

// corpusFile is the layout of testdata/sets.json.
type corpusFile struct {
	Principals map[string]principalSpec `json:"principals"`

	// Resources maps each resource ARN to the account that owns it.
	Resources map[string]string `json:"resources"`

	Sets []policySetSpec `json:"sets"`
}

// corpus is the loaded test corpus: each policy both as the raw JSON the
// oracle receives and as parsed by the policy package.
type corpus struct {
	corpusFile

	raw    map[string]json.RawMessage
	parsed map[string]*policy.Policy

	// resourceNames lists Resources' keys in sorted order, so that drawing
	// from them does not depend on map iteration order.
	resourceNames []string
}

// resourceGroups maps the group names used in sets.json to the ARN prefix
// of their members.
var resourceGroups = map[string]string{
	"s3:home":   "arn:aws:s3:::home-bucket",
	"s3:shared": "arn:aws:s3:::shared-bucket",
	"s3:logs":   "arn:aws:s3:::home-bucket/AWSLogs/",
	"sqs":       "arn:aws:sqs:",
	"dynamodb":  "arn:aws:dynamodb:",
}

func loadCorpus(dir string) (*corpus, error) {
	data, err := os.ReadFile(filepath.Join(dir, "sets.json"))
	if err != nil {
		return nil, fmt.Errorf("read corpus: %w", err)
	}

	c := &corpus{raw: map[string]json.RawMessage{}, parsed: map[string]*policy.Policy{}}
	if err := json.Unmarshal(data, &c.corpusFile); err != nil {
		return nil, fmt.Errorf("parse %s: %w", filepath.Join(dir, "sets.json"), err)
	}

	files, err := filepath.Glob(filepath.Join(dir, "policies", "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}

	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("read policy: %w", err)
		}

		p, err := policy.Parse(doc)
		if err != nil {
			return nil, fmt.Errorf("parse policy %s: %w", f, err)
		}

		name := strings.TrimSuffix(filepath.Base(f), ".json")
		c.raw[name], c.parsed[name] = doc, p
	}

	for name := range c.Resources {
		c.resourceNames = append(c.resourceNames, name)
	}

	sort.Strings(c.resourceNames)

	if err := c.check(); err != nil {
		return nil, err
	}

	return c, nil
}

// check rejects a set that names a missing policy, principal or resource
// group, so that a typo in sets.json fails the run instead of shrinking it.
func (c *corpus) check() error {
	for _, s := range c.Sets {
		names := append([]string{}, s.Identity...)
		names = append(names, s.Session...)

		for _, level := range append(append([][]string{}, s.SCPs...), s.RCPs...) {
			names = append(names, level...)
		}

		for _, n := range []string{s.Resource, s.Boundary} {
			if n != "" {
				names = append(names, n)
			}
		}

		for _, n := range names {
			if c.parsed[n] == nil {
				return fmt.Errorf("set %q: policy %q not found; add testdata/policies/%s.json or fix the name", s.Name, n, n)
			}
		}

		for _, n := range s.Principals {
			if _, ok := c.Principals[n]; !ok {
				return fmt.Errorf("set %q: principal %q not found in sets.json principals", s.Name, n)
			}
		}

		for _, g := range s.Resources {
			if _, ok := resourceGroups[g]; !ok {
				return fmt.Errorf("set %q: unknown resource group %q; use one of s3:home, s3:shared, s3:logs, sqs, dynamodb", s.Name, g)
			}
		}

		// The oracle takes one session policy per simulation.
		if len(s.Session) > 1 {
			return fmt.Errorf("set %q: has %d session policies; the oracle takes at most one", s.Name, len(s.Session))
		}

		if len(s.Principals) == 0 || len(s.Resources) == 0 {
			return fmt.Errorf("set %q: needs at least one principal and one resource group", s.Name)
		}
	}

	return nil
}

// NOTE: no set grants a same-account caller through Principal "*" while a
// permissions boundary denies the action. Evaluate applies the boundary
// there and the oracle does not, and the permissions boundary page covers
// user, role and session ARNs but not "*".

// policySet builds the policy package's view of s.
func (c *corpus) policySet(s *policySetSpec) policy.PolicySet {
	var set policy.PolicySet

	for _, n := range s.Identity {
		set.Identity = append(set.Identity, c.parsed[n])
	}

	for _, n := range s.Session {
		set.Session = append(set.Session, c.parsed[n])
	}

	if s.Resource != "" {
		set.Resource = c.parsed[s.Resource]
	}

	if s.Boundary != "" {
		set.Boundary = c.parsed[s.Boundary]
	}

	set.SCPs = c.levels(s.SCPs)
	set.RCPs = c.levels(s.RCPs)

	return set
}

func (c *corpus) levels(names [][]string) [][]*policy.Policy {
	var levels [][]*policy.Policy

	for _, level := range names {
		var ps []*policy.Policy
		for _, n := range level {
			ps = append(ps, c.parsed[n])
		}

		levels = append(levels, ps)
	}

	return levels
}
