// Command countersign-sandbox serves S3 and STS on loopback for the
// simulated accounts of a world file, so that tests and the demo can run
// countersign without AWS.
//
//	countersign-sandbox --listen 127.0.0.1:0 --data DIR --env-file FILE [--world FILE | --world-from-cdk DIR] [--fault-slowdown P ...]
//	countersign-sandbox env --data DIR --as NAME
//	countersign-sandbox world [--world-from-cdk DIR]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/logging"
	"github.com/countersign/countersign/internal/sandbox"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

type cli struct {
	Version kong.VersionFlag `help:"Print the version and exit."`

	Serve serveCmd `cmd:"" default:"withargs" help:"Run the sandbox in the foreground until SIGTERM or SIGINT (the default command)."`
	Env   envCmd   `cmd:"" help:"Print shell lines that point AWS tools at a running sandbox as one of its principals."`
	World worldCmd `cmd:"" help:"Print the built-in world file, or the world derived from a CDK app, a starting point for --world."`
}

type serveCmd struct {
	Listen       string `default:"127.0.0.1:0" help:"Loopback address for the S3 and STS endpoint; port 0 picks a free port."`
	Data         string `required:"" type:"path" placeholder:"DIR" help:"Directory for objects, bucket policies and state; a restart on the same directory keeps them."`
	EnvFile      string `required:"" type:"path" placeholder:"FILE" help:"File to write the default principal's environment to (shell export lines) once the sandbox is ready."`
	World        string `type:"existingfile" placeholder:"FILE" xor:"world" help:"World file (JSON) with accounts, roles, buckets and principals; the built-in world when omitted."`
	WorldFromCDK string `type:"existingdir" placeholder:"DIR" xor:"world" name:"world-from-cdk" help:"Derive the world from a synthesized CDK app (the cdk.out folder): its accounts, roles, buckets and CodeBuild project."`
	Versitygw    string `type:"path" placeholder:"PATH" help:"versitygw binary; by default the one next to this binary, then the one on PATH."`
	LogLevel     string `default:"info" enum:"trace,debug,info,warn,error" help:"Log level: debug logs one line per request (${enum})."`

	FaultSlowdown float64       `default:"0" placeholder:"P" help:"Share of S3 requests, 0 to 1, answered 503 SlowDown before they reach versitygw."`
	FaultDrop     float64       `default:"0" placeholder:"P" help:"Share of S3 requests, 0 to 1, whose connection is closed without a response."`
	FaultLatency  time.Duration `default:"0s" placeholder:"DURATION" help:"Delay added before each S3 request, at most 5s."`
	FaultSeed     uint64        `default:"1" placeholder:"N" help:"Seed of the random source that picks the faulted requests; the same seed and requests give the same faults."`
	FaultLimit    int64         `default:"0" placeholder:"N" help:"Number of SlowDown and drop faults after which none are injected; 0 means no limit."`
}

type envCmd struct {
	Data string `required:"" type:"path" placeholder:"DIR" help:"Data directory of the running sandbox."`
	As   string `required:"" placeholder:"NAME" help:"Principal name from the world, such as build or dev-admin."`
}

type worldCmd struct {
	WorldFromCDK string `type:"existingdir" placeholder:"DIR" name:"world-from-cdk" help:"Print the world derived from a synthesized CDK app (the cdk.out folder) instead of the built-in one."`
}

// loggedError is an error that the serve command has already logged.
type loggedError struct{ error }

func (e loggedError) Unwrap() error { return e.error }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()

	var logged loggedError
	if err != nil && !errors.As(err, &logged) {
		fmt.Fprintf(os.Stderr, "countersign-sandbox: %v\n", err)
	}
	os.Exit(exitcode.For(err))
}

func run(ctx context.Context, args []string) error {
	var c cli
	parser, err := kong.New(&c,
		kong.Name("countersign-sandbox"),
		kong.Description("Local S3 and STS for two simulated AWS accounts, on loopback only."),
		kong.UsageOnError(),
		kong.Vars{"version": version},
	)
	if err != nil {
		return err
	}
	kctx, err := parser.Parse(args)
	if err != nil {
		return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}

	switch kctx.Command() {
	case "env":
		return c.Env.run(os.Stdout)
	case "world":
		return c.World.run(os.Stdout, os.Stderr)
	default:
		return c.Serve.run(ctx)
	}
}

