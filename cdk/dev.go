package main

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscloudwatch"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsevents"
	"github.com/aws/aws-cdk-go/awscdk/v2/awseventstargets"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awskms"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The audit Lambda's metric, as lambda/emf.go writes it.
const (
	metricNamespace = "Countersign"
	metricName      = "DriftFindings"
)

// alarmPeriod returns the period of both alarms. The audit writes one
// data point per run, and the alarms ignore the periods in between, so any
// schedule works with it. It is a function because a jsii value in a
// package variable would start the jsii runtime at program start.
func alarmPeriod() awscdk.Duration {
	return awscdk.Duration_Minutes(jsii.Number(5))
}

// NewDevStack defines the dev account's side: the artifact bucket, its
// policy naming the build role, the optional KMS key, and the audit Lambda
// with its schedule and alarms.
func NewDevStack(scope constructs.Construct, id string, cfg Config) awscdk.Stack {
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(cfg.DevAccount), Region: jsii.String(cfg.Region)},
		Description: jsii.String("Countersign dev side: bucket " + cfg.BucketName + ", its policy for the build role and the audit Lambda"),
	})

	key := newArtifactKey(stack, cfg)
	bucket := newArtifactBucket(stack, cfg, key)
	function, auditRole := newAuditFunction(stack, cfg)
	newAlarms(stack, cfg, function)
	suppressDevFindings(cfg, bucket, auditRole)

	awscdk.NewCfnOutput(stack, jsii.String("BucketName"), &awscdk.CfnOutputProps{Value: bucket.BucketName()})
	awscdk.NewCfnOutput(stack, jsii.String("AuditFunctionName"), &awscdk.CfnOutputProps{Value: function.FunctionName()})
	return stack
}

// newArtifactKey returns the bucket's customer managed key: one created
// here for kmsKey "create", the existing key for a key ARN, or nil.
func newArtifactKey(stack awscdk.Stack, cfg Config) awskms.IKey {
	switch cfg.KMSKey {
	case kmsNone:
		return nil
	case kmsCreate:
	default:
		// NOTE: the app does not manage an existing key's policy, which must
		// allow the build role kms:GenerateDataKey and kms:Decrypt.
		return awskms.Key_FromKeyArn(stack, jsii.String("ArtifactKey"), jsii.String(cfg.KMSKey))
	}

	key := awskms.NewKey(stack, jsii.String("ArtifactKey"), &awskms.KeyProps{
		Alias:             jsii.String(cfg.KMSAlias()),
		Description:       jsii.String("Encrypts the artifacts in " + cfg.BucketName),
		EnableKeyRotation: jsii.Bool(true),
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
	})

	// A customer managed key is a third party to the cross-account
	// request, so its key policy must allow the build role too, and only
	// through S3.
	key.AddToResourcePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:        jsii.String("BuildRoleThroughS3"),
		Effect:     awsiam.Effect_ALLOW,
		Principals: &[]awsiam.IPrincipal{awsiam.NewArnPrincipal(roleARN(cfg))},
		Actions:    jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Resources:  jsii.Strings("*"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": "s3." + cfg.Region + ".amazonaws.com"},
		},
	}), nil)
	return key
}

// newArtifactBucket returns the bucket with its policy. The policy grants
// the build role's ARN the same statements as the role's own policy.
func newArtifactBucket(stack awscdk.Stack, cfg Config, key awskms.IKey) awss3.Bucket {
	props := &awss3.BucketProps{
		BucketName:        jsii.String(cfg.BucketName),
		BlockPublicAccess: awss3.BlockPublicAccess_BLOCK_ALL(),
		ObjectOwnership:   awss3.ObjectOwnership_BUCKET_OWNER_ENFORCED,
		EnforceSSL:        jsii.Bool(true),
		Versioned:         jsii.Bool(true),
		Encryption:        awss3.BucketEncryption_S3_MANAGED,
		RemovalPolicy:     awscdk.RemovalPolicy_RETAIN,
		LifecycleRules: &[]*awss3.LifecycleRule{
			{
				// Preflight deletes its canary, and this rule removes one
				// that an interrupted run left behind.
				Id:                          jsii.String("ExpireCanaries"),
				Prefix:                      jsii.String(cfg.CanaryPrefix()),
				Expiration:                  awscdk.Duration_Days(jsii.Number(1)),
				NoncurrentVersionExpiration: awscdk.Duration_Days(jsii.Number(1)),
			},
			{
				// A multipart upload whose abort failed keeps its parts,
				// and S3 bills them, until this rule removes them.
				Id:                                  jsii.String("AbortIncompleteUploads"),
				AbortIncompleteMultipartUploadAfter: awscdk.Duration_Days(jsii.Number(7)),
			},
		},
	}
	if key != nil {
		props.Encryption = awss3.BucketEncryption_KMS
		props.EncryptionKey = key
		props.BucketKeyEnabled = jsii.Bool(true)
	}
	bucket := awss3.NewBucket(stack, jsii.String("ArtifactBucket"), props)

	principal := awsiam.NewArnPrincipal(roleARN(cfg))
	for _, statement := range deliveryStatements(cfg, principal) {
		bucket.AddToResourcePolicy(statement)
	}
	return bucket
}

