// Command countersign is the build-step binary: it checks the build's
// identity, dry-runs access to the destination bucket, and syncs artifacts.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kong"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/awsclient"
	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/logging"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()

	code := exitcode.For(err)
	if err != nil {
		fmt.Fprintf(os.Stderr, "countersign: %s\n", exitcode.Message(err))
	}
	os.Exit(code)
}

// globals are the flags every command takes.
type globals struct {
	Version kong.VersionFlag `help:"Print the version and exit." short:"v"`

	LogLevel    string `help:"Log level: trace, debug, info, warn or error." default:"info" env:"COUNTERSIGN_LOG_LEVEL"`
	LogFormat   string `help:"Log format: auto (console on a terminal, JSON elsewhere), json or console." default:"auto" enum:"auto,json,console" env:"COUNTERSIGN_LOG_FORMAT"`
	Region      string `help:"AWS region; defaults to the SDK's chain (AWS_REGION, profile)."`
	Profile     string `help:"Shared config profile; defaults to AWS_PROFILE or none."`
	EndpointURL string `help:"Endpoint URL for S3 and STS, for S3-compatible servers; implies path-style addressing. Defaults to AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL_STS." name:"endpoint-url"`

	stdout io.Writer
	stderr io.Writer
}

type cli struct {
	globals

	Whoami    whoamiCmd    `cmd:"" help:"Show the identity the build's credentials belong to and check it is the expected role."`
	Preflight preflightCmd `cmd:"" help:"Check identity, bucket owner, listing and a canary put, get and delete before the build."`
	Sync      syncCmd      `cmd:"" help:"Upload a directory to s3://BUCKET/PREFIX, deciding by content."`
	Explain   explainCmd   `cmd:"" help:"Check offline whether the role, trust and bucket policies allow the delivery, and show the fix."`
	Audit     auditCmd     `cmd:"" help:"Audit the bucket policy and settings of the dev account against the expected roles, and optionally enforce the managed statement."`
	Version   versionCmd   `cmd:"" help:"Print the version."`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c cli
	c.stdout, c.stderr = stdout, stderr

	exited := false
	options := append(filterMappers(&c.Sync.filters),
		kong.Name("countersign"),
		kong.Description("Countersign checks and delivers build artifacts to an S3 bucket in another AWS account.\n\nExit codes: 0 success, 1 failure, 2 usage error, 3 identity is not the expected role, 4 access denied, 5 stopped by a safety guard, 6 audit findings at or above --fail-on."),
		kong.Writers(stdout, stderr),
		kong.Exit(func(int) { exited = true }),
		kong.UsageOnError(),
		kong.Vars{"version": "countersign " + version},
	)
	parser, err := kong.New(&c, options...)
	if err != nil {
		return fmt.Errorf("build command line: %w", err)
	}

	kctx, err := parser.Parse(args)
	if exited {
		// --help printed the usage.
		return nil
	}
	if err != nil {
		return fmt.Errorf("%w (run countersign --help for the commands and flags): %w", err, exitcode.ErrUsage)
	}

	log, err := logging.New(stderr, c.LogFormat, c.LogLevel)
	if err != nil {
		return fmt.Errorf("%w: %w", err, exitcode.ErrUsage)
	}
	ctx = log.WithContext(ctx)

	kctx.BindTo(ctx, (*context.Context)(nil))
	return kctx.Run(&c.globals)
}

// clients builds the AWS clients from the global flags.
func (g *globals) clients(ctx context.Context, maxConns int) (*awsclient.Clients, error) {
	cl, err := awsclient.New(ctx, awsclient.Options{
		Region:      g.Region,
		Profile:     g.Profile,
		EndpointURL: g.EndpointURL,
		MaxConns:    maxConns,
	})
	if err != nil {
		return nil, err
	}
	zerolog.Ctx(ctx).Debug().Str("region", cl.Config.Region).Msg("aws clients ready")
	return cl, nil
}

type versionCmd struct{}

func (versionCmd) Run(g *globals) error {
	fmt.Fprintf(g.stdout, "countersign %s\n", version)
	return nil
}

// checkBucketOwner rejects a --bucket-owner that is not an account id
// before any request, because S3 rejects one with a bare
// InvalidBucketOwnerAWSAccountID. An empty value means no owner check.
func checkBucketOwner(owner string) error {
	if owner == "" || delivery.IsAccountID(owner) {
		return nil
	}
	return fmt.Errorf("invalid --bucket-owner %q: use the 12-digit id of the account that owns the bucket, such as 222222222222: %w", owner, exitcode.ErrUsage)
}

// writeJSON prints v as indented JSON, for --output json.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
