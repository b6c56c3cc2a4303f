package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/countersign/countersign/internal/audit/audittest"
	"github.com/countersign/countersign/internal/sandboxtest"
)

const (
	auditBucket = "dev-artifacts"
	auditRole   = "arn:aws:iam::111111111111:role/CodeBuildRole"
)

// auditReport mirrors the parts of `countersign audit --output json` that
// the tests check.
type auditReport struct {
	Bucket      string `json:"bucket"`
	BucketOwner string `json:"bucket_owner"`
	Findings    []struct {
		ID        string `json:"id"`
		Severity  string `json:"severity"`
		Statement *struct {
			Index int    `json:"index"`
			Sid   string `json:"sid"`
		} `json:"statement"`
	} `json:"findings"`
	Counts  map[string]int `json:"counts"`
	Enforce *struct {
		Changed        bool   `json:"changed"`
		Skipped        string `json:"skipped"`
		PreviousPolicy string `json:"previous_policy"`
	} `json:"enforce"`
}

func (r auditReport) ids() []string {
	ids := make([]string, 0, len(r.Findings))
	for _, f := range r.Findings {
		ids = append(ids, f.ID)
	}

	sort.Strings(ids)

	return ids
}

// auditFixture returns the path of a policy fixture of internal/audit.
func auditFixture(t *testing.T, name string) string {
	t.Helper()
	return filepath.Join(sandboxtest.ModuleRoot(t), "internal", "audit", "testdata", name)
}

// putPolicy puts a fixture as the bucket policy, as the dev account's
// administrator.
func putPolicy(t *testing.T, client *s3.Client, fixture string) {
	t.Helper()

	doc, err := os.ReadFile(auditFixture(t, fixture))
	if err != nil {
		t.Fatal(err)
	}

	_, err = client.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String(auditBucket), Policy: aws.String(string(doc))})
	if err != nil {
		t.Fatalf("put bucket policy %s: %v", fixture, err)
	}
}

// turnOffPublicAccessBlock checks that the bucket's public access block
// rejects the public policy in fixture, then turns the block off for the
// test. The cleanup turns every setting on again, as the world has them.
func turnOffPublicAccessBlock(t *testing.T, client *s3.Client, fixture string) {
	t.Helper()
	ctx := context.Background()

	doc, err := os.ReadFile(auditFixture(t, fixture))
	if err != nil {
		t.Fatal(err)
	}

	_, err = client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(auditBucket), Policy: aws.String(string(doc))})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" {
		t.Fatalf("put public policy %s under BlockPublicPolicy: error %v, want AccessDenied", fixture, err)
	}

	setBlock := func(on bool) error {
		_, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
			Bucket: aws.String(auditBucket),
			PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
				BlockPublicAcls: aws.Bool(on), IgnorePublicAcls: aws.Bool(on), BlockPublicPolicy: aws.Bool(on), RestrictPublicBuckets: aws.Bool(on),
			},
		})
		return err
	}

	if err := setBlock(false); err != nil {
		t.Fatalf("turn the public access block off: %v", err)
	}

	t.Cleanup(func() {
		if err := setBlock(true); err != nil {
			t.Errorf("turn the public access block on again: %v", err)
		}
	})
}

func getPolicy(t *testing.T, client *s3.Client) []byte {
	t.Helper()

	out, err := client.GetBucketPolicy(context.Background(), &s3.GetBucketPolicyInput{Bucket: aws.String(auditBucket)})
	if err != nil {
		t.Fatalf("get bucket policy: %v", err)
	}

	return []byte(aws.ToString(out.Policy))
}

// runAudit runs `countersign audit --output json` as the administrator
// and decodes the report when there is one.
func runAudit(t *testing.T, env []string, args ...string) (auditReport, result) {
	t.Helper()

	res := runAgent(t, env, append([]string{"audit", "--expect-role", auditRole, "--prefix", "app", "--output", "json"}, args...)...)

	var rep auditReport
	if strings.TrimSpace(res.stdout) != "" {
		if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
			t.Fatalf("audit output is not a JSON report: %v", err)
		}
	}

	return rep, res
}

