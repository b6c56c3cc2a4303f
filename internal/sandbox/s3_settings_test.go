package sandbox

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const (
	testBucket   = "dev-artifacts"
	testDevOwner = "222222222222"
	testKMSKey   = "arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"
)

func TestFrontBucketSettingsFromWorld(t *testing.T) {
	f := newFrontFixture(t, nil)
	admin := f.s3As("dev-admin")
	ctx := context.Background()
	owner := aws.String(testDevOwner)

	ownership, err := admin.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(testBucket), ExpectedBucketOwner: owner})
	if err != nil {
		t.Fatalf("GetBucketOwnershipControls: %v", err)
	}
	if rules := ownership.OwnershipControls.Rules; len(rules) != 1 || rules[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership rules = %+v, want one BucketOwnerEnforced rule", rules)
	}

	encryption, err := admin.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(testBucket), ExpectedBucketOwner: owner})
	if err != nil {
		t.Fatalf("GetBucketEncryption: %v", err)
	}
	rules := encryption.ServerSideEncryptionConfiguration.Rules
	if len(rules) != 1 || rules[0].ApplyServerSideEncryptionByDefault == nil {
		t.Fatalf("encryption rules = %+v, want one default rule", rules)
	}
	if got := rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm; got != s3types.ServerSideEncryptionAes256 {
		t.Errorf("SSEAlgorithm = %q, want AES256", got)
	}
	if aws.ToBool(rules[0].BucketKeyEnabled) {
		t.Error("BucketKeyEnabled = true, want false")
	}

	block, err := admin.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(testBucket), ExpectedBucketOwner: owner})
	if err != nil {
		t.Fatalf("GetPublicAccessBlock: %v", err)
	}
	c := block.PublicAccessBlockConfiguration
	if !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) || !aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("public access block = %+v, want all four true", c)
	}

	if n := len(f.upstream.all()); n != 0 {
		t.Errorf("%d settings requests reached versitygw, want none", n)
	}
}

func TestFrontOwnershipControlsPutDelete(t *testing.T) {
	f := newFrontFixture(t, nil)
	admin := f.s3As("dev-admin")
	ctx := context.Background()
	get := func() (*s3.GetBucketOwnershipControlsOutput, error) {
		return admin.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(testBucket)})
	}

	_, err := admin.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(testBucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}},
	})
	if err != nil {
		t.Fatalf("PutBucketOwnershipControls: %v", err)
	}
	out, err := get()
	if err != nil {
		t.Fatalf("GetBucketOwnershipControls: %v", err)
	}
	if got := out.OwnershipControls.Rules[0].ObjectOwnership; got != s3types.ObjectOwnershipObjectWriter {
		t.Errorf("ObjectOwnership = %q, want ObjectWriter", got)
	}

	if _, err := admin.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("DeleteBucketOwnershipControls: %v", err)
	}
	_, err = get()
	if code, status := apiError(t, err); code != "OwnershipControlsNotFoundError" || status != 404 {
		t.Errorf("after delete: got %s %d, want OwnershipControlsNotFoundError 404", code, status)
	}

	_, err = admin.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(testBucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: "Nobody"}}},
	})
	if code, status := apiError(t, err); code != "MalformedXML" || status != 400 {
		t.Errorf("unknown ownership: got %s %d, want MalformedXML 400", code, status)
	}
}

