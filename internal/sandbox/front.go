package sandbox

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"
)

// Front is the sandbox's HTTP endpoint. It authenticates every request with
// the world's keys, serves STS itself, and serves S3 partly itself (bucket
// policies, bucket listing, ownership checks) and partly by forwarding to
// versitygw, re-signed with versitygw's root key.
type Front struct {
	dir        *Directory
	region     string
	policies   *policyStore
	settings   *settingsStore
	authorizer Authorizer

	upstream  *url.URL
	rootCreds aws.Credentials
	client    *http.Client
	signer    *v4.Signer
	root      *s3.Client // versitygw as its root user

	faults *Faults // nil injects no faults

	sessions *sessionStore // credentials that AssumeRole issued
	trust    *trustEvaluator

	now func() time.Time
}

// FrontConfig configures a Front.
type FrontConfig struct {
	Directory   *Directory
	PolicyDir   string     // directory of the stored bucket policies
	SettingsDir string     // directory of the stored bucket settings
	Authorizer  Authorizer // nil allows every authenticated request

	UpstreamURL string // versitygw, http://127.0.0.1:PORT
	RootAccess  string
	RootSecret  string
}

// NewFront builds the endpoint handler.
func NewFront(cfg FrontConfig) (*Front, error) {
	upstream, err := url.Parse(cfg.UpstreamURL)
	if err != nil {
		return nil, err
	}
	policies, err := newPolicyStore(cfg.PolicyDir)
	if err != nil {
		return nil, err
	}
	settings, err := newSettingsStore(cfg.SettingsDir, cfg.Directory.Bucket)
	if err != nil {
		return nil, err
	}

	authorizer := cfg.Authorizer
	if authorizer == nil {
		authorizer = AllowAll{}
	}

	trust, err := newTrustEvaluator(cfg.Directory)
	if err != nil {
		return nil, err
	}

	creds := rootCredentials(cfg.RootAccess, cfg.RootSecret)
	transport := &http.Transport{
		// Responses go back to the client as versitygw sent them.
		DisableCompression:  true,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 256,
		IdleConnTimeout:     90 * time.Second,
	}
	client := &http.Client{
		Transport: transport,
		// S3 redirects are the client's business.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}

	region := cfg.Directory.World.Region
	return &Front{
		dir:        cfg.Directory,
		region:     region,
		policies:   policies,
		settings:   settings,
		authorizer: authorizer,
		sessions:   newSessionStore(),
		trust:      trust,
		upstream:   upstream,
		rootCreds:  creds,
		client:     client,
		signer:     v4.NewSigner(),
		root:       newRootClient(cfg.UpstreamURL, region, creds, client),
		now:        time.Now,
	}, nil
}

// newRootClient returns an S3 client for versitygw's root user, with static
// keys and an explicit endpoint so the SDK looks nowhere else.
func newRootClient(endpoint, region string, creds aws.Credentials, httpClient *http.Client) *s3.Client {
	opts := s3.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, ""),
		// versitygw validates checksums itself; only send them when required.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenRequired,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenRequired,
	}
	if httpClient != nil {
		opts.HTTPClient = httpClient
	}
	return s3.New(opts)
}

func rootCredentials(access, secret string) aws.Credentials {
	return aws.Credentials{AccessKeyID: access, SecretAccessKey: secret, Source: "countersign-sandbox"}
}

// requestLog collects the fields of the one debug line logged per request.
type requestLog struct {
	payload   string // how the body was signed, never a signature
	service   string
	operation string
	bucket    string
	key       string
	principal string
}

// statusRecorder remembers the status code sent, for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(p []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(p)
	s.bytes += int64(n)
	return n, err
}

func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (f *Front) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()

	// Go's server sends "100 Continue" only when a handler reads the body,
	// and an empty body is never read. Clients such as the AWS CLI, which
	// sends "Expect: 100-continue" on every PutObject, then take the final
	// response for the interim one and stall until their read timeout.
	if r.ContentLength == 0 && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		w.WriteHeader(http.StatusContinue)
	}
	rec := &statusRecorder{ResponseWriter: w}
	info := &requestLog{}

	if !f.faults.Intercept(rec, r) {
		f.serve(rec, r, info)
	}

	// Keys, tokens and signatures stay out of the log.
	zerolog.Ctx(r.Context()).Debug().
		Str("method", r.Method).
		Str("service", info.service).
		Str("operation", info.operation).
		Str("bucket", info.bucket).
		Str("key", info.key).
		Str("principal", info.principal).
		Str("payload", info.payload).
		Int("status", rec.status).
		Int64("bytes_out", rec.bytes).
		Float64("duration_ms", float64(time.Since(start).Microseconds())/1000).
		Msg("request")
}

func (f *Front) serve(w http.ResponseWriter, r *http.Request, info *requestLog) {
	requestID := newRequestID()

	auth, failure := parseSigV4(r)
	service := "s3"
	switch {
	case auth != nil:
		service = auth.service
	case r.Method == http.MethodPost && r.URL.Path == "/" &&
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		// Without a readable credential scope, a form POST to / is STS's
		// query protocol; S3 has no such operation.
		service = "sts"
	}
	info.service = service

	switch service {
	case "s3":
		f.serveS3(w, r, requestID, auth, failure, info)
	case "sts":
		f.serveSTS(w, r, requestID, auth, failure, info)
	default:
		writeS3Error(w, r, requestID, &s3Error{
			Status:  http.StatusBadRequest,
			Code:    "AuthorizationHeaderMalformed",
			Message: "The credential scope names the service " + strconv.Quote(service) + "; this endpoint serves s3 and sts.",
		})
	}
}

// authenticate finds the identity whose key signed r and checks the
// signature, the session token, its expiration, the region and the time.
func (f *Front) authenticate(r *http.Request, auth *sigV4Request, payloadHash string) (*Identity, *authFailure) {
	id, ok := f.dir.ByAccessKey(auth.accessKeyID)
	if !ok {
		id, ok = f.sessions.Get(auth.accessKeyID)
	}
	if !ok {
		fail := authFail(authUnknownKey, "The AWS Access Key Id you provided does not exist in our records.")
		fail.accessKeyID = auth.accessKeyID
		return nil, fail
	}

	switch {
	case id.SessionToken != "" && auth.securityToken == "":
		// Temporary keys without their token are unknown to AWS.
		fail := authFail(authUnknownKey, "The AWS Access Key Id you provided does not exist in our records.")
		fail.accessKeyID = auth.accessKeyID
		return nil, fail
	case id.SessionToken == "" && auth.securityToken != "":
		return nil, authFail(authInvalidToken, "The provided token is malformed or otherwise invalid.")
	case subtle.ConstantTimeCompare([]byte(id.SessionToken), []byte(auth.securityToken)) != 1:
		return nil, authFail(authInvalidToken, "The provided token is malformed or otherwise invalid.")
	case !id.Expiration.IsZero() && !f.now().Before(id.Expiration):
		// Checked before the request time, so that a test that moves the
		// front's clock past the expiration gets this error and not a skew.
		return nil, authFail(authExpiredToken, "The provided token has expired.")
	}

	if auth.region != f.region {
		fail := authFail(authWrongRegion, "the region '%s' is wrong; expecting '%s'", auth.region, f.region)
		fail.region = f.region
		return nil, fail
	}
	if fail := auth.checkTime(f.now()); fail != nil {
		return nil, fail
	}
	if fail := auth.verify(r, id.SecretAccessKey, payloadHash); fail != nil {
		return nil, fail
	}
	return id, nil
}
