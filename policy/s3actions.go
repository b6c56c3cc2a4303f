package policy

import "strings"

// s3ObjectActions and s3BucketActions classify S3 actions by the resource
// type they require, following the "Resource types" column of the table
// "Actions defined by Amazon S3" in the AWS Service Authorization
// Reference: object actions take arn:aws:s3:::bucket/key ARNs, bucket
// actions take arn:aws:s3:::bucket ARNs. Keys are lowercased.
//
// NOTE: this is a hand-kept subset covering the actions that bucket and
// role policies commonly grant. An action missing from both tables is not
// checked.
var s3ObjectActions = setOf(
	"abortmultipartupload",
	"bypassgovernanceretention",
	"deleteobject",
	"deleteobjecttagging",
	"deleteobjectversion",
	"deleteobjectversiontagging",
	"getobject",
	"getobjectacl",
	"getobjectattributes",
	"getobjectlegalhold",
	"getobjectretention",
	"getobjecttagging",
	"getobjecttorrent",
	"getobjectversion",
	"getobjectversionacl",
	"getobjectversionattributes",
	"getobjectversionforreplication",
	"getobjectversiontagging",
	"getobjectversiontorrent",
	"initiatereplication",
	"listmultipartuploadparts",
	"objectowneroverridetobucketowner",
	"putobject",
	"putobjectacl",
	"putobjectlegalhold",
	"putobjectretention",
	"putobjecttagging",
	"putobjectversionacl",
	"putobjectversiontagging",
	"replicatedelete",
	"replicateobject",
	"replicatetags",
	"restoreobject",
)

var s3BucketActions = setOf(
	"createbucket",
	"deletebucket",
	"deletebucketpolicy",
	"deletebucketwebsite",
	"getbucketacl",
	"getbucketcors",
	"getbucketlocation",
	"getbucketlogging",
	"getbucketnotification",
	"getbucketobjectlockconfiguration",
	"getbucketownershipcontrols",
	"getbucketpolicy",
	"getbucketpolicystatus",
	"getbucketpublicaccessblock",
	"getbucketrequestpayment",
	"getbuckettagging",
	"getbucketversioning",
	"getbucketwebsite",
	"getencryptionconfiguration",
	"getlifecycleconfiguration",
	"getreplicationconfiguration",
	"listbucket",
	"listbucketmultipartuploads",
	"listbucketversions",
	"putbucketacl",
	"putbucketcors",
	"putbucketlogging",
	"putbucketnotification",
	"putbucketobjectlockconfiguration",
	"putbucketownershipcontrols",
	"putbucketpolicy",
	"putbucketpublicaccessblock",
	"putbucketrequestpayment",
	"putbuckettagging",
	"putbucketversioning",
	"putbucketwebsite",
	"putencryptionconfiguration",
	"putlifecycleconfiguration",
	"putreplicationconfiguration",
)

func setOf(values ...string) map[string]bool {
	set := make(map[string]bool, len(values))
	for _, v := range values {
		set[v] = true
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
	if s3BucketActions[name] {
		return true
	}
	if s3ObjectActions[name] {
		return false
	}

	for _, prefix := range []string{"listbucket", "getbucket", "putbucket"} {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}