// newAuditFunction adds the audit Lambda with its log group and schedule,
// and returns the function and its role.
func newAuditFunction(stack awscdk.Stack, cfg Config) (awslambda.Function, awsiam.Role) {
	partition := *awscdk.Aws_PARTITION()
	logGroupName := "/aws/lambda/" + cfg.AuditFunctionName

	// The log group exists before the function, with a retention, so the
	// role needs no logs:CreateLogGroup.
	logGroup := awslogs.NewLogGroup(stack, jsii.String("AuditLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(logGroupName),
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	readActions := []string{"s3:GetBucketPolicy", "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration"}
	statements := []awsiam.PolicyStatement{
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("ReadBucketSettings"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings(readActions...),
			Resources: &[]*string{bucketARN(cfg)},
		}),
		awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("WriteLogs"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
			Resources: jsii.Strings("arn:" + partition + ":logs:" + cfg.Region + ":" + cfg.DevAccount + ":log-group:" + logGroupName + ":*"),
		}),
	}
	if cfg.AuditMode == "enforce" {
		statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("EnforceBucketPolicy"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("s3:PutBucketPolicy"),
			Resources: &[]*string{bucketARN(cfg)},
		}))
	}

	role := awsiam.NewRole(stack, jsii.String("AuditRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(cfg.AuditRoleName()),
		Description: jsii.String("The Countersign audit Lambda reads the settings of " + cfg.BucketName + " with this role"),
		AssumedBy:   awsiam.NewServicePrincipal(jsii.String("lambda.amazonaws.com"), nil),
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"countersign-audit": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
		},
	})

	function := awslambda.NewFunction(stack, jsii.String("AuditFunction"), &awslambda.FunctionProps{
		FunctionName: jsii.String(cfg.AuditFunctionName),
		Description:  jsii.String("Audits the policy and settings of " + cfg.BucketName + " for the Countersign build role"),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(cfg.LambdaZip), nil),
		// Every grant is in the role's policy above, which resolves before
		// deployment. A role that CDK may update could get one that does
		// not.
		Role:       role.WithoutPolicyUpdates(nil),
		MemorySize: jsii.Number(128),
		Timeout:    awscdk.Duration_Seconds(jsii.Number(60)),
		Environment: &map[string]*string{
			"COUNTERSIGN_BUCKET":           jsii.String(cfg.BucketName),
			"COUNTERSIGN_BUCKET_OWNER":     jsii.String(cfg.DevAccount),
			"COUNTERSIGN_ROLE_ARNS":        roleARN(cfg),
			"COUNTERSIGN_REQUIRED_ACTIONS": jsii.String(strings.Join(requiredActions(), ",")),
			"COUNTERSIGN_PREFIX":           jsii.String(cfg.Prefix),
			"COUNTERSIGN_MODE":             jsii.String(cfg.AuditMode),
		},
	})
	function.Node().AddDependency(logGroup, role)

	awsevents.NewRule(stack, jsii.String("AuditSchedule"), &awsevents.RuleProps{
		Description: jsii.String("Runs the Countersign audit of " + cfg.BucketName),
		Schedule:    awsevents.Schedule_Expression(jsii.String(cfg.AuditSchedule)),
		Targets: &[]awsevents.IRuleTarget{
			awseventstargets.NewLambdaFunction(function, &awseventstargets.LambdaFunctionProps{
				RetryAttempts: jsii.Number(2),
				MaxEventAge:   awscdk.Duration_Hours(jsii.Number(1)),
			}),
		},
	})
	return function, role
}

// newAlarms adds the drift alarm, on the findings at or above the
// configured severity, and the alarm on the function's errors, which
// counts audits that could not run.
func newAlarms(stack awscdk.Stack, cfg Config, function awslambda.Function) {
	counted := map[string]awscloudwatch.IMetric{}
	var ids []string
	for _, severity := range severities {
		// The Lambda writes each count with the dimensions Bucket and
		// Severity, and again with Bucket alone.
		counted[severity] = awscloudwatch.NewMetric(&awscloudwatch.MetricProps{
			Namespace:     jsii.String(metricNamespace),
			MetricName:    jsii.String(metricName),
			DimensionsMap: &map[string]*string{"Bucket": jsii.String(cfg.BucketName), "Severity": jsii.String(severity)},
			Statistic:     jsii.String("Maximum"),
			Period:        alarmPeriod(),
		})
		ids = append(ids, severity)
		if severity == cfg.AlarmSeverity {
			break
		}
	}

	findings := awscloudwatch.NewMathExpression(&awscloudwatch.MathExpressionProps{
		Expression:   jsii.String(strings.Join(ids, " + ")),
		UsingMetrics: &counted,
		Label:        jsii.String("findings at or above " + cfg.AlarmSeverity),
		Period:       alarmPeriod(),
	})
	findings.CreateAlarm(stack, jsii.String("DriftAlarm"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String("The Countersign audit found " + cfg.AlarmSeverity + " or more serious findings on " + cfg.BucketName + "; read the function's log for each finding and its fix"),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		// Each audit writes its counts, zeros included, so the state
		// changes at each run and holds in between.
		TreatMissingData: awscloudwatch.TreatMissingData_IGNORE,
	})

	errors := function.MetricErrors(&awscloudwatch.MetricOptions{Period: alarmPeriod(), Statistic: jsii.String("Sum")})
	errors.CreateAlarm(stack, jsii.String("AuditErrorsAlarm"), &awscloudwatch.CreateAlarmOptions{
		AlarmDescription:   jsii.String("The Countersign audit of " + cfg.BucketName + " could not run, for example because a bucket setting could not be read"),
		Threshold:          jsii.Number(1),
		EvaluationPeriods:  jsii.Number(1),
		ComparisonOperator: awscloudwatch.ComparisonOperator_GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
		TreatMissingData:   awscloudwatch.TreatMissingData_NOT_BREACHING,
	})
}
