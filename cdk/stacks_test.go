package main

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// The committed configuration is synthesized once and shared by the tests
// that only read it.
var (
	defaultOnce sync.Once
	defaultApp  synthesized
)

func defaultSynth(t *testing.T) synthesized {
	t.Helper()

	defaultOnce.Do(func() {
		cfg := testConfig(t)
		dir, err := os.MkdirTemp("", "countersign-cdk-out-")
		if err != nil {
			t.Fatal(err)
		}
		sharedDirs = append(sharedDirs, dir)
		defaultApp = synthesizeInto(t, dir, cfg, cfg)
	})
	if defaultApp.tools == nil {
		t.Fatal("the committed configuration did not synthesize; see the first failing test")
	}
	return defaultApp
}

func TestToolsStackEnvironment(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)

	if got := *app.tools.Account(); got != cfg.ToolsAccount {
		t.Errorf("tools stack account: got %s, want %s", got, cfg.ToolsAccount)
	}
	if got := *app.dev.Account(); got != cfg.DevAccount {
		t.Errorf("dev stack account: got %s, want %s", got, cfg.DevAccount)
	}
	for _, stack := range []string{*app.tools.Region(), *app.dev.Region()} {
		if stack != cfg.Region {
			t.Errorf("stack region: got %s, want %s", stack, cfg.Region)
		}
	}
}

func TestBuildRoleTrust(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)

	assert(t, "build role trust", func() {
		templateOf(app.tools).HasResourceProperties(jsii.String("AWS::IAM::Role"), &map[string]any{
			"RoleName": cfg.RoleName,
			"AssumeRolePolicyDocument": map[string]any{
				"Statement": []any{map[string]any{
					"Action":    "sts:AssumeRole",
					"Effect":    "Allow",
					"Principal": map[string]any{"Service": "codebuild.amazonaws.com"},
					"Condition": map[string]any{
						"StringEquals": map[string]any{"aws:SourceAccount": cfg.ToolsAccount},
						"ArnLike":      map[string]any{"aws:SourceArn": partitionARN(":codebuild:" + cfg.Region + ":" + cfg.ToolsAccount + ":project/" + cfg.ProjectName)},
					},
				}},
			},
		})
	})
}

func TestBuildRolePolicy(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)

	role := roleNamed(t, app.tools, cfg.RoleName)
	got := statementsOf(t, inlinePolicy(t, role, "countersign-delivery"))

	want := map[string]map[string]any{
		sidList: {
			"Sid": sidList, "Effect": "Allow", "Action": "s3:ListBucket",
			"Resource":  "arn:aws:s3:::" + cfg.BucketName,
			"Condition": map[string]any{"StringLike": map[string]any{"s3:prefix": cfg.Prefix + "/*"}},
		},
		sidObjects: {
			"Sid": sidObjects, "Effect": "Allow",
			"Action":   []any{"s3:PutObject", "s3:GetObject", "s3:DeleteObject", "s3:AbortMultipartUpload"},
			"Resource": "arn:aws:s3:::" + cfg.BucketName + "/" + cfg.Prefix + "/*",
		},
		"BuildLogs": {
			"Sid": "BuildLogs", "Effect": "Allow",
			"Action":   []any{"logs:CreateLogStream", "logs:PutLogEvents"},
			"Resource": "arn:aws:logs:" + cfg.Region + ":" + cfg.ToolsAccount + ":log-group:/aws/codebuild/" + cfg.ProjectName + ":*",
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("build role policy:\ngot  %v\nwant %v", got, want)
	}

	// The role is written whole by the stack, with no policy that CDK
	// added on the side.
	if policies := resources(t, app.tools, "AWS::IAM::Policy"); len(policies) != 0 {
		t.Errorf("tools stack has %d AWS::IAM::Policy resources, want 0: %v", len(policies), policies)
	}
}

