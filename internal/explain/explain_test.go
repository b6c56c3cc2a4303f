package explain

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
)

const (
	testRoleARN = "arn:aws:iam::111111111111:role/service-role/CodeBuildRole"
	testBucket  = "countersign-dev-artifacts-222222222222"
	testOwner   = "222222222222"
	testProject = "arn:aws:codebuild:eu-west-1:111111111111:project/countersign-deliver"
)

func readFixture(t *testing.T, name string) Document {
	t.Helper()

	d, err := ReadDocument(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("read fixture %s: %v", name, err)
	}

	return d
}

// decisions maps each checked action to its decision.
func decisions(r *Report) map[string]string {
	out := map[string]string{}
	for _, res := range r.Results {
		out[res.Action] = res.Decision
	}

	return out
}

func resultFor(t *testing.T, r *Report, action string) ActionResult {
	t.Helper()

	for _, res := range r.Results {
		if res.Action == action {
			return res
		}
	}

	t.Fatalf("no result for %s", action)

	return ActionResult{}
}

func TestCheckDecisions(t *testing.T) {
	tests := []struct {
		name   string
		role   string
		bucket string
		trust  string
		want   map[string]string
		// deniedBy is the expected denied_by of each denied action.
		deniedBy map[string]string
	}{
		{
			name: "goodTrio", role: "role.json", bucket: "bucket.json", trust: "trust.json",
			want: map[string]string{"s3:ListBucket": DecisionAllowed, "s3:PutObject": DecisionAllowed, "s3:GetObject": DecisionAllowed, "s3:DeleteObject": DecisionAllowed, "sts:AssumeRole": DecisionAllowed},
		},
		{
			name: "bucketNamesOtherRole", role: "role.json", bucket: "bucket-other-role.json",
			want:     map[string]string{"s3:ListBucket": DecisionImplicitDeny, "s3:PutObject": DecisionImplicitDeny, "s3:GetObject": DecisionImplicitDeny, "s3:DeleteObject": DecisionImplicitDeny},
			deniedBy: map[string]string{"s3:ListBucket": "resource", "s3:PutObject": "resource", "s3:GetObject": "resource", "s3:DeleteObject": "resource"},
		},
		{
			name: "principalBecameUniqueID", role: "role.json", bucket: "bucket-unique-id.json",
			want:     map[string]string{"s3:ListBucket": DecisionImplicitDeny, "s3:PutObject": DecisionImplicitDeny, "s3:GetObject": DecisionImplicitDeny, "s3:DeleteObject": DecisionImplicitDeny},
			deniedBy: map[string]string{"s3:PutObject": "resource"},
		},
		{
			name: "roleLacksDelete", role: "role-no-delete.json", bucket: "bucket.json",
			want:     map[string]string{"s3:ListBucket": DecisionAllowed, "s3:PutObject": DecisionAllowed, "s3:GetObject": DecisionAllowed, "s3:DeleteObject": DecisionImplicitDeny},
			deniedBy: map[string]string{"s3:DeleteObject": "identity"},
		},
		{
			name: "secureTransportDenyAllows", role: "role.json", bucket: "bucket.json",
			want: map[string]string{"s3:ListBucket": DecisionAllowed, "s3:PutObject": DecisionAllowed, "s3:GetObject": DecisionAllowed, "s3:DeleteObject": DecisionAllowed},
		},
		{
			name: "orgIDDenyDenies", role: "role.json", bucket: "bucket-org-deny.json",
			want:     map[string]string{"s3:ListBucket": DecisionExplicitDeny, "s3:PutObject": DecisionExplicitDeny, "s3:GetObject": DecisionExplicitDeny, "s3:DeleteObject": DecisionExplicitDeny},
			deniedBy: map[string]string{"s3:PutObject": "resource"},
		},
		{
			name: "listBucketOnObjectARN", role: "role.json", bucket: "bucket-list-objects-arn.json",
			want:     map[string]string{"s3:ListBucket": DecisionImplicitDeny, "s3:PutObject": DecisionAllowed, "s3:GetObject": DecisionAllowed, "s3:DeleteObject": DecisionAllowed},
			deniedBy: map[string]string{"s3:ListBucket": "resource"},
		},
		{
			name: "trustWithoutCodeBuild", role: "role.json", bucket: "bucket.json", trust: "trust-ec2.json",
			want:     map[string]string{"s3:ListBucket": DecisionAllowed, "s3:PutObject": DecisionAllowed, "s3:GetObject": DecisionAllowed, "s3:DeleteObject": DecisionAllowed, "sts:AssumeRole": DecisionImplicitDeny},
			deniedBy: map[string]string{"sts:AssumeRole": "trust"},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{
				RoleARN:     testRoleARN,
				Identity:    []Document{readFixture(t, tt.role)},
				Bucket:      readFixture(t, tt.bucket),
				BucketName:  testBucket,
				BucketOwner: testOwner,
				ProjectARN:  testProject,
			}

			if tt.trust != "" {
				trust := readFixture(t, tt.trust)
				in.Trust = &trust
			}

			rep, err := Check(in)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}

			got := decisions(rep)
			if len(got) != len(tt.want) {
				t.Errorf("got %d results %v, want %d", len(got), got, len(tt.want))
			}

			for action, want := range tt.want {
				if got[action] != want {
					t.Errorf("%s: got %s, want %s", action, got[action], want)
				}
			}

			for action, want := range tt.deniedBy {
				res := resultFor(t, rep, action)
				if strings.Join(res.DeniedBy, ",") != want {
					t.Errorf("%s denied_by: got %v, want %s", action, res.DeniedBy, want)
				}

				if res.Fix == nil || len(res.Fix.Changes) == 0 {
					t.Errorf("%s: denied without a fix", action)
				}
			}

			wantDenied := len(tt.deniedBy) > 0
			if rep.Denied() != wantDenied {
				t.Errorf("Denied: got %t, want %t", rep.Denied(), wantDenied)
			}
		})
	}
}

