package denial

import (
	"errors"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// FromError extracts the error code, message and HTTP status code from an
// AWS SDK for Go v2 error. It reports false when err carries neither an API
// error nor an HTTP response, such as a network failure or nil.
func FromError(err error) (code, message string, status int, ok bool) {
	if err == nil {
		return "", "", 0, false
	}

	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, message, ok = apiErr.ErrorCode(), apiErr.ErrorMessage(), true
	}

	// The SDK wraps every service error in an *awshttp.ResponseError, which
	// embeds the smithy one. Errors built by hand may carry only the latter.
	var awsResp *awshttp.ResponseError
	var smithyResp *smithyhttp.ResponseError
	switch {
	case errors.As(err, &awsResp) && awsResp.ResponseError != nil:
		if s, found := statusOf(awsResp.ResponseError); found {
			status, ok = s, true
		}
	case errors.As(err, &smithyResp):
		if s, found := statusOf(smithyResp); found {
			status, ok = s, true
		}
	}
	return code, message, status, ok
}

// statusOf returns the status code of a response error, guarding the nil
// response that HTTPStatusCode would dereference.
func statusOf(e *smithyhttp.ResponseError) (int, bool) {
	if e == nil || e.Response == nil || e.Response.Response == nil {
		return 0, false
	}
	return e.Response.StatusCode, true
}

// WithError returns a copy of r with ErrorCode, Message and StatusCode
// taken from an SDK error.
func (r Request) WithError(err error) Request {
	code, message, status, ok := FromError(err)
	if !ok {
		return r
	}
	r.ErrorCode, r.Message, r.StatusCode = code, message, status
	return r
}

// IsAccessDenied reports whether err is an access denial: AccessDenied,
// AllAccessDisabled, KMS's AccessDeniedException, or the SDK's "Forbidden"
// code for a HEAD request's bodiless 403. Credential errors such as
// InvalidAccessKeyId, SignatureDoesNotMatch and ExpiredToken are not
// denials, and IsCredentialError reports those.
func IsAccessDenied(err error) bool {
	code, _, status, ok := FromError(err)
	if !ok {
		return false
	}

	switch normalizedCode(code) {
	case "accessdenied", "allaccessdisabled", "accessdeniedexception":
		return true
	case "forbidden", "":
		return status == 403
	default:
		return false
	}
}

// IsRefusal reports whether the bucket's side refused the request in a way
// a diagnosis explains and exit code 4 reports: an access denial, or an ACL
// that the bucket's Object Ownership setting rejects.
func IsRefusal(err error) bool {
	return IsAccessDenied(err) || IsACLRejected(err)
}

// IsACLRejected reports whether err is S3's AccessControlListNotSupported,
// sent when a request carries an ACL that a bucket with ACLs disabled
// rejects. The status is 400, but callers treat it as a denial because the
// bucket's settings reject the request.
func IsACLRejected(err error) bool {
	code, _, _, ok := FromError(err)
	return ok && code == "AccessControlListNotSupported"
}

// IsCredentialError reports whether err means the credentials were
// missing, invalid or expired, so that AWS evaluated no policy.
func IsCredentialError(err error) bool {
	code, _, _, ok := FromError(err)
	return ok && isCredentialCode(normalizedCode(code))
}
