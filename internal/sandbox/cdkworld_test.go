package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/policy/cfn"
)

// The fixture testdata/cdk.out is what a two-stack CDK app synthesizes, and
// it is the contract for the CDK app. WorldFromCDK expects these
// constructs, each stack with an explicit env (account and region):
//
// CountersignTools (111111111111, us-east-1):
//   - iam.Role CodeBuildRole with roleName "CodeBuildRole", path
//     "/service-role/", assumedBy codebuild.amazonaws.com with conditions
//     on aws:SourceAccount and aws:SourceArn (the project's ARN, built from
//     the project name, not from project.projectArn);
//   - iam.Policy ArtifactsPolicy attached to the role: s3:ListBucket on the
//     bucket, s3:PutObject, GetObject, DeleteObject and AbortMultipartUpload
//     on its objects, and the project's log permissions. The bucket name
//     comes from a CfnParameter with a Default;
//   - codebuild.Project Deliver with projectName "countersign-build" and
//     role CodeBuildRole. When CDK adds the project's own grants to the
//     role's DefaultPolicy, they refer to the project by Ref and
//     Fn::GetAtt, which resolve because the project is named.
//
// CountersignDev (222222222222, us-east-1):
//   - s3.Bucket ArtifactBucket with bucketName
//     "countersign-dev-artifacts-222222222222", S3_MANAGED encryption,
//     BLOCK_ALL public access, BUCKET_OWNER_ENFORCED object ownership,
//     enforceSSL, and lifecycle rules for the canary prefix and incomplete
//     multipart uploads;
//   - its bucket policy (from enforceSSL and addToResourcePolicy) granting
//     the same S3 actions to the role as an iam.ArnPrincipal whose ARN is a
//     string, not a cross-stack reference to the role.
const cdkFixture = "testdata/cdk.out"

func TestWorldFromCDKFixture(t *testing.T) {
	w, warnings, err := WorldFromCDK(cdkFixture)
	if err != nil {
		t.Fatalf("WorldFromCDK: %v", err)
	}

	if len(warnings) != 0 {
		t.Errorf("warnings %q, want none for the fixture", warnings)
	}
	if w.Region != "us-east-1" {
		t.Errorf("region = %q, want us-east-1", w.Region)
	}
	if len(w.Accounts) != 2 || w.Accounts[0].ID != "111111111111" || w.Accounts[1].ID != "222222222222" {
		t.Fatalf("accounts %+v, want the tools and the dev account", w.Accounts)
	}

	roles := w.Accounts[0].Roles
	if len(roles) != 1 || roles[0].Name != "CodeBuildRole" || roles[0].Path != "/service-role/" {
		t.Fatalf("tools roles %+v, want CodeBuildRole under /service-role/", roles)
	}
	if _, ok := roles[0].Policies["ArtifactsPolicy8D2E4B61"]; !ok || len(roles[0].Policies) != 1 {
		t.Errorf("role policies %v, want the attached ArtifactsPolicy", keysOf(roles[0].Policies))
	}
	if !strings.Contains(string(roles[0].TrustPolicy), "arn:aws:codebuild:us-east-1:111111111111:project/countersign-build") {
		t.Errorf("trust policy %s does not scope aws:SourceArn to the project", roles[0].TrustPolicy)
	}

	if len(w.Buckets) != 1 {
		t.Fatalf("buckets %+v, want one", w.Buckets)
	}
	b := w.Buckets[0]
	if b.Name != "countersign-dev-artifacts-222222222222" || b.Owner != "222222222222" {
		t.Errorf("bucket %s owned by %s, want countersign-dev-artifacts-222222222222 of 222222222222", b.Name, b.Owner)
	}
	if !strings.Contains(string(b.Policy), "arn:aws:iam::111111111111:role/service-role/CodeBuildRole") {
		t.Errorf("bucket policy %s does not name the build role", b.Policy)
	}
	if b.OwnershipControls != ownershipEnforced || b.DefaultEncryption == nil || b.DefaultEncryption.SSEAlgorithm != sseS3 {
		t.Errorf("bucket settings %s %+v, want BucketOwnerEnforced and AES256", b.OwnershipControls, b.DefaultEncryption)
	}
	if p := b.PublicAccessBlock; p == nil || !p.BlockPublicACLs || !p.IgnorePublicACLs || !p.BlockPublicPolicy || !p.RestrictPublicBuckets {
		t.Errorf("public access block %+v, want all four on", b.PublicAccessBlock)
	}

	names := map[string]Principal{}
	for _, p := range w.Principals {
		names[p.Name] = p
	}
	if w.DefaultPrincipal != "build" || names["build"].Role != "arn:aws:iam::111111111111:role/service-role/CodeBuildRole" {
		t.Errorf("default %s, build principal %+v, want a session of CodeBuildRole", w.DefaultPrincipal, names["build"])
	}
	if names["dev-admin"].ARN != "arn:aws:iam::222222222222:root" {
		t.Errorf("dev-admin = %+v, want the dev account's root", names["dev-admin"])
	}
	codebuild := names["codebuild"]
	if codebuild.Service != "codebuild.amazonaws.com" || codebuild.SourceAccount != "111111111111" ||
		codebuild.SourceARN != "arn:aws:codebuild:us-east-1:111111111111:project/countersign-build" {
		t.Errorf("codebuild = %+v, want the service acting for the project", codebuild)
	}

	// The sandbox sets the bucket and owner itself, so only the prefix
	// comes from the project's variables.
	if got := w.Env; len(got) != 1 || got["COUNTERSIGN_PREFIX"] != "app" {
		t.Errorf("env = %v, want only COUNTERSIGN_PREFIX=app from the project", got)
	}

	again, _, err := WorldFromCDK(cdkFixture)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range again.Principals {
		if p.AccessKeyID != w.Principals[i].AccessKeyID || p.SecretAccessKey != w.Principals[i].SecretAccessKey {
			t.Errorf("principal %s got other keys on a second run, want the same keys", p.Name)
		}
	}
}

