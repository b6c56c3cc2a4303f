package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/sandboxtest"
)

// These tests run bin/countersign-sandbox and bin/versitygw (make build).

const bucket = "dev-artifacts"

// s3Client builds an S3 client from the sandbox's variables for a principal:
// static keys, an explicit loopback endpoint and path-style addressing.
func s3Client(t *testing.T, vars map[string]string) *s3.Client {
	t.Helper()
	endpoint := vars["AWS_ENDPOINT_URL_S3"]
	if !strings.HasPrefix(endpoint, "http://127.0.0.1:") {
		t.Fatalf("endpoint %q is not on 127.0.0.1", endpoint)
	}
	return s3.New(s3.Options{
		Region:       vars["AWS_REGION"],
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"], vars["AWS_SESSION_TOKEN"]),
	})
}

func stsClient(t *testing.T, vars map[string]string) *sts.Client {
	t.Helper()
	return sts.New(sts.Options{
		Region:       vars["AWS_REGION"],
		BaseEndpoint: aws.String(vars["AWS_ENDPOINT_URL_STS"]),
		Credentials:  credentials.NewStaticCredentialsProvider(vars["AWS_ACCESS_KEY_ID"], vars["AWS_SECRET_ACCESS_KEY"], vars["AWS_SESSION_TOKEN"]),
	})
}

func errorCode(err error) string {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return apiErr.ErrorCode()
	}
	return ""
}

func httpStatus(err error) int {
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) {
		return respErr.HTTPStatusCode()
	}
	return 0
}

