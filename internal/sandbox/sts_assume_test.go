package sandbox

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	testRoleARN     = "arn:aws:iam::111111111111:role/CodeBuildRole"
	testReaderARN   = "arn:aws:iam::111111111111:role/Reader"
	testChainedARN  = "arn:aws:iam::111111111111:role/Chained"
	testProjectARN  = "arn:aws:codebuild:us-east-1:111111111111:project/countersign-build"
	testAuditorUser = "arn:aws:iam::333333333333:user/auditor"
)

// assumeRoleWorld is the default world plus what the AssumeRole tests
// need: a second CodeBuild project, an account 333333333333 with two users,
// a role Reader in the tools account that trusts that account, a role
// Chained that trusts Reader, and a role NoTrust without a trust policy.
func assumeRoleWorld(t *testing.T) *World {
	t.Helper()
	w, err := DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}

	allowAssume := json.RawMessage(`{"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "` + testReaderARN + `"}}`)
	w.Accounts = append(w.Accounts, Account{
		ID:    "333333333333",
		Users: []User{{Name: "auditor", Policies: map[string]json.RawMessage{"assume": allowAssume}}, {Name: "intern"}},
	})
	w.Accounts[0].Roles = append(w.Accounts[0].Roles, Role{
		Name:               "Reader",
		MaxSessionDuration: 7200,
		TrustPolicy:        json.RawMessage(`{"Statement": {"Effect": "Allow", "Principal": {"AWS": "333333333333"}, "Action": "sts:AssumeRole"}}`),
		Policies: map[string]json.RawMessage{
			"assume-roles": json.RawMessage(`{"Statement": {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::111111111111:role/*"}}`),
		},
	}, Role{
		Name:               "Chained",
		MaxSessionDuration: 43200,
		TrustPolicy:        json.RawMessage(`{"Statement": {"Effect": "Allow", "Principal": {"AWS": "` + testReaderARN + `"}, "Action": "sts:AssumeRole"}}`),
	}, Role{Name: "NoTrust"})
	w.Principals = append(w.Principals,
		Principal{Name: "codebuild-other", Service: "codebuild.amazonaws.com", SourceAccount: "111111111111",
			SourceARN: "arn:aws:codebuild:us-east-1:111111111111:project/other", AccessKeyID: "AKIATESTCODEBUILD002", SecretAccessKey: "other-secret"},
		Principal{Name: "codebuild-no-source", Service: "codebuild.amazonaws.com", AccessKeyID: "AKIATESTCODEBUILD003", SecretAccessKey: "nosource-secret"},
		Principal{Name: "auditor", User: testAuditorUser, AccessKeyID: "AKIATESTAUDITOR00001", SecretAccessKey: "auditor-secret"},
		Principal{Name: "intern", User: "arn:aws:iam::333333333333:user/intern", AccessKeyID: "AKIATESTINTERN000001", SecretAccessKey: "intern-secret"},
	)
	return w
}

func (f *frontFixture) stsAs(name string) *sts.Client {
	id := f.dir.byName[name]
	return sts.New(sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(f.server.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(id.AccessKeyID, id.SecretAccessKey, id.SessionToken),
		RetryMaxAttempts: 1,
	})
}

// stsWithCredentials returns an STS client for credentials AssumeRole issued.
func (f *frontFixture) stsWithCredentials(creds aws.Credentials) *sts.Client {
	return sts.New(sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(f.server.URL),
		Credentials:      credentials.StaticCredentialsProvider{Value: creds},
		RetryMaxAttempts: 1,
	})
}

func (f *frontFixture) s3WithCredentials(creds aws.Credentials) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(f.server.URL),
		UsePathStyle:     true,
		Credentials:      credentials.StaticCredentialsProvider{Value: creds},
		RetryMaxAttempts: 1,
	})
}

func assumeRole(t *testing.T, client *sts.Client, in *sts.AssumeRoleInput) aws.Credentials {
	t.Helper()
	out, err := client.AssumeRole(context.Background(), in)
	if err != nil {
		t.Fatalf("AssumeRole %s: %v", aws.ToString(in.RoleArn), err)
	}
	c := out.Credentials
	return aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
}

