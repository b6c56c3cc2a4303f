package sandbox

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/countersign/countersign/policy"
)

// bucketPolicySource returns the stored policy of a bucket, ok false when
// the bucket has none.
type bucketPolicySource func(bucket string) (doc []byte, ok bool, err error)

// PolicyAuthorizer decides each request with the IAM policy engine: the
// identity policies of the caller's role or user in the world, the session
// policy of an AssumeRole session, the bucket policy the sandbox stores, and
// the bucket owner from the world.
//
// aws:SecureTransport is true unless the world sets secure_transport to
// false. The sandbox speaks plain HTTP on loopback, but the deployment it
// simulates uses HTTPS, so a policy that denies requests without TLS must
// not deny every sandbox request.
type PolicyAuthorizer struct {
	dir             *Directory
	bucketPolicy    bucketPolicySource
	identity        map[string][]*policy.Policy // by role or user ARN with path
	secureTransport bool
}

// NewPolicyAuthorizer parses the identity policies of every role and user
// in dir's world. Bucket policies are read from policies at each request,
// since PutBucketPolicy changes them while the sandbox runs.
func NewPolicyAuthorizer(dir *Directory, policies bucketPolicySource) (*PolicyAuthorizer, error) {
	identity, err := parseIdentityPolicies(dir.World)
	if err != nil {
		return nil, err
	}
	return &PolicyAuthorizer{
		dir:             dir,
		bucketPolicy:    policies,
		identity:        identity,
		secureTransport: secureTransport(dir.World),
	}, nil
}

// secureTransport returns the aws:SecureTransport value for the world.
func secureTransport(w *World) bool {
	return w.SecureTransport == nil || *w.SecureTransport
}

// parseIdentityPolicies returns the parsed identity policies of every role
// and user of w, by the role's or user's ARN with its path.
func parseIdentityPolicies(w *World) (map[string][]*policy.Policy, error) {
	identity := make(map[string][]*policy.Policy)
	add := func(arn, kind string, docs map[string]json.RawMessage) error {
		// Sorted, so that explanations list the policies in a stable order.
		for _, name := range slices.Sorted(maps.Keys(docs)) {
			p, err := policy.Parse(docs[name])
			if err != nil {
				return fmt.Errorf("policy %q of %s %s: %w", name, kind, arn, err)
			}
			identity[arn] = append(identity[arn], p)
		}
		return nil
	}

	for i := range w.Accounts {
		account := &w.Accounts[i]
		for j := range account.Roles {
			role := &account.Roles[j]
			if err := add(role.ARN(account.ID), "role", role.Policies); err != nil {
				return nil, err
			}
		}
		for j := range account.Users {
			user := &account.Users[j]
			if err := add(user.ARN(account.ID), "user", user.Policies); err != nil {
				return nil, err
			}
		}
	}
	return identity, nil
}

// bucketPolicyOperations are the calls that the root user of the bucket
// owner's account may always make, as S3 never locks it out of the policy.
var bucketPolicyOperations = map[string]bool{
	"GetBucketPolicy":    true,
	"PutBucketPolicy":    true,
	"DeleteBucketPolicy": true,
}

// Authorize evaluates req. For CopyObject and UploadPartCopy, the read of
// the source object must be allowed too.
func (a *PolicyAuthorizer) Authorize(ctx context.Context, req AuthzRequest) error {
	if bucketPolicyOperations[req.Operation] && req.BucketOwner != "" &&
		req.PrincipalARN == "arn:aws:iam::"+req.BucketOwner+":root" {
		return nil
	}

	if err := a.decide(req, req.Action, req.Bucket, req.Key, req.BucketOwner); err != nil {
		return err
	}
	if req.CopySourceBucket == "" {
		return nil
	}

	var owner string
	if b, ok := a.dir.Bucket(req.CopySourceBucket); ok {
		owner = b.Owner
	}
	return a.decide(req, "s3:GetObject", req.CopySourceBucket, req.CopySourceKey, owner)
}