func TestSandboxEndToEnd(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	build := s3Client(t, sb.Vars(t, "build"))
	admin := s3Client(t, sb.Vars(t, "dev-admin"))

	t.Run("EnvFile", func(t *testing.T) {
		vars := sb.EnvFile()
		for name, want := range map[string]string{
			"AWS_ENDPOINT_URL_STS":        sb.Endpoint(),
			"AWS_REGION":                  "us-east-1",
			"AWS_DEFAULT_REGION":          "us-east-1",
			"AWS_EC2_METADATA_DISABLED":   "true",
			"AWS_CONFIG_FILE":             "/dev/null",
			"AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
			"COUNTERSIGN_BUCKET":          bucket,
			"COUNTERSIGN_BUCKET_OWNER":    "222222222222",
			"COUNTERSIGN_ROLE_ARN":        "arn:aws:iam::111111111111:role/CodeBuildRole",
		} {
			if vars[name] != want {
				t.Errorf("%s = %q, want %q", name, vars[name], want)
			}
		}
		if !strings.HasPrefix(vars["AWS_ACCESS_KEY_ID"], "ASIA") || vars["AWS_SESSION_TOKEN"] == "" {
			t.Errorf("env file keys %q, want the build session's ASIA keys with a token", vars["AWS_ACCESS_KEY_ID"])
		}
	})

	t.Run("CallerIdentity", func(t *testing.T) {
		out, err := stsClient(t, sb.Vars(t, "build")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity: %v", err)
		}
		session := regexp.MustCompile(`^arn:aws:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-[0-9a-f-]{36}$`)
		if !session.MatchString(aws.ToString(out.Arn)) {
			t.Errorf("Arn = %q, want a CodeBuild session of CodeBuildRole", aws.ToString(out.Arn))
		}
		if aws.ToString(out.Account) != "111111111111" {
			t.Errorf("Account = %q", aws.ToString(out.Account))
		}

		out, err = stsClient(t, sb.Vars(t, "dev-admin")).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
		if err != nil {
			t.Fatalf("GetCallerIdentity as dev-admin: %v", err)
		}
		if aws.ToString(out.Arn) != "arn:aws:iam::222222222222:root" {
			t.Errorf("dev-admin Arn = %q", aws.ToString(out.Arn))
		}
	})

	t.Run("ObjectRoundTrip", func(t *testing.T) {
		ctx := context.Background()
		keys := []string{"plain.txt", "dir/with space.txt", "dir/plus+and%percent", "ünïcode/日本.txt", "a=b&c;d,e"}
		for i, key := range keys {
			body := []byte(strings.Repeat(key, i+1))
			_, err := build.PutObject(ctx, &s3.PutObjectInput{
				Bucket:              aws.String(bucket),
				Key:                 aws.String(key),
				Body:                bytes.NewReader(body),
				ExpectedBucketOwner: aws.String("222222222222"),
			})
			if err != nil {
				t.Fatalf("PutObject %q: %v", key, err)
			}

			got, err := build.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), ExpectedBucketOwner: aws.String("222222222222")})
			if err != nil {
				t.Fatalf("GetObject %q: %v", key, err)
			}
			data, err := io.ReadAll(got.Body)
			got.Body.Close()
			if err != nil || !bytes.Equal(data, body) {
				t.Errorf("GetObject %q returned %q (%v), want %q", key, data, err, body)
			}
		}

		list, err := build.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		listed := map[string]bool{}
		for _, o := range list.Contents {
			listed[aws.ToString(o.Key)] = true
		}
		for _, key := range keys {
			if !listed[key] {
				t.Errorf("ListObjectsV2 lacks %q; listed %v", key, listed)
			}
		}

		for _, key := range keys {
			if _, err := build.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
				t.Errorf("DeleteObject %q: %v", key, err)
			}
		}
		_, err = build.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(keys[0])})
		if httpStatus(err) != 404 {
			t.Errorf("HeadObject after delete: %v, want 404", err)
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		ctx := context.Background()
		const partSize = 5 << 20
		const parts = 4
		key := "multipart/twenty-mib.bin"
		whole := sha256.New()

		created, err := build.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), ExpectedBucketOwner: aws.String("222222222222")})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		var completed []s3types.CompletedPart
		rng := rand.New(rand.NewPCG(1, 2))
		for n := int32(1); n <= parts; n++ {
			part := make([]byte, partSize)
			for i := range part {
				part[i] = byte(rng.Uint32())
			}
			whole.Write(part)
			out, err := build.UploadPart(ctx, &s3.UploadPartInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
				PartNumber: aws.Int32(n), Body: bytes.NewReader(part),
			})
			if err != nil {
				t.Fatalf("UploadPart %d: %v", n, err)
			}
			completed = append(completed, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(n)})
		}
		done, err := build.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: completed},
		})
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}

		if etag := aws.ToString(done.ETag); !regexp.MustCompile(`^"[0-9a-f]{32}-4"$`).MatchString(etag) {
			t.Errorf("ETag = %s, want an MD5 of MD5s with -4", etag)
		}
		got, err := build.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		readBack := sha256.New()
		n, err := io.Copy(readBack, got.Body)
		got.Body.Close()
		if err != nil || n != parts*partSize || !bytes.Equal(readBack.Sum(nil), whole.Sum(nil)) {
			t.Errorf("read back %d bytes (%v), want the %d bytes uploaded", n, err, parts*partSize)
		}
	})

	t.Run("ExpectedBucketOwner", func(t *testing.T) {
		ctx := context.Background()
		_, err := build.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String("222222222222")})
		if err != nil {
			t.Errorf("right owner: %v", err)
		}

		_, err = build.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String("111111111111")})
		if errorCode(err) != "AccessDenied" || httpStatus(err) != 403 {
			t.Errorf("wrong owner: %v, want AccessDenied 403", err)
		}

		_, err = build.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(bucket), ExpectedBucketOwner: aws.String("111111111111")})
		if httpStatus(err) != 403 {
			t.Errorf("HeadBucket with the wrong owner: %v, want 403", err)
		}
	})

	t.Run("AclAndEncryption", func(t *testing.T) {
		ctx := context.Background()
		_, err := build.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("encrypted"), Body: strings.NewReader("secret"),
			ACL: s3types.ObjectCannedACLBucketOwnerFullControl, ServerSideEncryption: s3types.ServerSideEncryptionAwsKms,
		})
		if err != nil {
			t.Fatalf("PutObject with bucket-owner-full-control and aws:kms: %v", err)
		}
		head, err := build.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("encrypted")})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if head.ServerSideEncryption != s3types.ServerSideEncryptionAwsKms || aws.ToString(head.SSEKMSKeyId) == "" {
			t.Errorf("HeadObject SSE %q key %q, want aws:kms with a key", head.ServerSideEncryption, aws.ToString(head.SSEKMSKeyId))
		}
		if len(head.Metadata) != 0 {
			t.Errorf("metadata %v, want none", head.Metadata)
		}

		_, err = build.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(bucket), Key: aws.String("public"), Body: strings.NewReader("x"), ACL: s3types.ObjectCannedACLPublicRead,
		})
		if errorCode(err) != "AccessControlListNotSupported" {
			t.Errorf("public-read: %v, want AccessControlListNotSupported", err)
		}
	})

	t.Run("ListBuckets", func(t *testing.T) {
		out, err := admin.ListBuckets(context.Background(), &s3.ListBucketsInput{})
		if err != nil {
			t.Fatalf("ListBuckets as dev-admin: %v", err)
		}
		if len(out.Buckets) != 1 || aws.ToString(out.Buckets[0].Name) != bucket {
			t.Errorf("dev-admin lists %d buckets, want %s", len(out.Buckets), bucket)
		}

		// The build role keeps least privilege, without s3:ListAllMyBuckets.
		_, err = build.ListBuckets(context.Background(), &s3.ListBucketsInput{})
		if errorCode(err) != "AccessDenied" || httpStatus(err) != 403 {
			t.Errorf("ListBuckets as build: %v, want AccessDenied 403", err)
		}

		_, err = admin.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("made-by-client")})
		if errorCode(err) != "AccessDenied" {
			t.Errorf("CreateBucket: %v, want AccessDenied", err)
		}
	})

	t.Run("BucketPolicy", func(t *testing.T) {
		ctx := context.Background()
		doc := "{\n  \"Version\": \"2012-10-17\",\n  \"Statement\": [{\"Sid\": \"Only\", \"Effect\": \"Deny\", \"Principal\": \"*\", \"Action\": \"s3:*\",\n    \"Resource\": \"arn:aws:s3:::dev-artifacts/*\", \"Condition\": {\"Bool\": {\"aws:SecureTransport\": \"false\"}}}]\n}"

		if _, err := admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc), ExpectedBucketOwner: aws.String("222222222222")}); err != nil {
			t.Fatalf("PutBucketPolicy: %v", err)
		}
		got, err := admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("GetBucketPolicy: %v", err)
		}
		if aws.ToString(got.Policy) != doc {
			t.Errorf("policy read back %q, want %q", aws.ToString(got.Policy), doc)
		}

		_, err = admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(`{"Statement": "nope"}`)})
		if errorCode(err) != "MalformedPolicy" || httpStatus(err) != 400 {
			t.Errorf("malformed policy: %v, want MalformedPolicy 400", err)
		}

		if _, err := admin.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)}); err != nil {
			t.Fatalf("DeleteBucketPolicy: %v", err)
		}
		_, err = admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
		if errorCode(err) != "NoSuchBucketPolicy" || httpStatus(err) != 404 {
			t.Errorf("after delete: %v, want NoSuchBucketPolicy 404", err)
		}
	})

	t.Run("EnvAsCodeBuild", func(t *testing.T) {
		vars := sb.Vars(t, "codebuild")
		if vars["AWS_ACCESS_KEY_ID"] != "AKIASANDBOXCODEBUILD" {
			t.Errorf("AWS_ACCESS_KEY_ID = %q, want the codebuild service principal's key", vars["AWS_ACCESS_KEY_ID"])
		}
		if _, ok := vars["AWS_SESSION_TOKEN"]; ok {
			t.Error("the service principal's environment sets AWS_SESSION_TOKEN, want long-term keys only")
		}
		if vars["AWS_ENDPOINT_URL_STS"] != sb.Endpoint() {
			t.Errorf("AWS_ENDPOINT_URL_STS = %q, want %q", vars["AWS_ENDPOINT_URL_STS"], sb.Endpoint())
		}
	})

	t.Run("UnknownPrincipal", func(t *testing.T) {
		root := sandboxtest.ModuleRoot(t)
		cmd := exec.Command(filepath.Join(root, "bin", "countersign-sandbox"), "env", "--data", sb.DataDir(), "--as", "nobody")
		out, err := cmd.CombinedOutput()

		var exitErr *exec.ExitError
		if !errors.As(err, &exitErr) || exitErr.ExitCode() != 2 {
			t.Errorf("env --as nobody: %v, want exit code 2", err)
		}
		if !strings.Contains(string(out), "build, dev-admin") {
			t.Errorf("output %q does not list the principals", out)
		}
	})
}