func TestAssumeRoleAsCodeBuild(t *testing.T) {
	f := newFrontFixture(t, nil)
	ctx := context.Background()
	before := time.Now()

	out, err := f.stsAs("codebuild").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("build-42")})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}

	c := out.Credentials
	if !regexp.MustCompile(`^ASIA[A-Z2-7]{16}$`).MatchString(aws.ToString(c.AccessKeyId)) {
		t.Errorf("AccessKeyId = %q, want ASIA and 16 characters", aws.ToString(c.AccessKeyId))
	}
	if len(aws.ToString(c.SecretAccessKey)) != 40 || aws.ToString(c.SessionToken) == "" {
		t.Errorf("secret of %d characters, token %v, want 40 and a token", len(aws.ToString(c.SecretAccessKey)), aws.ToString(c.SessionToken) != "")
	}
	if got := aws.ToTime(c.Expiration).Sub(before); got < 59*time.Minute || got > 61*time.Minute {
		t.Errorf("credentials expire in %s, want the default hour", got)
	}
	wantARN := "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/build-42"
	if aws.ToString(out.AssumedRoleUser.Arn) != wantARN {
		t.Errorf("AssumedRoleUser.Arn = %q, want %q", aws.ToString(out.AssumedRoleUser.Arn), wantARN)
	}
	if !regexp.MustCompile(`^AROA[A-Z0-9]{17}:build-42$`).MatchString(aws.ToString(out.AssumedRoleUser.AssumedRoleId)) {
		t.Errorf("AssumedRoleId = %q, want AROA...:build-42", aws.ToString(out.AssumedRoleUser.AssumedRoleId))
	}

	creds := aws.Credentials{AccessKeyID: aws.ToString(c.AccessKeyId), SecretAccessKey: aws.ToString(c.SecretAccessKey), SessionToken: aws.ToString(c.SessionToken)}
	identity, err := f.stsWithCredentials(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the session: %v", err)
	}
	if aws.ToString(identity.Arn) != wantARN || aws.ToString(identity.Account) != "111111111111" {
		t.Errorf("GetCallerIdentity = %s in %s, want %s in 111111111111", aws.ToString(identity.Arn), aws.ToString(identity.Account), wantARN)
	}

	// The session has the role's permissions, and no more.
	session := f.s3WithCredentials(creds)
	_, err = session.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("app/x"), Body: strings.NewReader("x"), ExpectedBucketOwner: aws.String(testDevOwner)})
	if err != nil {
		t.Errorf("PutObject with the session: %v", err)
	}
	_, err = session.ListBuckets(ctx, &s3.ListBucketsInput{})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Errorf("ListBuckets with the session: got %s, want AccessDenied", code)
	}
	if !strings.Contains(err.Error(), "User: "+wantARN+" is not authorized to perform: s3:ListAllMyBuckets") {
		t.Errorf("ListBuckets denial %v does not name the session", err)
	}

	// A wrong session token is not the session's.
	creds.SessionToken = "wrong"
	_, err = f.s3WithCredentials(creds).HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(testBucket)})
	if _, status := apiError(t, err); status != 400 {
		t.Errorf("HeadBucket with a wrong token: status %d, want 400", status)
	}
}

func TestAssumeRoleTrust(t *testing.T) {
	f := newFrontFixtureWorld(t, nil, assumeRoleWorld(t))

	tests := []struct {
		name      string
		principal string
		role      string
		want      string // the error message; empty when allowed
	}{
		{"CodeBuildScopedProject", "codebuild", testRoleARN, ""},
		{"CodeBuildOtherProject", "codebuild-other", testRoleARN,
			"User: codebuild.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: " + testRoleARN},
		{"CodeBuildNoSource", "codebuild-no-source", testRoleARN,
			"User: codebuild.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: " + testRoleARN},
		{"SessionNotTrusted", "build", testRoleARN,
			"User: " + f.dir.byName["build"].ARN + " is not authorized to perform: sts:AssumeRole on resource: " + testRoleARN},
		{"CrossAccountUserAllowedBothSides", "auditor", testReaderARN, ""},
		{"CrossAccountUserWithoutIdentityPolicy", "intern", testReaderARN,
			"User: arn:aws:iam::333333333333:user/intern is not authorized to perform: sts:AssumeRole on resource: " + testReaderARN},
		{"UnknownRole", "auditor", "arn:aws:iam::111111111111:role/Missing",
			"User: " + testAuditorUser + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/Missing"},
		{"RoleTrustsOnlyCodeBuild", "auditor", testRoleARN,
			"User: " + testAuditorUser + " is not authorized to perform: sts:AssumeRole on resource: " + testRoleARN},
		{"RoleWithoutTrustPolicy", "auditor", "arn:aws:iam::111111111111:role/NoTrust",
			"User: " + testAuditorUser + " is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/NoTrust"},
		{"RootUser", "dev-admin", testRoleARN, "Roles may not be assumed by root accounts."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.stsAs(tt.principal).AssumeRole(context.Background(), &sts.AssumeRoleInput{RoleArn: aws.String(tt.role), RoleSessionName: aws.String("trust-test")})

			if tt.want == "" {
				if err != nil {
					t.Fatalf("AssumeRole: %v", err)
				}
				return
			}
			code, status := apiError(t, err)
			if code != "AccessDenied" || status != 403 {
				t.Errorf("got %s %d, want AccessDenied 403", code, status)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want the message %q", err, tt.want)
			}
		})
	}
}