// The cross-account request needs both sides, so the bucket policy must
// grant the role exactly what the role's own policy requests.
func TestPoliciesAgree(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)

	roleStatements := statementsOf(t, inlinePolicy(t, roleNamed(t, app.tools, cfg.RoleName), "countersign-delivery"))
	bucketPolicy := onlyResource(t, app.dev, "AWS::S3::BucketPolicy")
	bucketStatements := statementsOf(t, bucketPolicy["PolicyDocument"])

	for _, sid := range []string{sidList, sidObjects} {
		bucketStatement, ok := bucketStatements[sid]
		if !ok {
			t.Errorf("bucket policy has no statement %s", sid)
			continue
		}

		principal := map[string]any{"AWS": "arn:aws:iam::" + cfg.ToolsAccount + ":role/" + cfg.RoleName}
		if got := bucketStatement["Principal"]; !reflect.DeepEqual(got, principal) {
			t.Errorf("bucket statement %s principal: got %v, want %v", sid, got, principal)
		}

		withoutPrincipal := map[string]any{}
		for k, v := range bucketStatement {
			if k != "Principal" {
				withoutPrincipal[k] = v
			}
		}
		if !reflect.DeepEqual(withoutPrincipal, roleStatements[sid]) {
			t.Errorf("statement %s differs between the sides:\nbucket policy %v\nrole policy   %v", sid, withoutPrincipal, roleStatements[sid])
		}
	}
}

func TestBucketPolicyDeniesPlainHTTP(t *testing.T) {
	app := defaultSynth(t)

	statements := statementsOf(t, onlyResource(t, app.dev, "AWS::S3::BucketPolicy")["PolicyDocument"])
	var found bool
	for _, st := range statements {
		condition, _ := st["Condition"].(map[string]any)
		boolean, _ := condition["Bool"].(map[string]any)
		if st["Effect"] == "Deny" && st["Action"] == "s3:*" && boolean["aws:SecureTransport"] == "false" {
			found = true
		}
	}
	if !found {
		t.Errorf("bucket policy has no Deny of s3:* when aws:SecureTransport is false: %v", statements)
	}
}

func TestProjectSettings(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)

	project := onlyResource(t, app.tools, "AWS::CodeBuild::Project")
	if got := project["Name"]; got != cfg.ProjectName {
		t.Errorf("project name: got %v, want %s", got, cfg.ProjectName)
	}

	environment, _ := project["Environment"].(map[string]any)
	variables := map[string]any{}
	list, _ := environment["EnvironmentVariables"].([]any)
	for _, item := range list {
		v, _ := item.(map[string]any)
		variables[v["Name"].(string)] = v["Value"]
	}
	for name, want := range map[string]string{
		"COUNTERSIGN_BUCKET":       cfg.BucketName,
		"COUNTERSIGN_BUCKET_OWNER": cfg.DevAccount,
		"COUNTERSIGN_PREFIX":       cfg.Prefix,
	} {
		if got := variables[name]; got != want {
			t.Errorf("project variable %s: got %v, want %s", name, got, want)
		}
	}
	roleRef := map[string]any{"Fn::GetAtt": []any{roleLogicalID(t, app), "Arn"}}
	if got := variables["COUNTERSIGN_ROLE_ARN"]; !reflect.DeepEqual(got, roleRef) {
		t.Errorf("project variable COUNTERSIGN_ROLE_ARN: got %v, want %v", got, roleRef)
	}
	if got := project["ServiceRole"]; !reflect.DeepEqual(got, roleRef) {
		t.Errorf("project service role: got %v, want %v", got, roleRef)
	}

	source, _ := project["Source"].(map[string]any)
	if got := source["Type"]; got != "NO_SOURCE" {
		t.Errorf("source type: got %v, want NO_SOURCE", got)
	}
	spec, _ := source["BuildSpec"].(string)
	for _, command := range []string{"countersign preflight", "countersign sync", "version: 0.2"} {
		if !strings.Contains(spec, command) {
			t.Errorf("inline buildspec lacks %q:\n%s", command, spec)
		}
	}

	logs, _ := project["LogsConfig"].(map[string]any)
	cloudWatch, _ := logs["CloudWatchLogs"].(map[string]any)
	if got := cloudWatch["Status"]; got != "ENABLED" {
		t.Errorf("project CloudWatch logs: got %v, want ENABLED", got)
	}
	assert(t, "project log group", func() {
		templateOf(app.tools).HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), &map[string]any{
			"LogGroupName": "/aws/codebuild/" + cfg.ProjectName,
		})
	})
}

