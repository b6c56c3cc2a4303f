package policy

import (
	"strings"

	"github.com/agnivade/levenshtein"
)

// s3ObjectActions and s3BucketActions classify S3 actions by the resource
// type they require, following the "Resource types" column of the table
// "Actions defined by Amazon S3" in the AWS Service Authorization
// Reference: object actions take arn:aws:s3:::bucket/key ARNs, bucket
// actions take arn:aws:s3:::bucket ARNs. Keys are lowercased; values are
// the names as AWS writes them.
//
// NOTE: this is a hand-kept subset covering the actions that bucket and
// role policies commonly grant. An action missing from both tables is not
// checked.
var s3ObjectActions = setOf(
	"AbortMultipartUpload",
	"BypassGovernanceRetention",
	"DeleteObject",
	"DeleteObjectTagging",
	"DeleteObjectVersion",
	"DeleteObjectVersionTagging",
	"GetObject",
	"GetObjectAcl",
	"GetObjectAttributes",
	"GetObjectLegalHold",
	"GetObjectRetention",
	"GetObjectTagging",
	"GetObjectTorrent",
	"GetObjectVersion",
	"GetObjectVersionAcl",
	"GetObjectVersionAttributes",
	"GetObjectVersionForReplication",
	"GetObjectVersionTagging",
	"GetObjectVersionTorrent",
	"InitiateReplication",
	"ListMultipartUploadParts",
	"ObjectOwnerOverrideToBucketOwner",
	"PutObject",
	"PutObjectAcl",
	"PutObjectLegalHold",
	"PutObjectRetention",
	"PutObjectTagging",
	"PutObjectVersionAcl",
	"PutObjectVersionTagging",
	"ReplicateDelete",
	"ReplicateObject",
	"ReplicateTags",
	"RestoreObject",
)

var s3BucketActions = setOf(
	"CreateBucket",
	"DeleteBucket",
	"DeleteBucketPolicy",
	"DeleteBucketWebsite",
	"GetBucketAcl",
	"GetBucketCORS",
	"GetBucketLocation",
	"GetBucketLogging",
	"GetBucketNotification",
	"GetBucketObjectLockConfiguration",
	"GetBucketOwnershipControls",
	"GetBucketPolicy",
	"GetBucketPolicyStatus",
	"GetBucketPublicAccessBlock",
	"GetBucketRequestPayment",
	"GetBucketTagging",
	"GetBucketVersioning",
	"GetBucketWebsite",
	"GetEncryptionConfiguration",
	"GetLifecycleConfiguration",
	"GetReplicationConfiguration",
	"ListBucket",
	"ListBucketMultipartUploads",
	"ListBucketVersions",
	"PutBucketAcl",
	"PutBucketCORS",
	"PutBucketLogging",
	"PutBucketNotification",
	"PutBucketObjectLockConfiguration",
	"PutBucketOwnershipControls",
	"PutBucketPolicy",
	"PutBucketPublicAccessBlock",
	"PutBucketRequestPayment",
	"PutBucketTagging",
	"PutBucketVersioning",
	"PutBucketWebsite",
	"PutEncryptionConfiguration",
	"PutLifecycleConfiguration",
	"PutReplicationConfiguration",
)

func setOf(values ...string) map[string]string {
	set := make(map[string]string, len(values))
	for _, v := range values {
		set[strings.ToLower(v)] = v
	}

	return set
}

// IsS3BucketAction reports whether an S3 action such as "s3:ListBucket"
// takes a bucket ARN rather than an object ARN. Actions missing from the
// table count as bucket actions when their names start as bucket
// operations do (ListBucket…, GetBucket…, PutBucket…).
func IsS3BucketAction(action string) bool {
	service, name, ok := strings.Cut(strings.ToLower(action), ":")
	if !ok || service != "s3" {
		return false
	}
	if _, ok := s3BucketActions[name]; ok {
		return true
	}
	if _, ok := s3ObjectActions[name]; ok {
		return false
	}

	for _, prefix := range []string{"listbucket", "getbucket", "putbucket"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// SuggestS3Action returns the known S3 action closest to action when
// action is not one but is at most two edits away from one, as a typo such
// as "s3:GetObjekt" is. The tables are a subset, so an unknown action that
// is not close to a known one may still be real and gets no suggestion.
func SuggestS3Action(action string) (string, bool) {
	service, name, ok := strings.Cut(action, ":")
	lower := strings.ToLower(name)
	_, object := s3ObjectActions[lower]
	_, bucket := s3BucketActions[lower]
	if !ok || !strings.EqualFold(service, "s3") || object || bucket {
		return "", false
	}

	best, bestDistance := "", 3
	for _, table := range []map[string]string{s3ObjectActions, s3BucketActions} {
		for known, cased := range table {
			d := levenshtein.ComputeDistance(lower, known)
			if d < bestDistance || (d == bestDistance && cased < best) {
				best, bestDistance = cased, d
			}
		}
	}

	if best == "" {
		return "", false
	}

	return "s3:" + best, true
}
