package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/audit"
)

// deadlineMargin is kept free before the invocation's deadline, so a slow
// S3 call fails with an error the function returns instead of Lambda
// stopping it without one.
const deadlineMargin = 500 * time.Millisecond

// stsAPI is the STS call that finds the function's own account.
type stsAPI interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// handler audits the bucket on each invocation.
type handler struct {
	s3     audit.S3API
	sts    stsAPI
	getenv func(string) string

	// metrics receives the EMF lines: standard output in Lambda, which
	// CloudWatch Logs reads them from.
	metrics io.Writer
	now     func() time.Time

	mu      sync.Mutex
	account string // the function's account, once known
}

// resolveAccount finds the function's own account with GetCallerIdentity,
// unless COUNTERSIGN_BUCKET_OWNER names the bucket owner. main calls it at
// init; an invocation calls it again only when that failed.
func (h *handler) resolveAccount(ctx context.Context) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()

	if h.account != "" {
		return h.account, nil
	}

	out, err := h.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("find the function's account with sts:GetCallerIdentity, which is the bucket owner unless %s is set: %w", envBucketOwner, err)
	}

	h.account = aws.ToString(out.Account)

	return h.account, nil
}

// Invoke implements lambda.Handler, so that the payload reaches Handle as
// sent. Handed a json.RawMessage, the runtime would reject a payload that
// is not JSON with a bare decoder error before Handle could name the fix.
func (h *handler) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	rep, err := h.Handle(ctx, payload)
	if err != nil {
		return nil, err
	}

	out, err := json.Marshal(rep)
	if err != nil {
		return nil, fmt.Errorf("encode the report: %w", err)
	}

	return out, nil
}

// Handle runs one audit. It returns an error only when the audit could not
// run, so that Lambda's Errors metric counts exactly those invocations.
func (h *handler) Handle(ctx context.Context, payload json.RawMessage) (*audit.Report, error) {
	log := zerolog.Ctx(ctx).With().Logger()
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		log = log.With().Str("request_id", lc.AwsRequestID).Logger()
	}

	inv, err := parseInvocation(h.getenv, payload)
	if err != nil {
		log.Error().Err(err).Msg("audit not run")
		return nil, err
	}

	if inv.cfg.BucketOwner == "" {
		inv.cfg.BucketOwner, err = h.resolveAccount(ctx)
		if err != nil {
			log.Error().Err(err).Msg("audit not run")
			return nil, err
		}
	}

	log = log.With().Str("bucket", inv.cfg.Bucket).Bool("scheduled", inv.scheduled).Logger()
	ctx = log.WithContext(ctx)

	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline.Add(-deadlineMargin))
		defer cancel()
	}

	rep, err := audit.Run(ctx, h.s3, inv.cfg)
	if err != nil {
		err = inv.nameSource(err)
		log.Error().Err(err).Msg("audit not run")

		return nil, err
	}

	audit.LogFindings(ctx, rep)

	summary := log.Info().Str("mode", string(rep.Mode)).Int("findings", len(rep.Findings))
	for _, s := range audit.Severities {
		summary = summary.Int(string(s), rep.Counts[s])
	}

	if rep.Enforce != nil {
		summary = summary.Bool("policy_written", rep.Enforce.Changed).Str("enforce_skipped", rep.Enforce.Skipped)
	}

	summary.Msg("audit summary")

	if err := writeEMF(h.metrics, rep, h.now()); err != nil {
		// The report is still returned: a lost metric line must not turn a
		// finished audit into a failed invocation.
		log.Error().Err(err).Msg("metric line not written")
	}

	return rep, nil
}