func TestAuditFixturesAgainstSandbox(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	admin := sb.Env(t, "dev-admin")
	client := s3Client(t, admin)

	tests := []struct {
		name    string
		fixture string // empty deletes the policy
		args    []string
		ids     []string
		code    int

		// public marks a fixture that S3 considers a public policy. The
		// bucket's BlockPublicPolicy rejects it, so the case turns the
		// public access block off first, as a real administrator must.
		public bool
	}{
		{name: "clean", fixture: "clean.json", code: 0},
		{name: "noPolicy", fixture: "", ids: []string{"NO_POLICY", "TLS_NOT_ENFORCED"}, code: 6},
		{name: "stalePrincipal", fixture: "stale-principal.json", ids: []string{
			"ROLE_NOT_GRANTED", "ROLE_NOT_GRANTED", "ROLE_NOT_GRANTED", "ROLE_NOT_GRANTED", "STALE_PRINCIPAL", "STALE_PRINCIPAL",
		}, code: 6},
		{name: "denyShadowsRole", fixture: "deny-shadows.json", ids: []string{"DENY_SHADOWS_ROLE"}, code: 6},
		{name: "foreignGrantee", fixture: "foreign-grantee.json", ids: []string{"FOREIGN_GRANTEE"}, code: 6},
		{name: "foreignGranteeAllowed", fixture: "foreign-grantee.json", args: []string{"--allowed-account", "333333333333"}, code: 0},
		{name: "broadAction", fixture: "broad-action.json", ids: []string{"BROAD_ACTION"}, code: 6},
		{name: "broadObjectBelowFailOn", fixture: "broad-object.json", ids: []string{"BROAD_ACTION"}, code: 0},
		{name: "broadObjectFailOnMedium", fixture: "broad-object.json", args: []string{"--fail-on", "medium"}, ids: []string{"BROAD_ACTION"}, code: 6},
		{name: "noTLS", fixture: "no-tls.json", ids: []string{"TLS_NOT_ENFORCED"}, code: 0},
		{name: "missingDelete", fixture: "missing-delete.json", ids: []string{"ROLE_NOT_GRANTED"}, code: 6},
		{name: "combined", fixture: "combined.json", args: []string{"--fail-on", "critical"}, ids: []string{
			"BROAD_ACTION", "DENY_SHADOWS_ROLE", "PUBLIC_ACCESS_BLOCK_OFF", "PUBLIC_GRANT", "STALE_PRINCIPAL", "TLS_NOT_ENFORCED",
		}, code: 6, public: true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.public {
				turnOffPublicAccessBlock(t, client, tt.fixture)
			}

			if tt.fixture == "" {
				if _, err := client.DeleteBucketPolicy(context.Background(), &s3.DeleteBucketPolicyInput{Bucket: aws.String(auditBucket)}); err != nil {
					t.Fatalf("delete bucket policy: %v", err)
				}
			} else {
				putPolicy(t, client, tt.fixture)
			}

			rep, res := runAudit(t, admin, tt.args...)

			if res.code != tt.code {
				t.Errorf("exit code %d, want %d", res.code, tt.code)
			}

			if got := rep.ids(); !slices.Equal(got, tt.ids) && !(len(got) == 0 && len(tt.ids) == 0) {
				t.Errorf("finding ids = %v, want %v", got, tt.ids)
			}

			if rep.Bucket != auditBucket || rep.BucketOwner != "222222222222" {
				t.Errorf("report bucket %q owner %q, want %s owned by 222222222222", rep.Bucket, rep.BucketOwner, auditBucket)
			}
		})
	}
}