func (s *serveCmd) run(ctx context.Context) error {
	if err := sandbox.CheckListen(s.Listen); err != nil {
		return err
	}

	logger, err := logging.New(os.Stderr, logging.FormatJSON, s.LogLevel)
	if err != nil {
		return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
	}
	ctx = logger.WithContext(ctx)

	faults, err := s.faultConfig()
	if err != nil {
		return err
	}

	cfg := sandbox.Config{
		Listen:    s.Listen,
		DataDir:   s.Data,
		EnvFile:   s.EnvFile,
		Versitygw: s.Versitygw,
		Faults:    faults,
	}
	switch {
	case s.World != "":
		world, err := sandbox.LoadWorld(s.World)
		if err != nil {
			return fmt.Errorf("%w: %v", exitcode.ErrUsage, err)
		}
		cfg.World = world
	case s.WorldFromCDK != "":
		world, warnings, err := sandbox.WorldFromCDK(s.WorldFromCDK)
		for _, w := range warnings {
			zerolog.Ctx(ctx).Warn().Str("cdk_out", s.WorldFromCDK).Msg(w)
		}
		if err != nil {
			return fmt.Errorf("%w: --world-from-cdk %s: %v", exitcode.ErrUsage, s.WorldFromCDK, err)
		}
		cfg.World = world
	}

	if err := sandbox.Run(ctx, cfg); err != nil {
		zerolog.Ctx(ctx).Error().Err(err).Msg("sandbox failed")
		return loggedError{err}
	}
	zerolog.Ctx(ctx).Info().Msg("sandbox stopped")
	return nil
}

// faultConfig returns the fault flags as a sandbox.FaultConfig, or a usage
// error naming the flag that is out of range.
func (s *serveCmd) faultConfig() (sandbox.FaultConfig, error) {
	config := sandbox.FaultConfig{
		SlowDown: s.FaultSlowdown,
		Drop:     s.FaultDrop,
		Latency:  s.FaultLatency,
		Seed:     s.FaultSeed,
		Limit:    s.FaultLimit,
	}
	checks := []struct {
		flag string
		err  error
	}{
		{"--fault-slowdown", sandbox.CheckFaultShare(config.SlowDown)},
		{"--fault-drop", sandbox.CheckFaultShare(config.Drop)},
		{"--fault-latency", sandbox.CheckFaultLatency(config.Latency)},
		{"--fault-limit", sandbox.CheckFaultLimit(config.Limit)},
	}
	for _, check := range checks {
		if check.err != nil {
			return config, fmt.Errorf("%w: %s: %v", exitcode.ErrUsage, check.flag, check.err)
		}
	}
	if err := config.Validate(); err != nil {
		return config, fmt.Errorf("%w: --fault-slowdown plus --fault-drop: %v", exitcode.ErrUsage, err)
	}
	return config, nil
}

func (e *envCmd) run(stdout io.Writer) error {
	st, err := sandbox.ReadState(e.Data)
	if err != nil {
		return err
	}
	lines, err := st.EnvLines(e.As)
	if err != nil {
		return err
	}
	_, err = io.WriteString(stdout, lines)
	return err
}

func (c *worldCmd) run(stdout, stderr io.Writer) error {
	if c.WorldFromCDK == "" {
		_, err := stdout.Write(sandbox.DefaultWorldJSON())
		return err
	}

	world, warnings, err := sandbox.WorldFromCDK(c.WorldFromCDK)
	for _, w := range warnings {
		fmt.Fprintf(stderr, "countersign-sandbox: warning: %s\n", w)
	}
	if err != nil {
		return fmt.Errorf("%w: --world-from-cdk %s: %v", exitcode.ErrUsage, c.WorldFromCDK, err)
	}
	data, err := json.MarshalIndent(world, "", "  ")
	if err != nil {
		return err
	}
	_, err = stdout.Write(append(data, '\n'))
	return err
}
