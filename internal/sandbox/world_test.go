package sandbox

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestDefaultWorld(t *testing.T) {
	w, err := DefaultWorld()
	if err != nil {
		t.Fatalf("default world: %v", err)
	}

	dir, err := NewDirectory(w)
	if err != nil {
		t.Fatalf("directory: %v", err)
	}

	build := dir.byName["build"]
	if build == nil {
		t.Fatal("no principal build")
	}
	sessionARN := regexp.MustCompile(`^arn:aws:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
	if !sessionARN.MatchString(build.ARN) {
		t.Errorf("build ARN = %q, want a CodeBuild session of CodeBuildRole", build.ARN)
	}
	if build.RoleARN != "arn:aws:iam::111111111111:role/CodeBuildRole" {
		t.Errorf("build role ARN = %q", build.RoleARN)
	}
	if !strings.HasPrefix(build.AccessKeyID, "ASIA") || build.SessionToken == "" {
		t.Errorf("build keys %q with token %v, want ASIA keys with a session token", build.AccessKeyID, build.SessionToken != "")
	}
	if !strings.HasPrefix(build.UserID, "AROA") || !strings.HasSuffix(build.UserID, ":"+strings.TrimPrefix(build.ARN, "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/")) {
		t.Errorf("build user ID = %q, want AROA...:session", build.UserID)
	}

	admin := dir.byName["dev-admin"]
	if admin == nil || admin.ARN != "arn:aws:iam::222222222222:root" || admin.Account != "222222222222" {
		t.Fatalf("dev-admin = %+v, want the root of 222222222222", admin)
	}
	if !strings.HasPrefix(admin.AccessKeyID, "AKIA") || admin.SessionToken != "" {
		t.Errorf("dev-admin keys %q, want AKIA keys without a session token", admin.AccessKeyID)
	}

	bucket, ok := dir.Bucket("dev-artifacts")
	if !ok || bucket.Owner != "222222222222" {
		t.Fatalf("bucket dev-artifacts = %+v, want owner 222222222222", bucket)
	}
	var policy struct {
		Statement []struct {
			Sid       string
			Principal struct{ AWS string }
		}
	}
	if err := json.Unmarshal(bucket.Policy, &policy); err != nil {
		t.Fatalf("bucket policy: %v", err)
	}
	if len(policy.Statement) != 2 || policy.Statement[0].Sid != "AllowBuildRoleList" || policy.Statement[1].Sid != "AllowBuildRoleObjects" {
		t.Errorf("bucket policy statements = %+v", policy.Statement)
	}
	if policy.Statement[0].Principal.AWS != build.RoleARN {
		t.Errorf("bucket policy grants %q, want %q", policy.Statement[0].Principal.AWS, build.RoleARN)
	}

	if dir.DefaultIdentity() != build {
		t.Errorf("default identity = %q, want build", dir.DefaultIdentity().Name)
	}
}

func TestSessionUUIDNewEachStart(t *testing.T) {
	w, err := DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}

	first, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}
	second, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}

	if first.byName["build"].ARN == second.byName["build"].ARN {
		t.Errorf("two starts share the session ARN %q", first.byName["build"].ARN)
	}
}

func TestLoadWorldServiceRole(t *testing.T) {
	w, err := LoadWorld(filepath.Join("testdata", "worlds", "service-role.json"))
	if err != nil {
		t.Fatalf("load: %v", err)
	}

	dir, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}

	ci := dir.DefaultIdentity()
	if ci.Name != "ci" {
		t.Fatalf("default identity = %q, want ci", ci.Name)
	}
	// A session ARN drops the role's path; the role ARN keeps it.
	if ci.ARN != "arn:aws:sts::123456789012:assumed-role/Builder/fixed-session" {
		t.Errorf("session ARN = %q", ci.ARN)
	}
	if ci.RoleARN != "arn:aws:iam::123456789012:role/service-role/Builder" {
		t.Errorf("role ARN = %q", ci.RoleARN)
	}
	if ci.UserID != "AROAEXAMPLEBUILDER001:fixed-session" {
		t.Errorf("user ID = %q", ci.UserID)
	}
	account, _ := dir.Account("210987654321")
	if account.Canonical() != "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be" {
		t.Errorf("canonical ID = %q", account.Canonical())
	}
}

func TestLoadWorldErrors(t *testing.T) {
	_, err := LoadWorld(filepath.Join("testdata", "worlds", "unknown-field.json"))
	if err == nil || !strings.Contains(err.Error(), `unknown field "rolez"`) {
		t.Errorf("unknown field: err = %v, want it named", err)
	}

	_, err = LoadWorld(filepath.Join("testdata", "worlds", "missing.json"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: err = %v", err)
	}

	_, err = ParseWorld([]byte(`{"region": "us-east-1"} {}`))
	if err == nil || !strings.Contains(err.Error(), "data after the top-level object") {
		t.Errorf("trailing data: err = %v", err)
	}
}

func TestWorldValidate(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(w *World)
		want   string // substring of the error; empty for a valid world
	}{
		{"Default", func(w *World) {}, ""},
		{"BadRegion", func(w *World) { w.Region = "useast1" }, `region "useast1"`},
		{"NoAccounts", func(w *World) { w.Accounts = nil }, "accounts: empty"},
		{"ShortAccountID", func(w *World) { w.Accounts[1].ID = "2222" }, `accounts[1].id "2222": an account ID is 12 digits`},
		{"DuplicateAccount", func(w *World) { w.Accounts[1].ID = "111111111111" }, `accounts[1].id "111111111111": duplicate account`},
		{"DuplicateAlias", func(w *World) { w.Accounts[1].Alias = "tools" }, `accounts[1].alias "tools": duplicate alias`},
		{"BadCanonicalID", func(w *World) { w.Accounts[0].CanonicalID = "xyz" }, `accounts[0].canonical_id "xyz"`},
		{"DuplicateRole", func(w *World) {
			w.Accounts[0].Roles = append(w.Accounts[0].Roles, Role{Name: "codebuildrole"})
		}, `accounts[0].roles[1].name "codebuildrole": duplicate role`},
		{"BadRolePath", func(w *World) { w.Accounts[0].Roles[0].Path = "service-role" }, `accounts[0].roles[0].path "service-role"`},
		{"BadRoleID", func(w *World) { w.Accounts[0].Roles[0].ID = "AIDA123" }, `accounts[0].roles[0].id "AIDA123"`},
		{"BadTrustPolicy", func(w *World) { w.Accounts[0].Roles[0].TrustPolicy = json.RawMessage(`{"Statement": []}`) }, "accounts[0].roles[0].trust_policy"},
		{"BadIdentityPolicy", func(w *World) {
			w.Accounts[0].Roles[0].Policies["artifacts"] = json.RawMessage(`{"Statement": [{"Effect": "Maybe"}]}`)
		}, `accounts[0].roles[0].policies["artifacts"]: statement 0: Effect: "Maybe" is not an effect`},
		{"NoBuckets", func(w *World) { w.Buckets = nil }, "buckets: empty"},
		{"DuplicateBucket", func(w *World) { w.Buckets = append(w.Buckets, w.Buckets[0]) }, `buckets[1].name "dev-artifacts": duplicate bucket`},
		{"BucketNameUppercase", func(w *World) { w.Buckets[0].Name = "Dev-Artifacts" }, `buckets[0].name "Dev-Artifacts"`},
		{"BucketNameIP", func(w *World) { w.Buckets[0].Name = "192.168.1.1" }, "not an IP address"},
		{"BucketNameDots", func(w *World) { w.Buckets[0].Name = "a..b" }, "no two adjacent dots"},
		{"OwnerNotAccount", func(w *World) { w.Buckets[0].Owner = "333333333333" }, `buckets[0].owner "333333333333": not an account`},
		{"BadBucketPolicy", func(w *World) { w.Buckets[0].Policy = json.RawMessage(`"text"`) }, "buckets[0].policy: the document is a string"},
		{"NoPrincipals", func(w *World) { w.Principals = nil }, "principals: empty"},
		{"DuplicatePrincipal", func(w *World) { w.Principals[1].Name = "build" }, `principals[1].name "build": duplicate principal`},
		{"BadPrincipalName", func(w *World) { w.Principals[1].Name = "Dev Admin" }, `principals[1].name "Dev Admin"`},
		{"UnknownRole", func(w *World) { w.Principals[0].Role = "arn:aws:iam::111111111111:role/Missing" }, `principals[0].role "arn:aws:iam::111111111111:role/Missing": unknown role`},
		{"RoleWrongPath", func(w *World) {
			w.Principals[0].Role = "arn:aws:iam::111111111111:role/service-role/CodeBuildRole"
		}, "unknown role: account 111111111111 has no role CodeBuildRole with path /service-role/"},
		{"RoleUnknownAccount", func(w *World) { w.Principals[0].Role = "arn:aws:iam::999999999999:role/CodeBuildRole" }, "account 999999999999 is not in accounts"},
		{"RoleNotARN", func(w *World) { w.Principals[0].Role = "CodeBuildRole" }, "not a role ARN"},
		{"RoleAndARN", func(w *World) { w.Principals[0].ARN = "arn:aws:iam::111111111111:root" }, `has role "arn:aws:iam::111111111111:role/CodeBuildRole" and arn "arn:aws:iam::111111111111:root", set only one`},
		{"NeitherRoleNorARN", func(w *World) { w.Principals[1].ARN = "" }, `principals[1] "dev-admin": set role and session`},
		{"NoSession", func(w *World) { w.Principals[0].Session = "" }, "principals[0].session: empty"},
		{"BadSession", func(w *World) { w.Principals[0].Session = "has space {uuid}" }, `principals[0].session "has space {uuid}"`},
		{"SessionNoToken", func(w *World) { w.Principals[0].SessionToken = "" }, "principals[0].session_token: empty"},
		{"RootWithToken", func(w *World) { w.Principals[1].SessionToken = "token" }, "principals[1].session_token: long-term root keys"},
		{"UserARN", func(w *World) { w.Principals[1].ARN = "arn:aws:iam::222222222222:user/alice" }, "only root user ARNs"},
		{"RootUnknownAccount", func(w *World) { w.Principals[1].ARN = "arn:aws:iam::999999999999:root" }, "account 999999999999 is not in accounts"},
		{"NoKeys", func(w *World) { w.Principals[1].AccessKeyID, w.Principals[1].SecretAccessKey = "", "" }, `principals[1] "dev-admin": no keys`},
		{"NoSecret", func(w *World) { w.Principals[1].SecretAccessKey = "" }, `principals[1] "dev-admin": no keys`},
		{"BadAccessKey", func(w *World) { w.Principals[1].AccessKeyID = "akia-lower" }, `principals[1].access_key_id "akia-lower"`},
		{"DuplicateAccessKey", func(w *World) { w.Principals[1].AccessKeyID = w.Principals[0].AccessKeyID }, "duplicate access key ID"},
		{"UnknownDefaultPrincipal", func(w *World) { w.DefaultPrincipal = "nobody" }, `default_principal "nobody"`},
		{"ValidUser", func(w *World) {
			w.Accounts[0].Users = []User{{Name: "deployer", Path: "/ci/", Policies: map[string]json.RawMessage{"read": json.RawMessage(`{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}`)}}}
			w.Principals = append(w.Principals, Principal{Name: "deployer", User: "arn:aws:iam::111111111111:user/ci/deployer", AccessKeyID: "AKIADEPLOYER00000001", SecretAccessKey: "s"})
		}, ""},
		{"BadUserName", func(w *World) { w.Accounts[0].Users = []User{{Name: "has space"}} }, `accounts[0].users[0].name "has space"`},
		{"DuplicateUser", func(w *World) { w.Accounts[0].Users = []User{{Name: "ci"}, {Name: "CI"}} }, `accounts[0].users[1].name "CI": duplicate user`},
		{"BadUserID", func(w *World) { w.Accounts[0].Users = []User{{Name: "ci", ID: "AROA123"}} }, `accounts[0].users[0].id "AROA123"`},
		{"BadUserPath", func(w *World) { w.Accounts[0].Users = []User{{Name: "ci", Path: "ci"}} }, `accounts[0].users[0].path "ci"`},
		{"BadUserPolicy", func(w *World) {
			w.Accounts[0].Users = []User{{Name: "ci", Policies: map[string]json.RawMessage{"p": json.RawMessage(`[]`)}}}
		}, `accounts[0].users[0].policies["p"]`},
		{"UnknownUser", func(w *World) {
			w.Principals[1] = Principal{Name: "ci", User: "arn:aws:iam::111111111111:user/ci", AccessKeyID: "AKIACI00000000000001", SecretAccessKey: "s"}
		}, `principals[1].user "arn:aws:iam::111111111111:user/ci": unknown user`},
		{"UserNotARN", func(w *World) {
			w.Principals[1] = Principal{Name: "ci", User: "ci", AccessKeyID: "AKIACI00000000000001", SecretAccessKey: "s"}
		}, "not a user ARN"},
		{"UserWithToken", func(w *World) {
			w.Accounts[0].Users = []User{{Name: "ci"}}
			w.Principals[1] = Principal{Name: "ci", User: "arn:aws:iam::111111111111:user/ci", AccessKeyID: "AKIACI00000000000001", SecretAccessKey: "s", SessionToken: "t"}
		}, "principals[1].session_token: long-term user keys"},
		{"RoleAndUser", func(w *World) { w.Principals[0].User = "arn:aws:iam::111111111111:user/ci" }, `has role "arn:aws:iam::111111111111:role/CodeBuildRole" and user`},
		{"ServiceBadName", func(w *World) {
			w.Principals[1] = Principal{Name: "svc", Service: "codebuild", AccessKeyID: "AKIASVC0000000000001", SecretAccessKey: "s"}
		}, `principals[1].service "codebuild"`},
		{"ServiceSourceAccountMismatch", func(w *World) {
			w.Principals[1] = Principal{Name: "svc", Service: "codebuild.amazonaws.com", SourceAccount: "111111111111", SourceARN: "arn:aws:codebuild:us-east-1:222222222222:project/p", AccessKeyID: "AKIASVC0000000000001", SecretAccessKey: "s"}
		}, "the ARN's account 222222222222 differs from source_account 111111111111"},
		{"ServiceSourceARNInvalid", func(w *World) {
			w.Principals[1] = Principal{Name: "svc", Service: "codebuild.amazonaws.com", SourceARN: "project/p", AccessKeyID: "AKIASVC0000000000001", SecretAccessKey: "s"}
		}, `principals[1].source_arn "project/p"`},
		{"SourceWithoutService", func(w *World) { w.Principals[1].SourceAccount = "222222222222" }, "source_account and source_arn are for service principals"},
		{"MaxSessionTooLong", func(w *World) { w.Accounts[0].Roles[0].MaxSessionDuration = 86400 }, "accounts[0].roles[0].max_session_duration 86400"},
		{"BadOwnership", func(w *World) { w.Buckets[0].OwnershipControls = "Enforced" }, `buckets[0].ownership_controls "Enforced"`},
		{"EncryptionNoAlgorithm", func(w *World) { w.Buckets[0].DefaultEncryption = &DefaultEncryption{} }, "buckets[0].default_encryption: sse_algorithm: missing"},
		{"EncryptionAES256WithKey", func(w *World) {
			w.Buckets[0].DefaultEncryption = &DefaultEncryption{SSEAlgorithm: "AES256", KMSKeyID: testKMSKey}
		}, "sse_algorithm AES256 takes no KMS key"},
		{"EncryptionKeyNotARN", func(w *World) {
			w.Buckets[0].DefaultEncryption = &DefaultEncryption{SSEAlgorithm: "aws:kms", KMSKeyID: "alias/aws/s3"}
		}, `buckets[0].default_encryption.kms_key_id "alias/aws/s3"`},
		{"EnvAWSName", func(w *World) { w.Env = map[string]string{"AWS_REGION": "eu-west-1"} }, `env["AWS_REGION"]: the sandbox sets the AWS_* variables itself`},
		{"EnvLowercaseName", func(w *World) { w.Env = map[string]string{"acl": "x"} }, `env["acl"]: a variable name is uppercase`},
		{"EnvSandboxName", func(w *World) { w.Env = map[string]string{"COUNTERSIGN_BUCKET": "x"} }, `env["COUNTERSIGN_BUCKET"]: the sandbox sets COUNTERSIGN_BUCKET`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := DefaultWorld()
			if err != nil {
				t.Fatal(err)
			}
			tt.mutate(w)

			err = w.Validate()

			switch {
			case tt.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("Validate = nil, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("Validate = %v\nwant an error containing %q", err, tt.want)
			}
		})
	}
}

func TestValidatePolicy(t *testing.T) {
	tests := []struct {
		file string
		want string // substring of the error; empty for a valid policy
	}{
		{"valid-bucket-policy.json", ""},
		{"valid-single-statement.json", ""},
		{"valid-old-version.json", ""},
		{"not-json.txt", "not valid JSON"},
		{"top-level-array.json", "a policy is a JSON object"},
		{"truncated.json", "not valid JSON"},
		{"missing-statement.json", "Statement: missing"},
		{"statement-string.json", "Statement: is a string"},
		{"statement-array-of-strings.json", "a statement is a JSON object"},
		{"statement-empty-array.json", "Statement: empty array"},
		{"statement-null-entry.json", "statement 1"},
		{"missing-effect.json", "statement 0: Effect: missing"},
		{"effect-lowercase.json", `statement 0: Effect: "allow" is not an effect`},
		{"unknown-version.json", `Version: "2024-01-01" is not a policy language version`},
	}
	for _, tt := range tests {
		name := strings.TrimSuffix(strings.TrimSuffix(tt.file, ".json"), ".txt")
		t.Run(name, func(t *testing.T) {
			doc, err := os.ReadFile(filepath.Join("testdata", "policies", tt.file))
			if err != nil {
				t.Fatal(err)
			}

			err = ValidatePolicy(doc)

			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ValidatePolicy = %v, want nil", err)
			case tt.want != "" && err == nil:
				t.Errorf("ValidatePolicy = nil, want an error containing %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("ValidatePolicy = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func TestLoadWorldUsersAndServices(t *testing.T) {
	w, err := LoadWorld(filepath.Join("testdata", "worlds", "users-and-services.json"))
	if err != nil {
		t.Fatalf("load: %v", err)
	}

	dir, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}

	user := dir.byName["publisher"]
	if user.ARN != "arn:aws:iam::222222222222:user/ci/publisher" || user.UserARN != user.ARN {
		t.Errorf("user ARN = %q, user ARN field = %q, want the ARN with its path", user.ARN, user.UserARN)
	}
	if user.Account != "222222222222" || user.RoleARN != "" {
		t.Errorf("user account %q role %q, want 222222222222 and no role", user.Account, user.RoleARN)
	}
	if !userIDPattern.MatchString(user.UserID) {
		t.Errorf("user ID = %q, want AIDA followed by 17 characters", user.UserID)
	}

	service := dir.byName["codebuild"]
	if service.ARN != "codebuild.amazonaws.com" || service.Service != "codebuild.amazonaws.com" {
		t.Errorf("service ARN %q service %q, want codebuild.amazonaws.com", service.ARN, service.Service)
	}
	if service.SourceAccount != "111111111111" || service.SourceARN != "arn:aws:codebuild:us-east-1:111111111111:project/deliver" {
		t.Errorf("service source %q %q", service.SourceAccount, service.SourceARN)
	}
	if service.identityPolicyHolder() != "" {
		t.Errorf("a service has identity policies of %q, want none", service.identityPolicyHolder())
	}
}