// TestSandboxAWSCLI uses Debian's AWS CLI v2 at /usr/bin/aws. A Python AWS
// CLI v1 found earlier on PATH would not be the client under test.
func TestSandboxAWSCLI(t *testing.T) {
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("%s is missing (%v): install Debian's AWS CLI with apt-get install awscli", cli, err)
	}
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	env := append(sb.Env(t, "build"), "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")
	work := t.TempDir()

	awsCLI := func(args ...string) string {
		t.Helper()
		// Older CLIs (Debian 12 ships 2.9) ignore AWS_ENDPOINT_URL_S3, so
		// the endpoint is also passed as a flag.
		full := append([]string{"--endpoint-url", sb.Endpoint(), "--no-cli-pager"}, args...)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, full...)
		cmd.Env = env
		cmd.Dir = work
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	small := filepath.Join(work, "small.txt")
	large := filepath.Join(work, "large.bin")
	if err := os.WriteFile(small, []byte("small file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 9<<20+12345) // over the CLI's 8 MiB multipart threshold
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	if err := os.WriteFile(large, data, 0o600); err != nil {
		t.Fatal(err)
	}

	identity := awsCLI("sts", "get-caller-identity", "--output", "text", "--query", "Arn")
	if !strings.Contains(identity, ":assumed-role/CodeBuildRole/AWSCodeBuild-") {
		t.Errorf("get-caller-identity: %q", identity)
	}

	awsCLI("s3", "cp", "--only-show-errors", small, "s3://dev-artifacts/cli/small file.txt")
	awsCLI("s3", "cp", "--only-show-errors", large, "s3://dev-artifacts/cli/large.bin")

	// An empty body is never read, so the front must send the CLI's
	// "100 Continue" itself; without it this copy stalls for the CLI's
	// 60-second read timeout.
	// The stall shows on a reused connection, so the tree mixes empty and
	// non-empty files.
	tree := filepath.Join(work, "tree")
	if err := os.MkdirAll(tree, 0o700); err != nil {
		t.Fatal(err)
	}
	for i := range 40 {
		var content []byte
		if i%4 != 0 {
			content = []byte(fmt.Sprintf("file %d\n", i))
		}
		if err := os.WriteFile(filepath.Join(tree, fmt.Sprintf("f%02d", i)), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	awsCLI("s3", "sync", "--only-show-errors", tree, "s3://dev-artifacts/cli-tree/")
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("syncing 40 files, 10 of them empty, took %s: the CLI waited for a 100 Continue", took)
	}

	listing := awsCLI("s3", "ls", "s3://dev-artifacts/cli/")
	for _, want := range []string{"small file.txt", "large.bin"} {
		if !strings.Contains(listing, want) {
			t.Errorf("aws s3 ls lacks %q:\n%s", want, listing)
		}
	}

	head := awsCLI("s3api", "head-object", "--bucket", "dev-artifacts", "--key", "cli/large.bin", "--query", "ETag", "--output", "text")
	if !regexp.MustCompile(`"[0-9a-f]{32}-2"`).MatchString(head) {
		t.Errorf("ETag of the large file = %s, want a two-part multipart ETag", head)
	}

	awsCLI("s3", "cp", "--only-show-errors", "s3://dev-artifacts/cli/large.bin", filepath.Join(work, "large.back"))
	awsCLI("s3", "cp", "--only-show-errors", "s3://dev-artifacts/cli/small file.txt", filepath.Join(work, "small.back"))
	for original, back := range map[string]string{large: "large.back", small: "small.back"} {
		want, _ := os.ReadFile(original)
		got, err := os.ReadFile(filepath.Join(work, back))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s read back differs from what was uploaded (%v)", back, err)
		}
	}
}

func TestSandboxSIGTERM(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	st, err := sandbox.ReadState(sb.DataDir())
	if err != nil {
		t.Fatal(err)
	}
	if st.VersitygwPID <= 0 || !alive(st.VersitygwPID) {
		t.Fatalf("versitygw pid %d is not running", st.VersitygwPID)
	}

	if err := sb.Stop(); err != nil {
		t.Fatalf("stop: %v, want exit code 0", err)
	}

	if alive(st.VersitygwPID) {
		t.Errorf("versitygw (pid %d) outlived the sandbox", st.VersitygwPID)
	}
	if _, err := sandbox.ReadState(sb.DataDir()); err == nil {
		t.Error("the state file survived a clean stop")
	}
}

func TestSandboxVersitygwDies(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{})
	st, err := sandbox.ReadState(sb.DataDir())
	if err != nil {
		t.Fatal(err)
	}

	// The sandbox started this versitygw for this test.
	if err := syscall.Kill(st.VersitygwPID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	if code := sb.Wait(10 * time.Second); code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if log := sb.Log(); !strings.Contains(log, "exited unexpectedly") {
		t.Errorf("the log does not report versitygw's death:\n%s", log)
	}
}

func TestSandboxRestartKeepsData(t *testing.T) {
	ctx := context.Background()
	dataDir := t.TempDir()
	doc := `{"Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::dev-artifacts/*"}]}`

	first := sandboxtest.Start(t, sandboxtest.Options{DataDir: dataDir})
	admin := s3Client(t, first.Vars(t, "dev-admin"))
	if _, err := admin.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String("kept"), Body: strings.NewReader("still here")}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String(bucket), Policy: aws.String(doc)}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if err := first.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	second := sandboxtest.Start(t, sandboxtest.Options{DataDir: dataDir})
	admin = s3Client(t, second.Vars(t, "dev-admin"))

	got, err := admin.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("kept")})
	if err != nil {
		t.Fatalf("GetObject after restart: %v", err)
	}
	data, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if string(data) != "still here" {
		t.Errorf("object after restart = %q", data)
	}
	policy, err := admin.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatalf("GetBucketPolicy after restart: %v", err)
	}
	if aws.ToString(policy.Policy) != doc {
		t.Errorf("policy after restart = %q, want the one put before", aws.ToString(policy.Policy))
	}
	_, err = admin.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if errorCode(err) != "ServerSideEncryptionConfigurationNotFoundError" {
		t.Errorf("GetBucketEncryption after restart: %v, want the deletion kept", err)
	}
}