func (a *PolicyAuthorizer) decide(req AuthzRequest, action, bucket, key, owner string) error {
	resource := s3ResourceARN(bucket, key)

	holder := req.RoleARN
	if holder == "" {
		holder = req.UserARN
	}
	set := policy.PolicySet{Identity: a.identity[holder]}
	if req.SessionPolicy != nil {
		set.Session = []*policy.Policy{req.SessionPolicy}
	}
	if bucket != "" {
		doc, ok, err := a.bucketPolicy(bucket)
		if err != nil {
			return err
		}
		if ok {
			p, err := policy.Parse(doc)
			if err != nil {
				return fmt.Errorf("stored policy of bucket %s: %w", bucket, err)
			}
			set.Resource = p
		}
	}

	preq := policy.Request{
		Principal:        req.PrincipalARN,
		PrincipalRoleARN: req.RoleARN,
		PrincipalAccount: req.Account,
		Action:           action,
		Resource:         resource,
		ResourceAccount:  owner,
		Context:          a.contextKeys(req),
	}
	res, err := policy.Evaluate(preq, set)
	if err != nil {
		return fmt.Errorf("evaluate %s on %s: %w", action, resource, err)
	}
	if res.Decision == policy.Allowed {
		return nil
	}
	if res.CrossAccount {
		return &AccessDeniedError{}
	}
	return &AccessDeniedError{Message: deniedMessage(req.PrincipalARN, action, resource, res)}
}

func (a *PolicyAuthorizer) contextKeys(req AuthzRequest) map[string][]string {
	keys := map[string][]string{
		"aws:SecureTransport": {fmt.Sprint(a.secureTransport || req.TLS)},
	}
	if req.SourceIP != "" {
		keys["aws:SourceIp"] = []string{req.SourceIP}
	}
	if req.SourceAccount != "" {
		keys["aws:SourceAccount"] = []string{req.SourceAccount}
	}
	if req.SourceARN != "" {
		keys["aws:SourceArn"] = []string{req.SourceARN}
	}
	if v := req.Header.Get("X-Amz-Acl"); v != "" {
		keys["s3:x-amz-acl"] = []string{v}
	}
	if v := req.Header.Get("X-Amz-Server-Side-Encryption"); v != "" {
		keys["s3:x-amz-server-side-encryption"] = []string{v}
	}
	if req.Action == "s3:ListBucket" && req.Query != nil && req.Query.Has("prefix") {
		keys["s3:prefix"] = []string{req.Query.Get("prefix")}
	}
	return keys
}

func s3ResourceARN(bucket, key string) string {
	switch {
	case bucket == "":
		return "*"
	case key == "":
		return "arn:aws:s3:::" + bucket
	}
	return "arn:aws:s3:::" + bucket + "/" + key
}

// policyTypeNames are the phrases AWS uses for each policy type in its
// access denied messages.
var policyTypeNames = map[policy.PolicyType]string{
	policy.TypeIdentity: "identity-based policy",
	policy.TypeResource: "resource-based policy",
	policy.TypeSCP:      "service control policy",
	policy.TypeRCP:      "resource control policy",
	policy.TypeBoundary: "permissions boundary",
	policy.TypeSession:  "session policy",
}

// deniedMessage builds the message that AWS sends for a same-account
// denial, naming the policy type that decided it.
func deniedMessage(principal, action, resource string, res policy.Result) string {
	base := fmt.Sprintf("User: %s is not authorized to perform: %s on resource: \"%s\"", principal, action, resource)
	if len(res.DeniedBy) == 0 {
		return base
	}

	name := policyTypeNames[res.DeniedBy[0]]
	if name == "" {
		name = string(res.DeniedBy[0])
	}
	if res.Decision == policy.ExplicitDeny {
		return base + " with an explicit deny in " + article(name) + " " + name
	}
	return base + " because no " + name + " allows the " + action + " action"
}

func article(word string) string {
	if strings.ContainsRune("aeiou", rune(word[0])) {
		return "an"
	}
	return "a"
}
