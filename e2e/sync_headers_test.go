package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/countersign/countersign/internal/exitcode"
)

// TestSyncHeadersAndSpecialFiles checks what each uploaded object carries
// (ACL accepted, SSE, Cache-Control, content type) and how the walk treats
// symlinks, a symlink loop and a FIFO.
func TestSyncHeadersAndSpecialFiles(t *testing.T) {
	_, env := startSandbox(t)
	client := s3Client(t, env)

	src := t.TempDir()
	writeTree(t, src, map[string][]byte{
		"site/index.html": []byte("<p>hi</p>\n"),
		"site/app.js":     []byte("let x = 1\n"),
		"data/blob":       []byte{0, 1, 2, 3},
	})
	outside := t.TempDir()
	writeTree(t, outside, map[string][]byte{"linked.txt": []byte("through a link\n")})
	if err := os.Symlink(filepath.Join(outside, "linked.txt"), filepath.Join(src, "link.txt")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(src, "site", "loop")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(src, "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}

	res := runAgent(t, env, "sync", src, "s3://"+bucket+"/headers",
		"--acl", "bucket-owner-full-control", "--sse", "AES256", "--cache-control", "max-age=60")
	if res.code != exitcode.OK {
		t.Fatalf("exit code = %d, want 0", res.code)
	}
	if !strings.Contains(res.stderr, "pipe") {
		t.Error("the FIFO was skipped without a warning naming it")
	}

	keys := listKeys(t, client, bucket, "headers/")
	want := []string{"headers/data/blob", "headers/link.txt", "headers/site/app.js", "headers/site/index.html"}
	if got := sortedKeys(keys); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("keys = %v, want %v", got, want)
	}
	if got := string(getObject(t, client, bucket, "headers/link.txt")); got != "through a link\n" {
		t.Errorf("symlinked file holds %q", got)
	}

	types := map[string]string{
		"headers/site/index.html": "text/html",
		"headers/site/app.js":     "javascript",
		"headers/data/blob":       "application/octet-stream",
	}
	for key, wantType := range types {
		head, err := client.HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("head %s: %v", key, err)
		}
		if !strings.Contains(aws.ToString(head.ContentType), wantType) {
			t.Errorf("%s: Content-Type = %q, want %s", key, aws.ToString(head.ContentType), wantType)
		}
		if aws.ToString(head.CacheControl) != "max-age=60" {
			t.Errorf("%s: Cache-Control = %q, want max-age=60", key, aws.ToString(head.CacheControl))
		}
		if head.ServerSideEncryption != "AES256" {
			t.Errorf("%s: server-side encryption = %q, want AES256", key, head.ServerSideEncryption)
		}
	}

	unknown := runAgent(t, env, "sync", src, "s3://"+bucket+"/headers", "--acl", "owner-only")
	if unknown.code != exitcode.Usage {
		t.Errorf("--acl owner-only: exit code = %d, want %d", unknown.code, exitcode.Usage)
	}

	// A canned ACL the bucket does not take is sent and rejected by S3, and
	// nothing is written under the new prefix.
	rejected := runAgent(t, env, "sync", src, "s3://"+bucket+"/public", "--acl", "public-read")
	if rejected.code != exitcode.AccessDenied {
		t.Errorf("--acl public-read: exit code = %d, want %d", rejected.code, exitcode.AccessDenied)
	}
	if !strings.Contains(rejected.stderr, "AccessControlListNotSupported") {
		t.Errorf("--acl public-read: stderr does not name S3's error:\n%s", rejected.stderr)
	}
	list, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String("public/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Contents) != 0 {
		t.Errorf("--acl public-read wrote %d objects, want 0", len(list.Contents))
	}
}