func TestFrontBucketEncryptionPutDelete(t *testing.T) {
	f := newFrontFixture(t, nil)
	admin := f.s3As("dev-admin")
	ctx := context.Background()
	put := func(rule s3types.ServerSideEncryptionRule) error {
		_, err := admin.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
			Bucket:                            aws.String(testBucket),
			ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{rule}},
		})
		return err
	}

	err := put(s3types.ServerSideEncryptionRule{
		ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(testKMSKey)},
		BucketKeyEnabled:                   aws.Bool(true),
	})
	if err != nil {
		t.Fatalf("PutBucketEncryption: %v", err)
	}
	out, err := admin.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatalf("GetBucketEncryption: %v", err)
	}
	rule := out.ServerSideEncryptionConfiguration.Rules[0]
	if got := rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm; got != s3types.ServerSideEncryptionAwsKms {
		t.Errorf("SSEAlgorithm = %q, want aws:kms", got)
	}
	if got := aws.ToString(rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID); got != testKMSKey {
		t.Errorf("KMSMasterKeyID = %q, want %q", got, testKMSKey)
	}
	if !aws.ToBool(rule.BucketKeyEnabled) {
		t.Error("BucketKeyEnabled = false, want true")
	}

	// A write without SSE headers gets the bucket's default encryption.
	written, err := f.s3As("build").PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x")})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	if written.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(written.SSEKMSKeyId) != testKMSKey {
		t.Errorf("PutObject reported %q with key %q, want aws:kms with the bucket's key", written.ServerSideEncryption, aws.ToString(written.SSEKMSKeyId))
	}
	if !aws.ToBool(written.BucketKeyEnabled) {
		t.Error("PutObject reported BucketKeyEnabled false, want the bucket's true")
	}

	err = put(s3types.ServerSideEncryptionRule{
		ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256, KMSMasterKeyID: aws.String(testKMSKey)},
	})
	if code, status := apiError(t, err); code != "InvalidArgument" || status != 400 {
		t.Errorf("AES256 with a key: got %s %d, want InvalidArgument 400", code, status)
	}
	err = put(s3types.ServerSideEncryptionRule{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: "AES128"}})
	if code, status := apiError(t, err); code != "MalformedXML" || status != 400 {
		t.Errorf("unknown algorithm: got %s %d, want MalformedXML 400", code, status)
	}

	if _, err := admin.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("DeleteBucketEncryption: %v", err)
	}
	_, err = admin.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(testBucket)})
	if code, status := apiError(t, err); code != "ServerSideEncryptionConfigurationNotFoundError" || status != 404 {
		t.Errorf("after delete: got %s %d, want ServerSideEncryptionConfigurationNotFoundError 404", code, status)
	}
}

func TestFrontPublicAccessBlockPutDelete(t *testing.T) {
	f := newFrontFixture(t, nil)
	admin := f.s3As("dev-admin")
	ctx := context.Background()

	_, err := admin.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
		Bucket: aws.String(testBucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{
			BlockPublicAcls:   aws.Bool(true),
			BlockPublicPolicy: aws.Bool(false),
		},
	})
	if err != nil {
		t.Fatalf("PutPublicAccessBlock: %v", err)
	}
	out, err := admin.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatalf("GetPublicAccessBlock: %v", err)
	}
	c := out.PublicAccessBlockConfiguration
	if !aws.ToBool(c.BlockPublicAcls) {
		t.Error("BlockPublicAcls = false, want the true that was put")
	}
	if aws.ToBool(c.IgnorePublicAcls) || aws.ToBool(c.BlockPublicPolicy) || aws.ToBool(c.RestrictPublicBuckets) {
		t.Errorf("configuration = %+v, want the fields left out to be false", c)
	}

	if _, err := admin.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(testBucket)}); err != nil {
		t.Fatalf("DeletePublicAccessBlock: %v", err)
	}
	_, err = admin.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(testBucket)})
	if code, status := apiError(t, err); code != "NoSuchPublicAccessBlockConfiguration" || status != 404 {
		t.Errorf("after delete: got %s %d, want NoSuchPublicAccessBlockConfiguration 404", code, status)
	}
}