// TestSandboxBucketSettingsAWSCLI reads and changes the bucket settings
// with Debian's AWS CLI v2, which must parse the sandbox's XML as S3's.
func TestSandboxBucketSettingsAWSCLI(t *testing.T) {
	const cli = "/usr/bin/aws"
	if _, err := os.Stat(cli); err != nil {
		t.Fatalf("%s is missing (%v): install Debian's AWS CLI with apt-get install awscli", cli, err)
	}
	sb := sandboxtest.Start(t, sandboxtest.Options{LogLevel: "info"})
	env := append(sb.Env(t, "dev-admin"), "AWS_EC2_METADATA_DISABLED=true", "AWS_PAGER=")

	awsCLI := func(args ...string) (string, error) {
		t.Helper()
		full := append([]string{"--endpoint-url", sb.Endpoint(), "--no-cli-pager", "--output", "json"}, args...)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, cli, full...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	mustCLI := func(args ...string) string {
		t.Helper()
		out, err := awsCLI(args...)
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	owner := []string{"--bucket", bucket, "--expected-bucket-owner", "222222222222"}

	encryption := mustCLI(append([]string{"s3api", "get-bucket-encryption"}, owner...)...)
	if !strings.Contains(encryption, `"SSEAlgorithm": "AES256"`) {
		t.Errorf("get-bucket-encryption = %s, want AES256", encryption)
	}
	block := mustCLI(append([]string{"s3api", "get-public-access-block"}, owner...)...)
	if strings.Count(block, ": true") != 4 {
		t.Errorf("get-public-access-block = %s, want four true settings", block)
	}

	mustCLI(append([]string{"s3api", "put-bucket-ownership-controls", "--ownership-controls", "Rules=[{ObjectOwnership=BucketOwnerPreferred}]"}, owner...)...)
	ownership := mustCLI(append([]string{"s3api", "get-bucket-ownership-controls"}, owner...)...)
	if !strings.Contains(ownership, `"ObjectOwnership": "BucketOwnerPreferred"`) {
		t.Errorf("get-bucket-ownership-controls = %s, want BucketOwnerPreferred", ownership)
	}

	mustCLI(append([]string{"s3api", "put-bucket-encryption", "--server-side-encryption-configuration",
		`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms","KMSMasterKeyID":"arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"},"BucketKeyEnabled":true}]}`}, owner...)...)
	encryption = mustCLI(append([]string{"s3api", "get-bucket-encryption"}, owner...)...)
	if !strings.Contains(encryption, `"SSEAlgorithm": "aws:kms"`) || !strings.Contains(encryption, `"BucketKeyEnabled": true`) {
		t.Errorf("get-bucket-encryption after put = %s, want aws:kms with a bucket key", encryption)
	}

	mustCLI(append([]string{"s3api", "delete-public-access-block"}, owner...)...)
	out, err := awsCLI(append([]string{"s3api", "get-public-access-block"}, owner...)...)
	if err == nil || !strings.Contains(out, "NoSuchPublicAccessBlockConfiguration") {
		t.Errorf("get-public-access-block after delete: %v\n%s\nwant NoSuchPublicAccessBlockConfiguration", err, out)
	}
	mustCLI(append([]string{"s3api", "delete-bucket-ownership-controls"}, owner...)...)
	out, err = awsCLI(append([]string{"s3api", "get-bucket-ownership-controls"}, owner...)...)
	if err == nil || !strings.Contains(out, "OwnershipControlsNotFoundError") {
		t.Errorf("get-bucket-ownership-controls after delete: %v\n%s\nwant OwnershipControlsNotFoundError", err, out)
	}
}

func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func TestSandboxCustomWorld(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{World: filepath.Join("testdata", "release-world.json")})
	ctx := context.Background()

	vars := sb.EnvFile()
	for name, want := range map[string]string{
		"AWS_REGION":               "eu-west-1",
		"AWS_ACCESS_KEY_ID":        "ASIAEXAMPLECIBUILDER",
		"COUNTERSIGN_BUCKET":       "prod-releases",
		"COUNTERSIGN_BUCKET_OWNER": "210987654321",
		"COUNTERSIGN_ROLE_ARN":     "arn:aws:iam::123456789012:role/service-role/Builder",
	} {
		if vars[name] != want {
			t.Errorf("%s = %q, want %q", name, vars[name], want)
		}
	}

	out, err := stsClient(t, vars).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if !strings.HasPrefix(aws.ToString(out.Arn), "arn:aws:sts::123456789012:assumed-role/Builder/release-") {
		t.Errorf("Arn = %q, want a session of Builder without its path", aws.ToString(out.Arn))
	}

	list, err := s3Client(t, sb.Vars(t, "prod-admin")).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	if len(list.Buckets) != 1 || aws.ToString(list.Buckets[0].Name) != "prod-releases" {
		t.Errorf("prod-admin lists %d buckets, want only prod-releases", len(list.Buckets))
	}
	if _, err := s3Client(t, vars).PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("ci-cache"), Key: aws.String("k"), Body: strings.NewReader("v")}); err != nil {
		t.Errorf("PutObject to the second bucket: %v", err)
	}
}