func roleLogicalID(t *testing.T, app synthesized) string {
	t.Helper()

	for id := range resources(t, app.tools, "AWS::IAM::Role") {
		return id
	}
	t.Fatal("tools stack has no role")
	return ""
}

func TestProjectSources(t *testing.T) {
	tests := []struct {
		name           string
		sourceType     string
		location       string
		version        string
		wantType       string
		wantLocation   string
		wantStatements map[string]any // Sid to Action
	}{
		{
			name: "GitHub", sourceType: sourceGitHub, location: "example/app", version: "main",
			wantType: "GITHUB", wantLocation: "https://github.com/example/app.git",
		},
		{
			name: "CodeCommit", sourceType: sourceCodeCommit, location: "app", version: "main",
			wantType: "CODECOMMIT", wantLocation: "",
			wantStatements: map[string]any{"Source": "codecommit:GitPull"},
		},
		{
			name: "S3", sourceType: sourceS3, location: "tools-sources/app/source.zip",
			wantType: "S3", wantLocation: "tools-sources/app/source.zip",
			wantStatements: map[string]any{
				"SourceObject": []any{"s3:GetObject", "s3:GetObjectVersion"},
				"SourceBucket": []any{"s3:GetBucketAcl", "s3:GetBucketLocation"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.SourceType, cfg.SourceLocation, cfg.SourceVersion = tt.sourceType, tt.location, tt.version
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			app := synthesize(t, cfg, cfg)

			project := onlyResource(t, app.tools, "AWS::CodeBuild::Project")
			source, _ := project["Source"].(map[string]any)
			if got := source["Type"]; got != tt.wantType {
				t.Errorf("source type: got %v, want %s", got, tt.wantType)
			}
			if _, inline := source["BuildSpec"]; inline {
				t.Errorf("a %s source reads buildspec.yml from the source, but the project inlines one", tt.wantType)
			}
			if tt.wantLocation != "" {
				if got := source["Location"]; got != tt.wantLocation {
					t.Errorf("source location: got %v, want %s", got, tt.wantLocation)
				}
			}
			if tt.version != "" {
				if got := project["SourceVersion"]; got != tt.version {
					t.Errorf("source version: got %v, want %s", got, tt.version)
				}
			}

			statements := statementsOf(t, inlinePolicy(t, roleNamed(t, app.tools, cfg.RoleName), "countersign-delivery"))
			for sid, action := range tt.wantStatements {
				if got := statements[sid]["Action"]; !reflect.DeepEqual(got, action) {
					t.Errorf("role statement %s action: got %v, want %v", sid, got, action)
				}
			}
			// CountersignManagedList, CountersignManagedAccess and BuildLogs, then the source grants.
			if want := 3 + len(tt.wantStatements); len(statements) != want {
				t.Errorf("role policy has %d statements, want %d: %v", len(statements), want, statements)
			}
		})
	}
}

func TestArtifactBucket(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)

	assert(t, "artifact bucket", func() {
		templateOf(app.dev).HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"BucketName": cfg.BucketName,
			"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls": true, "BlockPublicPolicy": true, "IgnorePublicAcls": true, "RestrictPublicBuckets": true,
			},
			"OwnershipControls":       map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "BucketOwnerEnforced"}}},
			"VersioningConfiguration": map[string]any{"Status": "Enabled"},
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{
				map[string]any{"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "AES256"}},
			}},
			"LifecycleConfiguration": map[string]any{"Rules": []any{
				map[string]any{
					"Id": "ExpireCanaries", "Status": "Enabled", "Prefix": cfg.Prefix + "/.countersign/",
					"ExpirationInDays": 1, "NoncurrentVersionExpiration": map[string]any{"NoncurrentDays": 1},
				},
				map[string]any{
					"Id": "AbortIncompleteUploads", "Status": "Enabled",
					"AbortIncompleteMultipartUpload": map[string]any{"DaysAfterInitiation": 7},
				},
			}},
		})
	})
	assert(t, "bucket is retained", func() {
		templateOf(app.dev).HasResource(jsii.String("AWS::S3::Bucket"), &map[string]any{"DeletionPolicy": "Retain"})
	})
}

