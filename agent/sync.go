package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/alecthomas/kong"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/s3sync"
)

type syncCmd struct {
	Source      string `arg:"" help:"Local directory to upload." type:"path"`
	Destination string `arg:"" help:"Destination as s3://BUCKET/PREFIX."`

	BucketOwner      string        `help:"Account id that must own the bucket; sent as ExpectedBucketOwner on every request." env:"COUNTERSIGN_BUCKET_OWNER" name:"bucket-owner"`
	Delete           bool          `help:"Delete destination keys that have no source file (never keys the filters exclude)."`
	MaxDelete        int           `help:"Refuse to delete more than this many keys; -1 for no limit." default:"-1" name:"max-delete"`
	MaxDeletePercent float64       `help:"Refuse to delete more than this percentage of the destination's keys; 0 for no limit." default:"50" name:"max-delete-percent"`
	Exclude          excludeFlag   `help:"Exclude paths matching the pattern (repeatable; the last matching --exclude or --include wins)." placeholder:"PATTERN"`
	Include          includeFlag   `help:"Include paths matching the pattern, overriding an earlier --exclude (repeatable)." placeholder:"PATTERN"`
	DryRun           bool          `help:"Print what would be uploaded and deleted, and change nothing." name:"dryrun"`
	Concurrency      int           `help:"Files hashed and requests in flight at once." default:"32"`
	PartSize         string        `help:"Multipart part size (grown to stay under 10,000 parts), e.g. 8MiB." default:"8MiB" name:"part-size"`
	Threshold        string        `help:"Files at least this large upload in parts." default:"8MiB" name:"multipart-threshold"`
	AllowFailedBuild bool          `help:"Deliver even when CODEBUILD_BUILD_SUCCEEDING=0 says the build failed." name:"allow-failed-build"`
	Progress         string        `help:"Progress display: auto (a bar on a terminal, lines elsewhere), bar, lines or none." default:"auto" enum:"auto,bar,lines,none"`
	ProgressInterval time.Duration `help:"Time between progress lines." default:"5s" name:"progress-interval"`
	Report           string        `help:"Write a JSON report of uploaded, skipped, deleted and failed keys to this file." type:"path"`

	uploadHeaderFlags

	filters []s3sync.Filter
}

// excludeFlag and includeFlag mark the two filter flags. Their values live
// in syncCmd.filters, in the order given, because the last matching filter
// wins; see filterMappers.
type (
	excludeFlag struct{}
	includeFlag struct{}
)

// filterMappers decode --exclude and --include into one ordered list.
func filterMappers(into *[]s3sync.Filter) []kong.Option {
	mapper := func(exclude bool) kong.MapperFunc {
		return func(ctx *kong.DecodeContext, _ reflect.Value) error {
			var pattern string
			if err := ctx.Scan.PopValueInto("pattern", &pattern); err != nil {
				return err
			}
			*into = append(*into, s3sync.Filter{Exclude: exclude, Pattern: pattern})
			return nil
		}
	}
	return []kong.Option{
		kong.TypeMapper(reflect.TypeFor[excludeFlag](), mapper(true)),
		kong.TypeMapper(reflect.TypeFor[includeFlag](), mapper(false)),
	}
}

func (c *syncCmd) Run(ctx context.Context, g *globals) error {
	bucket, prefix, err := parseS3URL(c.Destination)
	if err != nil {
		return err
	}
	partSize, err := parseSize("--part-size", c.PartSize)
	if err != nil {
		return err
	}
	threshold, err := parseSize("--multipart-threshold", c.Threshold)
	if err != nil {
		return err
	}
	if c.Concurrency < 1 || c.Concurrency > 512 {
		return fmt.Errorf("invalid --concurrency %d: use 1 to 512: %w", c.Concurrency, exitcode.ErrUsage)
	}
	if err := checkBucketOwner(c.BucketOwner); err != nil {
		return err
	}
	if c.Report != "" {
		// A report that cannot be written would fail only after the
		// transfer, so the path is checked before any request.
		if err := s3sync.CheckReportPath(c.Report); err != nil {
			return err
		}
	}

	opts := s3sync.Options{
		Source:              c.Source,
		Bucket:              bucket,
		Prefix:              prefix,
		ExpectedBucketOwner: c.BucketOwner,
		Delete:              c.Delete,
		MaxDelete:           c.MaxDelete,
		MaxDeletePercent:    c.MaxDeletePercent,
		Filters:             c.filters,
		DryRun:              c.DryRun,
		Concurrency:         c.Concurrency,
		Headers:             c.headers(),
		PartSize:            partSize,
		MultipartThreshold:  threshold,
		BuildFailed:         os.Getenv("CODEBUILD_BUILD_SUCCEEDING") == "0",
		AllowFailedBuild:    c.AllowFailedBuild,
		Progress:            s3sync.ProgressMode(c.Progress),
		ProgressOut:         g.stderr,
		ProgressInterval:    c.ProgressInterval,
		Out:                 g.stdout,
	}
	if err := opts.Headers.Validate(); err != nil {
		return err
	}
	if c.BucketOwner == "" {
		zerolog.Ctx(ctx).Warn().Str("bucket", bucket).Msg("no --bucket-owner: requests will not check that the bucket belongs to the expected account")
	}

	cl, err := g.clients(ctx, c.Concurrency)
	if err != nil {
		return err
	}

	report, runErr := s3sync.Run(ctx, cl.S3, opts)
	if report != nil && c.Report != "" {
		if err := report.WriteFile(c.Report); err != nil {
			return errors.Join(err, runErr)
		}
	}
	return runErr
}

// parseS3URL splits s3://BUCKET/PREFIX.
func parseS3URL(s string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(s, "s3://")
	if !ok {
		return "", "", fmt.Errorf("invalid destination %q: use s3://BUCKET/PREFIX: %w", s, exitcode.ErrUsage)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", fmt.Errorf("invalid destination %q: the bucket name is missing; use s3://BUCKET/PREFIX: %w", s, exitcode.ErrUsage)
	}
	return bucket, strings.Trim(prefix, "/"), nil
}

// parseSize reads sizes such as 8MiB, 16MB, 1GiB or a byte count.
func parseSize(flag, s string) (int64, error) {
	units := []struct {
		suffix string
		factor int64
	}{
		{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
		{"GB", 1_000_000_000}, {"MB", 1_000_000}, {"KB", 1_000}, {"B", 1},
	}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			var n int64
			if _, err := fmt.Sscanf(num, "%d", &n); err != nil || n <= 0 || fmt.Sprint(n) != num {
				break
			}
			return n * u.factor, nil
		}
	}
	var n int64
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && n > 0 && fmt.Sprint(n) == s {
		return n, nil
	}
	return 0, fmt.Errorf("invalid %s %q: use a positive size such as 8MiB, 64MiB or 1GiB: %w", flag, s, exitcode.ErrUsage)
}
