package sandbox

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"
)

const (
	versitygwStartTimeout = 20 * time.Second
	versitygwStopTimeout  = 5 * time.Second
	versitygwLogLines     = 20 // lines of output kept for error messages
)

// FindVersitygw returns the versitygw binary to run: flagPath when set,
// else versitygw next to the running executable, else versitygw on PATH.
func FindVersitygw(flagPath string) (string, error) {
	if flagPath != "" {
		info, err := os.Stat(flagPath)
		if err != nil {
			return "", fmt.Errorf("versitygw %s: %w: build it with make build, or fix --versitygw", flagPath, err)
		}
		if info.IsDir() || info.Mode()&0o111 == 0 {
			return "", fmt.Errorf("versitygw %s is not an executable file: build it with make build, or fix --versitygw", flagPath)
		}
		return flagPath, nil
	}

	var next string
	if exe, err := os.Executable(); err == nil {
		next = filepath.Join(filepath.Dir(exe), "versitygw")
		if info, err := os.Stat(next); err == nil && !info.IsDir() && info.Mode()&0o111 != 0 {
			return next, nil
		}
	}
	if path, err := exec.LookPath("versitygw"); err == nil {
		return path, nil
	}
	return "", fmt.Errorf("versitygw not found at %s or on PATH: run make build "+
		"(or cd tools && go build -o ../bin/versitygw github.com/versity/versitygw/cmd/versitygw), or pass --versitygw", next)
}

// versitygw is a running versitygw child process.
type versitygw struct {
	cmd      *exec.Cmd
	endpoint string
	exited   chan struct{} // closed when the process has exited
	waitErr  error         // valid once exited is closed

	mu   sync.Mutex
	tail []string // last lines of output
}

// startVersitygw runs versitygw on a free loopback port with the posix
// backend rooted at objectsDir and waits until it serves requests.
func startVersitygw(ctx context.Context, binary, objectsDir, region, access, secret string) (*versitygw, error) {
	// The port is free when chosen but could be taken before versitygw binds
	// it, so a failed start is tried again on a new port.
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		g, err := launchVersitygw(ctx, binary, objectsDir, region, access, secret)
		if err != nil {
			return nil, err
		}
		if err := g.waitReady(ctx, region, access, secret); err != nil {
			lastErr = err
			g.stop(ctx)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			zerolog.Ctx(ctx).Warn().Err(err).Int("attempt", attempt).Msg("versitygw did not start, retrying on another port")
			continue
		}
		return g, nil
	}
	return nil, lastErr
}

func launchVersitygw(ctx context.Context, binary, objectsDir, region, access, secret string) (*versitygw, error) {
	port, err := freeLoopbackPort()
	if err != nil {
		return nil, err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)

	// The keys go through the environment, not argv, so that they do not
	// show in process listings.
	cmd := exec.Command(binary,
		"--port", addr,
		"--region", region,
		"--quiet",
		"--keep-alive",
		"posix", objectsDir)
	cmd.Env = append(os.Environ(), "ROOT_ACCESS_KEY_ID="+access, "ROOT_SECRET_ACCESS_KEY="+secret)
	cmd.SysProcAttr = childProcAttr()

	g := &versitygw{cmd: cmd, endpoint: "http://" + addr, exited: make(chan struct{})}
	output, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start versitygw: %w", err)
	}
	cmd.Stderr = cmd.Stdout

	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start versitygw %s: %w", binary, err)
	}

	log := zerolog.Ctx(ctx).With().Str("component", "versitygw").Int("pid", cmd.Process.Pid).Logger()
	log.Debug().Str("endpoint", g.endpoint).Msg("versitygw started")

	// The output must be drained until EOF before Wait, which closes the pipe.
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		g.drain(output, log)
	}()
	go func() {
		<-drained
		g.waitErr = cmd.Wait()
		close(g.exited)
	}()
	return g, nil
}

func (g *versitygw) drain(output io.Reader, log zerolog.Logger) {
	scanner := bufio.NewScanner(output)
	scanner.Buffer(make([]byte, 64*1024), 1024*1024)
	for scanner.Scan() {
		line := scanner.Text()
		log.Debug().Str("line", line).Msg("versitygw output")

		g.mu.Lock()
		g.tail = append(g.tail, line)
		if len(g.tail) > versitygwLogLines {
			g.tail = g.tail[1:]
		}
		g.mu.Unlock()
	}
}

// lastOutput returns versitygw's last lines of output, for error messages.
func (g *versitygw) lastOutput() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.tail) == 0 {
		return "(no output)"
	}
	return strings.Join(g.tail, " | ")
}

// waitReady polls versitygw with a ListBuckets as its root user until it
// responds, it exits, or the start timeout passes.
func (g *versitygw) waitReady(ctx context.Context, region, access, secret string) error {
	client := newRootClient(g.endpoint, region, rootCredentials(access, secret), nil)
	deadline := time.Now().Add(versitygwStartTimeout)

	for {
		attemptCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := client.ListBuckets(attemptCtx, &s3.ListBucketsInput{})
		cancel()
		if err == nil {
			return nil
		}

		select {
		case <-g.exited:
			return fmt.Errorf("versitygw exited during start-up (%v): %s", g.waitErr, g.lastOutput())
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("versitygw did not respond on %s within %s (last error: %v): %s",
				g.endpoint, versitygwStartTimeout, err, g.lastOutput())
		}
	}
}

// stop sends SIGTERM, waits, and kills the process if it outlives the stop
// timeout.
func (g *versitygw) stop(ctx context.Context) {
	log := zerolog.Ctx(ctx)

	select {
	case <-g.exited:
		return
	default:
	}

	if err := g.cmd.Process.Signal(syscall.SIGTERM); err != nil && !errors.Is(err, os.ErrProcessDone) {
		log.Warn().Err(err).Int("pid", g.cmd.Process.Pid).Msg("signal versitygw")
	}
	select {
	case <-g.exited:
		log.Debug().Int("pid", g.cmd.Process.Pid).Msg("versitygw stopped")
		return
	case <-time.After(versitygwStopTimeout):
	}

	log.Warn().Int("pid", g.cmd.Process.Pid).Dur("timeout", versitygwStopTimeout).Msg("versitygw ignored SIGTERM, killing it")
	_ = g.cmd.Process.Kill()
	<-g.exited
}

func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port for versitygw: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