func TestAuditFunction(t *testing.T) {
	cfg := testConfig(t)
	app := defaultSynth(t)

	function := onlyResource(t, app.dev, "AWS::Lambda::Function")
	for key, want := range map[string]any{
		"FunctionName":  cfg.AuditFunctionName,
		"Runtime":       "provided.al2023",
		"Architectures": []any{"arm64"},
		"Handler":       "bootstrap",
	} {
		if got := function[key]; !reflect.DeepEqual(got, want) {
			t.Errorf("function %s: got %v, want %v", key, got, want)
		}
	}

	environment, _ := resolvePartition(function["Environment"]).(map[string]any)
	variables, _ := environment["Variables"].(map[string]any)
	want := map[string]any{
		"COUNTERSIGN_BUCKET":           cfg.BucketName,
		"COUNTERSIGN_BUCKET_OWNER":     cfg.DevAccount,
		"COUNTERSIGN_ROLE_ARNS":        "arn:aws:iam::" + cfg.ToolsAccount + ":role/" + cfg.RoleName,
		"COUNTERSIGN_REQUIRED_ACTIONS": "s3:ListBucket,s3:PutObject,s3:GetObject,s3:DeleteObject,s3:AbortMultipartUpload",
		"COUNTERSIGN_PREFIX":           cfg.Prefix,
		"COUNTERSIGN_MODE":             "report",
	}
	if !reflect.DeepEqual(variables, want) {
		t.Errorf("function environment:\ngot  %v\nwant %v", variables, want)
	}

	assert(t, "audit schedule", func() {
		templateOf(app.dev).HasResourceProperties(jsii.String("AWS::Events::Rule"), &map[string]any{
			"ScheduleExpression": cfg.AuditSchedule,
			"State":              "ENABLED",
			"Targets": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Arn": map[string]any{"Fn::GetAtt": []any{functionLogicalID(t, app), "Arn"}},
			})}),
		})
	})
}

func functionLogicalID(t *testing.T, app synthesized) string {
	t.Helper()

	for id := range resources(t, app.dev, "AWS::Lambda::Function") {
		return id
	}
	t.Fatal("dev stack has no function")
	return ""
}

func TestAuditRolePolicy(t *testing.T) {
	readActions := []any{"s3:GetBucketPolicy", "s3:GetBucketOwnershipControls", "s3:GetBucketPublicAccessBlock", "s3:GetEncryptionConfiguration"}
	tests := []struct {
		name        string
		mode        string
		wantEnforce bool
	}{
		{name: "ReportMode", mode: "report", wantEnforce: false},
		{name: "EnforceMode", mode: "enforce", wantEnforce: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.AuditMode = tt.mode
			var app synthesized
			if tt.mode == "report" {
				app = defaultSynth(t)
			} else {
				app = synthesize(t, cfg, cfg)
			}

			statements := statementsOf(t, inlinePolicy(t, roleNamed(t, app.dev, cfg.AuditRoleName()), "countersign-audit"))
			bucket := "arn:aws:s3:::" + cfg.BucketName
			if got := statements["ReadBucketSettings"]; !reflect.DeepEqual(got["Action"], readActions) || got["Resource"] != bucket {
				t.Errorf("ReadBucketSettings: got %v, want %v on %s", got, readActions, bucket)
			}
			if got := statements["WriteLogs"]["Resource"]; got != "arn:aws:logs:"+cfg.Region+":"+cfg.DevAccount+":log-group:/aws/lambda/"+cfg.AuditFunctionName+":*" {
				t.Errorf("WriteLogs resource: got %v", got)
			}

			enforce, ok := statements["EnforceBucketPolicy"]
			if ok != tt.wantEnforce {
				t.Fatalf("EnforceBucketPolicy present: got %v, want %v", ok, tt.wantEnforce)
			}
			if ok && (enforce["Action"] != "s3:PutBucketPolicy" || enforce["Resource"] != bucket) {
				t.Errorf("EnforceBucketPolicy: got %v, want s3:PutBucketPolicy on %s", enforce, bucket)
			}
			want := 2
			if tt.wantEnforce {
				want = 3
			}
			if len(statements) != want {
				t.Errorf("audit role has %d statements, want %d: %v", len(statements), want, statements)
			}

			function := onlyResource(t, app.dev, "AWS::Lambda::Function")
			environment, _ := function["Environment"].(map[string]any)
			variables, _ := environment["Variables"].(map[string]any)
			if got := variables["COUNTERSIGN_MODE"]; got != tt.mode {
				t.Errorf("COUNTERSIGN_MODE: got %v, want %s", got, tt.mode)
			}
		})
	}
}