// TestWorldFromCDKCoherent checks that the derived world lets the build
// role write to the bucket and lets CodeBuild assume the role, as the
// deployed app would.
func TestWorldFromCDKCoherent(t *testing.T) {
	w, _, err := WorldFromCDK(cdkFixture)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}
	bucketPolicy := w.Buckets[0].Policy
	a, err := NewPolicyAuthorizer(dir, func(string) ([]byte, bool, error) { return bucketPolicy, true, nil })
	if err != nil {
		t.Fatal(err)
	}
	build := dir.byName["build"]

	for _, action := range []string{"s3:PutObject", "s3:GetObject", "s3:DeleteObject"} {
		err := a.Authorize(context.Background(), AuthzRequest{
			PrincipalName: build.Name, PrincipalARN: build.ARN, Account: build.Account, RoleARN: build.RoleARN,
			Operation: "PutObject", Action: action, Bucket: w.Buckets[0].Name, Key: "app/.countersign/canary", BucketOwner: w.Buckets[0].Owner,
			Query: url.Values{}, Header: http.Header{},
		})
		if err != nil {
			t.Errorf("%s by the build role: %v", action, err)
		}
	}

	trust, err := newTrustEvaluator(dir)
	if err != nil {
		t.Fatal(err)
	}
	context := map[string][]string{"aws:SourceAccount": {"111111111111"}, "aws:SourceArn": {dir.byName["codebuild"].SourceARN}}
	allowed, err := trust.allows(dir.byName["codebuild"], build.RoleARN, "111111111111", context)
	if err != nil || !allowed {
		t.Errorf("codebuild may assume the build role: %v (%v), want true", allowed, err)
	}
}

