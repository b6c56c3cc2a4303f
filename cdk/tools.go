package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodebuild"
	"github.com/aws/aws-cdk-go/awscdk/v2/awscodecommit"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"go.yaml.in/yaml/v3"
)

// codeBuildPrincipal is the service that assumes the build role.
const codeBuildPrincipal = "codebuild.amazonaws.com"

// NewToolsStack defines the tools account's side: the build role, its
// least-privilege policy, the project's log group and the CodeBuild
// project that runs buildspec.yml.
func NewToolsStack(scope constructs.Construct, id string, cfg Config) (awscdk.Stack, error) {
	stack := awscdk.NewStack(scope, jsii.String(id), &awscdk.StackProps{
		Env:         &awscdk.Environment{Account: jsii.String(cfg.ToolsAccount), Region: jsii.String(cfg.Region)},
		Description: jsii.String("Countersign tools side: the CodeBuild project and the role that delivers to " + cfg.BucketName),
	})

	logGroupName := "/aws/codebuild/" + cfg.ProjectName
	logGroup := awslogs.NewLogGroup(stack, jsii.String("BuildLogs"), &awslogs.LogGroupProps{
		LogGroupName:  jsii.String(logGroupName),
		Retention:     awslogs.RetentionDays_THREE_MONTHS,
		RemovalPolicy: awscdk.RemovalPolicy_RETAIN,
	})

	role := newBuildRole(stack, cfg, logGroupName)

	project, err := newProject(stack, cfg, role, logGroup)
	if err != nil {
		return nil, err
	}
	suppressToolsFindings(cfg, role, project)

	awscdk.NewCfnOutput(stack, jsii.String("BuildRoleArn"), &awscdk.CfnOutputProps{
		Value:       role.RoleArn(),
		Description: jsii.String("The build role; the dev account's bucket policy names this ARN"),
	})
	awscdk.NewCfnOutput(stack, jsii.String("ProjectName"), &awscdk.CfnOutputProps{Value: jsii.String(cfg.ProjectName)})
	return stack, nil
}

// newBuildRole returns the role that CodeBuild assumes for the project.
// Its name is physical, because the bucket policy in the other account
// must name its ARN, and its trust is scoped with aws:SourceAccount and
// aws:SourceArn so that no other account's project can use it.
func newBuildRole(stack awscdk.Stack, cfg Config, logGroupName string) awsiam.Role {
	partition := *awscdk.Aws_PARTITION()

	trust := awsiam.NewPrincipalWithConditions(
		awsiam.NewServicePrincipal(jsii.String(codeBuildPrincipal), nil),
		&map[string]any{
			"StringEquals": map[string]any{"aws:SourceAccount": cfg.ToolsAccount},
			// The ARN is built from the project name. Taking it from the
			// project, which refers to the role, would make a cycle.
			"ArnLike": map[string]any{"aws:SourceArn": cfg.ProjectARN(partition)},
		},
	)

	statements := deliveryStatements(cfg, nil)
	statements = append(statements, awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Sid:     jsii.String("BuildLogs"),
		Effect:  awsiam.Effect_ALLOW,
		Actions: jsii.Strings("logs:CreateLogStream", "logs:PutLogEvents"),
		Resources: jsii.Strings(
			"arn:" + partition + ":logs:" + cfg.Region + ":" + cfg.ToolsAccount + ":log-group:" + logGroupName + ":*",
		),
	}))
	statements = append(statements, sourceStatements(cfg)...)
	if kms := kmsStatement(cfg); kms != nil {
		statements = append(statements, kms)
	}

	return awsiam.NewRole(stack, jsii.String("BuildRole"), &awsiam.RoleProps{
		RoleName:    jsii.String(cfg.RoleName),
		Description: jsii.String("CodeBuild project " + cfg.ProjectName + " delivers artifacts to s3://" + cfg.BucketName + "/" + cfg.Prefix + "/ with this role"),
		AssumedBy:   trust,
		InlinePolicies: &map[string]awsiam.PolicyDocument{
			"countersign-delivery": awsiam.NewPolicyDocument(&awsiam.PolicyDocumentProps{Statements: &statements}),
		},
	})
}

