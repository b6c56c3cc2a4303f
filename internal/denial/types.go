// Package denial explains why AWS denied an S3 or STS request.
//
// Diagnose reads the failed call (operation, bucket, key, caller, error code
// and message) and returns the side that denied. That is the tools account
// that runs the build, the dev account that owns the bucket, the
// organization, or a third party such as a KMS key or a VPC endpoint. The
// diagnosis also says whether the deny was explicit or a missing allow, and
// gives the fix with the real ARNs. The package
// is pure logic: it makes no AWS calls and reads no files.
package denial

import (
	"encoding/json"
)

// Kind is the class of a denial.
type Kind string

// Kinds returned by Diagnose.
const (
	// KindImplicitDeny means no policy of the named type allowed the request.
	KindImplicitDeny Kind = "implicit-deny"
	// KindExplicitDeny means a Deny statement in a policy of the named type matched.
	KindExplicitDeny Kind = "explicit-deny"
	// KindBare means AWS gave no reason ("Access Denied" or a bodiless 403).
	KindBare Kind = "bare"
	// KindOwnerMismatch means the bucket exists but is not owned by the
	// account sent as ExpectedBucketOwner.
	KindOwnerMismatch Kind = "owner-mismatch"
	// KindACLRejected means the bucket has ACLs disabled (Object Ownership
	// "bucket owner enforced") and the request carried an ACL it rejects.
	KindACLRejected Kind = "acl-rejected"
	// KindKMS means the request was denied use of the KMS key that encrypts
	// the object.
	KindKMS Kind = "kms"
	// KindCredentials means the request's credentials were missing, invalid
	// or expired, so no policy was evaluated.
	KindCredentials Kind = "credentials"
	// KindAllAccessDisabled means AWS has disabled all access to the bucket.
	KindAllAccessDisabled Kind = "all-access-disabled"
	// KindNotDenied means the error is not an access denial at all.
	KindNotDenied Kind = "not-denied"
)

// PolicyType is the kind of policy document that denied the request.
type PolicyType string

// Policy types, named as AWS names them in access denied messages.
const (
	PolicyIdentity            PolicyType = "identity-based policy"
	PolicyResource            PolicyType = "resource-based policy"
	PolicySCP                 PolicyType = "service control policy"
	PolicyRCP                 PolicyType = "resource control policy"
	PolicyPermissionsBoundary PolicyType = "permissions boundary"
	PolicySession             PolicyType = "session policy"
	PolicyVPCEndpoint         PolicyType = "VPC endpoint policy"
	PolicyTrust               PolicyType = "role trust policy"
	PolicyKMSKey              PolicyType = "KMS key policy"
	// PolicyNone marks a diagnosis that involves no policy document, such as
	// expired credentials or a wrong ExpectedBucketOwner.
	PolicyNone PolicyType = "none"
	// PolicyUnknown means the message named no policy type, or one this
	// package does not recognise.
	PolicyUnknown PolicyType = "unknown"
)

// Side is the party whose configuration must change.
type Side string

// Sides of a cross-account delivery.
const (
	// SideTools is the account that runs the build and owns the role.
	SideTools Side = "tools-account"
	// SideDev is the account that owns the bucket.
	SideDev Side = "dev-account"
	// SideOrganization is the AWS Organizations management account, which
	// owns service and resource control policies.
	SideOrganization Side = "organization"
	// SideThirdParty is the owner of a KMS key or a VPC endpoint.
	SideThirdParty Side = "third-party"
	// SideUnknown means the response did not name the side that denied.
	SideUnknown Side = "unknown"
)

// Probe is the outcome of repeating a call without ExpectedBucketOwner.
type Probe string

// Probe outcomes.
const (
	ProbeUnknown   Probe = ""
	ProbeSucceeded Probe = "succeeded"
	ProbeDenied    Probe = "denied"
)

