package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/jsii-runtime-go"
)

// A cross-account request succeeds only when the build role's policy in
// the tools account and the bucket policy in the dev account both allow
// it, so both stacks build their delivery grants with deliveryStatements.

// listAction lists the prefix: sync plans by listing, preflight checks it.
const listAction = "s3:ListBucket"

// objectActions are the object actions of sync and preflight under the
// prefix. s3:AbortMultipartUpload lets an interrupted multipart upload
// clean up its parts.
var objectActions = []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"}

// Sids of the delivery statements in both policies. They are the Sids the
// audit Lambda's enforce mode owns, so that enforce finds the template's
// statements up to date instead of adding copies next to them.
const (
	sidList    = "CountersignManagedList"
	sidObjects = "CountersignManagedAccess"
)

// bucketARN returns the ARN of the artifact bucket, built from its name so
// that the tools stack needs no reference into the dev stack.
func bucketARN(cfg Config) *string {
	return jsii.String("arn:" + *awscdk.Aws_PARTITION() + ":s3:::" + cfg.BucketName)
}

// objectsARN returns the ARN pattern of the objects under the prefix.
func objectsARN(cfg Config) *string {
	return jsii.String(*bucketARN(cfg) + "/" + cfg.Prefix + "/*")
}

// roleARN returns the build role's ARN as the dev stack names it.
func roleARN(cfg Config) *string {
	return jsii.String(cfg.RoleARN(*awscdk.Aws_PARTITION()))
}

// deliveryStatements returns the grants of the build role: listing under
// the prefix and the object actions on the prefix's objects. With a
// principal they are bucket policy statements, without one identity
// policy statements.
func deliveryStatements(cfg Config, principal awsiam.IPrincipal) []awsiam.PolicyStatement {
	var principals *[]awsiam.IPrincipal
	if principal != nil {
		principals = &[]awsiam.IPrincipal{principal}
	}

	list := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sidList),
		Effect:     awsiam.Effect_ALLOW,
		Principals: principals,
		Actions:    jsii.Strings(listAction),
		Resources:  &[]*string{bucketARN(cfg)},
		// sync and preflight list with a prefix that starts with PREFIX/.
		// HeadBucket carries no s3:prefix, so this denies it, and preflight
		// proves the bucket and its owner with this listing instead.
		Conditions: &map[string]any{
			"StringLike": map[string]any{"s3:prefix": cfg.Prefix + "/*"},
		},
	})
	objects := awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String(sidObjects),
		Effect:     awsiam.Effect_ALLOW,
		Principals: principals,
		Actions:    jsii.Strings(objectActions...),
		Resources:  &[]*string{objectsARN(cfg)},
	})
	return []awsiam.PolicyStatement{list, objects}
}

// requiredActions are the actions the audit Lambda checks the role for:
// the same as the grants, so enforce mode writes back exactly these.
func requiredActions() []string {
	return append([]string{listAction}, objectActions...)
}