// kmsStatement lets the role encrypt and decrypt with the bucket's
// customer managed key through S3, or returns nil for SSE-S3.
func kmsStatement(cfg Config) awsiam.PolicyStatement {
	props := &awsiam.PolicyStatementProps{
		Sid:     jsii.String("ArtifactKey"),
		Effect:  awsiam.Effect_ALLOW,
		Actions: jsii.Strings("kms:GenerateDataKey", "kms:Decrypt"),
		Conditions: &map[string]any{
			"StringEquals": map[string]any{"kms:ViaService": "s3." + cfg.Region + ".amazonaws.com"},
		},
	}

	switch cfg.KMSKey {
	case kmsNone:
		return nil
	case kmsCreate:
		// The key's ARN exists only once the dev stack is deployed, so the
		// statement matches the dev account's keys that carry the alias.
		props.Resources = jsii.Strings("arn:" + *awscdk.Aws_PARTITION() + ":kms:" + cfg.Region + ":" + cfg.DevAccount + ":key/*")
		(*props.Conditions)["ForAnyValue:StringEquals"] = map[string]any{"kms:ResourceAliases": cfg.KMSAlias()}
	default:
		props.Resources = jsii.Strings(cfg.KMSKey)
	}
	return awsiam.NewPolicyStatement(props)
}

// sourceStatements grant what CodeBuild needs to fetch the source. The
// project gets the role without policy updates, so that every statement
// of the role is written here and resolves before deployment.
func sourceStatements(cfg Config) []awsiam.PolicyStatement {
	partition := *awscdk.Aws_PARTITION()

	switch cfg.SourceType {
	case sourceCodeCommit:
		return []awsiam.PolicyStatement{awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
			Sid:       jsii.String("Source"),
			Effect:    awsiam.Effect_ALLOW,
			Actions:   jsii.Strings("codecommit:GitPull"),
			Resources: jsii.Strings("arn:" + partition + ":codecommit:" + cfg.Region + ":" + cfg.ToolsAccount + ":" + cfg.SourceLocation),
		})}
	case sourceS3:
		bucket, _, _ := strings.Cut(cfg.SourceLocation, "/")
		return []awsiam.PolicyStatement{
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("SourceObject"),
				Effect:    awsiam.Effect_ALLOW,
				Actions:   jsii.Strings("s3:GetObject", "s3:GetObjectVersion"),
				Resources: jsii.Strings("arn:" + partition + ":s3:::" + cfg.SourceLocation),
			}),
			awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
				Sid:       jsii.String("SourceBucket"),
				Effect:    awsiam.Effect_ALLOW,
				Actions:   jsii.Strings("s3:GetBucketAcl", "s3:GetBucketLocation"),
				Resources: jsii.Strings("arn:" + partition + ":s3:::" + bucket),
			}),
		}
	}
	// GitHub sources use the account's CodeBuild source credentials, and a
	// NO_SOURCE project fetches nothing.
	return nil
}