// Request describes one failed AWS call.
type Request struct {
	// Operation is the S3 or STS API name, such as "PutObject",
	// "ListObjectsV2" or "AssumeRole".
	Operation string `json:"operation"`
	Bucket    string `json:"bucket,omitempty"`
	Key       string `json:"key,omitempty"`
	// Prefix is the key prefix the build writes under or lists, such as
	// "releases/app". It narrows the fix to that prefix.
	Prefix string `json:"prefix,omitempty"`
	// ExpectedBucketOwner is the account id sent in the
	// x-amz-expected-bucket-owner header, or empty when none was sent.
	ExpectedBucketOwner string `json:"expected_bucket_owner,omitempty"`
	// OwnerProbe is the result of the same call sent without
	// ExpectedBucketOwner, when the caller tried it.
	OwnerProbe Probe `json:"owner_probe,omitempty"`
	// CallerARN is the ARN from sts:GetCallerIdentity, usually a session:
	// arn:aws:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-abc.
	CallerARN string `json:"caller_arn,omitempty"`
	// RoleARN is the role's own ARN with its path, such as
	// arn:aws:iam::111111111111:role/service-role/CodeBuildRole. When empty,
	// Diagnose derives it from CallerARN, without the path.
	RoleARN string `json:"role_arn,omitempty"`
	// ProjectARN is the CodeBuild project ARN, used in trust policy fixes.
	ProjectARN string `json:"project_arn,omitempty"`
	// BuildARN is CODEBUILD_BUILD_ARN. Diagnose derives the project ARN
	// from it when ProjectARN is empty.
	BuildARN string `json:"build_arn,omitempty"`

	StatusCode int    `json:"status_code,omitempty"`
	ErrorCode  string `json:"error_code,omitempty"`
	Message    string `json:"message,omitempty"`

	// ACL is the canned ACL the request sent (x-amz-acl), if any.
	ACL string `json:"acl,omitempty"`
	// SSE is the server-side encryption the request sent, such as "aws:kms".
	SSE string `json:"sse,omitempty"`
	// SSEKMSKeyID is the KMS key id or ARN the request sent, if any.
	SSEKMSKeyID string `json:"sse_kms_key_id,omitempty"`
}

// Diagnosis explains one denial and how to fix it.
type Diagnosis struct {
	Kind       Kind       `json:"kind"`
	PolicyType PolicyType `json:"policy_type"`
	Side       Side       `json:"side"`
	// Account is the account id of the side that must change, when known.
	Account string `json:"account,omitempty"`
	// Principal is the ARN the fixes grant to: the role ARN, not the session.
	Principal string `json:"principal,omitempty"`
	// Caller is the ARN that made the request, often a role session.
	Caller string `json:"caller,omitempty"`
	// Action is the IAM action that was denied, such as "s3:PutObject".
	Action string `json:"action,omitempty"`
	// Resource is the ARN the action was denied on.
	Resource string `json:"resource,omitempty"`
	// PolicyARN is the denying policy, when AWS named it in the message.
	PolicyARN string `json:"policy_arn,omitempty"`
	// Summary is one sentence a person can act on.
	Summary string `json:"summary"`
	// Causes lists the likely causes, most likely first, when the response
	// does not name one.
	Causes []string `json:"causes,omitempty"`
	Fixes  []Fix    `json:"fixes,omitempty"`
	// Notes are caveats about the diagnosis, such as a role path that had
	// to be guessed.
	Notes []string `json:"notes,omitempty"`
}

// Fix is one change to one policy document or setting.
type Fix struct {
	// Document names the policy or setting and the account it lives in, for
	// example "bucket policy of dev-artifacts (account 222222222222)".
	Document string `json:"document"`
	// Account is the account id that owns Document, when known.
	Account string `json:"account,omitempty"`
	// Statement is a policy statement to add, as indented JSON.
	Statement json.RawMessage `json:"statement,omitempty"`
	// Advice is the change to make when it is not a statement to add, such
	// as narrowing a Deny or correcting a flag.
	Advice string `json:"advice,omitempty"`
}
