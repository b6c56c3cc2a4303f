package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/countersign/countersign/internal/sandbox"
	"github.com/countersign/countersign/internal/sandboxtest"
)

// TestSyncSIGTERMAbortsMultipart stops a sync while a multipart upload is
// in flight and checks that the upload was aborted, not left to accrue
// storage, and that the exit code is not 0.
func TestSyncSIGTERMAbortsMultipart(t *testing.T) {
	sb := sandboxtest.Start(t, sandboxtest.Options{World: abortWorld(t)})
	env := sb.Env(t, "build")
	// The bucket owner inspects the uploads, as the build role may not list them.
	client := s3Client(t, sb.Env(t, "dev-admin"))

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

// abortWorld writes the built-in world with s3:AbortMultipartUpload added to
// every statement that grants s3:PutObject, on the role and in the bucket
// policy, and returns the file's path.
//
// NOTE: the built-in world grants only s3:ListBucket, s3:PutObject,
// s3:GetObject and s3:DeleteObject. S3 checks s3:AbortMultipartUpload on
// its own, so there a stopped sync cannot abort its upload and the parts
// stay until a lifecycle rule removes them.
func abortWorld(t *testing.T) string {
	t.Helper()

	var world map[string]any
	if err := json.Unmarshal(sandbox.DefaultWorldJSON(), &world); err != nil {
		t.Fatal(err)
	}
	var documents []any
	for _, account := range world["accounts"].([]any) {
		roles, _ := account.(map[string]any)["roles"].([]any)
		for _, role := range roles {
			for _, doc := range role.(map[string]any)["policies"].(map[string]any) {
				documents = append(documents, doc)
			}
		}
	}
	for _, b := range world["buckets"].([]any) {
		documents = append(documents, b.(map[string]any)["policy"])
	}

	granted := 0
	for _, doc := range documents {
		for _, st := range doc.(map[string]any)["Statement"].([]any) {
			statement := st.(map[string]any)
			actions, ok := statement["Action"].([]any)
			if !ok || !containsValue(actions, "s3:PutObject") {
				continue
			}
			statement["Action"] = append(actions, "s3:AbortMultipartUpload")
			granted++
		}
	}
	if granted != 2 {
		t.Fatalf("added s3:AbortMultipartUpload to %d statements, want 2 (role and bucket policy)", granted)
	}

	data, err := json.Marshal(world)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "abort-world.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func containsValue(values []any, want string) bool {
	for _, v := range values {
		if v == want {
			return true
		}
	}
	return false
}
