package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Each cdk-nag suppression names the exact finding it covers, with
// appliesTo for the granular IAM5 rule, and gives the reason the design
// needs it.

// suppression is one cdk-nag rule suppression.
type suppression struct {
	id        string
	reason    string
	appliesTo []string
}

func suppress(construct any, suppressions ...suppression) {
	var list []*cdknag.NagPackSuppression
	for _, s := range suppressions {
		item := &cdknag.NagPackSuppression{Id: jsii.String(s.id), Reason: jsii.String(s.reason)}
		if len(s.appliesTo) > 0 {
			applies := make([]any, len(s.appliesTo))
			for i, finding := range s.appliesTo {
				applies[i] = finding
			}
			item.AppliesTo = &applies
		}
		list = append(list, item)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(construct, &list, jsii.Bool(true))
}

// nagResource returns the form in which cdk-nag's IAM5 rule names a
// resource ARN, with the partition written as <AWS::Partition>.
func nagResource(arn string) string {
	return "Resource::arn:<AWS::Partition>" + arn
}

func suppressToolsFindings(cfg Config, role awsiam.Role, project awscodebuild.Project) {
	wildcards := []suppression{
		{
			id:        "AwsSolutions-IAM5",
			reason:    "Every build writes new keys under the delivery prefix (PREFIX/COMMIT/...), so the object grant covers the keys under the prefix and nothing else; the bucket policy grants the same set.",
			appliesTo: []string{nagResource(":s3:::" + cfg.BucketName + "/" + cfg.Prefix + "/*")},
		},
		{
			id:        "AwsSolutions-IAM5",
			reason:    "CodeBuild writes each build's log to a new log stream, so the grant covers the streams of this project's log group only.",
			appliesTo: []string{nagResource(":logs:" + cfg.Region + ":" + cfg.ToolsAccount + ":log-group:/aws/codebuild/" + cfg.ProjectName + ":*")},
		},
	}
	if cfg.KMSKey == kmsCreate {
		wildcards = append(wildcards, suppression{
			id:        "AwsSolutions-IAM5",
			reason:    "The dev stack's key gets its ARN only when that stack deploys, so the grant names the dev account's keys and its kms:ResourceAliases condition limits it to the key with the bucket's alias.",
			appliesTo: []string{nagResource(":kms:" + cfg.Region + ":" + cfg.DevAccount + ":key/*")},
		})
	}
	suppress(role, wildcards...)

	suppress(project, suppression{
		id:     "AwsSolutions-CB4",
		reason: "The project keeps no CodeBuild artifacts (NO_ARTIFACTS): countersign sync delivers the build output to the dev bucket, whose own encryption applies. CodeBuild encrypts its logs with the AWS managed key.",
	})
}

func suppressDevFindings(cfg Config, bucket awss3.Bucket, auditRole awsiam.Role) {
	suppress(bucket, suppression{
		id:     "AwsSolutions-S1",
		reason: "Server access logs need a second bucket; the bucket policy admits one role and the audit Lambda checks it on a schedule. Turn on access logs or CloudTrail data events where the account's logging standard asks for request records.",
	})

	suppress(auditRole, suppression{
		id:        "AwsSolutions-IAM5",
		reason:    "Lambda writes each execution environment's log to a new log stream, so the grant covers the streams of this function's log group only.",
		appliesTo: []string{nagResource(":logs:" + cfg.Region + ":" + cfg.DevAccount + ":log-group:/aws/lambda/" + cfg.AuditFunctionName + ":*")},
	})
}