func TestAuditBucketSettingsAgainstSandbox(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	admin := sb.Env(t, "dev-admin")
	client := s3Client(t, admin)
	ctx := context.Background()

	putPolicy(t, client, "clean.json")

	if _, err := client.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(auditBucket),
		OwnershipControls: &types.OwnershipControls{Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipObjectWriter}}},
	}); err != nil {
		t.Fatalf("put ownership controls: %v", err)
	}

	if _, err := client.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(auditBucket)}); err != nil {
		t.Fatalf("delete public access block: %v", err)
	}

	if _, err := client.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
		Bucket: aws.String(auditBucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{
				SSEAlgorithm:   types.ServerSideEncryptionAwsKms,
				KMSMasterKeyID: aws.String("arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
			},
		}}},
	}); err != nil {
		t.Fatalf("put bucket encryption: %v", err)
	}

	rep, res := runAudit(t, admin)

	if res.code != 6 {
		t.Errorf("exit code %d, want 6 for the high PUBLIC_ACCESS_BLOCK_OFF", res.code)
	}

	if got, want := rep.ids(), []string{"ACLS_ENABLED", "KMS_KEY_POLICY_NEEDED", "PUBLIC_ACCESS_BLOCK_OFF"}; !slices.Equal(got, want) {
		t.Errorf("finding ids = %v, want %v", got, want)
	}
}

func TestAuditEnforceHealsStalePrincipal(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	admin := sb.Env(t, "dev-admin")
	client := s3Client(t, admin)

	// The administrator puts the policy with Debian's AWS CLI v2, the
	// tool a person would use, with the endpoint passed explicitly.
	cmd := exec.Command("/usr/bin/aws", "s3api", "put-bucket-policy",
		"--endpoint-url", sb.Endpoint(), "--bucket", auditBucket, "--policy", "file://"+auditFixture(t, "stale-managed.json"))
	cmd.Env = admin
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("aws s3api put-bucket-policy: %v\n%s", err, out)
	}

	before := getPolicy(t, client)

	rep, res := runAudit(t, admin, "--mode", "enforce")
	if res.code != 0 {
		t.Fatalf("enforce exit code %d, want 0", res.code)
	}

	if rep.Enforce == nil || !rep.Enforce.Changed || rep.Enforce.PreviousPolicy != string(before) {
		t.Fatalf("enforce = %+v, want a write that records the previous policy", rep.Enforce)
	}

	if len(rep.Findings) != 0 {
		t.Errorf("findings after enforce = %v, want none", rep.ids())
	}

	if !strings.Contains(res.stderr, "previous_policy") {
		t.Error("the log lacks the previous policy for a rollback")
	}

	after := getPolicy(t, client)
	checkOtherStatementsKept(t, before, after, 2)

	writes := strings.Count(sb.Log(), `"operation":"PutBucketPolicy"`)

	again, res := runAudit(t, admin, "--mode", "enforce")
	if res.code != 0 || again.Enforce == nil || again.Enforce.Changed {
		t.Errorf("second enforce exit %d, enforce %+v; want exit 0 and no change", res.code, again.Enforce)
	}

	if got := strings.Count(sb.Log(), `"operation":"PutBucketPolicy"`); got != writes {
		t.Errorf("the second run sent %d PutBucketPolicy requests, want none", got-writes)
	}

	if got := getPolicy(t, client); string(got) != string(after) {
		t.Error("the second run changed the policy")
	}

	// The healed statement lets the build role deliver.
	build := sb.Env(t, "build")
	putObject(t, s3Client(t, build), auditBucket, "app/healed.txt", []byte("ok"))
}

// otherStatements returns the bytes of every statement that enforce does
// not own, as the document has them.
func otherStatements(t *testing.T, doc []byte) []string {
	t.Helper()

	var raw struct {
		Statement []json.RawMessage
	}
	if err := json.Unmarshal(doc, &raw); err != nil {
		t.Fatalf("policy is not JSON: %v", err)
	}

	var out []string
	for _, st := range raw.Statement {
		var head struct{ Sid string }
		if err := json.Unmarshal(st, &head); err != nil {
			t.Fatalf("statement is not a JSON object: %v", err)
		}

		if head.Sid != "CountersignManagedAccess" && head.Sid != "CountersignManagedList" {
			out = append(out, string(st))
		}
	}

	return out
}