func TestWorldFromCDKBucketSettings(t *testing.T) {
	tests := []struct {
		name  string
		props map[string]any // replaces these bucket properties; nil deletes
		want  Bucket
	}{
		{
			name:  "DefaultsOfNewBucket",
			props: map[string]any{"OwnershipControls": nil, "BucketEncryption": nil, "PublicAccessBlockConfiguration": nil},
			want: Bucket{OwnershipControls: ownershipEnforced, DefaultEncryption: &DefaultEncryption{SSEAlgorithm: sseS3},
				PublicAccessBlock: &PublicAccessBlock{BlockPublicACLs: true, IgnorePublicACLs: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}},
		},
		{
			name: "ObjectWriterKMSPartialBlock",
			props: map[string]any{
				"OwnershipControls": map[string]any{"Rules": []any{map[string]any{"ObjectOwnership": "ObjectWriter"}}},
				"BucketEncryption": map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
					"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": map[string]any{
						"Fn::Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/1234abcd-12ab-34cd-56ef-1234567890ab"}},
					"BucketKeyEnabled": true,
				}}},
				"PublicAccessBlockConfiguration": map[string]any{"BlockPublicAcls": true},
			},
			want: Bucket{OwnershipControls: ownershipWriter,
				DefaultEncryption: &DefaultEncryption{SSEAlgorithm: sseKMS, KMSKeyID: testKMSKey, BucketKeyEnabled: true},
				PublicAccessBlock: &PublicAccessBlock{BlockPublicACLs: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyCDKFixture(t, func(tools, dev map[string]any) {
				props := resourceProps(t, dev, "ArtifactBucket7410C9EF")
				for k, v := range tt.props {
					if v == nil {
						delete(props, k)
					} else {
						props[k] = v
					}
				}
			}, nil)

			w, _, err := WorldFromCDK(dir)
			if err != nil {
				t.Fatalf("WorldFromCDK: %v", err)
			}

			got := w.Buckets[0]
			if got.OwnershipControls != tt.want.OwnershipControls {
				t.Errorf("ownership = %s, want %s", got.OwnershipControls, tt.want.OwnershipControls)
			}
			if *got.DefaultEncryption != *tt.want.DefaultEncryption {
				t.Errorf("encryption = %+v, want %+v", *got.DefaultEncryption, *tt.want.DefaultEncryption)
			}
			if *got.PublicAccessBlock != *tt.want.PublicAccessBlock {
				t.Errorf("public access block = %+v, want %+v", *got.PublicAccessBlock, *tt.want.PublicAccessBlock)
			}
		})
	}
}

