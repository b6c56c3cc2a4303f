package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

const (
	testAccessKey = "AKIDSIGV4TEST0000001"
	testSecret    = "test/Secret+Key0000000000000000000000001"
	testToken     = "test-session-token+/="
)

// verification is what the test server saw for one request.
type verification struct {
	auth      *sigV4Request
	failure   *authFailure
	unsigned  []string
	path      string
	bodyBytes int
}

// verifyingServer authenticates every request it receives with testSecret,
// as the front does, and records the outcome.
type verifyingServer struct {
	*httptest.Server
	mu      sync.Mutex
	results []verification
}

func newVerifyingServer(t *testing.T) *verifyingServer {
	t.Helper()
	v := &verifyingServer{}
	v.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		res := verification{path: r.URL.Path, bodyBytes: len(body)}

		res.auth, res.failure = parseSigV4(r)
		if res.failure == nil {
			payloadHash := r.Header.Get("X-Amz-Content-Sha256")
			if payloadHash == "" {
				if res.auth.service == "s3" {
					payloadHash = unsignedPayload
				} else {
					sum := sha256.Sum256(body)
					payloadHash = hex.EncodeToString(sum[:])
				}
			}
			res.failure = res.auth.verify(r, testSecret, payloadHash)
			res.unsigned = res.auth.unsignedAmzHeaders(r)
		}

		v.mu.Lock()
		v.results = append(v.results, res)
		v.mu.Unlock()

		// Enough for the SDK to parse each operation used here.
		switch {
		case r.URL.Query().Has("list-type"):
			w.Header().Set("Content-Type", "application/xml")
			_, _ = io.WriteString(w, `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
		case strings.Contains(string(body), "GetCallerIdentity"):
			w.Header().Set("Content-Type", "text/xml")
			_, _ = io.WriteString(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>arn:aws:iam::111111111111:root</Arn><UserId>111111111111</UserId><Account>111111111111</Account></GetCallerIdentityResult></GetCallerIdentityResponse>`)
		}
	}))
	t.Cleanup(v.Close)
	return v
}

func (v *verifyingServer) last(t *testing.T) verification {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.results) == 0 {
		t.Fatal("the server received no request")
	}
	return v.results[len(v.results)-1]
}

func testS3Client(endpoint, secret, token string) *s3.Client {
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(testAccessKey, secret, token),
		RetryMaxAttempts: 1,
	})
}

func TestVerifySigV4SDKKeys(t *testing.T) {
	server := newVerifyingServer(t)
	client := testS3Client(server.URL, testSecret, testToken)

	keys := []string{
		"plain.txt",
		"with space/and more spaces.bin",
		"unicode/ü-ñ-日本語.txt",
		"plus+sign/a+b",
		"percent%25/100%.txt",
		"reserved/!$&'()*,;=:@.txt",
		"tilde~/under_score-dash.dot",
		"question?/hash#.txt",
		"double//slash",
	}
	for _, key := range keys {
		_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
			Bucket:   aws.String("bucket"),
			Key:      aws.String(key),
			Body:     strings.NewReader("data for " + key),
			Metadata: map[string]string{"note": "a  b"},
		})
		if err != nil {
			t.Fatalf("PutObject %q: %v", key, err)
		}

		got := server.last(t)
		if got.failure != nil {
			t.Errorf("key %q: verification failed: %v\ncanonical request:\n%s", key, got.failure, got.failure.canonicalRequest)
		}
		if got.path != "/bucket/"+key {
			t.Errorf("key %q: server saw path %q", key, got.path)
		}
		if len(got.unsigned) > 0 {
			t.Errorf("key %q: unsigned x-amz headers %v", key, got.unsigned)
		}
	}
}

func TestVerifySigV4SDKQuery(t *testing.T) {
	server := newVerifyingServer(t)
	client := testS3Client(server.URL, testSecret, "")

	prefixes := []string{"", "a b/", "ü+&=?/", "100%/"}
	for _, prefix := range prefixes {
		_, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{
			Bucket:     aws.String("bucket"),
			Prefix:     aws.String(prefix),
			Delimiter:  aws.String("/"),
			StartAfter: aws.String("start after"),
		})
		if err != nil {
			t.Fatalf("ListObjectsV2 prefix %q: %v", prefix, err)
		}
		if got := server.last(t); got.failure != nil {
			t.Errorf("prefix %q: verification failed: %v\ncanonical request:\n%s", prefix, got.failure, got.failure.canonicalRequest)
		}
	}
}