// newProject returns the CodeBuild project with the Countersign variables
// that buildspec.yml reads.
func newProject(stack awscdk.Stack, cfg Config, role awsiam.Role, logGroup awslogs.LogGroup) (awscodebuild.Project, error) {
	source, buildSpec, err := projectSource(stack, cfg)
	if err != nil {
		return nil, err
	}

	plain := func(value *string) *awscodebuild.BuildEnvironmentVariable {
		return &awscodebuild.BuildEnvironmentVariable{Type: awscodebuild.BuildEnvironmentVariableType_PLAINTEXT, Value: value}
	}

	project := awscodebuild.NewProject(stack, jsii.String("Project"), &awscodebuild.ProjectProps{
		ProjectName: jsii.String(cfg.ProjectName),
		Description: jsii.String("Builds the repository and delivers the artifacts to s3://" + cfg.BucketName + "/" + cfg.Prefix + "/ with countersign"),
		// The policy above holds every grant. A role that CDK may update
		// would also get grants whose ARNs resolve only at deploy time.
		Role:      role.WithoutPolicyUpdates(nil),
		Source:    source,
		BuildSpec: buildSpec,
		Environment: &awscodebuild.BuildEnvironment{
			BuildImage:  awscodebuild.LinuxBuildImage_STANDARD_7_0(),
			ComputeType: awscodebuild.ComputeType_SMALL,
		},
		EnvironmentVariables: &map[string]*awscodebuild.BuildEnvironmentVariable{
			"COUNTERSIGN_BUCKET":       plain(jsii.String(cfg.BucketName)),
			"COUNTERSIGN_BUCKET_OWNER": plain(jsii.String(cfg.DevAccount)),
			"COUNTERSIGN_ROLE_ARN":     plain(role.RoleArn()),
			"COUNTERSIGN_PREFIX":       plain(jsii.String(cfg.Prefix)),
		},
		Logging: &awscodebuild.LoggingOptions{
			CloudWatch: &awscodebuild.CloudWatchLoggingOptions{LogGroup: logGroup},
		},
		GrantReportGroupPermissions: jsii.Bool(false),
		Timeout:                     awscdk.Duration_Minutes(jsii.Number(60)),
	})
	return project, nil
}

// projectSource returns the project's source and buildspec. A NO_SOURCE
// project carries buildspec.yml inline, and the others read it from the
// source's root.
func projectSource(stack awscdk.Stack, cfg Config) (awscodebuild.ISource, awscodebuild.BuildSpec, error) {
	var branch *string
	if cfg.SourceVersion != "" {
		branch = jsii.String(cfg.SourceVersion)
	}

	switch cfg.SourceType {
	case sourceGitHub:
		owner, repo, _ := strings.Cut(cfg.SourceLocation, "/")
		return awscodebuild.Source_GitHub(&awscodebuild.GitHubSourceProps{Owner: jsii.String(owner), Repo: jsii.String(repo), BranchOrRef: branch}), nil, nil
	case sourceCodeCommit:
		repo := awscodecommit.Repository_FromRepositoryName(stack, jsii.String("SourceRepository"), jsii.String(cfg.SourceLocation))
		return awscodebuild.Source_CodeCommit(&awscodebuild.CodeCommitSourceProps{Repository: repo, BranchOrRef: branch}), nil, nil
	case sourceS3:
		name, key, _ := strings.Cut(cfg.SourceLocation, "/")
		bucket := awss3.Bucket_FromBucketName(stack, jsii.String("SourceBucket"), jsii.String(name))
		return awscodebuild.Source_S3(&awscodebuild.S3SourceProps{Bucket: bucket, Path: jsii.String(key), Version: branch}), nil, nil
	}

	spec, err := inlineBuildspec(cfg.Buildspec)
	if err != nil {
		return nil, nil, err
	}
	return nil, spec, nil
}

// inlineBuildspec reads a buildspec file for a NO_SOURCE project.
func inlineBuildspec(path string) (awscodebuild.BuildSpec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("context key %q: read the buildspec: %w", keyBuildspec, err)
	}

	var spec map[string]any
	if err := yaml.Unmarshal(data, &spec); err != nil {
		return nil, fmt.Errorf("context key %q: %s is not valid YAML: %w", keyBuildspec, path, err)
	}
	if _, ok := spec["phases"]; !ok {
		return nil, fmt.Errorf("context key %q: %s has no phases; point it at the repository's buildspec.yml", keyBuildspec, path)
	}
	return awscodebuild.BuildSpec_FromObjectToYaml(&spec), nil
}
