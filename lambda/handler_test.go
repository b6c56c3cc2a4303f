package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/audit"
)

const testRole = "arn:aws:iam::111111111111:role/CodeBuildRole"

// fakeS3 is a recording fake of the S3 calls the audit makes, with every
// bucket setting hardened and the policy from a fixture.
type fakeS3 struct {
	policy  []byte
	readErr error
	puts    int
	owners  []string
}

func (f *fakeS3) check(ctx context.Context, owner *string) error {
	f.owners = append(f.owners, aws.ToString(owner))
	return ctx.Err()
}

func (f *fakeS3) GetBucketPolicy(ctx context.Context, in *s3.GetBucketPolicyInput, _ ...func(*s3.Options)) (*s3.GetBucketPolicyOutput, error) {
	if err := f.check(ctx, in.ExpectedBucketOwner); err != nil {
		return nil, err
	}

	if f.readErr != nil {
		return nil, f.readErr
	}

	if f.policy == nil {
		return nil, &smithy.GenericAPIError{Code: "NoSuchBucketPolicy"}
	}

	return &s3.GetBucketPolicyOutput{Policy: aws.String(string(f.policy))}, nil
}

func (f *fakeS3) PutBucketPolicy(ctx context.Context, in *s3.PutBucketPolicyInput, _ ...func(*s3.Options)) (*s3.PutBucketPolicyOutput, error) {
	if err := f.check(ctx, in.ExpectedBucketOwner); err != nil {
		return nil, err
	}

	f.policy = []byte(aws.ToString(in.Policy))
	f.puts++

	return &s3.PutBucketPolicyOutput{}, nil
}

func (f *fakeS3) GetBucketOwnershipControls(ctx context.Context, in *s3.GetBucketOwnershipControlsInput, _ ...func(*s3.Options)) (*s3.GetBucketOwnershipControlsOutput, error) {
	return &s3.GetBucketOwnershipControlsOutput{OwnershipControls: &types.OwnershipControls{
		Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnershipBucketOwnerEnforced}},
	}}, f.check(ctx, in.ExpectedBucketOwner)
}

func (f *fakeS3) GetPublicAccessBlock(ctx context.Context, in *s3.GetPublicAccessBlockInput, _ ...func(*s3.Options)) (*s3.GetPublicAccessBlockOutput, error) {
	on := aws.Bool(true)

	return &s3.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
		BlockPublicAcls: on, IgnorePublicAcls: on, BlockPublicPolicy: on, RestrictPublicBuckets: on,
	}}, f.check(ctx, in.ExpectedBucketOwner)
}

func (f *fakeS3) GetBucketEncryption(ctx context.Context, in *s3.GetBucketEncryptionInput, _ ...func(*s3.Options)) (*s3.GetBucketEncryptionOutput, error) {
	return nil, errors.Join(&smithy.GenericAPIError{Code: "ServerSideEncryptionConfigurationNotFoundError"}, f.check(ctx, in.ExpectedBucketOwner))
}

type fakeSTS struct {
	account string
	err     error
	calls   int
}

func (f *fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}

	return &sts.GetCallerIdentityOutput{Account: aws.String(f.account)}, nil
}

// testHandler returns a handler over fakes, with its log and metric lines
// in out.
func testHandler(t *testing.T, env map[string]string) (*handler, *fakeS3, *fakeSTS, *bytes.Buffer, context.Context) {
	t.Helper()

	base := map[string]string{
		envBucket:   "dev-artifacts",
		envRoleARNs: testRole,
		envPrefix:   "app",
	}
	for k, v := range env {
		base[k] = v
	}

	policy, err := os.ReadFile(filepath.Join("testdata", "stale-policy.json"))
	if err != nil {
		t.Fatal(err)
	}

	out := &bytes.Buffer{}
	s3fake := &fakeS3{policy: policy}
	stsfake := &fakeSTS{account: "222222222222"}
	h := &handler{
		s3: s3fake, sts: stsfake, metrics: out,
		getenv: func(k string) string { return base[k] },
		now:    func() time.Time { return time.UnixMilli(1_796_000_000_000) },
	}

	log := zerolog.New(out)

	return h, s3fake, stsfake, out, log.WithContext(context.Background())
}

func readEvent(t *testing.T) json.RawMessage {
	t.Helper()

	data, err := os.ReadFile(filepath.Join("testdata", "scheduled-event.json"))
	if err != nil {
		t.Fatal(err)
	}

	return data
}

// lines splits the output into JSON objects, one per line.
func lines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()

	var docs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var doc map[string]any
		if err := json.Unmarshal([]byte(line), &doc); err != nil {
			t.Fatalf("output line %q is not one JSON object: %v", line, err)
		}

		docs = append(docs, doc)
	}

	return docs
}

