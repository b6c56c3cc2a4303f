package denial

import (
	"strings"
)

// operation is the IAM permission that one API operation needs.
type operation struct {
	// Action is the IAM action S3 or STS checks for the operation.
	Action string
	// BucketLevel is true when the action applies to the bucket ARN rather
	// than to an object ARN.
	BucketLevel bool
	// Write is true for operations that store object data, which need
	// kms:GenerateDataKey when the object is encrypted with SSE-KMS.
	Write bool
	// Read is true for operations that return object data, which need
	// kms:Decrypt under SSE-KMS.
	Read bool
}

// operations maps API operation names, lower-cased, to the IAM action that
// authorizes them.
// NOTE: the table covers the calls countersign makes and their close
// relatives. For any other operation Diagnose uses only the action that
// the message names, and the fixes show <ACTION> when there is none.
var operations = map[string]operation{
	"putobject":               {Action: "s3:PutObject", Write: true},
	"createmultipartupload":   {Action: "s3:PutObject", Write: true},
	"uploadpart":              {Action: "s3:PutObject", Write: true},
	"uploadpartcopy":          {Action: "s3:PutObject", Write: true},
	"completemultipartupload": {Action: "s3:PutObject", Write: true},
	"copyobject":              {Action: "s3:PutObject", Write: true},
	"abortmultipartupload":    {Action: "s3:AbortMultipartUpload"},
	"listparts":               {Action: "s3:ListMultipartUploadParts"},
	"getobject":               {Action: "s3:GetObject", Read: true},
	"headobject":              {Action: "s3:GetObject", Read: true},
	"getobjectattributes":     {Action: "s3:GetObjectAttributes"},
	"getobjecttagging":        {Action: "s3:GetObjectTagging"},
	"putobjecttagging":        {Action: "s3:PutObjectTagging"},
	"putobjectacl":            {Action: "s3:PutObjectAcl"},
	"getobjectacl":            {Action: "s3:GetObjectAcl"},
	"deleteobject":            {Action: "s3:DeleteObject"},
	"deleteobjects":           {Action: "s3:DeleteObject"},
	"listobjectsv2":           {Action: "s3:ListBucket", BucketLevel: true},
	"listobjects":             {Action: "s3:ListBucket", BucketLevel: true},
	"headbucket":              {Action: "s3:ListBucket", BucketLevel: true},
	"listmultipartuploads":    {Action: "s3:ListBucketMultipartUploads", BucketLevel: true},
	"listobjectversions":      {Action: "s3:ListBucketVersions", BucketLevel: true},
	"getbucketlocation":       {Action: "s3:GetBucketLocation", BucketLevel: true},
	"getbucketpolicy":         {Action: "s3:GetBucketPolicy", BucketLevel: true},
	"getbucketencryption":     {Action: "s3:GetEncryptionConfiguration", BucketLevel: true},
	"getbucketownershipcontrols": {
		Action: "s3:GetBucketOwnershipControls", BucketLevel: true,
	},
	"assumerole": {Action: "sts:AssumeRole"},
}

// lookupOperation returns the IAM needs of an operation name, ignoring case.
func lookupOperation(name string) (operation, bool) {
	op, ok := operations[strings.ToLower(strings.TrimSpace(name))]
	return op, ok
}

// isHeadOperation reports whether the operation is a HEAD request, whose
// error responses carry no body and so no message.
func isHeadOperation(name string) bool {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "headbucket", "headobject":
		return true
	}
	return false
}

// isBucketLevelAction reports whether an S3 action is granted on the
// bucket ARN rather than on object ARNs.
func isBucketLevelAction(action string) bool {
	a := strings.ToLower(action)
	return strings.HasPrefix(a, "s3:listbucket") ||
		strings.HasPrefix(a, "s3:getbucket") ||
		strings.HasPrefix(a, "s3:putbucket") ||
		a == "s3:getencryptionconfiguration"
}

// kmsActionsFor returns the KMS actions an S3 operation needs under
// SSE-KMS. Writes need kms:Decrypt too, because multipart uploads decrypt
// the data key to complete the upload.
func kmsActionsFor(op operation) []string {
	if op.Read {
		return []string{"kms:Decrypt"}
	}
	return []string{"kms:GenerateDataKey", "kms:Decrypt"}
}