func TestFrontBucketSettingsMalformedBody(t *testing.T) {
	f := newFrontFixture(t, nil)
	admin := f.dir.byName["dev-admin"]

	tests := []struct {
		name  string
		query string
		body  string
	}{
		{"OwnershipNotXML", "ownershipControls", "not xml"},
		{"OwnershipTwoRules", "ownershipControls", `<OwnershipControls><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></OwnershipControls>`},
		{"OwnershipWrongRoot", "ownershipControls", `<Ownership><Rule><ObjectOwnership>ObjectWriter</ObjectOwnership></Rule></Ownership>`},
		{"EncryptionNoDefault", "encryption", `<ServerSideEncryptionConfiguration><Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`},
		{"EncryptionBadBucketKey", "encryption", `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>maybe</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>`},
		{"PublicAccessBlockBadBool", "publicAccessBlock", `<PublicAccessBlockConfiguration><BlockPublicAcls>yes please</BlockPublicAcls></PublicAccessBlockConfiguration>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPut, f.server.URL+"/"+testBucket+"?"+tt.query, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			payload := hexSHA256(tt.body)
			req.Header.Set("X-Amz-Content-Sha256", payload)
			creds := aws.Credentials{AccessKeyID: admin.AccessKeyID, SecretAccessKey: admin.SecretAccessKey}
			if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}

			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			text := readAll(t, resp)

			if resp.StatusCode != http.StatusBadRequest {
				t.Errorf("status = %d, want 400", resp.StatusCode)
			}
			if !strings.Contains(text, "<Code>MalformedXML</Code>") {
				t.Errorf("body = %s, want MalformedXML", text)
			}
		})
	}
}

func TestFrontBucketSettingsAuthorized(t *testing.T) {
	f := newFrontFixture(t, nil)
	build := f.s3As("build")
	ctx := context.Background()

	_, err := build.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(testBucket)})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("GetBucketEncryption as build: got %s %d, want AccessDenied 403", code, status)
	}
	_, err = build.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: aws.String(testBucket)})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("DeletePublicAccessBlock as build: got %s %d, want AccessDenied 403", code, status)
	}
	_, err = f.s3As("dev-admin").GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(testBucket), ExpectedBucketOwner: aws.String("111111111111")})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("wrong ExpectedBucketOwner: got %s %d, want AccessDenied 403", code, status)
	}

	// The denied calls changed nothing.
	block, err := f.s3As("dev-admin").GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(testBucket)})
	if err != nil {
		t.Fatalf("GetPublicAccessBlock: %v", err)
	}
	if !aws.ToBool(block.PublicAccessBlockConfiguration.BlockPublicAcls) {
		t.Error("a denied DeletePublicAccessBlock removed the configuration")
	}
}

func TestFrontACLFollowsOwnership(t *testing.T) {
	tests := []struct {
		name       string
		ownership  s3types.ObjectOwnership
		blockACLs  bool
		acl        s3types.ObjectCannedACL
		grant      string
		wantCode   string
		wantStatus int
	}{
		{"EnforcedNoACL", s3types.ObjectOwnershipBucketOwnerEnforced, true, "", "", "", 200},
		{"EnforcedFullControl", s3types.ObjectOwnershipBucketOwnerEnforced, true, s3types.ObjectCannedACLBucketOwnerFullControl, "", "", 200},
		{"EnforcedBucketOwnerRead", s3types.ObjectOwnershipBucketOwnerEnforced, false, s3types.ObjectCannedACLBucketOwnerRead, "", "AccessControlListNotSupported", 400},
		{"EnforcedGrant", s3types.ObjectOwnershipBucketOwnerEnforced, false, "", "id=abc", "AccessControlListNotSupported", 400},
		{"PreferredBucketOwnerRead", s3types.ObjectOwnershipBucketOwnerPreferred, true, s3types.ObjectCannedACLBucketOwnerRead, "", "", 200},
		{"PreferredGrant", s3types.ObjectOwnershipBucketOwnerPreferred, true, "", "id=abc", "", 200},
		{"WriterPublicReadBlocked", s3types.ObjectOwnershipObjectWriter, true, s3types.ObjectCannedACLPublicRead, "", "AccessDenied", 403},
		{"WriterPublicGrantBlocked", s3types.ObjectOwnershipObjectWriter, true, "", `uri="http://acs.amazonaws.com/groups/global/AllUsers"`, "AccessDenied", 403},
		{"WriterPublicReadAllowed", s3types.ObjectOwnershipObjectWriter, false, s3types.ObjectCannedACLPublicRead, "", "", 200},
		{"WriterUnknownACL", s3types.ObjectOwnershipObjectWriter, false, "everyone-please", "", "InvalidArgument", 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFrontFixture(t, nil)
			admin := f.s3As("dev-admin")
			ctx := context.Background()
			_, err := admin.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
				Bucket:            aws.String(testBucket),
				OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: tt.ownership}}},
			})
			if err != nil {
				t.Fatalf("PutBucketOwnershipControls: %v", err)
			}
			_, err = admin.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
				Bucket:                         aws.String(testBucket),
				PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(tt.blockACLs)},
			})
			if err != nil {
				t.Fatalf("PutPublicAccessBlock: %v", err)
			}

			in := &s3.PutObjectInput{Bucket: aws.String(testBucket), Key: aws.String("k"), Body: strings.NewReader("x"), ACL: tt.acl}
			if tt.grant != "" {
				in.GrantRead = aws.String(tt.grant)
			}
			_, err = f.s3As("build").PutObject(ctx, in)

			if tt.wantCode == "" {
				if err != nil {
					t.Fatalf("PutObject: %v", err)
				}
				got := f.upstream.last(t)
				for name := range got.header {
					if lower := strings.ToLower(name); lower == "x-amz-acl" || strings.HasPrefix(lower, "x-amz-grant-") {
						t.Errorf("ACL header %s reached versitygw", name)
					}
				}
				return
			}
			code, status := apiError(t, err)
			if code != tt.wantCode || status != tt.wantStatus {
				t.Errorf("got %s %d, want %s %d", code, status, tt.wantCode, tt.wantStatus)
			}
		})
	}
}

func TestFrontPutObjectACLFollowsOwnership(t *testing.T) {
	f := newFrontFixture(t, nil)
	admin := f.s3As("dev-admin")
	ctx := context.Background()
	putACL := func(acl s3types.ObjectCannedACL) error {
		_, err := admin.PutObjectAcl(ctx, &s3.PutObjectAclInput{Bucket: aws.String(testBucket), Key: aws.String("k"), ACL: acl})
		return err
	}

	if code, _ := apiError(t, putACL(s3types.ObjectCannedACLBucketOwnerRead)); code != "AccessControlListNotSupported" {
		t.Errorf("bucket-owner-read under BucketOwnerEnforced: got %s, want AccessControlListNotSupported", code)
	}

	_, err := admin.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
		Bucket:            aws.String(testBucket),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerPreferred}}},
	})
	if err != nil {
		t.Fatalf("PutBucketOwnershipControls: %v", err)
	}
	if err := putACL(s3types.ObjectCannedACLBucketOwnerRead); err != nil {
		t.Errorf("bucket-owner-read under BucketOwnerPreferred: %v", err)
	}
	// The world's public access block still blocks public ACLs.
	if code, status := apiError(t, putACL(s3types.ObjectCannedACLPublicRead)); code != "AccessDenied" || status != 403 {
		t.Errorf("public-read with BlockPublicAcls: got %s %d, want AccessDenied 403", code, status)
	}

	_, err = admin.PutObjectAcl(ctx, &s3.PutObjectAclInput{
		Bucket: aws.String(testBucket),
		Key:    aws.String("k"),
		AccessControlPolicy: &s3types.AccessControlPolicy{
			Owner:  &s3types.Owner{ID: aws.String("owner")},
			Grants: []s3types.Grant{{Grantee: &s3types.Grantee{Type: s3types.TypeGroup, URI: aws.String("http://acs.amazonaws.com/groups/global/AllUsers")}, Permission: s3types.PermissionRead}},
		},
	})
	if code, status := apiError(t, err); code != "AccessDenied" || status != 403 {
		t.Errorf("AllUsers grant in the body with BlockPublicAcls: got %s %d, want AccessDenied 403", code, status)
	}
}

func TestSettingsStoreKeepsChanges(t *testing.T) {
	w, err := DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}
	settingsDir := t.TempDir()
	store, err := newSettingsStore(settingsDir, dir.Bucket)
	if err != nil {
		t.Fatal(err)
	}

	err = store.Update(testBucket, func(s *bucketSettings) {
		s.Ownership = ownershipWriter
		s.Encryption = nil
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}

	// A new store on the same directory, as after a restart.
	reopened, err := newSettingsStore(settingsDir, dir.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	got, err := reopened.Get(testBucket)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if got.Ownership != ownershipWriter {
		t.Errorf("ownership = %q, want the ObjectWriter stored before", got.Ownership)
	}
	if got.Encryption != nil {
		t.Errorf("encryption = %+v, want none as stored before", got.Encryption)
	}
	if got.PublicAccessBlock == nil || !got.PublicAccessBlock.BlockPublicACLs {
		t.Errorf("public access block = %+v, want the world's", got.PublicAccessBlock)
	}

	if err := reopened.Reset(testBucket); err != nil {
		t.Fatalf("Reset: %v", err)
	}
	got, err = reopened.Get(testBucket)
	if err != nil {
		t.Fatalf("Get after Reset: %v", err)
	}
	if got.Ownership != ownershipEnforced || got.Encryption == nil || got.Encryption.SSEAlgorithm != sseS3 {
		t.Errorf("after Reset = %+v, want the world's settings", got)
	}

	if _, err := reopened.Get("no-such-bucket"); err == nil {
		t.Error("Get of a bucket outside the world succeeded")
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	return string(data)
}
