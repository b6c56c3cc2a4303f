package audit

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
)

// S3 error codes that mean a setting is absent rather than unreadable.
const (
	codeNoSuchBucketPolicy        = "NoSuchBucketPolicy"
	codeNoOwnershipControls       = "OwnershipControlsNotFoundError"
	codeNoPublicAccessBlock       = "NoSuchPublicAccessBlockConfiguration"
	codeNoEncryptionConfiguration = "ServerSideEncryptionConfigurationNotFoundError"
)

// State is the bucket settings the audit reads.
type State struct {
	// Policy is the bucket policy as S3 returned it, or nil when the
	// bucket has none.
	Policy []byte

	// Ownership is the Object Ownership rule, or "" when the bucket has
	// no ownership controls, which S3 treats as ObjectWriter.
	Ownership types.ObjectOwnership

	// PublicAccessBlock is nil when the bucket has none, which leaves
	// every flag off.
	PublicAccessBlock *types.PublicAccessBlockConfiguration

	// Encryption contains the default encryption rules, empty when none.
	Encryption []types.ServerSideEncryptionRule
}

// readState reads the four settings at once. Every request carries
// ExpectedBucketOwner, so a bucket that moved to another account fails the
// audit instead of being audited.
func readState(ctx context.Context, client S3API, cfg Config) (State, error) {
	var st State

	bucket, owner := aws.String(cfg.Bucket), aws.String(cfg.BucketOwner)
	log := zerolog.Ctx(ctx).With().Str("bucket", cfg.Bucket).Logger()

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)

	g.Go(func() error {
		out, err := client.GetBucketPolicy(gctx, &s3.GetBucketPolicyInput{Bucket: bucket, ExpectedBucketOwner: owner})
		if absent(err, codeNoSuchBucketPolicy) {
			log.Debug().Msg("bucket has no policy")
			return nil
		}

		if err != nil {
			return readError("bucket policy", "s3:GetBucketPolicy", cfg, err)
		}

		st.Policy = []byte(aws.ToString(out.Policy))
		log.Debug().Int("bytes", len(st.Policy)).Msg("bucket policy read")

		return nil
	})

	g.Go(func() error {
		out, err := client.GetBucketOwnershipControls(gctx, &s3.GetBucketOwnershipControlsInput{Bucket: bucket, ExpectedBucketOwner: owner})
		if absent(err, codeNoOwnershipControls) {
			return nil
		}

		if err != nil {
			return readError("ownership controls", "s3:GetBucketOwnershipControls", cfg, err)
		}

		if out.OwnershipControls != nil && len(out.OwnershipControls.Rules) > 0 {
			st.Ownership = out.OwnershipControls.Rules[0].ObjectOwnership
		}

		return nil
	})

	g.Go(func() error {
		out, err := client.GetPublicAccessBlock(gctx, &s3.GetPublicAccessBlockInput{Bucket: bucket, ExpectedBucketOwner: owner})
		if absent(err, codeNoPublicAccessBlock) {
			return nil
		}

		if err != nil {
			return readError("public access block", "s3:GetBucketPublicAccessBlock", cfg, err)
		}

		st.PublicAccessBlock = out.PublicAccessBlockConfiguration

		return nil
	})

	g.Go(func() error {
		out, err := client.GetBucketEncryption(gctx, &s3.GetBucketEncryptionInput{Bucket: bucket, ExpectedBucketOwner: owner})
		if absent(err, codeNoEncryptionConfiguration) {
			return nil
		}

		if err != nil {
			return readError("default encryption", "s3:GetEncryptionConfiguration", cfg, err)
		}

		if out.ServerSideEncryptionConfiguration != nil {
			st.Encryption = out.ServerSideEncryptionConfiguration.Rules
		}

		return nil
	})

	if err := g.Wait(); err != nil {
		return State{}, err
	}

	return st, nil
}

// absent reports whether err is the S3 error that means the setting is
// not configured.
func absent(err error, code string) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == code
}

func readError(setting, action string, cfg Config, err error) error {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDenied" {
		// S3's message names an explicit Deny when one matched. No Allow can
		// override it, so the Deny must make an exception for the auditor.
		if strings.Contains(strings.ToLower(apiErr.ErrorMessage()), "explicit deny") {
			return fmt.Errorf("read the %s of bucket %s: access denied by an explicit Deny: a Deny statement (in the bucket policy, or a service control policy) matches %s for these credentials; add an exception for the audit's principal to it, for example an aws:PrincipalArn condition: %w", setting, cfg.Bucket, action, err)
		}

		return fmt.Errorf("read the %s of bucket %s: access denied: the credentials need %s on the bucket, run with the credentials of account %s, which must own the bucket: %w", setting, cfg.Bucket, action, cfg.BucketOwner, err)
	}

	return fmt.Errorf("read the %s of bucket %s: %w", setting, cfg.Bucket, err)
}