func TestVerifySigV4WrongSecret(t *testing.T) {
	server := newVerifyingServer(t)
	client := testS3Client(server.URL, "another secret", "")

	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("x"),
	})
	if err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	got := server.last(t)
	if got.failure == nil || got.failure.kind != authSignatureMismatch {
		t.Fatalf("failure = %v, want a signature mismatch", got.failure)
	}
	if !strings.HasPrefix(got.failure.stringToSign, sigV4Algorithm+"\n") {
		t.Errorf("string to sign %q does not start with the algorithm", got.failure.stringToSign)
	}
}

// signedRequest builds a request signed by the SDK's signer, as S3 clients
// sign: the path encoded once and x-amz-content-sha256 set.
func signedRequest(t *testing.T, method, rawURL string, header http.Header, body []byte, signTime time.Time) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	sum := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", payloadHash)

	creds := aws.Credentials{AccessKeyID: testAccessKey, SecretAccessKey: testSecret, SessionToken: testToken}
	err = v4.NewSigner().SignHTTP(context.Background(), creds, req, payloadHash, "s3", "us-east-1", signTime,
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		t.Fatal(err)
	}
	return req
}

func send(t *testing.T, req *http.Request) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

func TestVerifySigV4TamperedHeader(t *testing.T) {
	server := newVerifyingServer(t)

	header := http.Header{"X-Amz-Meta-Owner": {"alice"}, "Content-Type": {"text/plain"}}
	req := signedRequest(t, http.MethodPut, server.URL+"/bucket/key", header, []byte("hello"), time.Now())
	send(t, req)
	if got := server.last(t); got.failure != nil {
		t.Fatalf("untampered request failed: %v", got.failure)
	}

	req = signedRequest(t, http.MethodPut, server.URL+"/bucket/key", header, []byte("hello"), time.Now())
	req.Header.Set("X-Amz-Meta-Owner", "mallory")
	send(t, req)
	if got := server.last(t); got.failure == nil || got.failure.kind != authSignatureMismatch {
		t.Errorf("tampered header: failure = %v, want a signature mismatch", got.failure)
	}

	req = signedRequest(t, http.MethodPut, server.URL+"/bucket/key", header, []byte("hello"), time.Now())
	req.URL.RawQuery = "acl"
	send(t, req)
	if got := server.last(t); got.failure == nil || got.failure.kind != authSignatureMismatch {
		t.Errorf("added query: failure = %v, want a signature mismatch", got.failure)
	}
}

func TestVerifySigV4UnsignedAmzHeader(t *testing.T) {
	server := newVerifyingServer(t)

	req := signedRequest(t, http.MethodPut, server.URL+"/bucket/key", nil, []byte("hello"), time.Now())
	req.Header.Set("X-Amz-Acl", "public-read")
	send(t, req)

	got := server.last(t)
	if got.failure != nil {
		t.Fatalf("verification failed: %v", got.failure)
	}
	if len(got.unsigned) != 1 || got.unsigned[0] != "x-amz-acl" {
		t.Errorf("unsigned headers = %v, want [x-amz-acl]", got.unsigned)
	}
}

func TestVerifySigV4Presigned(t *testing.T) {
	server := newVerifyingServer(t)
	presigner := s3.NewPresignClient(testS3Client(server.URL, testSecret, testToken))

	for _, key := range []string{"plain", "with space+plus", "ü/100%"} {
		presigned, err := presigner.PresignGetObject(context.Background(), &s3.GetObjectInput{
			Bucket: aws.String("bucket"), Key: aws.String(key),
		}, s3.WithPresignExpires(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}

		resp, err := http.Get(presigned.URL)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()

		got := server.last(t)
		if got.failure != nil {
			t.Errorf("key %q: verification failed: %v\ncanonical request:\n%s", key, got.failure, got.failure.canonicalRequest)
			continue
		}
		if !got.auth.presigned || got.auth.securityToken != testToken {
			t.Errorf("key %q: presigned %v, token %q", key, got.auth.presigned, got.auth.securityToken)
		}
		if got.auth.expires != 10*time.Minute {
			t.Errorf("key %q: expires %v, want 10m", key, got.auth.expires)
		}
	}
}

func TestVerifySigV4STS(t *testing.T) {
	server := newVerifyingServer(t)
	client := sts.New(sts.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(server.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(testAccessKey, testSecret, testToken),
	})

	if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}

	got := server.last(t)
	if got.failure != nil {
		t.Fatalf("verification failed: %v\ncanonical request:\n%s", got.failure, got.failure.canonicalRequest)
	}
	if got.auth.service != "sts" {
		t.Errorf("service %q, want sts", got.auth.service)
	}
}