func TestWorldFromCDKErrors(t *testing.T) {
	tests := []struct {
		name     string
		template func(t *testing.T, tools, dev map[string]any)
		manifest func(artifacts map[string]any)
		want     []string // substrings of the error
	}{
		{
			name: "BucketWithoutName",
			template: func(t *testing.T, tools, dev map[string]any) {
				delete(resourceProps(t, dev, "ArtifactBucket7410C9EF"), "BucketName")
			},
			want: []string{`stack "CountersignDev"`, "resource ArtifactBucket7410C9EF", "Resources.ArtifactBucket7410C9EF.Properties.BucketName", "set bucketName"},
		},
		{
			name: "ProjectWithoutName",
			template: func(t *testing.T, tools, dev map[string]any) {
				delete(resourceProps(t, tools, "Deliver5B3F9C2A"), "Name")
			},
			want: []string{`stack "CountersignTools"`, "resource Deliver5B3F9C2A", "Resources.Deliver5B3F9C2A.Properties.Name", "set projectName"},
		},
		{
			name: "ProjectRoleOutsideApp",
			template: func(t *testing.T, tools, dev map[string]any) {
				resourceProps(t, tools, "Deliver5B3F9C2A")["ServiceRole"] = "arn:aws:iam::111111111111:role/Elsewhere"
			},
			want: []string{"resource Deliver5B3F9C2A", "Properties.ServiceRole", "role arn:aws:iam::111111111111:role/Elsewhere is not an AWS::IAM::Role of the app"},
		},
		{
			name: "KMSKeyFromStack",
			template: func(t *testing.T, tools, dev map[string]any) {
				resources := dev["Resources"].(map[string]any)
				resources["Key961B73FD"] = map[string]any{"Type": "AWS::KMS::Key", "Properties": map[string]any{}}
				resourceProps(t, dev, "ArtifactBucket7410C9EF")["BucketEncryption"] = map[string]any{"ServerSideEncryptionConfiguration": []any{map[string]any{
					"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": map[string]any{"Fn::GetAtt": []any{"Key961B73FD", "Arn"}}},
				}}}
			},
			want: []string{"resource ArtifactBucket7410C9EF", "ServerSideEncryptionByDefault.KMSMasterKeyID", "attribute Arn of Key961B73FD (type AWS::KMS::Key) is known only at deploy time"},
		},
		{
			name: "BuildRolePolicyRefersToUnnamedProject",
			template: func(t *testing.T, tools, dev map[string]any) {
				delete(resourceProps(t, tools, "Deliver5B3F9C2A"), "Name")
				addStatement(t, tools, "ArtifactsPolicy8D2E4B61", map[string]any{
					"Effect": "Allow", "Action": "codebuild:CreateReport",
					"Resource": map[string]any{"Fn::Join": []any{"", []any{"arn:aws:codebuild:us-east-1:111111111111:report-group/", map[string]any{"Ref": "Deliver5B3F9C2A"}}}},
				})
			},
			// The missing name is the cause, so it is what the error names.
			want: []string{`stack "CountersignTools"`, "resource Deliver5B3F9C2A", "Properties.Name", "set projectName"},
		},
		{
			name: "OwnershipWithoutRule",
			template: func(t *testing.T, tools, dev map[string]any) {
				resourceProps(t, dev, "ArtifactBucket7410C9EF")["OwnershipControls"] = map[string]any{"Rules": []any{}}
			},
			want: []string{"resource ArtifactBucket7410C9EF", "Properties.OwnershipControls.Rules[0].ObjectOwnership", "has no rule with an ObjectOwnership"},
		},
		{
			name: "EncryptionWithoutRule",
			template: func(t *testing.T, tools, dev map[string]any) {
				resourceProps(t, dev, "ArtifactBucket7410C9EF")["BucketEncryption"] = map[string]any{"ServerSideEncryptionConfiguration": []any{}}
			},
			want: []string{"resource ArtifactBucket7410C9EF", "Properties.BucketEncryption.ServerSideEncryptionConfiguration", "give the configuration one rule"},
		},
		{
			name: "EncryptionWithoutAlgorithm",
			template: func(t *testing.T, tools, dev map[string]any) {
				resourceProps(t, dev, "ArtifactBucket7410C9EF")["BucketEncryption"] = map[string]any{"ServerSideEncryptionConfiguration": []any{
					map[string]any{"ServerSideEncryptionByDefault": map[string]any{}},
				}}
			},
			want: []string{"ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm", "has no SSEAlgorithm"},
		},
		{
			name: "PublicAccessBlockNotBoolean",
			template: func(t *testing.T, tools, dev map[string]any) {
				resourceProps(t, dev, "ArtifactBucket7410C9EF")["PublicAccessBlockConfiguration"] = map[string]any{"BlockPublicPolicy": "yes"}
			},
			want: []string{"Properties.PublicAccessBlockConfiguration.BlockPublicPolicy", "resolves to a string (yes); expected true or false"},
		},
		{
			name: "BucketNameNotString",
			template: func(t *testing.T, tools, dev map[string]any) {
				resourceProps(t, dev, "ArtifactBucket7410C9EF")["BucketName"] = []any{"a", "b"}
			},
			want: []string{"Properties.BucketName", "resolves to an array; expected a string"},
		},
		{
			name: "OtherPolicyOfBuildRoleUnresolved",
			template: func(t *testing.T, tools, dev map[string]any) {
				addPolicy(tools, "ExtraPolicy", []any{map[string]any{"Ref": "Unnamed"}, map[string]any{"Ref": "CodeBuildRole3C5D2F7A"}})
			},
			want: []string{"resource ExtraPolicy", "Key961B73FD"},
		},
		{
			name: "NoProject",
			template: func(t *testing.T, tools, dev map[string]any) {
				delete(tools["Resources"].(map[string]any), "Deliver5B3F9C2A")
			},
			want: []string{"defines an AWS::CodeBuild::Project"},
		},
		{
			name: "TwoRegions",
			manifest: func(artifacts map[string]any) {
				artifacts["CountersignDev"].(map[string]any)["environment"] = "aws://222222222222/eu-west-1"
			},
			want: []string{"us-east-1", "eu-west-1", "a world has one region"},
		},
		{
			name: "UnknownEnvironment",
			manifest: func(artifacts map[string]any) {
				artifacts["CountersignDev"].(map[string]any)["environment"] = "aws://unknown-account/unknown-region"
			},
			want: []string{`stack "CountersignDev"`, "explicit account and region"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var template func(tools, dev map[string]any)
			if tt.template != nil {
				template = func(tools, dev map[string]any) { tt.template(t, tools, dev) }
			}
			dir := copyCDKFixture(t, template, tt.manifest)

			_, _, err := WorldFromCDK(dir)

			if err == nil {
				t.Fatal("WorldFromCDK succeeded, want an error")
			}
			for _, want := range tt.want {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q\nwant it to contain %q", err, want)
				}
			}
		})
	}
}