func TestSandboxCommandErrors(t *testing.T) {
	root := sandboxtest.ModuleRoot(t)
	binary := filepath.Join(root, "bin", "countersign-sandbox")
	if _, err := os.Stat(binary); err != nil {
		t.Fatalf("%s is missing: run make build first", binary)
	}
	dir := t.TempDir()
	invalidWorld := filepath.Join(dir, "world.json")
	if err := os.WriteFile(invalidWorld, []byte(`{"region": "us-east-1", "accounts": [], "buckets": [], "principals": []}`), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantText string
	}{
		{"NonLoopbackListen", []string{"--listen", "0.0.0.0:0", "--data", dir, "--env-file", filepath.Join(dir, "env")}, 2, "not a loopback address"},
		{"HostNameListen", []string{"--listen", "localhost:0", "--data", dir, "--env-file", filepath.Join(dir, "env")}, 2, "is a name, which could resolve off loopback"},
		{"MissingData", []string{"--env-file", filepath.Join(dir, "env")}, 2, "--data"},
		{"InvalidWorld", []string{"--data", dir, "--env-file", filepath.Join(dir, "env"), "--world", invalidWorld}, 2, "accounts: empty"},
		{"MissingVersitygw", []string{"--data", dir, "--env-file", filepath.Join(dir, "env"), "--versitygw", filepath.Join(dir, "none")}, 1, "make build"},
		{"EnvWithoutSandbox", []string{"env", "--data", dir, "--as", "build"}, 1, "no sandbox is running"},
		{"WorldAndWorldFromCDK", []string{"--data", dir, "--env-file", filepath.Join(dir, "env"), "--world", invalidWorld, "--world-from-cdk", cdkFixture(t)},
			2, "--world and --world-from-cdk can't be used together"},
		{"WorldFromCDKNotAssembly", []string{"--data", dir, "--env-file", filepath.Join(dir, "env"), "--world-from-cdk", dir}, 2, "run cdk synth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(binary, tt.args...)
			out, err := cmd.CombinedOutput()

			var exitErr *exec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitCode() != tt.wantCode {
				t.Errorf("exit %v, want code %d; output:\n%s", err, tt.wantCode, out)
			}
			if !strings.Contains(string(out), tt.wantText) {
				t.Errorf("output does not mention %q:\n%s", tt.wantText, out)
			}
		})
	}
}

