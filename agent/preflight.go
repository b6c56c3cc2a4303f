package main

import (
	"context"
	"os"

	"github.com/countersign/countersign/internal/identity"
	"github.com/countersign/countersign/internal/preflight"
	"github.com/countersign/countersign/internal/s3sync"
)

type preflightCmd struct {
	Bucket      string `help:"Destination bucket." env:"COUNTERSIGN_BUCKET"`
	Prefix      string `help:"Key prefix sync will write under; the canary goes to PREFIX/.countersign/." env:"COUNTERSIGN_PREFIX"`
	BucketOwner string `help:"Account id that must own the bucket; sent as ExpectedBucketOwner on every request." env:"COUNTERSIGN_BUCKET_OWNER" name:"bucket-owner"`
	ExpectRole  string `help:"Role ARN the credentials must belong to." env:"COUNTERSIGN_ROLE_ARN" name:"expect-role"`
	Output      string `help:"Output format: text or json." default:"text" enum:"text,json"`

	uploadHeaderFlags
}

// uploadHeaderFlags are the headers sync sends; preflight's canary sends
// them too.
type uploadHeaderFlags struct {
	ACL          string `help:"Canned ACL for uploads; only bucket-owner-full-control is accepted by buckets with Object Ownership \"bucket owner enforced\"." name:"acl" env:"COUNTERSIGN_ACL"`
	SSE          string `help:"Server-side encryption for uploads: AES256 or aws:kms." name:"sse"`
	SSEKMSKeyID  string `help:"KMS key id or ARN for --sse aws:kms." name:"sse-kms-key-id"`
	CacheControl string `help:"Cache-Control header for uploads." name:"cache-control"`
}

func (f uploadHeaderFlags) headers() s3sync.ObjectHeaders {
	return s3sync.ObjectHeaders{ACL: f.ACL, SSE: f.SSE, SSEKMSKeyID: f.SSEKMSKeyID, CacheControl: f.CacheControl}
}

func (c *preflightCmd) Run(ctx context.Context, g *globals) error {
	if err := checkBucketOwner(c.BucketOwner); err != nil {
		return err
	}

	cl, err := g.clients(ctx, 0)
	if err != nil {
		return err
	}

	res, err := preflight.Run(ctx, cl.S3, cl.STS, preflight.Options{
		Bucket:      c.Bucket,
		Prefix:      c.Prefix,
		BucketOwner: c.BucketOwner,
		Identity: identity.Options{
			ExpectRole:        c.ExpectRole,
			CodeBuildBuildARN: os.Getenv("CODEBUILD_BUILD_ARN"),
		},
		Headers: c.headers(),
	})
	if res == nil {
		return err
	}

	if c.Output == "json" {
		if encErr := writeJSON(g.stdout, res); encErr != nil {
			return encErr
		}
	} else {
		preflight.WriteText(g.stdout, res)
	}
	return err
}