// TestWorldFromCDKProjectReferences checks that a build role policy that
// refers to the named project by Ref and Fn::GetAtt, as CDK writes when
// the project updates its role's policy, resolves into the world.
func TestWorldFromCDKProjectReferences(t *testing.T) {
	dir := copyCDKFixture(t, func(tools, dev map[string]any) {
		addStatement(t, tools, "ArtifactsPolicy8D2E4B61", map[string]any{
			"Effect": "Allow", "Action": "codebuild:CreateReport",
			"Resource": map[string]any{"Fn::Join": []any{"", []any{
				"arn:", map[string]any{"Ref": "AWS::Partition"}, ":codebuild:", map[string]any{"Ref": "AWS::Region"}, ":",
				map[string]any{"Ref": "AWS::AccountId"}, ":report-group/", map[string]any{"Ref": "Deliver5B3F9C2A"}, "-*",
			}}},
		})
		addStatement(t, tools, "ArtifactsPolicy8D2E4B61", map[string]any{
			"Effect": "Allow", "Action": "codebuild:BatchGetBuilds",
			"Resource": map[string]any{"Fn::GetAtt": []any{"Deliver5B3F9C2A", "Arn"}},
		})
	}, nil)

	w, warnings, err := WorldFromCDK(dir)

	if err != nil {
		t.Fatalf("WorldFromCDK: %v", err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q, want none", warnings)
	}
	roles := toolsRoles(t, w)
	if len(roles) != 1 {
		t.Fatalf("tools roles %+v, want the build role", roles)
	}
	doc := string(roles[0].Policies["ArtifactsPolicy8D2E4B61"])
	for _, want := range []string{
		`"arn:aws:codebuild:us-east-1:111111111111:report-group/countersign-build-*"`,
		`"arn:aws:codebuild:us-east-1:111111111111:project/countersign-build"`,
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("role policy %s\nwant it to contain %s", doc, want)
		}
	}
}

// TestWorldFromCDKOtherRolePolicyWarns checks that a policy that cannot be
// resolved but attaches only to a role other than the build role leaves
// that role out with a warning instead of failing.
func TestWorldFromCDKOtherRolePolicyWarns(t *testing.T) {
	dir := copyCDKFixture(t, func(tools, dev map[string]any) {
		addPolicy(tools, "ExtraPolicy", []any{map[string]any{"Ref": "Unnamed"}})
	}, nil)

	w, warnings, err := WorldFromCDK(dir)

	if err != nil {
		t.Fatalf("WorldFromCDK: %v, want the policy of the other role left out with a warning", err)
	}
	if roles := toolsRoles(t, w); len(roles) != 1 || roles[0].Name != "CodeBuildRole" {
		t.Errorf("tools roles %+v, want only the build role", roles)
	}
	if len(warnings) != 2 || !strings.Contains(strings.Join(warnings, "\n"), "resource ExtraPolicy") {
		t.Errorf("warnings %q, want the unnamed role and ExtraPolicy", warnings)
	}
}