func TestCheckBucketFixNamesRoleARN(t *testing.T) {
	rep, err := Check(Input{
		RoleARN:     testRoleARN,
		Identity:    []Document{readFixture(t, "role.json")},
		Bucket:      readFixture(t, "bucket-other-role.json"),
		BucketName:  testBucket,
		BucketOwner: testOwner,
		Prefix:      "builds",
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	res := resultFor(t, rep, "s3:PutObject")
	if res.Fix == nil || len(res.Fix.Changes) != 1 {
		t.Fatalf("got fix %+v, want one change", res.Fix)
	}

	change := res.Fix.Changes[0]
	statement := string(change.Statement)

	if !strings.Contains(statement, `"AWS": "`+testRoleARN+`"`) {
		t.Errorf("fix statement does not name the role ARN:\n%s", statement)
	}

	if strings.Contains(statement, "assumed-role") {
		t.Errorf("fix statement names a session:\n%s", statement)
	}

	if !strings.Contains(statement, "arn:aws:s3:::"+testBucket+"/builds/*") {
		t.Errorf("fix statement does not grant the prefix:\n%s", statement)
	}

	if !strings.Contains(change.Label, "dev account's bucket policy") {
		t.Errorf("got label %q, want the dev account's bucket policy", change.Label)
	}

	if len(change.Closest) == 0 || change.Closest[0].Failed != "principal" {
		t.Errorf("got closest %+v, want statements failing on principal", change.Closest)
	}

	if got, want := res.Resource, "arn:aws:s3:::"+testBucket+"/builds/"+DefaultKeyName; got != want {
		t.Errorf("got resource %s, want %s", got, want)
	}
}

func TestCheckOrgDenyExplainsCondition(t *testing.T) {
	rep, err := Check(Input{
		RoleARN:     testRoleARN,
		Identity:    []Document{readFixture(t, "role.json")},
		Bucket:      readFixture(t, "bucket-org-deny.json"),
		BucketName:  testBucket,
		BucketOwner: testOwner,
		Actions:     []string{"s3:PutObject"},
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	res := resultFor(t, rep, "s3:PutObject")
	if res.Fix == nil || len(res.Fix.Changes) != 1 {
		t.Fatalf("got fix %+v, want one change", res.Fix)
	}

	closest := res.Fix.Changes[0].Closest
	if len(closest) != 1 || closest[0].Sid != "DenyOutsideOrg" {
		t.Fatalf("got deny statements %+v, want DenyOutsideOrg", closest)
	}

	if got := strings.Join(closest[0].Conditions, " "); !strings.Contains(got, "aws:PrincipalOrgID") {
		t.Errorf("got conditions %q, want aws:PrincipalOrgID", got)
	}

	if res.Fix.Changes[0].Statement != nil {
		t.Errorf("got statement %s for an explicit deny, want none", res.Fix.Changes[0].Statement)
	}
}

func TestCheckSecureTransportConditionReported(t *testing.T) {
	rep, err := Check(Input{
		RoleARN:     testRoleARN,
		Identity:    []Document{readFixture(t, "role.json")},
		Bucket:      readFixture(t, "bucket.json"),
		BucketName:  testBucket,
		BucketOwner: testOwner,
		Actions:     []string{"s3:GetObject"},
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	res := resultFor(t, rep, "s3:GetObject")
	for _, s := range res.Statements {
		if s.Sid != "DenyInsecureTransport" {
			continue
		}

		if s.Matched || s.Condition == nil {
			t.Fatalf("got %+v, want an unmatched condition", s)
		}

		if got := strings.Join(s.Condition.RequestValues, ","); got != "true" {
			t.Errorf("got request values %q, want true", got)
		}

		return
	}

	t.Fatal("no DenyInsecureTransport statement in the result")
}

func TestCheckTrustFixNamesCodeBuild(t *testing.T) {
	trust := readFixture(t, "trust-ec2.json")

	rep, err := Check(Input{
		RoleARN:     testRoleARN,
		Identity:    []Document{readFixture(t, "role.json")},
		Bucket:      readFixture(t, "bucket.json"),
		Trust:       &trust,
		BucketName:  testBucket,
		BucketOwner: testOwner,
		ProjectARN:  testProject,
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	res := resultFor(t, rep, "sts:AssumeRole")
	if res.Fix == nil {
		t.Fatal("trust denial has no fix")
	}

	statement := string(res.Fix.Changes[0].Statement)
	for _, want := range []string{"codebuild.amazonaws.com", testProject, "111111111111"} {
		if !strings.Contains(statement, want) {
			t.Errorf("trust fix lacks %s:\n%s", want, statement)
		}
	}
}

func TestCheckAssumesOwnerWhenMissing(t *testing.T) {
	rep, err := Check(Input{
		RoleARN:    testRoleARN,
		Identity:   []Document{readFixture(t, "role.json")},
		Bucket:     readFixture(t, "bucket.json"),
		BucketName: testBucket,
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	if !rep.BucketOwnerAssumed || rep.BucketOwner != "111111111111" {
		t.Errorf("got owner %s assumed=%t, want 111111111111 assumed", rep.BucketOwner, rep.BucketOwnerAssumed)
	}

	if rep.CrossAccount {
		t.Error("got cross-account, want same account")
	}

	if len(rep.Notes) == 0 || !strings.Contains(rep.Notes[0], "--bucket-owner") {
		t.Errorf("got notes %q, want one naming --bucket-owner", rep.Notes)
	}
}

func TestCheckFindings(t *testing.T) {
	rep, err := Check(Input{
		RoleARN:     testRoleARN,
		Identity:    []Document{readFixture(t, "role.json")},
		Bucket:      readFixture(t, "bucket-list-objects-arn.json"),
		BucketName:  testBucket,
		BucketOwner: testOwner,
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	found := false
	for _, f := range rep.Findings {
		if f.Code == "s3-action-resource-mismatch" && f.Kind == "resource" {
			found = true
		}
	}

	if !found {
		t.Errorf("got findings %+v, want s3-action-resource-mismatch on the bucket policy", rep.Findings)
	}
}

func TestCheckUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		roleARN string
		bucket  string
		actions []string
	}{
		{"roleARNNotARN", "CodeBuildRole", testBucket, nil},
		{"roleARNUser", "arn:aws:iam::111111111111:user/alice", testBucket, nil},
		{"roleARNShortAccount", "arn:aws:iam::1111:role/CodeBuildRole", testBucket, nil},
		{"bucketEmpty", testRoleARN, "", nil},
		{"actionWithoutService", testRoleARN, testBucket, []string{"PutObject"}},
		{"actionWildcard", testRoleARN, testBucket, []string{"s3:Put*"}},
		{"actionOtherService", testRoleARN, testBucket, []string{"sqs:SendMessage"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Check(Input{
				RoleARN:    tt.roleARN,
				Identity:   []Document{readFixture(t, "role.json")},
				Bucket:     readFixture(t, "bucket.json"),
				BucketName: tt.bucket,
				Actions:    tt.actions,
			})
			if !errors.Is(err, exitcode.ErrUsage) {
				t.Errorf("got %v, want a usage error", err)
			}
		})
	}
}

func TestReadDocumentErrors(t *testing.T) {
	_, err := ReadDocument(filepath.Join("testdata", "not-json.json"))
	if err == nil || !strings.Contains(err.Error(), "not-json.json") {
		t.Errorf("got %v, want a parse error naming the file", err)
	}

	_, err = ReadDocument(filepath.Join("testdata", "missing.json"))
	if err == nil || !strings.Contains(err.Error(), "missing.json") {
		t.Errorf("got %v, want a read error naming the file", err)
	}
}

func TestLoadCDK(t *testing.T) {
	a, err := LoadCDK(filepath.Join("testdata", "cdk-good"), CDKOptions{})
	if err != nil {
		t.Fatalf("LoadCDK: %v", err)
	}

	if a.RoleARN != testRoleARN {
		t.Errorf("got role %s, want %s", a.RoleARN, testRoleARN)
	}

	if a.BucketName != testBucket || a.BucketOwner != testOwner {
		t.Errorf("got bucket %s owner %s, want %s owner %s", a.BucketName, a.BucketOwner, testBucket, testOwner)
	}

	if len(a.Identity) != 1 || a.Trust == nil || a.Bucket.Policy == nil {
		t.Fatalf("got %d identity policies, trust %v, bucket policy %v; want all documents", len(a.Identity), a.Trust, a.Bucket.Policy)
	}

	rep, err := Check(Input{RoleARN: a.RoleARN, Identity: a.Identity, Bucket: a.Bucket, Trust: a.Trust, BucketName: a.BucketName, BucketOwner: a.BucketOwner, Prefix: a.Prefix, ProjectARN: a.ProjectARN})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	if rep.Denied() {
		t.Errorf("got a denial, want every action allowed: %+v", decisions(rep))
	}
}

func TestLoadCDKChoice(t *testing.T) {
	tests := []struct {
		name      string
		dir       string
		role      string
		bucket    string
		wantUsage bool
		wantText  string
	}{
		{"ambiguousRole", "cdk-two-roles", "", "", true, "OtherBuildRole"},
		{"roleByName", "cdk-two-roles", "OtherBuildRole", "", false, ""},
		{"roleByARN", "cdk-two-roles", testRoleARN, "", false, ""},
		{"unknownBucket", "cdk-good", "", "no-such-bucket", true, testBucket},
		{"unresolvedPrincipal", "cdk-unresolved", "", "", false, "ArtifactBucketPolicy4B7A1C2D"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := LoadCDK(filepath.Join("testdata", tt.dir), CDKOptions{Role: tt.role, Bucket: tt.bucket})

			if tt.wantText == "" {
				if err != nil {
					t.Fatalf("LoadCDK: %v", err)
				}

				if !strings.HasSuffix(a.RoleARN, "/"+tt.role) && a.RoleARN != tt.role {
					t.Errorf("got role %s, want %s", a.RoleARN, tt.role)
				}

				return
			}

			if err == nil {
				t.Fatal("got no error")
			}

			if got := errors.Is(err, exitcode.ErrUsage); got != tt.wantUsage {
				t.Errorf("got usage error %t, want %t: %v", got, tt.wantUsage, err)
			}

			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("got %q, want it to name %s", err, tt.wantText)
			}
		})
	}
}

func TestCheckConditionNotes(t *testing.T) {
	tests := []struct {
		name     string
		bucket   string
		prefix   string
		wantNote string // a substring of one note; empty for none of the two
	}{
		{"PrefixMissing", "bucket-prefix-list.json", "", "prefix not given"},
		{"PrefixGiven", "bucket-prefix-list.json", "app", ""},
		{"SecureTransport", "bucket.json", "", "aws:SecureTransport true"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Check(Input{
				RoleARN:     testRoleARN,
				Identity:    []Document{readFixture(t, "role.json")},
				Bucket:      readFixture(t, tt.bucket),
				BucketName:  testBucket,
				BucketOwner: testOwner,
				Prefix:      tt.prefix,
				Actions:     []string{"s3:ListBucket"},
			})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}

			notes := strings.Join(rep.Notes, "\n")

			if tt.wantNote == "" {
				if strings.Contains(notes, "prefix not given") || strings.Contains(notes, "aws:SecureTransport") {
					t.Errorf("got notes %q, want neither condition note", notes)
				}

				return
			}

			if !strings.Contains(notes, tt.wantNote) {
				t.Errorf("got notes %q, want one containing %q", notes, tt.wantNote)
			}
		})
	}
}
