package main

import (
	"context"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/explain"
)

// explainCmd checks the policy documents offline. It builds no AWS client.
type explainCmd struct {
	RoleARN      string   `help:"Build role ARN with its path, or with --cdk-out the role's ARN or name." name:"role-arn"`
	RolePolicy   []string `help:"Identity policy file of the role; repeat for each policy." name:"role-policy"`
	BucketPolicy string   `help:"Bucket policy file." name:"bucket-policy"`
	TrustPolicy  string   `help:"Trust policy file of the role; adds an sts:AssumeRole check for codebuild.amazonaws.com." name:"trust-policy"`
	Bucket       string   `help:"Destination bucket name; with --cdk-out, defaults to the project's COUNTERSIGN_BUCKET."`
	BucketOwner  string   `help:"Account id that owns the bucket; with --cdk-out, defaults to the project's COUNTERSIGN_BUCKET_OWNER, then to the bucket policy stack's account; otherwise the bucket is taken to be in the role's account." name:"bucket-owner"`
	Prefix       string   `help:"Key prefix sync writes under; the default key and the s3:prefix of the list check use it. With --cdk-out, defaults to the project's COUNTERSIGN_PREFIX."`
	Key          string   `help:"Object key checked for object actions; defaults to PREFIX/countersign-explain-probe."`
	Action       []string `help:"S3 action to check, such as s3:PutObject; repeat for each. Replaces the default s3:ListBucket, s3:PutObject, s3:GetObject and s3:DeleteObject."`
	ProjectARN   string   `help:"CodeBuild project ARN, sent as aws:SourceArn in the trust check. With --cdk-out, defaults to the ARN of the project whose service role is the build role." name:"project-arn"`
	CDKOut       string   `help:"Cloud assembly folder (cdk.out) to read the role, its policies, the bucket policy and the CodeBuild project that uses the role from." name:"cdk-out"`
	Output       string   `help:"Output format: text or json." default:"text" enum:"text,json"`
}

func (c *explainCmd) Run(ctx context.Context, g *globals) error {
	in, err := c.input()
	if err != nil {
		return err
	}

	rep, err := explain.Check(in)
	if err != nil {
		return err
	}

	zerolog.Ctx(ctx).Debug().Str("role", rep.RoleARN).Str("bucket", rep.Bucket).Int("actions", len(rep.Results)).Msg("explain checked")

	if c.Output == "json" {
		err = explain.WriteJSON(g.stdout, rep)
	} else {
		err = explain.WriteText(g.stdout, rep)
	}

	if err != nil {
		return err
	}

	if rep.Denied() {
		return fmt.Errorf("explain: the policies deny at least one action: %w", exitcode.ErrAccessDenied)
	}

	return nil
}

// input checks the flags and reads the documents they name.
func (c *explainCmd) input() (explain.Input, error) {
	if err := checkBucketOwner(c.BucketOwner); err != nil {
		return explain.Input{}, err
	}

	in := explain.Input{
		RoleARN:     c.RoleARN,
		BucketName:  c.Bucket,
		BucketOwner: c.BucketOwner,
		Prefix:      c.Prefix,
		Key:         c.Key,
		Actions:     c.Action,
		ProjectARN:  c.ProjectARN,
	}

	if c.CDKOut != "" {
		return c.cdkInput(in)
	}

	var missing []string

	if c.RoleARN == "" {
		missing = append(missing, "--role-arn")
	}

	if len(c.RolePolicy) == 0 {
		missing = append(missing, "--role-policy")
	}

	if c.BucketPolicy == "" {
		missing = append(missing, "--bucket-policy")
	}

	if c.Bucket == "" {
		missing = append(missing, "--bucket")
	}

	if len(missing) > 0 {
		return in, fmt.Errorf("explain: missing flags %v; pass them, or --cdk-out with a cloud assembly: %w", missing, exitcode.ErrUsage)
	}

	for _, path := range c.RolePolicy {
		d, err := explain.ReadDocument(path)
		if err != nil {
			return in, err
		}

		in.Identity = append(in.Identity, d)
	}

	bucket, err := explain.ReadDocument(c.BucketPolicy)
	if err != nil {
		return in, err
	}

	in.Bucket = bucket

	if c.TrustPolicy != "" {
		trust, err := explain.ReadDocument(c.TrustPolicy)
		if err != nil {
			return in, err
		}

		in.Trust = &trust
	}

	return in, nil
}

func (c *explainCmd) cdkInput(in explain.Input) (explain.Input, error) {
	if len(c.RolePolicy) > 0 || c.BucketPolicy != "" || c.TrustPolicy != "" {
		return in, fmt.Errorf("explain: --cdk-out reads the documents from the cloud assembly; drop --role-policy, --bucket-policy and --trust-policy: %w", exitcode.ErrUsage)
	}

	a, err := explain.LoadCDK(c.CDKOut, explain.CDKOptions{
		Role:        c.RoleARN,
		Bucket:      c.Bucket,
		BucketOwner: c.BucketOwner,
		Prefix:      c.Prefix,
		ProjectARN:  c.ProjectARN,
	})
	if err != nil {
		return in, err
	}

	in.RoleARN, in.Identity, in.Bucket, in.Trust = a.RoleARN, a.Identity, a.Bucket, a.Trust
	in.BucketName, in.BucketOwner = a.BucketName, a.BucketOwner
	in.Prefix, in.ProjectARN = a.Prefix, a.ProjectARN
	in.Defaults, in.Notes = a.Defaults, a.Notes

	return in, nil
}