func TestSandboxWorldCommand(t *testing.T) {
	binary := filepath.Join(sandboxtest.ModuleRoot(t), "bin", "countersign-sandbox")

	out, err := exec.Command(binary, "world").Output()
	if err != nil {
		t.Fatalf("countersign-sandbox world: %v", err)
	}

	w, err := sandbox.ParseWorld(out)
	if err != nil {
		t.Fatalf("the printed world is invalid: %v", err)
	}
	var names []string
	for _, p := range w.Principals {
		names = append(names, p.Name)
	}
	if got, want := strings.Join(names, ","), "build,dev-admin,codebuild"; got != want {
		t.Errorf("printed world principals %s, want %s", got, want)
	}
}

// cdkFixture returns the synthesized CDK app that internal/sandbox tests
// derive worlds from.
func cdkFixture(t *testing.T) string {
	t.Helper()
	return filepath.Join(sandboxtest.ModuleRoot(t), "internal", "sandbox", "testdata", "cdk.out")
}

func TestSandboxWorldFromCDKCommand(t *testing.T) {
	binary := filepath.Join(sandboxtest.ModuleRoot(t), "bin", "countersign-sandbox")

	out, err := exec.Command(binary, "world", "--world-from-cdk", cdkFixture(t)).Output()
	if err != nil {
		t.Fatalf("countersign-sandbox world --world-from-cdk: %v", err)
	}

	w, err := sandbox.ParseWorld(out)
	if err != nil {
		t.Fatalf("the printed world is invalid: %v", err)
	}
	if len(w.Buckets) != 1 || w.Buckets[0].Name != "countersign-dev-artifacts-222222222222" {
		t.Errorf("printed buckets %+v, want the CDK app's bucket", w.Buckets)
	}
}

