package e2e

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestSyncSIGTERMAbortsMultipart stops a sync while a multipart upload is
// in flight and checks that the upload was aborted, not left to accrue
// storage, and that the exit code is not 0.
func TestSyncSIGTERMAbortsMultipart(t *testing.T) {
	_, env := startSandbox(t)
	client := s3Client(t, env)

	src := t.TempDir()
	big, err := os.Create(filepath.Join(src, "huge.bin"))
	if err != nil {
		t.Fatal(err)
	}
	// Random bytes, so nothing along the way can compress them away.
	chunk := randomBytes(t, 1<<20)
	for range 512 {
		if _, err := big.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	big.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, countersignBin(t), "sync", src, "s3://"+bucket+"/interrupted", "--concurrency", "1", "--progress", "none")
	cmd.Env = env
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	// Wait until the upload exists on the server, then stop the agent.
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := client.ListMultipartUploads(ctx, &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String("interrupted/")})
		if err != nil {
			t.Fatalf("list multipart uploads: %v", err)
		}
		if len(out.Uploads) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no multipart upload started within 30 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Let a part get under way, so the abort races a part in flight.
	time.Sleep(300 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	err = cmd.Wait()
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) || exitErr.ExitCode() == 0 {
		t.Errorf("sync after SIGTERM ended with %v, want a non-zero exit code", err)
	}

	out, err := client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String(bucket), Prefix: aws.String("interrupted/")})
	if err != nil {
		t.Fatalf("list multipart uploads: %v", err)
	}
	if len(out.Uploads) != 0 {
		t.Errorf("%d multipart uploads left after SIGTERM, want 0", len(out.Uploads))
	}
	if keys := listKeys(t, client, bucket, "interrupted/"); len(keys) != 0 {
		t.Errorf("an interrupted sync left objects: %v", sortedKeys(keys))
	}
}