func TestHandleScheduledEvent(t *testing.T) {
	h, s3fake, stsfake, out, ctx := testHandler(t, nil)

	rep, err := h.Handle(ctx, readEvent(t))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	if rep.Bucket != "dev-artifacts" || rep.BucketOwner != "222222222222" || rep.Mode != audit.ModeReport {
		t.Errorf("report bucket %q owner %q mode %q, want dev-artifacts, 222222222222, report", rep.Bucket, rep.BucketOwner, rep.Mode)
	}

	if stsfake.calls != 1 {
		t.Errorf("GetCallerIdentity called %d times, want 1", stsfake.calls)
	}

	for _, owner := range s3fake.owners {
		if owner != "222222222222" {
			t.Errorf("S3 call sent ExpectedBucketOwner %q, want 222222222222", owner)
		}
	}

	if s3fake.puts != 0 {
		t.Errorf("report mode wrote the policy %d times", s3fake.puts)
	}

	var findings, summaries, metrics int

	for _, doc := range lines(t, out) {
		switch {
		case doc["finding"] != nil:
			findings++
		case doc["message"] == "audit summary":
			summaries++

			if doc["findings"] != float64(len(rep.Findings)) {
				t.Errorf("summary findings = %v, want %d", doc["findings"], len(rep.Findings))
			}
		case doc["_aws"] != nil:
			metrics++
			checkEMF(t, doc, rep)
		}
	}

	if findings != len(rep.Findings) || findings == 0 {
		t.Errorf("got %d finding lines for %d findings, want one each and at least one", findings, len(rep.Findings))
	}

	if summaries != 1 {
		t.Errorf("got %d summary lines, want 1", summaries)
	}

	if metrics != len(audit.Severities) {
		t.Errorf("got %d metric lines, want one per severity", metrics)
	}
}

// checkEMF checks one metric line against the CloudWatch Embedded Metric
// Format specification. The _aws object holds an integer Timestamp in
// milliseconds and CloudWatchMetrics. Each directive has a Namespace, a
// DimensionSet array and MetricDefinitions, and every target member sits
// at the root with the right type.
func checkEMF(t *testing.T, doc map[string]any, rep *audit.Report) {
	t.Helper()

	meta, ok := doc["_aws"].(map[string]any)
	if !ok {
		t.Fatalf("_aws = %v, want an object", doc["_aws"])
	}

	if ts, ok := meta["Timestamp"].(float64); !ok || ts != 1_796_000_000_000 {
		t.Errorf("Timestamp = %v, want 1796000000000 (milliseconds)", meta["Timestamp"])
	}

	directives, ok := meta["CloudWatchMetrics"].([]any)
	if !ok || len(directives) != 1 {
		t.Fatalf("CloudWatchMetrics = %v, want one directive", meta["CloudWatchMetrics"])
	}

	directive := directives[0].(map[string]any)
	if directive["Namespace"] != "Countersign" {
		t.Errorf("Namespace = %v, want Countersign", directive["Namespace"])
	}

	sets, ok := directive["Dimensions"].([]any)
	if !ok || len(sets) == 0 {
		t.Fatalf("Dimensions = %v, want an array of dimension sets", directive["Dimensions"])
	}

	for _, set := range sets {
		keys, ok := set.([]any)
		if !ok || len(keys) > 9 {
			t.Fatalf("dimension set %v is not an array of at most 9 keys", set)
		}

		for _, k := range keys {
			if _, ok := doc[k.(string)].(string); !ok {
				t.Errorf("dimension %v has no string target member at the root", k)
			}
		}
	}

	if !strings.Contains(strings.Join(flatten(sets), ","), "Bucket") {
		t.Errorf("dimension sets %v lack Bucket", sets)
	}

	metrics := directive["Metrics"].([]any)
	if len(metrics) != 1 {
		t.Fatalf("Metrics = %v, want one definition", metrics)
	}

	def := metrics[0].(map[string]any)
	if def["Name"] != "DriftFindings" || def["Unit"] != "Count" {
		t.Errorf("metric definition = %v, want DriftFindings in Count", def)
	}

	value, ok := doc["DriftFindings"].(float64)
	if !ok {
		t.Fatalf("DriftFindings = %v, want a number at the root", doc["DriftFindings"])
	}

	severity := audit.Severity(doc["Severity"].(string))
	if int(value) != rep.Counts[severity] {
		t.Errorf("DriftFindings for %s = %v, want %d", severity, value, rep.Counts[severity])
	}
}

func flatten(sets []any) []string {
	var out []string
	for _, set := range sets {
		for _, k := range set.([]any) {
			out = append(out, k.(string))
		}
	}

	return out
}

func TestHandleDirectOverrides(t *testing.T) {
	h, s3fake, _, _, ctx := testHandler(t, map[string]string{envRoleARNs: "arn:aws:iam::111111111111:role/Other"})

	rep, err := h.Handle(ctx, json.RawMessage(`{"role_arns":["`+testRole+`"],"mode":"enforce"}`))
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}

	if rep.Enforce == nil || !rep.Enforce.Changed || s3fake.puts != 1 {
		t.Fatalf("enforce = %+v with %d writes, want one write", rep.Enforce, s3fake.puts)
	}

	if len(rep.Findings) != 0 {
		t.Errorf("got %d findings after enforce, want none: %+v", len(rep.Findings), rep.Findings)
	}

	if len(rep.ExpectedRoles) != 1 || rep.ExpectedRoles[0] != testRole {
		t.Errorf("expected roles = %v, want the payload's role", rep.ExpectedRoles)
	}
}

