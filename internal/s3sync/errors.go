package s3sync

import (
	"errors"
	"net/http"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// isAccessDenied reports whether err is an S3 access denial: an API error
// with code AccessDenied or AllAccessDisabled, or any HTTP 403 (HEAD
// requests get a bare 403 with no error code).
func isAccessDenied(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "AccessDenied", "AllAccessDisabled":
			return true
		}
	}

	var respErr *awshttp.ResponseError
	return errors.As(err, &respErr) && respErr.HTTPStatusCode() == http.StatusForbidden
}