func TestWorldFromCDKUnnamedRoleWarns(t *testing.T) {
	dir := copyCDKFixture(t, func(tools, dev map[string]any) {
		dev["Resources"].(map[string]any)["AuditFunctionServiceRole675BB04A"] = map[string]any{
			"Type": "AWS::IAM::Role",
			"Properties": map[string]any{
				"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
					"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}},
				"ManagedPolicyArns": []any{"arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"},
			},
		}
	}, nil)

	w, warnings, err := WorldFromCDK(dir)

	if err != nil {
		t.Fatalf("WorldFromCDK: %v, want the unnamed role left out with a warning", err)
	}
	for _, a := range w.Accounts {
		if a.ID == "222222222222" && len(a.Roles) != 0 {
			t.Errorf("dev roles %+v, want the unnamed role left out", a.Roles)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "AuditFunctionServiceRole675BB04A") {
		t.Errorf("warnings %q, want one naming the unnamed role", warnings)
	}
}

func TestWorldFromCDKMissingDir(t *testing.T) {
	_, _, err := WorldFromCDK(filepath.Join(t.TempDir(), "cdk.out"))
	if err == nil || !strings.Contains(err.Error(), "cdk synth") {
		t.Errorf("err = %v, want a hint to run cdk synth", err)
	}
	var unresolved *cfn.UnresolvedError
	if errors.As(err, &unresolved) {
		t.Errorf("a missing folder is reported as an unresolved value: %v", err)
	}
}

// copyCDKFixture copies the fixture into a temporary folder, applies
// template to the parsed tools and dev templates and manifest to the
// manifest's artifacts, and returns the folder. The copy's artifacts are
// in name order, so CountersignDev comes first.
func copyCDKFixture(t *testing.T, template func(tools, dev map[string]any), manifest func(artifacts map[string]any)) string {
	t.Helper()
	dir := t.TempDir()

	read := func(name string) map[string]any {
		data, err := os.ReadFile(filepath.Join(cdkFixture, name))
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	write := func(name string, v any) {
		data, err := json.MarshalIndent(v, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	tools, dev, root := read("CountersignTools.template.json"), read("CountersignDev.template.json"), read("manifest.json")
	if template != nil {
		template(tools, dev)
	}
	if manifest != nil {
		manifest(root["artifacts"].(map[string]any))
	}
	write("CountersignTools.template.json", tools)
	write("CountersignDev.template.json", dev)
	write("manifest.json", root)
	return dir
}

// toolsRoles returns the roles of the tools account 111111111111.
func toolsRoles(t *testing.T, w *World) []Role {
	t.Helper()
	for _, a := range w.Accounts {
		if a.ID == "111111111111" {
			return a.Roles
		}
	}
	t.Fatalf("accounts %+v lack the tools account", w.Accounts)
	return nil
}

// addStatement appends a statement to the document of a policy resource.
func addStatement(t *testing.T, template map[string]any, logicalID string, statement map[string]any) {
	t.Helper()
	doc := resourceProps(t, template, logicalID)["PolicyDocument"].(map[string]any)
	doc["Statement"] = append(doc["Statement"].([]any), statement)
}

// addPolicy adds an unnamed role "Unnamed" and a policy attached to roles
// whose document refers to the ARN of a KMS key, which is known only at
// deploy time.
func addPolicy(template map[string]any, logicalID string, roles []any) {
	resources := template["Resources"].(map[string]any)
	resources["Unnamed"] = map[string]any{"Type": "AWS::IAM::Role", "Properties": map[string]any{
		"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Effect": "Allow", "Principal": map[string]any{"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}}},
	}}
	resources["Key961B73FD"] = map[string]any{"Type": "AWS::KMS::Key", "Properties": map[string]any{}}
	resources[logicalID] = map[string]any{"Type": "AWS::IAM::Policy", "Properties": map[string]any{
		"PolicyName": logicalID,
		"Roles":      roles,
		"PolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{map[string]any{
			"Effect": "Allow", "Action": "kms:Decrypt", "Resource": map[string]any{"Fn::GetAtt": []any{"Key961B73FD", "Arn"}}}}},
	}}
}

func resourceProps(t *testing.T, template map[string]any, logicalID string) map[string]any {
	t.Helper()
	res, ok := template["Resources"].(map[string]any)[logicalID].(map[string]any)
	if !ok {
		t.Fatalf("the fixture has no resource %s", logicalID)
	}
	return res["Properties"].(map[string]any)
}

func keysOf[V any](m map[string]V) []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}