func TestHandleBadConfigNamesSource(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		payload string
		want    string
	}{
		{"badRoleVariable", map[string]string{envRoleARNs: "CodeBuildRole"}, "", "COUNTERSIGN_ROLE_ARNS"},
		{"missingBucketVariable", map[string]string{envBucket: ""}, "{}", "COUNTERSIGN_BUCKET"},
		{"badModeVariable", map[string]string{envMode: "fix"}, "", "COUNTERSIGN_MODE"},
		{"badActionsVariable", map[string]string{envRequiredActions: "s3:Put*"}, "", "COUNTERSIGN_REQUIRED_ACTIONS"},
		{"badAccountsVariable", map[string]string{envAllowedAccounts: "123"}, "", "COUNTERSIGN_ALLOWED_ACCOUNTS"},
		{"badOwnerVariable", map[string]string{envBucketOwner: "dev"}, "", "COUNTERSIGN_BUCKET_OWNER"},
		{"badRolePayload", nil, `{"role_arns":["x"]}`, "payload key role_arns"},
		{"unknownPayloadKey", nil, `{"roles":["x"]}`, `unknown field "roles"`},
		{"payloadNotObject", nil, `[1]`, "invalid invocation payload"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, s3fake, _, _, ctx := testHandler(t, tt.env)

			_, err := h.Handle(ctx, json.RawMessage(tt.payload))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error naming %s", err, tt.want)
			}

			if len(s3fake.owners) != 0 {
				t.Errorf("made %d S3 calls with a bad configuration, want none", len(s3fake.owners))
			}
		})
	}
}

func TestHandleOwnerVariableSkipsSTS(t *testing.T) {
	h, _, stsfake, _, ctx := testHandler(t, map[string]string{envBucketOwner: "222222222222"})

	if _, err := h.Handle(ctx, readEvent(t)); err != nil {
		t.Fatalf("Handle: %v", err)
	}

	if stsfake.calls != 0 {
		t.Errorf("GetCallerIdentity called %d times, want none", stsfake.calls)
	}
}

func TestHandleSTSFailure(t *testing.T) {
	h, _, stsfake, _, ctx := testHandler(t, nil)
	stsfake.err = errors.New("connection refused")

	_, err := h.Handle(ctx, readEvent(t))
	if err == nil || !strings.Contains(err.Error(), "COUNTERSIGN_BUCKET_OWNER") {
		t.Fatalf("got %v, want an error pointing at COUNTERSIGN_BUCKET_OWNER", err)
	}

	// The next invocation tries STS again.
	stsfake.err = nil
	if _, err := h.Handle(ctx, readEvent(t)); err != nil {
		t.Fatalf("second Handle: %v", err)
	}

	if stsfake.calls != 2 {
		t.Errorf("GetCallerIdentity called %d times, want 2", stsfake.calls)
	}
}

func TestHandleReadErrorFails(t *testing.T) {
	h, s3fake, _, out, ctx := testHandler(t, nil)
	s3fake.readErr = &smithy.GenericAPIError{Code: "AccessDenied", Message: "Access Denied"}

	_, err := h.Handle(ctx, readEvent(t))
	if err == nil || !strings.Contains(err.Error(), "s3:GetBucketPolicy") {
		t.Fatalf("got %v, want the read error naming s3:GetBucketPolicy", err)
	}

	if strings.Contains(out.String(), `"_aws"`) {
		t.Error("wrote metric lines for an audit that did not run")
	}
}

func TestHandleHonoursDeadline(t *testing.T) {
	h, _, _, _, ctx := testHandler(t, map[string]string{envBucketOwner: "222222222222"})

	ctx, cancel := context.WithDeadline(ctx, time.Now().Add(deadlineMargin/2))
	defer cancel()

	_, err := h.Handle(ctx, readEvent(t))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want context.DeadlineExceeded", err)
	}
}

func TestInvokeNamesPayloadThatIsNotJSON(t *testing.T) {
	h, s3fake, _, _, ctx := testHandler(t, nil)

	_, err := h.Invoke(ctx, []byte("oops"))
	if err == nil || !strings.Contains(err.Error(), "invalid invocation payload") || !strings.Contains(err.Error(), "bucket_owner") {
		t.Fatalf("got %v, want an error naming the payload and its keys", err)
	}

	if len(s3fake.owners) != 0 {
		t.Errorf("made %d S3 calls for a payload that is not JSON, want none", len(s3fake.owners))
	}
}

func TestInvokeReturnsReportJSON(t *testing.T) {
	h, _, _, _, ctx := testHandler(t, nil)

	out, err := h.Invoke(ctx, readEvent(t))
	if err != nil {
		t.Fatalf("Invoke: %v", err)
	}

	var rep audit.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("the output is not a report: %v\n%s", err, out)
	}

	if rep.Bucket == "" {
		t.Errorf("report %s names no bucket", out)
	}
}