func TestCheckTimeSkew(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name      string
		presigned bool
		signed    time.Time
		expires   time.Duration
		want      authFailureKind
	}{
		{"HeaderNow", false, now, 0, 0},
		{"HeaderFourteenMinutesOld", false, now.Add(-14 * time.Minute), 0, 0},
		{"HeaderSixteenMinutesOld", false, now.Add(-16 * time.Minute), 0, authClockSkew},
		{"HeaderSixteenMinutesAhead", false, now.Add(16 * time.Minute), 0, authClockSkew},
		{"PresignedValid", true, now.Add(-time.Hour), 2 * time.Hour, 0},
		{"PresignedExpired", true, now.Add(-time.Hour), 30 * time.Minute, authExpired},
		{"PresignedFuture", true, now.Add(time.Hour), 2 * time.Hour, authNotYetValid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &sigV4Request{presigned: tt.presigned, time: tt.signed, expires: tt.expires}

			got := a.checkTime(now)

			switch {
			case tt.want == 0 && got != nil:
				t.Errorf("checkTime = %v, want nil", got)
			case tt.want != 0 && (got == nil || got.kind != tt.want):
				t.Errorf("checkTime = %v, want kind %d", got, tt.want)
			}
		})
	}
}

func TestParseSigV4Malformed(t *testing.T) {
	date := time.Now().UTC().Format(amzDateFormat)
	tests := []struct {
		name          string
		authorization string
		query         string
		want          authFailureKind
	}{
		{"NoAuthentication", "", "", authMissing},
		{"SigV2", "AWS AKID:c2lnbmF0dXJl", "", authUnsupported},
		{"MissingSignature", "AWS4-HMAC-SHA256 Credential=AKID/" + date[:8] + "/us-east-1/s3/aws4_request, SignedHeaders=host", "", authMalformed},
		{"ShortCredential", "AWS4-HMAC-SHA256 Credential=AKID/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab", "", authMalformed},
		{"WrongTerminator", "AWS4-HMAC-SHA256 Credential=AKID/" + date[:8] + "/us-east-1/s3/aws5_request, SignedHeaders=host, Signature=ab", "", authMalformed},
		{"DateMismatch", "AWS4-HMAC-SHA256 Credential=AKID/20000101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab", "", authMalformed},
		{"HostNotSigned", "AWS4-HMAC-SHA256 Credential=AKID/" + date[:8] + "/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=ab", "", authMalformed},
		{"BothMechanisms", "AWS4-HMAC-SHA256 Credential=AKID/" + date[:8] + "/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=ab", "X-Amz-Algorithm=AWS4-HMAC-SHA256", authMalformed},
		{"PresignedNoExpires", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F" + date[:8] + "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=" + date + "&X-Amz-SignedHeaders=host&X-Amz-Signature=ab", authMalformed},
		{"PresignedTooLong", "", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F" + date[:8] + "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=" + date + "&X-Amz-Expires=604801&X-Amz-SignedHeaders=host&X-Amz-Signature=ab", authMalformed},
		{"PresignedSigV4A", "", "X-Amz-Algorithm=AWS4-ECDSA-P256-SHA256&X-Amz-Credential=x", authUnsupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/bucket/key?"+tt.query, nil)
			if tt.authorization != "" {
				r.Header.Set("Authorization", tt.authorization)
			}
			r.Header.Set("X-Amz-Date", date)

			_, got := parseSigV4(r)

			if got == nil || got.kind != tt.want {
				t.Errorf("parseSigV4 = %v, want kind %d", got, tt.want)
			}
		})
	}
}

// TestVerifySigV4AWSExample checks the canonical request against the
// signature AWS publishes for its chunked PUT example.
func TestVerifySigV4AWSExample(t *testing.T) {
	r := awsStreamingExampleRequest(nil)
	auth, failure := parseSigV4(r)
	if failure != nil {
		t.Fatal(failure)
	}

	got := auth.verify(r, awsExampleSecret, streamingSigned)

	if got != nil {
		t.Errorf("verify = %v\ncanonical request:\n%s", got, got.canonicalRequest)
	}
}

func TestURIEncode(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		encodeSlash bool
		want        string
	}{
		{"Unreserved", "AZaz09-._~", true, "AZaz09-._~"},
		{"SpaceAndPlus", "a b+c", true, "a%20b%2Bc"},
		{"SlashKept", "a/b c", false, "a/b%20c"},
		{"SlashEncoded", "a/b", true, "a%2Fb"},
		{"Unicode", "ü", false, "%C3%BC"},
		{"Percent", "100%", false, "100%25"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := uriEncode(tt.in, tt.encodeSlash)

			if got != tt.want {
				t.Errorf("uriEncode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