func TestSandboxWorldFromCDKServes(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{WorldFromCDK: cdkFixture(t), LogLevel: "info"})
	vars := sb.EnvFile()

	if vars["COUNTERSIGN_BUCKET"] != "countersign-dev-artifacts-222222222222" || vars["COUNTERSIGN_BUCKET_OWNER"] != "222222222222" {
		t.Errorf("env file bucket %s owned by %s, want the CDK app's bucket in 222222222222", vars["COUNTERSIGN_BUCKET"], vars["COUNTERSIGN_BUCKET_OWNER"])
	}
	if vars["COUNTERSIGN_ROLE_ARN"] != "arn:aws:iam::111111111111:role/service-role/CodeBuildRole" {
		t.Errorf("COUNTERSIGN_ROLE_ARN = %q, want the project's service role with its path", vars["COUNTERSIGN_ROLE_ARN"])
	}

	ctx := context.Background()
	_, err := s3Client(t, vars).PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(vars["COUNTERSIGN_BUCKET"]), Key: aws.String("app/from-cdk.txt"), Body: strings.NewReader("x"),
		ExpectedBucketOwner: aws.String("222222222222"),
	})
	if err != nil {
		t.Errorf("PutObject as the build session of the derived world: %v", err)
	}
	ownership, err := s3Client(t, sb.Vars(t, "dev-admin")).GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(vars["COUNTERSIGN_BUCKET"])})
	if err != nil {
		t.Fatalf("GetBucketOwnershipControls as dev-admin: %v", err)
	}
	if got := ownership.OwnershipControls.Rules[0].ObjectOwnership; got != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ObjectOwnership = %q, want the template's BucketOwnerEnforced", got)
	}
}
