package sandbox

import (
	"context"
	"net/http"
	"net/url"

	"github.com/countersign/countersign/policy"
)

// AuthzRequest describes an authenticated S3 request for an Authorizer.
type AuthzRequest struct {
	PrincipalName string // the world's name for the principal, such as "build"
	PrincipalARN  string // as GetCallerIdentity returns it, or a service name
	Account       string // the principal's account
	RoleARN       string // for role sessions, the role's ARN with its path
	UserARN       string // for IAM users, the user's ARN with its path

	// SourceAccount and SourceARN are set for a service principal: the
	// account and resource it acts for (aws:SourceAccount, aws:SourceArn).
	SourceAccount string
	SourceARN     string

	// SessionPolicy is the session policy of an AssumeRole session, or nil.
	SessionPolicy *policy.Policy

	// Operation is the S3 API operation, such as PutObject. The front calls
	// Authorize once for each key of a DeleteObjects batch, with that Key
	// and the action s3:DeleteObject or s3:DeleteObjectVersion.
	Operation string
	Action    string // IAM action, such as s3:PutObject
	Bucket    string
	Key       string

	// BucketOwner is the account that owns Bucket in the world; empty for
	// requests that name no bucket.
	BucketOwner string

	// CopySourceBucket and CopySourceKey are set for CopyObject and
	// UploadPartCopy, which also read the source object.
	CopySourceBucket string
	CopySourceKey    string

	Query    url.Values  // the request's query, for s3:prefix
	Header   http.Header // the client's headers, authentication removed
	TLS      bool
	SourceIP string
}

// Authorizer decides whether an authenticated request may proceed. It
// returns nil to allow, an *AccessDeniedError to deny, and any other error
// when it could not decide, which the client sees as a 500.
type Authorizer interface {
	Authorize(ctx context.Context, req AuthzRequest) error
}

// AccessDeniedError denies a request. Message is what S3 puts in the error
// response; empty means the bare "Access Denied".
type AccessDeniedError struct {
	Message string
}

func (e *AccessDeniedError) Error() string {
	if e.Message == "" {
		return "access denied"
	}
	return "access denied: " + e.Message
}

// AllowAll allows every authenticated request. Run uses a PolicyAuthorizer
// when Config.Authorizer is nil, so AllowAll is for tests of the front alone.
type AllowAll struct{}

func (AllowAll) Authorize(context.Context, AuthzRequest) error { return nil }

// NewDefaultAuthorizer returns the PolicyAuthorizer that Run uses: the
// world's identity policies, and the bucket policies stored in policyDir,
// read again at each request so PutBucketPolicy takes effect at once.
func NewDefaultAuthorizer(dir *Directory, policyDir string) (*PolicyAuthorizer, error) {
	store, err := newPolicyStore(policyDir)
	if err != nil {
		return nil, err
	}
	return NewPolicyAuthorizer(dir, store.Get)
}