func TestDriftAlarm(t *testing.T) {
	tests := []struct {
		name     string
		severity string
		want     []string
	}{
		{name: "High", severity: "high", want: []string{"critical", "high"}},
		{name: "Critical", severity: "critical", want: []string{"critical"}},
		{name: "Info", severity: "info", want: severities},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			cfg.AlarmSeverity = tt.severity
			var app synthesized
			if tt.severity == testConfig(t).AlarmSeverity {
				app = defaultSynth(t)
			} else {
				app = synthesize(t, cfg, cfg)
			}

			var drift map[string]any
			for _, res := range resources(t, app.dev, "AWS::CloudWatch::Alarm") {
				props, _ := res["Properties"].(map[string]any)
				if _, ok := props["Metrics"]; ok {
					drift = props
				}
			}
			if drift == nil {
				t.Fatal("no alarm on the DriftFindings metric")
			}

			var expression string
			var severitiesSeen []string
			metrics, _ := drift["Metrics"].([]any)
			for _, item := range metrics {
				m, _ := item.(map[string]any)
				if e, ok := m["Expression"].(string); ok {
					expression = e
					continue
				}
				stat, _ := m["MetricStat"].(map[string]any)
				metric, _ := stat["Metric"].(map[string]any)
				if metric["Namespace"] != metricNamespace || metric["MetricName"] != metricName {
					t.Errorf("metric %v: want %s/%s", metric, metricNamespace, metricName)
				}
				dimensions := map[string]any{}
				list, _ := metric["Dimensions"].([]any)
				for _, d := range list {
					dim, _ := d.(map[string]any)
					dimensions[dim["Name"].(string)] = dim["Value"]
				}
				if dimensions["Bucket"] != cfg.BucketName || len(dimensions) != 2 {
					t.Errorf("metric dimensions: got %v, want Bucket=%s and Severity", dimensions, cfg.BucketName)
				}
				severitiesSeen = append(severitiesSeen, dimensions["Severity"].(string))
			}
			slices.Sort(severitiesSeen)
			want := slices.Sorted(slices.Values(tt.want))
			if !slices.Equal(severitiesSeen, want) {
				t.Errorf("alarm severities: got %v, want %v", severitiesSeen, want)
			}
			if got := strings.Split(expression, " + "); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
				t.Errorf("alarm expression %q does not add up %v", expression, want)
			}
			if drift["Threshold"] != float64(1) || drift["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || drift["TreatMissingData"] != "ignore" {
				t.Errorf("drift alarm: got threshold %v, operator %v, missing data %v", drift["Threshold"], drift["ComparisonOperator"], drift["TreatMissingData"])
			}
		})
	}
}

func TestErrorsAlarm(t *testing.T) {
	app := defaultSynth(t)

	assert(t, "errors alarm", func() {
		templateOf(app.dev).HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &map[string]any{
			"Namespace":          "AWS/Lambda",
			"MetricName":         "Errors",
			"Dimensions":         []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": functionLogicalID(t, app)}}},
			"Statistic":          "Sum",
			"Threshold":          1,
			"ComparisonOperator": "GreaterThanOrEqualToThreshold",
			"TreatMissingData":   "notBreaching",
		})
	})
}