func TestAssumeRoleChained(t *testing.T) {
	f := newFrontFixtureWorld(t, nil, assumeRoleWorld(t))
	ctx := context.Background()

	reader := assumeRole(t, f.stsAs("auditor"), &sts.AssumeRoleInput{RoleArn: aws.String(testReaderARN), RoleSessionName: aws.String("audit"), DurationSeconds: aws.Int32(7200)})

	// Reader's identity policy allows assuming CodeBuildRole, but that
	// role's trust policy names only CodeBuild.
	_, err := f.stsWithCredentials(reader).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("chain")})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Errorf("chained AssumeRole of an untrusting role: got %s, want AccessDenied", code)
	}
	if !strings.Contains(err.Error(), "User: arn:aws:sts::111111111111:assumed-role/Reader/audit is not authorized") {
		t.Errorf("error %v, want the Reader session named", err)
	}

	// A role session may assume a role for at most an hour, even when the
	// role allows longer sessions.
	_, err = f.stsWithCredentials(reader).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(testChainedARN), RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)})
	if code, status := apiError(t, err); code != "ValidationError" || status != 400 {
		t.Errorf("chained AssumeRole of two hours: got %s %d, want ValidationError 400", code, status)
	}
	if !strings.Contains(err.Error(), "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.") {
		t.Errorf("error %v, want the role chaining limit", err)
	}

	chained := assumeRole(t, f.stsWithCredentials(reader), &sts.AssumeRoleInput{RoleArn: aws.String(testChainedARN), RoleSessionName: aws.String("hour")})
	identity, err := f.stsWithCredentials(chained).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity with the chained session: %v", err)
	}
	if got := aws.ToString(identity.Arn); got != "arn:aws:sts::111111111111:assumed-role/Chained/hour" {
		t.Errorf("chained session ARN = %q", got)
	}
}

func TestAssumeRoleSessionPolicy(t *testing.T) {
	f := newFrontFixture(t, nil)
	ctx := context.Background()
	doc := `{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::dev-artifacts/allowed/*"}]}`

	creds := assumeRole(t, f.stsAs("codebuild"), &sts.AssumeRoleInput{RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("narrow"), Policy: aws.String(doc)})
	session := f.s3WithCredentials(creds)
	put := func(key string) error {
		_, err := session.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String(key), Body: strings.NewReader("x")})
		return err
	}

	if err := put("allowed/a.txt"); err != nil {
		t.Errorf("PutObject that the session policy allows: %v", err)
	}
	if code, status := apiError(t, put("other/a.txt")); code != "AccessDenied" || status != 403 {
		t.Errorf("PutObject outside the session policy: got %s %d, want AccessDenied 403", code, status)
	}
	_, err := session.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(testBucket), Key: aws.String("allowed/a.txt")})
	if code, _ := apiError(t, err); code != "AccessDenied" {
		t.Errorf("GetObject, which the role allows but the session policy does not: got %s, want AccessDenied", code)
	}
}

func TestAssumeRoleExpiredCredentials(t *testing.T) {
	f := newFrontFixture(t, nil)
	ctx := context.Background()

	creds := assumeRole(t, f.stsAs("codebuild"), &sts.AssumeRoleInput{RoleArn: aws.String(testRoleARN), RoleSessionName: aws.String("short"), DurationSeconds: aws.Int32(900)})
	// The front's clock moves past the 15 minutes, while the clients keep the
	// real time, within S3's allowed skew of the front's clock.
	f.front.now = func() time.Time { return time.Now().Add(15*time.Minute + time.Second) }

	_, err := f.s3WithCredentials(creds).ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(testBucket)})
	if code, status := apiError(t, err); code != "ExpiredToken" || status != 400 {
		t.Errorf("S3 with expired credentials: got %s %d, want ExpiredToken 400", code, status)
	}
	_, err = f.stsWithCredentials(creds).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if code, status := apiError(t, err); code != "ExpiredToken" || status != 403 {
		t.Errorf("STS with expired credentials: got %s %d, want ExpiredToken 403", code, status)
	}
}

