package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/audit"
	"github.com/countersign/countersign/internal/exitcode"
)

// auditCmd runs the audit Lambda's checks with the dev account's
// credentials.
type auditCmd struct {
	Bucket         string   `help:"Bucket to audit." env:"COUNTERSIGN_BUCKET"`
	BucketOwner    string   `help:"Account id that owns the bucket, sent as ExpectedBucketOwner; defaults to the account of the credentials." env:"COUNTERSIGN_BUCKET_OWNER" name:"bucket-owner"`
	ExpectRole     []string `help:"Build role ARN, with its path, that must be able to deliver; repeat for each role." env:"COUNTERSIGN_ROLE_ARNS,COUNTERSIGN_ROLE_ARN" name:"expect-role"`
	RequiredAction []string `help:"S3 action each role needs, such as s3:PutObject; repeat for each. Defaults to s3:ListBucket, s3:PutObject, s3:GetObject and s3:DeleteObject." env:"COUNTERSIGN_REQUIRED_ACTIONS" name:"required-action"`
	AllowedAccount []string `help:"Account id that may be granted access besides the expected roles; repeat for each." env:"COUNTERSIGN_ALLOWED_ACCOUNTS" name:"allowed-account"`
	Prefix         string   `help:"Key prefix sync writes under; object actions are checked under it." env:"COUNTERSIGN_PREFIX"`
	Mode           string   `help:"report only reads; enforce also rewrites the statements it owns in the bucket policy (CountersignManagedAccess, and CountersignManagedList when a prefix limits listing)." default:"report" enum:"report,enforce" env:"COUNTERSIGN_MODE"`
	FailOn         string   `help:"Exit 6 when a finding has this severity or a more serious one: critical, high, medium, low or info." default:"high" enum:"critical,high,medium,low,info" name:"fail-on"`
	Output         string   `help:"Output format: text or json." default:"text" enum:"text,json"`
}

// auditFlags names each configuration field as the command line sets it.
var auditFlags = map[audit.Field]string{
	audit.FieldBucket:          "--bucket",
	audit.FieldBucketOwner:     "--bucket-owner",
	audit.FieldRoleARNs:        "--expect-role",
	audit.FieldRequiredActions: "--required-action",
	audit.FieldPrefix:          "--prefix",
	audit.FieldAllowedAccounts: "--allowed-account",
	audit.FieldMode:            "--mode",
}

func (c *auditCmd) Run(ctx context.Context, g *globals) error {
	failOn, err := audit.ParseSeverity(c.FailOn)
	if err != nil {
		return fmt.Errorf("--fail-on: %w: %w", err, exitcode.ErrUsage)
	}

	cfg := audit.Config{
		Bucket:          c.Bucket,
		BucketOwner:     c.BucketOwner,
		RoleARNs:        c.ExpectRole,
		RequiredActions: c.RequiredAction,
		Prefix:          c.Prefix,
		AllowedAccounts: c.AllowedAccount,
		Mode:            audit.Mode(c.Mode),
	}

	// Check the flags before any AWS call, with a placeholder owner when
	// the owner comes from the credentials.
	probe := cfg
	if probe.BucketOwner == "" {
		probe.BucketOwner = "000000000000"
	}

	if _, err := probe.Normalize(); err != nil {
		return nameFlag(err)
	}

	cl, err := g.clients(ctx, 0)
	if err != nil {
		return err
	}

	if cfg.BucketOwner == "" {
		out, err := cl.STS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return fmt.Errorf("audit: GetCallerIdentity failed, so the bucket owner is unknown; pass --bucket-owner: %w", err)
		}

		cfg.BucketOwner = aws.ToString(out.Account)
	}

	rep, err := audit.Run(ctx, cl.S3, cfg)
	if err != nil {
		return nameFlag(err)
	}

	if c.Output == "json" {
		err = audit.WriteJSON(g.stdout, rep)
	} else {
		err = audit.WriteText(g.stdout, rep)
	}

	if err != nil {
		return err
	}

	failing := rep.AtOrAbove(failOn)
	zerolog.Ctx(ctx).Debug().Str("bucket", rep.Bucket).Int("findings", len(rep.Findings)).Int("failing", len(failing)).Msg("audit finished")

	if rep.Enforce != nil && rep.Enforce.Skipped != "" {
		return fmt.Errorf("audit: enforce left the bucket policy unchanged: %s: %w", rep.Enforce.Skipped, exitcode.ErrRefused)
	}

	if len(failing) > 0 {
		return fmt.Errorf("audit: %d of %d findings are %s or more serious: %w", len(failing), len(rep.Findings), failOn, exitcode.ErrFindings)
	}

	return nil
}

// nameFlag rewrites a configuration error to name the flag.
func nameFlag(err error) error {
	var ce *audit.ConfigError
	if errors.As(err, &ce) {
		ce.Name = auditFlags[ce.Field]
	}

	return err
}