func TestCreatedKMSKey(t *testing.T) {
	cfg := testConfig(t)
	cfg.KMSKey = kmsCreate
	app := synthesize(t, cfg, cfg)

	keys := resources(t, app.dev, "AWS::KMS::Key")
	if len(keys) != 1 {
		t.Fatalf("got %d KMS keys, want 1", len(keys))
	}
	var keyID string
	var key map[string]any
	for id, res := range keys {
		keyID, key = id, res["Properties"].(map[string]any)
	}
	if key["EnableKeyRotation"] != true {
		t.Errorf("key rotation: got %v, want true", key["EnableKeyRotation"])
	}
	keyStatements := statementsOf(t, key["KeyPolicy"])
	grant := keyStatements["BuildRoleThroughS3"]
	wantGrant := map[string]any{
		"Sid": "BuildRoleThroughS3", "Effect": "Allow",
		"Principal": map[string]any{"AWS": "arn:aws:iam::" + cfg.ToolsAccount + ":role/" + cfg.RoleName},
		"Action":    []any{"kms:GenerateDataKey", "kms:Decrypt"},
		"Resource":  "*",
		"Condition": map[string]any{"StringEquals": map[string]any{"kms:ViaService": "s3." + cfg.Region + ".amazonaws.com"}},
	}
	if !reflect.DeepEqual(grant, wantGrant) {
		t.Errorf("key policy grant to the build role:\ngot  %v\nwant %v", grant, wantGrant)
	}

	assert(t, "key alias", func() {
		templateOf(app.dev).HasResourceProperties(jsii.String("AWS::KMS::Alias"), &map[string]any{
			"AliasName":   cfg.KMSAlias(),
			"TargetKeyId": map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}},
		})
	})
	assert(t, "bucket encryption with the key", func() {
		templateOf(app.dev).HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
				"BucketKeyEnabled": true,
				"ServerSideEncryptionByDefault": map[string]any{
					"SSEAlgorithm":   "aws:kms",
					"KMSMasterKeyID": map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}},
				},
			}}},
		})
	})

	role := statementsOf(t, inlinePolicy(t, roleNamed(t, app.tools, cfg.RoleName), "countersign-delivery"))
	wantRole := map[string]any{
		"Sid": "ArtifactKey", "Effect": "Allow",
		"Action":   []any{"kms:GenerateDataKey", "kms:Decrypt"},
		"Resource": "arn:aws:kms:" + cfg.Region + ":" + cfg.DevAccount + ":key/*",
		"Condition": map[string]any{
			"StringEquals":             map[string]any{"kms:ViaService": "s3." + cfg.Region + ".amazonaws.com"},
			"ForAnyValue:StringEquals": map[string]any{"kms:ResourceAliases": cfg.KMSAlias()},
		},
	}
	if !reflect.DeepEqual(role["ArtifactKey"], wantRole) {
		t.Errorf("build role key statement:\ngot  %v\nwant %v", role["ArtifactKey"], wantRole)
	}
}

func TestExistingKMSKey(t *testing.T) {
	cfg := testConfig(t)
	cfg.KMSKey = "arn:aws:kms:" + cfg.Region + ":" + cfg.DevAccount + ":key/1234abcd-12ab-34cd-56ef-1234567890ab"
	app := synthesize(t, cfg, cfg)

	if keys := resources(t, app.dev, "AWS::KMS::Key"); len(keys) != 0 {
		t.Errorf("got %d KMS keys for an existing key, want 0", len(keys))
	}
	assert(t, "bucket encryption with the existing key", func() {
		templateOf(app.dev).HasResourceProperties(jsii.String("AWS::S3::Bucket"), &map[string]any{
			"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
				"BucketKeyEnabled":              true,
				"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": cfg.KMSKey},
			}}},
		})
	})

	role := statementsOf(t, inlinePolicy(t, roleNamed(t, app.tools, cfg.RoleName), "countersign-delivery"))
	if got := role["ArtifactKey"]["Resource"]; got != cfg.KMSKey {
		t.Errorf("build role key statement resource: got %v, want %s", got, cfg.KMSKey)
	}
}