// checkOtherStatementsKept checks that every statement enforce does not
// own kept its bytes and its place in the order.
func checkOtherStatementsKept(t *testing.T, before, after []byte, count int) {
	t.Helper()

	got, want := otherStatements(t, after), otherStatements(t, before)
	if !slices.Equal(got, want) {
		t.Errorf("other statements changed:\ngot  %q\nwant %q", got, want)
	}

	if len(want) != count {
		t.Errorf("the policy has %d other statements, want %d", len(want), count)
	}
}

func TestAuditEnforcePolicySize(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		code    int
		changed bool
	}{
		// The managed statements, compact, fit in the room left.
		{name: "compactNearLimit", size: 19932, code: 0, changed: true},
		// They take more than 100 bytes, so this one cannot fit.
		{name: "noRoomLeft", size: 20380, code: 5},
	}

	sb := sandboxtest.Start(t, sandboxtest.Options{})
	admin := sb.Env(t, "dev-admin")
	client := s3Client(t, admin)

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := audittest.CompactPolicy(t, tt.size)

			_, err := client.PutBucketPolicy(context.Background(), &s3.PutBucketPolicyInput{Bucket: aws.String(auditBucket), Policy: aws.String(string(before))})
			if err != nil {
				t.Fatalf("put bucket policy: %v", err)
			}

			rep, res := runAudit(t, admin, "--mode", "enforce")
			if res.code != tt.code {
				t.Fatalf("enforce exit code %d, want %d", res.code, tt.code)
			}

			if rep.Enforce == nil || rep.Enforce.Changed != tt.changed {
				t.Fatalf("enforce = %+v, want changed %t", rep.Enforce, tt.changed)
			}

			after := getPolicy(t, client)

			if !tt.changed {
				if !strings.Contains(rep.Enforce.Skipped, "over the S3 limit of 20480") || string(after) != string(before) {
					t.Errorf("skipped %q, policy changed %t; want a skip over the size limit and the policy as it was", rep.Enforce.Skipped, string(after) != string(before))
				}

				return
			}

			if len(after) > 20480 || strings.ContainsAny(string(after), "\n\t") {
				t.Errorf("stored policy is %d bytes, compact %t; want at most 20480 bytes on one line", len(after), !strings.ContainsAny(string(after), "\n\t"))
			}

			checkOtherStatementsKept(t, before, after, len(otherStatements(t, before)))
		})
	}
}

func TestAuditCannotRun(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	admin := sb.Env(t, "dev-admin")

	tests := []struct {
		name string
		env  []string
		args []string
		code int
	}{
		// ExpectedBucketOwner names another account, so S3 denies.
		{"wrongOwner", admin, []string{"--bucket-owner", "333333333333"}, 1},
		// Only the bucket owner's account may read a bucket policy.
		{"toolsAccountCredentials", sb.Env(t, "build"), nil, 1},
		{"noRole", admin, []string{"--expect-role", ""}, 2},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()

			args := append([]string{"audit"}, tt.args...)
			if tt.name != "noRole" {
				args = append(args, "--expect-role", auditRole)
			}

			cmd := exec.CommandContext(ctx, countersignBin(t), args...)
			cmd.Env = append(slices.Clone(tt.env), "COUNTERSIGN_LOG_FORMAT=json", "COUNTERSIGN_ROLE_ARN=")
			out, _ := cmd.CombinedOutput()

			if got := cmd.ProcessState.ExitCode(); got != tt.code {
				t.Errorf("exit code %d, want %d\n%s", got, tt.code, out)
			}
		})
	}
}
