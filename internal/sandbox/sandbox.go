// Package sandbox runs a local stand-in for two AWS accounts: S3 and STS on
// one loopback port, with SigV4-authenticated callers mapped to the
// principals of a world file. Objects live in a versitygw child process.
// The front in this package authenticates each request, emulates what
// versitygw lacks (bucket owners, bucket policies, ACL and SSE rules) and
// forwards the rest.
package sandbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/exitcode"
)

// Config configures Run.
type Config struct {
	Listen    string // loopback address of the front; port 0 picks one
	DataDir   string // objects, policies and state; reused across restarts
	EnvFile   string // written once the sandbox is ready
	World     *World // nil uses DefaultWorld
	Versitygw string // path of the binary; empty searches with FindVersitygw

	Authorizer Authorizer // nil uses a PolicyAuthorizer over World

	Faults FaultConfig // faults injected into S3 requests; the zero value injects none
}

const shutdownTimeout = 5 * time.Second

// CheckListen rejects listen addresses that are not on loopback, because
// the sandbox's keys are public.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%w: --listen %q: %v: use 127.0.0.1:PORT", exitcode.ErrUsage, addr, err)
	}
	if _, err := net.LookupPort("tcp", port); err != nil {
		return fmt.Errorf("%w: --listen %q: invalid port: use 127.0.0.1:PORT", exitcode.ErrUsage, addr)
	}
	// A name could resolve anywhere, so only loopback IP literals pass.
	ip := net.ParseIP(host)
	if ip == nil {
		return fmt.Errorf("%w: --listen %q: host %q is a name, which could resolve off loopback: use 127.0.0.1:PORT", exitcode.ErrUsage, addr, host)
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("%w: --listen %q is not a loopback address: use 127.0.0.1:PORT", exitcode.ErrUsage, addr)
	}
	return nil
}

// marker is the data directory's record of its initialization. Objects in
// versitygw belong to its root user, so the root key is kept for restarts.
type marker struct {
	Version    int    `json:"version"`
	RootAccess string `json:"root_access_key_id"`
	RootSecret string `json:"root_secret_access_key"`
	Created    string `json:"created"`
}

// Run starts versitygw and the front, writes the env file once both respond,
// and serves until ctx is cancelled (a clean stop, nil error) or versitygw
// dies (an error).
func Run(ctx context.Context, cfg Config) error {
	log := zerolog.Ctx(ctx)

	if err := CheckListen(cfg.Listen); err != nil {
		return err
	}
	world := cfg.World
	if world == nil {
		w, err := DefaultWorld()
		if err != nil {
			return err
		}
		world = w
	}
	dir, err := NewDirectory(world)
	if err != nil {
		return fmt.Errorf("invalid world: %w", err)
	}
	binary, err := FindVersitygw(cfg.Versitygw)
	if err != nil {
		return err
	}

	// A stale env file would tell a waiting script that this run is ready.
	if err := os.Remove(cfg.EnvFile); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove old env file: %w", err)
	}

	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	lock, err := lockDataDir(filepath.Join(cfg.DataDir, lockFileName))
	if err != nil {
		return err
	}
	defer lock.Close()

	mark, fresh, err := loadOrCreateMarker(cfg.DataDir)
	if err != nil {
		return err
	}
	objectsDir := filepath.Join(cfg.DataDir, objectsDirName)
	if err := os.MkdirAll(objectsDir, 0o700); err != nil {
		return fmt.Errorf("create objects directory: %w", err)
	}

	listener, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	defer listener.Close()
	endpoint := "http://" + listener.Addr().String()

	gw, err := startVersitygw(ctx, binary, objectsDir, world.Region, mark.RootAccess, mark.RootSecret)
	if err != nil {
		return err
	}
	defer gw.stop(context.WithoutCancel(ctx))

	policyDir := filepath.Join(cfg.DataDir, policyDirName)
	authorizer := cfg.Authorizer
	if authorizer == nil {
		authorizer, err = NewDefaultAuthorizer(dir, policyDir)
		if err != nil {
			return err
		}
	}

	front, err := NewFront(FrontConfig{
		Directory:   dir,
		PolicyDir:   policyDir,
		SettingsDir: filepath.Join(cfg.DataDir, settingsDirName),
		Authorizer:  authorizer,
		UpstreamURL: gw.endpoint,
		RootAccess:  mark.RootAccess,
		RootSecret:  mark.RootSecret,
	})
	if err != nil {
		return err
	}
	if front.faults, err = NewFaults(cfg.Faults); err != nil {
		return fmt.Errorf("invalid fault settings: %w", err)
	}
	if err := front.createBuckets(ctx, fresh); err != nil {
		return err
	}

	server := &http.Server{
		Handler:           front,
		ReadHeaderTimeout: 30 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          nil,
	}
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()

	statePath := filepath.Join(cfg.DataDir, stateFileName)
	if err := writeReadyFiles(statePath, cfg.EnvFile, newState(dir, endpoint, gw.cmd.Process.Pid)); err != nil {
		shutdown(ctx, server)
		return err
	}
	defer os.Remove(statePath)
	defer os.Remove(cfg.EnvFile)

	log.Info().Str("endpoint", endpoint).Str("data", cfg.DataDir).Str("env_file", cfg.EnvFile).
		Int("versitygw_pid", gw.cmd.Process.Pid).Bool("reused", !fresh).Msg("sandbox ready")

	select {
	case <-ctx.Done():
		log.Info().Msg("stopping sandbox")
		shutdown(ctx, server)
		return nil
	case <-gw.exited:
		shutdown(ctx, server)
		return fmt.Errorf("versitygw (pid %d) exited unexpectedly (%v): %s", gw.cmd.Process.Pid, gw.waitErr, gw.lastOutput())
	case err := <-served:
		return fmt.Errorf("serve %s: %w", endpoint, err)
	}
}

