package denial

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// sdkError builds the error shape the SDK returns for a failed call: an
// API error inside an HTTP response error inside an operation error.
func sdkError(status int, code, message string) error {
	return &smithy.OperationError{
		ServiceID:     "S3",
		OperationName: "PutObject",
		Err: &awshttp.ResponseError{
			ResponseError: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
				Err:      &smithy.GenericAPIError{Code: code, Message: message},
			},
			RequestID: "4Q7F",
		},
	}
}

func TestFromError(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    string
		message string
		status  int
		ok      bool
	}{
		{
			name: "SDKShape", err: sdkError(403, "AccessDenied", "Access Denied"),
			code: "AccessDenied", message: "Access Denied", status: 403, ok: true,
		},
		{
			name: "WrappedWithPercentW", err: fmt.Errorf("upload releases/app/v1.tgz: %w", sdkError(403, "Forbidden", "Forbidden")),
			code: "Forbidden", message: "Forbidden", status: 403, ok: true,
		},
		{
			name: "SmithyResponseOnly",
			err: &smithyhttp.ResponseError{
				Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}},
				Err:      &smithy.GenericAPIError{Code: "AccessControlListNotSupported", Message: "The bucket does not allow ACLs"},
			},
			code: "AccessControlListNotSupported", message: "The bucket does not allow ACLs", status: 400, ok: true,
		},
		{
			name: "APIErrorWithoutResponse", err: &smithy.GenericAPIError{Code: "ExpiredToken", Message: "The provided token has expired."},
			code: "ExpiredToken", message: "The provided token has expired.", ok: true,
		},
		{
			name: "NilResponse", err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Err: errors.New("reset")}},
			ok: false,
		},
		{name: "PlainError", err: errors.New("dial tcp 127.0.0.1:9: connection refused"), ok: false},
		{name: "Nil", err: nil, ok: false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, message, status, ok := FromError(tt.err)

			if code != tt.code {
				t.Errorf("code = %q, want %q", code, tt.code)
			}
			if message != tt.message {
				t.Errorf("message = %q, want %q", message, tt.message)
			}
			if status != tt.status {
				t.Errorf("status = %d, want %d", status, tt.status)
			}
			if ok != tt.ok {
				t.Errorf("ok = %v, want %v", ok, tt.ok)
			}
		})
	}
}

func TestIsAccessDenied(t *testing.T) {
	tests := []struct {
		name        string
		err         error
		denied      bool
		credential  bool
		aclRejected bool
	}{
		{name: "AccessDenied", err: sdkError(403, "AccessDenied", "Access Denied"), denied: true},
		{name: "AllAccessDisabled", err: sdkError(403, "AllAccessDisabled", "All access to this object has been disabled"), denied: true},
		{name: "BodilessHead", err: sdkError(403, "Forbidden", "Forbidden"), denied: true},
		{name: "KMSAccessDenied", err: sdkError(400, "KMS.AccessDeniedException", "denied"), denied: true},
		{name: "NotFound", err: sdkError(404, "NotFound", "Not Found")},
		{name: "ForbiddenWithoutStatus", err: &smithy.GenericAPIError{Code: "Forbidden"}},
		{name: "InvalidAccessKeyId", err: sdkError(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records."), credential: true},
		{name: "SignatureDoesNotMatch", err: sdkError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match"), credential: true},
		{name: "ExpiredToken", err: sdkError(400, "ExpiredToken", "The provided token has expired."), credential: true},
		{name: "InvalidToken", err: sdkError(400, "InvalidToken", "The provided token is malformed or otherwise invalid."), credential: true},
		{name: "NetworkError", err: errors.New("connection refused")},
		{name: "ACLNotSupported", err: sdkError(400, "AccessControlListNotSupported", "The bucket does not allow ACLs"), aclRejected: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := IsAccessDenied(tt.err); got != tt.denied {
				t.Errorf("IsAccessDenied = %v, want %v", got, tt.denied)
			}
			if got := IsCredentialError(tt.err); got != tt.credential {
				t.Errorf("IsCredentialError = %v, want %v", got, tt.credential)
			}
			if got := IsACLRejected(tt.err); got != tt.aclRejected {
				t.Errorf("IsACLRejected = %v, want %v", got, tt.aclRejected)
			}
			if got, want := IsRefusal(tt.err), tt.denied || tt.aclRejected; got != want {
				t.Errorf("IsRefusal = %v, want %v", got, want)
			}
		})
	}
}

func TestRequestWithError(t *testing.T) {
	req := Request{Operation: "HeadBucket", Bucket: testBucket, RoleARN: testRole}.
		WithError(sdkError(403, "Forbidden", "Forbidden"))

	if req.ErrorCode != "Forbidden" || req.Message != "Forbidden" || req.StatusCode != 403 {
		t.Errorf("got code %q, message %q, status %d, want Forbidden, Forbidden, 403", req.ErrorCode, req.Message, req.StatusCode)
	}
	if got := Diagnose(req); got.Kind != KindBare {
		t.Errorf("Diagnose(...).Kind = %q, want %q", got.Kind, KindBare)
	}
}