func TestAssumeRoleValidation(t *testing.T) {
	f := newFrontFixtureWorld(t, nil, assumeRoleWorld(t))
	bigPolicy := `{"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::` + strings.Repeat("b", 2100) + `"}}`

	tests := []struct {
		name       string
		principal  string
		params     url.Values
		wantStatus int
		wantCode   string
		wantText   string
	}{
		{"MissingRoleArn", "codebuild", url.Values{"RoleSessionName": {"s1"}}, 400, "ValidationError",
			"1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"},
		{"ShortSessionName", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s"}}, 400, "ValidationError",
			"Value 's' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2"},
		{"SessionNameWithSpace", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"my build"}}, 400, "ValidationError",
			"Value 'my build' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern"},
		{"DurationTooShort", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s1"}, "DurationSeconds": {"899"}}, 400, "ValidationError",
			"Member must have value greater than or equal to 900"},
		{"DurationTooLong", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s1"}, "DurationSeconds": {"43201"}}, 400, "ValidationError",
			"Member must have value less than or equal to 43200"},
		{"DurationNotNumber", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s1"}, "DurationSeconds": {"hour"}}, 400, "ValidationError",
			"Value 'hour' at 'durationSeconds'"},
		{"TwoErrors", "codebuild", url.Values{"DurationSeconds": {"10"}, "RoleSessionName": {"s1"}}, 400, "ValidationError",
			"2 validation errors detected: "},
		{"RoleArnNotARN", "codebuild", url.Values{"RoleArn": {"CodeBuildRole-in-tools-account"}, "RoleSessionName": {"s1"}}, 400, "ValidationError",
			"CodeBuildRole-in-tools-account is invalid"},
		{"OverMaxSessionDuration", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s1"}, "DurationSeconds": {"7200"}}, 400, "ValidationError",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role."},
		{"WithinMaxSessionDuration", "auditor", url.Values{"RoleArn": {testReaderARN}, "RoleSessionName": {"s1"}, "DurationSeconds": {"7200"}}, 200, "", "arn:aws:sts::111111111111:assumed-role/Reader/s1"},
		{"PolicyTooLong", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s1"}, "Policy": {bigPolicy}}, 400, "ValidationError",
			"at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048"},
		{"PolicyMalformed", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s1"}, "Policy": {`{"Statement": "all"}`}}, 400, "MalformedPolicyDocument",
			"The session policy is invalid"},
		{"ExternalIDBadCharacters", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s1"}, "ExternalId": {"id with space"}}, 400, "ValidationError",
			"at 'externalId' failed to satisfy constraint"},
		{"UnsupportedTags", "codebuild", url.Values{"RoleArn": {testRoleARN}, "RoleSessionName": {"s1"}, "Tags.member.1.Key": {"team"}}, 400, "InvalidParameterValue",
			"does not support the AssumeRole parameter Tags"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.params.Set("Action", "AssumeRole")
			tt.params.Set("Version", stsVersion)

			status, body := f.postSTS(t, tt.principal, tt.params)

			if status != tt.wantStatus {
				t.Errorf("status = %d, want %d", status, tt.wantStatus)
			}
			if tt.wantCode != "" && !strings.Contains(body, "<Code>"+tt.wantCode+"</Code>") {
				t.Errorf("body %s, want code %s", body, tt.wantCode)
			}
			if !strings.Contains(body, xmlEscape(tt.wantText)) {
				t.Errorf("body %s, want it to contain %q", body, tt.wantText)
			}
		})
	}
}

// postSTS sends a signed STS form POST as the named principal and returns
// the status and body.
func (f *frontFixture) postSTS(t *testing.T, principal string, params url.Values) (int, string) {
	t.Helper()
	id := f.dir.byName[principal]
	body := params.Encode()

	req, err := http.NewRequest(http.MethodPost, f.server.URL+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey, SessionToken: id.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hexSHA256(body), "sts", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(t, resp)
}

func xmlEscape(s string) string {
	var b strings.Builder
	writeXMLElement(&b, "x", s)
	return strings.TrimSuffix(strings.TrimPrefix(b.String(), "<x>"), "</x>")
}