func shutdown(ctx context.Context, server *http.Server) {
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), shutdownTimeout)
	defer cancel()
	if err := server.Shutdown(stopCtx); err != nil {
		zerolog.Ctx(ctx).Warn().Err(err).Msg("requests still open at shutdown were cut off")
		_ = server.Close()
	}
}

// loadOrCreateMarker reads the data directory's marker, or creates it with
// a new root key. fresh reports whether it was created.
func loadOrCreateMarker(dataDir string) (m *marker, fresh bool, err error) {
	path := filepath.Join(dataDir, markerFileName)
	data, err := os.ReadFile(path)
	if err == nil {
		m = &marker{}
		if err := json.Unmarshal(data, m); err != nil || m.RootAccess == "" || m.RootSecret == "" {
			return nil, false, fmt.Errorf("data directory %s contains an invalid %s: remove the directory to start afresh", dataDir, markerFileName)
		}
		return m, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read %s: %w", path, err)
	}

	m = &marker{
		Version:    1,
		RootAccess: "SANDBOXROOT" + randomHex(8),
		RootSecret: randomHex(20),
		Created:    time.Now().UTC().Format(time.RFC3339),
	}
	data, err = json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, false, err
	}
	if err := writeFileAtomic(path, data, 0o600); err != nil {
		return nil, false, err
	}
	return m, true, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// createBuckets creates the world's buckets that versitygw lacks and stores
// their policies. On a reused data directory, existing buckets keep their
// objects, their stored policies and their settings, which clients may have
// changed.
func (f *Front) createBuckets(ctx context.Context, fresh bool) error {
	log := zerolog.Ctx(ctx)

	for _, b := range f.dir.World.Buckets {
		_, err := f.root.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(b.Name)})
		exists := err == nil
		if err != nil {
			var notFound *s3types.NotFound
			if !errors.As(err, &notFound) {
				return fmt.Errorf("check bucket %s in versitygw: %w", b.Name, err)
			}
			if _, err := f.root.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b.Name)}); err != nil {
				return fmt.Errorf("create bucket %s in versitygw: %w", b.Name, err)
			}
			log.Debug().Str("bucket", b.Name).Str("owner", b.Owner).Msg("bucket created")
		}

		if exists && !fresh {
			continue
		}
		if err := f.settings.Reset(b.Name); err != nil {
			return err
		}
		if len(b.Policy) == 0 {
			if err := f.policies.Delete(b.Name); err != nil {
				return err
			}
			continue
		}
		if err := f.policies.Put(b.Name, b.Policy); err != nil {
			return err
		}
	}
	return nil
}

func newState(dir *Directory, endpoint string, versitygwPID int) *State {
	def := dir.DefaultIdentity()
	first := dir.World.Buckets[0]

	st := &State{
		Version:          stateVersion,
		PID:              os.Getpid(),
		VersitygwPID:     versitygwPID,
		Endpoint:         endpoint,
		Region:           dir.World.Region,
		Bucket:           first.Name,
		BucketOwner:      first.Owner,
		RoleARN:          def.RoleARN,
		DefaultPrincipal: def.Name,
		Env:              dir.World.Env,
	}
	for _, id := range dir.Identities {
		st.Principals = append(st.Principals, StatePrincipal{
			Name:            id.Name,
			ARN:             id.ARN,
			Account:         id.Account,
			AccessKeyID:     id.AccessKeyID,
			SecretAccessKey: id.SecretAccessKey,
			SessionToken:    id.SessionToken,
		})
	}
	return st
}

// writeReadyFiles writes the state file, then the env file, each
// atomically, so a script that finds the env file can use the sandbox at once.
func writeReadyFiles(statePath, envPath string, st *State) error {
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(statePath, data, 0o600); err != nil {
		return err
	}

	lines, err := st.EnvLines(st.DefaultPrincipal)
	if err != nil {
		return err
	}
	return writeFileAtomic(envPath, []byte(lines), 0o600)
}
