// Package awsclient builds the AWS SDK clients that countersign uses, from
// the SDK's standard credential and endpoint chain.
package awsclient

import (
	"context"
	"net/http"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/rs/zerolog"
)

// Options are the settings a command may override. Empty fields keep the
// SDK's defaults, which read the environment, the shared config files and,
// inside CodeBuild, the container credentials endpoint.
type Options struct {
	Region      string
	Profile     string
	EndpointURL string // applies to S3 and STS; overrides AWS_ENDPOINT_URL*
	MaxConns    int    // idle connections kept per host; at least the transfer concurrency
}

// Clients are the configured service clients.
type Clients struct {
	Config aws.Config
	S3     *s3.Client
	STS    *sts.Client
}

// New loads the AWS configuration and the credentials, and returns the S3
// and STS clients. Requests use path-style addressing whenever an endpoint
// override is in effect, because local S3 servers do not serve
// virtual-hosted buckets.
//
// A malformed endpoint URL or a missing profile returns an error wrapping
// exitcode.ErrUsage, and missing credentials a *MissingCredentialsError.
// Requests that AWS rejects for their credentials fail with a
// *RejectedCredentialsError.
func New(ctx context.Context, opts Options) (*Clients, error) {
	if err := checkEndpoints(opts.EndpointURL); err != nil {
		return nil, err
	}

	maxConns := max(opts.MaxConns, 16)
	httpClient := awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = maxConns * 2
		t.MaxIdleConnsPerHost = maxConns
	})

	loadOpts := []func(*config.LoadOptions) error{
		config.WithHTTPClient(httpClient),
		// S3 returns SlowDown when a prefix is hot, which is when a sync of
		// thousands of files needs its retries most. The default retry
		// quota runs dry after a burst of such errors and then fails
		// requests without retrying, so it is off. The per-request attempt
		// limit and the backoff still bound the retries.
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 6
				o.RateLimiter = ratelimit.None
			})
		}),
		config.WithLogger(sdkLogger{log: zerolog.Ctx(ctx)}),
	}
	if zerolog.Ctx(ctx).GetLevel() <= zerolog.DebugLevel {
		// Each retry then gets a debug line with the attempt and the error.
		loadOpts = append(loadOpts, config.WithClientLogMode(aws.LogRetries))
	}
	if opts.Region != "" {
		loadOpts = append(loadOpts, config.WithRegion(opts.Region))
	}
	if opts.Profile != "" {
		loadOpts = append(loadOpts, config.WithSharedConfigProfile(opts.Profile))
	}
	if opts.EndpointURL != "" {
		loadOpts = append(loadOpts, config.WithBaseEndpoint(opts.EndpointURL))
	}

	cfg, err := config.LoadDefaultConfig(ctx, loadOpts...)
	if err != nil {
		return nil, explainLoadError(err, opts.Profile)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if err := retrieveCredentials(ctx, cfg); err != nil {
		return nil, err
	}
	cfg.APIOptions = append(cfg.APIOptions, credentialHint(cfg.Credentials))

	pathStyle := endpointOverridden(opts.EndpointURL, "S3")
	s3Client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		o.UsePathStyle = pathStyle
		// Uploads carry a CRC32C checksum that S3 verifies, so a SHA-256 of
		// every payload for the signature would only spend CPU twice, on
		// both ends of the connection.
		o.APIOptions = append(o.APIOptions, v4.SwapComputePayloadSHA256ForUnsignedPayloadMiddleware)
		if opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(opts.EndpointURL)
		}
	})
	stsClient := sts.NewFromConfig(cfg, func(o *sts.Options) {
		if opts.EndpointURL != "" {
			o.BaseEndpoint = aws.String(opts.EndpointURL)
		}
	})

	return &Clients{Config: cfg, S3: s3Client, STS: stsClient}, nil
}

// endpointOverridden reports whether the flag or one of the SDK's endpoint
// variables points the service somewhere other than AWS.
func endpointOverridden(flagValue, service string) bool {
	if flagValue != "" {
		return true
	}
	if os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return false
	}
	return os.Getenv("AWS_ENDPOINT_URL_"+service) != "" || os.Getenv("AWS_ENDPOINT_URL") != ""
}

// sdkLogger sends the SDK's own log lines (retries, credential fallbacks)
// through the command's zerolog logger, so they share its format.
type sdkLogger struct {
	log *zerolog.Logger
}

func (l sdkLogger) Logf(classification logging.Classification, format string, v ...any) {
	ev := l.log.Debug()
	if classification == logging.Warn {
		ev = l.log.Warn()
	}
	ev.Str("component", "aws-sdk").Msgf(format, v...)
}
