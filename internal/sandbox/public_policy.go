package sandbox

import (
	"fmt"
	"net/http"

	"github.com/countersign/countersign/policy"
)

// checkBlockPublicPolicy rejects a bucket policy that is public while the
// bucket's public access block has BlockPublicPolicy on, with the 403 and
// message that S3 sends. doc has passed ValidatePolicy.
func (q *s3Request) checkBlockPublicPolicy(doc []byte) *s3Error {
	settings, err := q.front.settings.Get(q.bucket.Name)
	if err != nil {
		return errInternal(err)
	}
	if block := settings.PublicAccessBlock; block == nil || !block.BlockPublicPolicy {
		return nil
	}

	p, err := policy.Parse(doc)
	if err != nil {
		return &s3Error{Status: http.StatusBadRequest, Code: "MalformedPolicy", Message: err.Error()}
	}
	if len(policy.PublicStatements(p)) == 0 {
		return nil
	}

	e := errAccessDenied()
	e.Message = fmt.Sprintf("User: %s is not authorized to perform: s3:PutBucketPolicy on resource: \"%s\" because public policies are blocked by the BlockPublicPolicy block public access setting.",
		q.id.ARN, s3ResourceARN(q.bucket.Name, ""))
	return e
}
