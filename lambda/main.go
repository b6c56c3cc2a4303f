// Command bootstrap is the audit Lambda for the provided.al2023 runtime.
// On an EventBridge schedule, or when invoked directly, it audits the
// delivery bucket of its own account with internal/audit, logs one JSON
// line per finding and a summary, writes CloudWatch Embedded Metric Format
// lines, and returns the report.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/awsclient"
	"github.com/countersign/countersign/internal/logging"
)

// initTimeout bounds the STS call at init, which Lambda limits to 10 s.
const initTimeout = 5 * time.Second

func main() {
	level := os.Getenv(envLogLevel)
	if level == "" {
		level = "info"
	}

	log, err := logging.New(os.Stdout, logging.FormatJSON, level)
	if err != nil {
		log = zerolog.New(os.Stdout).With().Timestamp().Logger()
		log.Warn().Err(err).Str("variable", envLogLevel).Msg("invalid log level; using info")
	}

	ctx := log.WithContext(context.Background())

	h, err := newHandler(ctx)
	if err != nil {
		// Lambda reports an init failure and tries init again on the next
		// invocation.
		log.Error().Err(err).Msg("init failed")
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}

	lambda.StartWithOptions(h, lambda.WithContext(ctx))
}

// newHandler builds the AWS clients from the function's environment and
// finds its account once, unless COUNTERSIGN_BUCKET_OWNER is set.
func newHandler(ctx context.Context) (*handler, error) {
	clients, err := awsclient.New(ctx, awsclient.Options{})
	if err != nil {
		return nil, err
	}

	h := &handler{s3: clients.S3, sts: clients.STS, getenv: os.Getenv, metrics: os.Stdout, now: time.Now}

	if os.Getenv(envBucketOwner) == "" {
		initCtx, cancel := context.WithTimeout(ctx, initTimeout)
		defer cancel()

		if _, err := h.resolveAccount(initCtx); err != nil {
			// The first invocation tries again and fails with this error
			// if STS still fails.
			zerolog.Ctx(ctx).Warn().Err(err).Msg("account not resolved at init")
		}
	}

	return h, nil
}
