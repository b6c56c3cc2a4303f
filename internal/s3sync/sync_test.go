package s3sync

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/countersign/countersign/internal/exitcode"
)

var smallTree = map[string]string{
	"index.html":        "<html></html>",
	"css/site.css":      "body{}",
	"js/app.js":         "console.log(1)",
	"deep/a/b/data.bin": "0123456789",
}

func TestRunFirstSyncUploadsAll(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src, Prefix: "/builds/42/"})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	want := []string{"builds/42/css/site.css", "builds/42/deep/a/b/data.bin", "builds/42/index.html", "builds/42/js/app.js"}
	if got := run.report.Uploaded; !slices.Equal(got, want) {
		t.Errorf("uploaded = %v, want %v", got, want)
	}
	if got := fake.keys(); !slices.Equal(got, want) {
		t.Errorf("bucket keys = %v, want %v", got, want)
	}
	if got := run.report.Summary.BytesUploaded; got != 13+6+14+10 {
		t.Errorf("bytes uploaded = %d, want %d", got, 13+6+14+10)
	}
	if obj, _ := fake.object("builds/42/index.html"); string(obj.data) != "<html></html>" {
		t.Errorf("index.html content = %q", obj.data)
	}
	if !strings.HasPrefix(run.out, "uploaded 4 (43 B), skipped 0, deleted 0, failed 0 in ") {
		t.Errorf("summary line = %q", run.out)
	}
}

func TestRunSecondSyncUploadsNothing(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	fake := newFakeS3()
	runSync(t, fake, Options{Source: src, Prefix: "p"})
	fake.resetCalls()

	run := runSync(t, fake, Options{Source: src, Prefix: "p"})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls = %d, want 0", got)
	}
	if got := run.report.Summary.Skipped; got != 4 {
		t.Errorf("skipped = %d, want 4", got)
	}
}

func TestRunTouchUploadsNothing(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	fake := newFakeS3()
	runSync(t, fake, Options{Source: src})
	fake.resetCalls()

	later := time.Now().Add(time.Hour)
	for rel := range smallTree {
		if err := os.Chtimes(filepath.Join(src, rel), later, later); err != nil {
			t.Fatal(err)
		}
	}
	run := runSync(t, fake, Options{Source: src})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls after touch = %d, want 0", got)
	}
}

func TestRunSameSizeEditUploadsOne(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	fake := newFakeS3()
	runSync(t, fake, Options{Source: src})
	fake.resetCalls()

	writeTree(t, src, map[string]string{"deep/a/b/data.bin": "9876543210"})
	run := runSync(t, fake, Options{Source: src})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got, want := run.report.Uploaded, []string{"deep/a/b/data.bin"}; !slices.Equal(got, want) {
		t.Errorf("uploaded = %v, want %v", got, want)
	}
	if got := len(fake.callsOf("PutObject")); got != 1 {
		t.Errorf("PutObject calls = %d, want 1", got)
	}
	if obj, _ := fake.object("deep/a/b/data.bin"); string(obj.data) != "9876543210" {
		t.Errorf("data.bin content = %q, want the edit", obj.data)
	}
}

func TestRunMultipartETagEqual(t *testing.T) {
	src := t.TempDir()
	writeSized(t, filepath.Join(src, "big.bin"), 20*MiB, 1)
	fake := newFakeS3()

	first := runSync(t, fake, Options{Source: src})

	if first.err != nil {
		t.Fatalf("first Run: %v", first.err)
	}
	obj, ok := fake.object("big.bin")
	if !ok || !strings.HasSuffix(obj.etag, `-3"`) {
		t.Fatalf("big.bin ETag = %s, want a 3-part multipart ETag", obj.etag)
	}
	if got := len(fake.callsOf("UploadPart")); got != 3 {
		t.Errorf("UploadPart calls = %d, want 3", got)
	}

	fake.resetCalls()
	second := runSync(t, fake, Options{Source: src})

	if second.err != nil {
		t.Fatalf("second Run: %v", second.err)
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls on re-sync = %d, want 0", got)
	}
}

// otherToolETag computes a multipart ETag the way S3 does for another
// tool's part size, independently of the package's own helpers.
func otherToolETag(data []byte, partSize int) string {
	var digests []byte
	parts := 0
	for off := 0; off < len(data); off += partSize {
		end := min(off+partSize, len(data))
		sum := md5Sum(data[off:end])
		digests = append(digests, sum...)
		parts++
	}
	return md5Hex(digests) + "-" + itoa(parts)
}

func TestRunOtherToolPartSizeRecognized(t *testing.T) {
	tests := []struct {
		name       string
		partSize   int
		changed    bool
		wantUpload int
	}{
		{name: "FiveMiBParts", partSize: int(5 * MiB), wantUpload: 0},
		{name: "SixteenMiBParts", partSize: int(16 * MiB), wantUpload: 0},
		{name: "OddSevenMiBParts", partSize: int(7 * MiB), wantUpload: 0},
		{name: "FiveMiBPartsChanged", partSize: int(5 * MiB), changed: true, wantUpload: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			path := filepath.Join(src, "big.bin")
			writeSized(t, path, 20*MiB, 2)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			remote := data
			if tt.changed {
				remote = slices.Clone(data)
				remote[len(remote)-1] ^= 0xff
			}
			fake := newFakeS3()
			fake.put("big.bin", remote, otherToolETag(remote, tt.partSize))

			run := runSync(t, fake, Options{Source: src})

			if run.err != nil {
				t.Fatalf("Run: %v", run.err)
			}
			if got := run.report.Summary.Uploaded; got != tt.wantUpload {
				t.Errorf("uploaded = %d, want %d", got, tt.wantUpload)
			}
		})
	}
}

func TestRunSinglePartETagOfLargeFile(t *testing.T) {
	src := t.TempDir()
	path := filepath.Join(src, "big.bin")
	writeSized(t, path, 9*MiB, 3)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fake := newFakeS3()
	fake.put("big.bin", data, md5Hex(data)) // uploaded by a tool with a higher threshold

	run := runSync(t, fake, Options{Source: src})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got := run.report.Summary.Skipped; got != 1 {
		t.Errorf("skipped = %d, want 1", got)
	}
}

func TestRunExpectedBucketOwnerOnEveryCall(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	writeSized(t, filepath.Join(src, "big.bin"), 9*MiB, 4)
	fake := newFakeS3()
	fake.put("stale.txt", []byte("old"), md5Hex([]byte("old")))
	fake.put("fail.bin", []byte("x"), md5Hex([]byte("x")))
	writeTree(t, src, map[string]string{"fail.bin": "y"})
	fake.inject = func(_ context.Context, op, key string) error {
		if op == "UploadPart" {
			return errors.New("injected part failure")
		}
		return nil
	}

	run := runSync(t, fake, Options{Source: src, Delete: true, Headers: ObjectHeaders{SSE: SSEKMS}})

	if run.err == nil {
		t.Fatal("Run succeeded, want the injected part failure")
	}
	seen := map[string]bool{}
	for _, c := range fake.allCalls() {
		owner, ok := expectedOwner(c.input)
		if !ok {
			t.Fatalf("unknown input type %T", c.input)
		}
		if owner != testOwner {
			t.Errorf("%s %s: ExpectedBucketOwner = %q, want %q", c.op, c.key, owner, testOwner)
		}
		seen[c.op] = true
	}
	for _, op := range []string{"ListObjectsV2", "PutObject", "CreateMultipartUpload", "UploadPart", "AbortMultipartUpload", "DeleteObjects"} {
		if !seen[op] {
			t.Errorf("no %s call recorded, so its owner was not checked", op)
		}
	}
}

func TestRunHeadersApplied(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"small.txt": "hello"})
	writeSized(t, filepath.Join(src, "big.bin"), 9*MiB, 5)
	fake := newFakeS3()
	headers := ObjectHeaders{ACL: ACLBucketOwnerFullControl, SSE: SSEKMS, SSEKMSKeyID: "alias/artifacts", CacheControl: "max-age=60"}

	run := runSync(t, fake, Options{Source: src, Headers: headers})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	puts := fake.callsOf("PutObject")
	if len(puts) != 2 { // small.txt and the manifest
		t.Fatalf("PutObject calls = %d, want 2", len(puts))
	}
	for _, c := range puts {
		in := c.input.(*s3.PutObjectInput)
		if in.ACL != types.ObjectCannedACLBucketOwnerFullControl || in.ServerSideEncryption != types.ServerSideEncryptionAwsKms ||
			aws.ToString(in.SSEKMSKeyId) != "alias/artifacts" || aws.ToString(in.CacheControl) != "max-age=60" {
			t.Errorf("PutObject %s headers = ACL %q SSE %q key %q cache %q", c.key, in.ACL, in.ServerSideEncryption, aws.ToString(in.SSEKMSKeyId), aws.ToString(in.CacheControl))
		}
		if in.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32c {
			t.Errorf("PutObject %s checksum algorithm = %q, want CRC32C", c.key, in.ChecksumAlgorithm)
		}
		if in.ContentMD5 == nil {
			t.Errorf("PutObject %s has no Content-MD5 although the file was hashed", c.key)
		}
	}
	small := puts[slices.IndexFunc(puts, func(c fakeCall) bool { return c.key == "small.txt" })].input.(*s3.PutObjectInput)
	if got, want := aws.ToString(small.ContentMD5), base64.StdEncoding.EncodeToString(md5Sum([]byte("hello"))); got != want {
		t.Errorf("small.txt Content-MD5 = %q, want %q", got, want)
	}

	creates := fake.callsOf("CreateMultipartUpload")
	if len(creates) != 1 {
		t.Fatalf("CreateMultipartUpload calls = %d, want 1", len(creates))
	}
	in := creates[0].input.(*s3.CreateMultipartUploadInput)
	if in.ACL != types.ObjectCannedACLBucketOwnerFullControl || in.ServerSideEncryption != types.ServerSideEncryptionAwsKms ||
		aws.ToString(in.SSEKMSKeyId) != "alias/artifacts" || aws.ToString(in.CacheControl) != "max-age=60" || in.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32c {
		t.Errorf("CreateMultipartUpload headers = %+v", in)
	}
	for _, c := range fake.callsOf("UploadPart") {
		part := c.input.(*s3.UploadPartInput)
		if part.ChecksumAlgorithm != types.ChecksumAlgorithmCrc32c || part.ContentMD5 == nil {
			t.Errorf("UploadPart %d: checksum %q, Content-MD5 %v", aws.ToInt32(part.PartNumber), part.ChecksumAlgorithm, part.ContentMD5)
		}
	}
}

func TestRunContentTypes(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a.html": "x", "b.JSON": "x", "c.unknownext": "x", "Makefile": "x", "d.css": "x"})
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	want := map[string]string{
		"a.html":       "text/html; charset=utf-8",
		"b.JSON":       "application/json",
		"c.unknownext": "application/octet-stream",
		"Makefile":     "application/octet-stream",
		"d.css":        "text/css; charset=utf-8",
	}
	for _, c := range fake.callsOf("PutObject") {
		got := aws.ToString(c.input.(*s3.PutObjectInput).ContentType)
		if got != want[c.key] {
			t.Errorf("%s Content-Type = %q, want %q", c.key, got, want[c.key])
		}
	}
}

func TestRunDeleteWithFilters(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"keep.txt": "k", "skip.log": "local log"})
	fake := newFakeS3()
	for _, key := range []string{"site/keep.txt", "site/old.txt", "site/deep/gone.html", "site/remote.log", "site/.countersign/canary", "site/dir/", "other/old.txt"} {
		fake.put(key, []byte("r"), md5Hex([]byte("r")))
	}

	run := runSync(t, fake, Options{Source: src, Prefix: "site", Delete: true, Filters: []Filter{{Exclude: true, Pattern: "*.log"}}})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got, want := run.report.Deleted, []string{"site/deep/gone.html", "site/old.txt"}; !slices.Equal(got, want) {
		t.Errorf("deleted = %v, want %v", got, want)
	}
	if got, want := fake.keys(), []string{"other/old.txt", "site/.countersign/canary", "site/dir/", "site/keep.txt", "site/remote.log"}; !slices.Equal(got, want) {
		t.Errorf("bucket keys = %v, want %v", got, want)
	}
	if got, want := run.report.Uploaded, []string{"site/keep.txt"}; !slices.Equal(got, want) {
		t.Errorf("uploaded = %v, want %v (skip.log is excluded)", got, want)
	}
}

func TestRunDeleteBatchesAndKeyErrors(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"keep.txt": "k"})
	fake := newFakeS3()
	for i := range 1500 {
		fake.put("old/"+itoa(i), []byte("r"), md5Hex([]byte("r")))
	}
	fake.inject = func(_ context.Context, op, key string) error {
		if op == "DeleteObject" && key == "old/7" {
			return deniedError()
		}
		return nil
	}

	run := runSync(t, fake, Options{Source: src, Delete: true})

	batches := fake.callsOf("DeleteObjects")
	if len(batches) != 2 {
		t.Fatalf("DeleteObjects calls = %d, want 2", len(batches))
	}
	for _, c := range batches {
		if n := len(c.input.(*s3.DeleteObjectsInput).Delete.Objects); n > 1000 {
			t.Errorf("batch of %d keys, want at most 1000", n)
		}
	}
	if got := len(fake.callsOf("ListObjectsV2")); got != 2 {
		t.Errorf("ListObjectsV2 pages = %d, want 2", got)
	}
	if got := run.report.Summary.Deleted; got != 1499 {
		t.Errorf("deleted = %d, want 1499", got)
	}
	if len(run.report.Failed) != 1 || run.report.Failed[0].Key != "old/7" {
		t.Errorf("failed = %+v, want old/7", run.report.Failed)
	}
	if !errors.Is(run.err, exitcode.ErrAccessDenied) {
		t.Errorf("error = %v, want it to wrap ErrAccessDenied", run.err)
	}
}

func TestRunDeleteRefusals(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		src   string // overrides the temp dir
		opts  Options
	}{
		{name: "EmptySource", files: nil},
		{name: "MissingSource", src: "does-not-exist"},
		{name: "AllFilteredOut", files: map[string]string{"a.tmp": "x"}, opts: Options{Filters: []Filter{{Exclude: true, Pattern: "*.tmp"}}}},
		{name: "OverMaxDelete", files: map[string]string{"keep.txt": "x"}, opts: Options{MaxDelete: 2}},
		{name: "OverMaxDeletePercent", files: map[string]string{"keep.txt": "x"}, opts: Options{MaxDelete: -1, MaxDeletePercent: 50}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, tt.files)
			if tt.src != "" {
				src = filepath.Join(src, tt.src)
			}
			fake := newFakeS3()
			for _, key := range []string{"keep.txt", "a", "b", "c"} {
				fake.put(key, []byte("r"), md5Hex([]byte("r")))
			}
			opts := tt.opts
			opts.Source = src
			opts.Delete = true

			run := runSync(t, fake, opts)

			if !errors.Is(run.err, exitcode.ErrRefused) {
				t.Fatalf("error = %v, want it to wrap ErrRefused", run.err)
			}
			if got := fake.writeCalls(); got != 0 {
				t.Errorf("write calls = %d, want 0", got)
			}
			if got := len(fake.keys()); got != 4 {
				t.Errorf("bucket keys = %d, want all 4 kept", got)
			}
		})
	}
}

func TestRunDeleteWithinLimits(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"keep.txt": "r"})
	fake := newFakeS3()
	for _, key := range []string{"keep.txt", "a", "b", "c"} {
		fake.put(key, []byte("r"), md5Hex([]byte("r")))
	}

	run := runSync(t, fake, Options{Source: src, Delete: true, MaxDelete: 3, MaxDeletePercent: 75})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got := run.report.Summary.Deleted; got != 3 {
		t.Errorf("deleted = %d, want 3", got)
	}
}

func TestRunMissingSourceWithoutDelete(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "dist")
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: missing})

	if !errors.Is(run.err, exitcode.ErrUsage) {
		t.Fatalf("error = %v, want it to wrap ErrUsage", run.err)
	}
	if !strings.Contains(run.err.Error(), missing) {
		t.Errorf("error %q does not name %s", run.err, missing)
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls = %d, want 0", got)
	}
}

func TestRunEmptySourceUploadsNothing(t *testing.T) {
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: t.TempDir()})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls = %d, want 0", got)
	}
}

func TestRunDryRunChangesNothing(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"new file.txt": "n"})
	writeSized(t, filepath.Join(src, "big.bin"), 9*MiB, 6)
	fake := newFakeS3()
	fake.put("p/stale.txt", []byte("s"), md5Hex([]byte("s")))

	run := runSync(t, fake, Options{Source: src, Prefix: "p", Delete: true, DryRun: true, Headers: ObjectHeaders{SSE: SSEKMS}})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls = %d, want 0", got)
	}
	wantLines := []string{
		"(dryrun) upload: " + filepath.Join(src, "new file.txt") + " to s3://" + testBucket + "/p/new file.txt",
		"(dryrun) upload: " + filepath.Join(src, "big.bin") + " to s3://" + testBucket + "/p/big.bin",
		"(dryrun) delete: s3://" + testBucket + "/p/stale.txt",
		"(dryrun) uploaded 2 (9.0 MiB), skipped 0, deleted 1, failed 0 in ",
	}
	for _, line := range wantLines {
		if !strings.Contains(run.out, line) {
			t.Errorf("output lacks %q; got:\n%s", line, run.out)
		}
	}
	if !run.report.DryRun || run.report.Summary.Uploaded != 2 || run.report.Summary.Deleted != 1 {
		t.Errorf("report = %+v, want a dry run of 2 uploads and 1 delete", run.report.Summary)
	}
}

func TestRunBuildFailedGuard(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src, BuildFailed: true})

	if !errors.Is(run.err, exitcode.ErrRefused) {
		t.Fatalf("error = %v, want it to wrap ErrRefused", run.err)
	}
	for _, want := range []string{"CODEBUILD_BUILD_SUCCEEDING=0", "--allow-failed-build"} {
		if !strings.Contains(run.err.Error(), want) {
			t.Errorf("error %q lacks %q", run.err, want)
		}
	}
	if got := len(fake.allCalls()); got != 0 {
		t.Errorf("calls = %d, want 0", got)
	}

	allowed := runSync(t, fake, Options{Source: src, BuildFailed: true, AllowFailedBuild: true})

	if allowed.err != nil {
		t.Fatalf("Run with AllowFailedBuild: %v", allowed.err)
	}
	if got := allowed.report.Summary.Uploaded; got != 4 {
		t.Errorf("uploaded with AllowFailedBuild = %d, want 4", got)
	}
}

// Running as root reads any file whatever its mode, so a dangling symlink
// stands in for an unreadable file: stat fails on it like open fails on a
// file without read permission.
func TestRunUnreadableFileFailsAlone(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	if err := os.Symlink(filepath.Join(src, "no-such-target"), filepath.Join(src, "broken.txt")); err != nil {
		t.Fatal(err)
	}
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src})

	if run.err == nil {
		t.Fatal("Run succeeded, want a failure for broken.txt")
	}
	if got := exitcode.For(run.err); got != exitcode.Failure {
		t.Errorf("exit code = %d, want %d", got, exitcode.Failure)
	}
	if !strings.Contains(run.err.Error(), "broken.txt") || !strings.Contains(run.err.Error(), "1 of 5 files failed") {
		t.Errorf("error %q does not name broken.txt and the counts", run.err)
	}
	if len(run.report.Failed) != 1 || run.report.Failed[0].Key != "broken.txt" {
		t.Errorf("failed = %+v, want broken.txt", run.report.Failed)
	}
	if got := run.report.Summary.Uploaded; got != 4 {
		t.Errorf("uploaded = %d, want the other 4", got)
	}
	if got := countLines(run.log, `"level":"error"`); got != 1 {
		t.Errorf("error log lines = %d, want 1", got)
	}
}

func TestRunSymlinkLoopWarnsOnce(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"a/file.txt": "f"})
	if err := os.Symlink("..", filepath.Join(src, "a", "up")); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeTree(t, outside, map[string]string{"linked.txt": "l"})
	if err := os.Symlink(filepath.Join(outside, "linked.txt"), filepath.Join(src, "link.txt")); err != nil {
		t.Fatal(err)
	}
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got, want := run.report.Uploaded, []string{"a/file.txt", "link.txt"}; !slices.Equal(got, want) {
		t.Errorf("uploaded = %v, want %v", got, want)
	}
	if got := countLines(run.log, "symlink loop"); got != 1 {
		t.Errorf("symlink loop warnings = %d, want 1; log:\n%s", got, run.log)
	}
}

func TestRunFIFOSkipped(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"ok.txt": "o"})
	if err := mkfifo(filepath.Join(src, "pipe")); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got, want := run.report.Uploaded, []string{"ok.txt"}; !slices.Equal(got, want) {
		t.Errorf("uploaded = %v, want %v", got, want)
	}
	if got := countLines(run.log, "skipped special file"); got != 1 {
		t.Errorf("special file warnings = %d, want 1", got)
	}
}

func TestRunUnusualKeys(t *testing.T) {
	src := t.TempDir()
	files := map[string]string{
		"with space/a b.txt": "1",
		"ünïcødé/日本.txt":     "2",
		"plus+sign.txt":      "3",
		"percent%20.txt":     "4",
	}
	writeTree(t, src, files)
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src, Prefix: "odd keys"})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	want := []string{"odd keys/percent%20.txt", "odd keys/plus+sign.txt", "odd keys/with space/a b.txt", "odd keys/ünïcødé/日本.txt"}
	if got := fake.keys(); !slices.Equal(got, want) {
		t.Errorf("bucket keys = %q, want %q", got, want)
	}

	fake.resetCalls()
	again := runSync(t, fake, Options{Source: src, Prefix: "odd keys", Delete: true})

	if again.err != nil {
		t.Fatalf("re-sync: %v", again.err)
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls on re-sync = %d, want 0", got)
	}
}

func TestRunCancelAbortsMultipart(t *testing.T) {
	src := t.TempDir()
	writeSized(t, filepath.Join(src, "big.bin"), 20*MiB, 7)
	fake := newFakeS3()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fake.inject = func(ctx context.Context, op, key string) error {
		if op != "UploadPart" {
			return nil
		}
		cancel() // as SIGTERM would, while a part is in flight
		<-ctx.Done()
		return ctx.Err()
	}

	run := runSyncContext(t, ctx, fake, Options{Source: src})

	if !errors.Is(run.err, context.Canceled) {
		t.Errorf("error = %v, want it to wrap context.Canceled", run.err)
	}
	// The second abort confirms that the upload is gone (NoSuchUpload).
	aborts := fake.callsOf("AbortMultipartUpload")
	if len(aborts) != 2 {
		t.Fatalf("AbortMultipartUpload calls = %d, want 2", len(aborts))
	}
	if err := aborts[0].input.(abortRecord).ctxErr; err != nil {
		t.Errorf("abort sent with a done context: %v", err)
	}
	if got := len(fake.callsOf("CompleteMultipartUpload")); got != 0 {
		t.Errorf("CompleteMultipartUpload calls = %d, want 0", got)
	}
	if got := fake.openUploads(); got != 0 {
		t.Errorf("open multipart uploads = %d, want 0", got)
	}
	if len(run.report.Failed) != 1 || run.report.Failed[0].Key != "big.bin" {
		t.Errorf("failed = %+v, want big.bin", run.report.Failed)
	}
}

func TestRunFileGrowsDuringMultipart(t *testing.T) {
	src := t.TempDir()
	path := filepath.Join(src, "big.bin")
	writeSized(t, path, 20*MiB, 8)
	fake := newFakeS3()
	var once sync.Once
	fake.inject = func(_ context.Context, op, _ string) error {
		if op == "UploadPart" {
			once.Do(func() {
				f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
				if err == nil {
					f.Write([]byte("more"))
					f.Close()
				}
			})
		}
		return nil
	}

	run := runSync(t, fake, Options{Source: src})

	if run.err == nil {
		t.Fatal("Run succeeded, want a failure for the changed file")
	}
	if len(run.report.Failed) != 1 || !strings.Contains(run.report.Failed[0].Error, "changed size") {
		t.Errorf("failed = %+v, want big.bin changed size", run.report.Failed)
	}
	if got := len(fake.callsOf("CompleteMultipartUpload")); got != 0 {
		t.Errorf("CompleteMultipartUpload calls = %d, want 0", got)
	}
	if got := len(fake.callsOf("AbortMultipartUpload")); got != 2 {
		t.Errorf("AbortMultipartUpload calls = %d, want 2 (abort, then NoSuchUpload)", got)
	}
	if _, ok := fake.object("big.bin"); ok {
		t.Error("a torn big.bin was stored")
	}
}

func TestRunAbortRepeatsForLatePart(t *testing.T) {
	src := t.TempDir()
	writeSized(t, filepath.Join(src, "big.bin"), 20*MiB, 9)
	fake := newFakeS3()
	fake.lateParts = 1
	fake.inject = func(_ context.Context, op, _ string) error {
		if op == "UploadPart" {
			return errors.New("connection reset")
		}
		return nil
	}

	runSync(t, fake, Options{Source: src})

	if got := fake.openUploads(); got != 0 {
		t.Errorf("open multipart uploads = %d, want 0", got)
	}
	if got := len(fake.callsOf("AbortMultipartUpload")); got != 3 {
		t.Errorf("AbortMultipartUpload calls = %d, want 3 (abort, abort again, NoSuchUpload)", got)
	}
}

func TestRunPartFailureAborts(t *testing.T) {
	src := t.TempDir()
	writeSized(t, filepath.Join(src, "big.bin"), 20*MiB, 9)
	writeTree(t, src, map[string]string{"small.txt": "s"})
	fake := newFakeS3()
	fake.inject = func(_ context.Context, op, _ string) error {
		if op == "UploadPart" {
			return errors.New("connection reset")
		}
		return nil
	}

	run := runSync(t, fake, Options{Source: src})

	if got := exitcode.For(run.err); got != exitcode.Failure {
		t.Errorf("exit code = %d (error %v), want %d", got, run.err, exitcode.Failure)
	}
	if got := len(fake.callsOf("AbortMultipartUpload")); got != 2 {
		t.Errorf("AbortMultipartUpload calls = %d, want 2 (abort, then NoSuchUpload)", got)
	}
	if got, want := run.report.Uploaded, []string{"small.txt"}; !slices.Equal(got, want) {
		t.Errorf("uploaded = %v, want %v", got, want)
	}
}

func TestRunAbortDeniedNamesPermission(t *testing.T) {
	src := t.TempDir()
	writeSized(t, filepath.Join(src, "big.bin"), 20*MiB, 9)
	fake := newFakeS3()
	fake.inject = func(_ context.Context, op, _ string) error {
		switch op {
		case "UploadPart":
			return errors.New("connection reset")
		case "AbortMultipartUpload":
			return deniedError()
		}
		return nil
	}

	run := runSync(t, fake, Options{Source: src})

	if got := len(fake.callsOf("AbortMultipartUpload")); got != 1 {
		t.Errorf("AbortMultipartUpload calls = %d, want 1 (a denial is not retried)", got)
	}
	if !strings.Contains(run.log, "grant s3:AbortMultipartUpload on arn:aws:s3:::"+testBucket+"/big.bin") {
		t.Errorf("log does not name the missing permission:\n%s", run.log)
	}
}

func TestRunAccessDenied(t *testing.T) {
	tests := []struct {
		name      string
		op        string
		wantCode  int
		wantCalls string // an operation that must not appear
	}{
		{name: "ListDenied", op: "ListObjectsV2", wantCode: exitcode.AccessDenied, wantCalls: "PutObject"},
		{name: "PutDenied", op: "PutObject", wantCode: exitcode.AccessDenied},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := t.TempDir()
			writeTree(t, src, smallTree)
			fake := newFakeS3()
			fake.inject = func(_ context.Context, op, key string) error {
				if op == tt.op && (op != "PutObject" || key == "index.html") {
					return deniedError()
				}
				return nil
			}

			run := runSync(t, fake, Options{Source: src})

			if got := exitcode.For(run.err); got != tt.wantCode {
				t.Errorf("exit code = %d (error %v), want %d", got, run.err, tt.wantCode)
			}
			if tt.wantCalls != "" && len(fake.callsOf(tt.wantCalls)) != 0 {
				t.Errorf("%s was called after the listing failed", tt.wantCalls)
			}
		})
	}
}

func TestRunManifestForKMS(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	writeSized(t, filepath.Join(src, "big.bin"), 9*MiB, 10)
	fake := newFakeS3()
	opts := Options{Source: src, Prefix: "kms", Headers: ObjectHeaders{SSE: SSEKMS}}

	first := runSync(t, fake, opts)

	if first.err != nil {
		t.Fatalf("first Run: %v", first.err)
	}
	if _, ok := fake.object("kms/.countersign/manifest.json"); !ok {
		t.Fatal("no manifest written after an SSE-KMS run")
	}

	fake.resetCalls()
	second := runSync(t, fake, opts)

	if second.err != nil {
		t.Fatalf("second Run: %v", second.err)
	}
	if got := second.report.Summary.Uploaded; got != 0 {
		t.Errorf("uploaded on re-sync = %d (%v), want 0", got, second.report.Uploaded)
	}
	if got := second.report.Summary.Skipped; got != 5 {
		t.Errorf("skipped on re-sync = %d, want 5 (the manifest is not counted)", got)
	}

	writeTree(t, src, map[string]string{"js/app.js": "console.log(2)"})
	third := runSync(t, fake, opts)

	if third.err != nil {
		t.Fatalf("third Run: %v", third.err)
	}
	if got, want := third.report.Uploaded, []string{"kms/js/app.js"}; !slices.Equal(got, want) {
		t.Errorf("uploaded after a same-size edit = %v, want %v", got, want)
	}
}

func TestRunReservedPrefixUntouched(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"ok.txt": "o", ".countersign/manifest.json": "{}"})
	fake := newFakeS3()
	fake.put("p/.countersign/canary-1", []byte("c"), md5Hex([]byte("c")))

	run := runSync(t, fake, Options{Source: src, Prefix: "p", Delete: true})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got, want := fake.keys(), []string{"p/.countersign/canary-1", "p/ok.txt"}; !slices.Equal(got, want) {
		t.Errorf("bucket keys = %v, want %v", got, want)
	}
	if got := run.report.Summary; got.Uploaded != 1 || got.Deleted != 0 || got.Skipped != 0 {
		t.Errorf("summary = %+v, want 1 upload and nothing else", got)
	}
}

func TestRunRejectsOversizedFile(t *testing.T) {
	src := t.TempDir()
	path := filepath.Join(src, "huge.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(MaxObjectSize + 1); err != nil {
		f.Close()
		t.Skipf("this file system cannot hold a sparse file over 5 TiB: %v", err)
	}
	f.Close()
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src})

	if len(run.report.Failed) != 1 || !strings.Contains(run.report.Failed[0].Error, "5 TiB") {
		t.Errorf("failed = %+v, want huge.bin over 5 TiB", run.report.Failed)
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls = %d, want 0", got)
	}
}

func TestRunInvalidOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{name: "UnknownACL", opts: Options{Headers: ObjectHeaders{ACL: "owner-only"}}},
		{name: "BadFilter", opts: Options{Filters: []Filter{{Pattern: "a[b"}}}},
		{name: "SmallPartSize", opts: Options{PartSize: MiB}},
		{name: "BadProgressMode", opts: Options{Progress: "fancy"}},
		{name: "ShortBucketOwner", opts: Options{ExpectedBucketOwner: "12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeS3()
			opts := tt.opts
			opts.Source = t.TempDir()

			run := runSync(t, fake, opts)

			if !errors.Is(run.err, exitcode.ErrUsage) {
				t.Errorf("error = %v, want it to wrap ErrUsage", run.err)
			}
			if got := len(fake.allCalls()); got != 0 {
				t.Errorf("calls = %d, want 0", got)
			}
		})
	}
}

func TestRunProgressLines(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	fake := newFakeS3()
	fake.inject = func(context.Context, string, string) error {
		time.Sleep(30 * time.Millisecond)
		return nil
	}

	run := runSync(t, fake, Options{Source: src, Progress: ProgressLines, ProgressInterval: 10 * time.Millisecond, Concurrency: 1})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if !strings.Contains(run.log, `"files_total":4`) {
		t.Errorf("no progress line with files_total in the log:\n%s", run.log)
	}
	if !strings.Contains(run.log, ` of 43 B"`) {
		t.Errorf("no progress line gives the 43 bytes in a unit that is not zero:\n%s", run.log)
	}
}

func TestRunProgressBar(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, smallTree)
	var bar syncBuffer

	run := runSync(t, newFakeS3(), Options{Source: src, Progress: ProgressBar, ProgressOut: &bar})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if !strings.Contains(bar.String(), "files 4/4") {
		t.Errorf("bar output lacks the file count: %q", bar.String())
	}
}

func TestRunDryRunShowsPlanPastDeleteGuard(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"keep.txt": "k", "new.txt": "n"})
	fake := newFakeS3()
	fake.put("p/keep.txt", []byte("k"), md5Hex([]byte("k")))
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		fake.put("p/"+name, []byte("r"), md5Hex([]byte("r")))
	}

	run := runSync(t, fake, Options{Source: src, Prefix: "p", Delete: true, DryRun: true, MaxDeletePercent: 50})

	if !errors.Is(run.err, exitcode.ErrRefused) {
		t.Fatalf("error = %v, want it to wrap ErrRefused", run.err)
	}
	for _, want := range []string{"dry run", "5 of 6 keys", "--max-delete-percent"} {
		if !strings.Contains(run.err.Error(), want) {
			t.Errorf("error %q lacks %q", run.err, want)
		}
	}
	wantLines := []string{
		"(dryrun) upload: " + filepath.Join(src, "new.txt") + " to s3://" + testBucket + "/p/new.txt",
		"(dryrun) delete: s3://" + testBucket + "/p/a",
		"(dryrun) delete: s3://" + testBucket + "/p/e",
		"(dryrun) uploaded 1 (1 B), skipped 1, deleted 5, failed 0 in ",
	}
	for _, line := range wantLines {
		if !strings.Contains(run.out, line) {
			t.Errorf("output lacks %q; got:\n%s", line, run.out)
		}
	}
	if got := fake.writeCalls(); got != 0 {
		t.Errorf("write calls = %d, want 0", got)
	}
}

func TestRunBrokenSymlinkNamed(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"ok.txt": "o"})
	link := filepath.Join(src, "dangling")
	if err := os.Symlink("missing-target", link); err != nil {
		t.Fatal(err)
	}
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src})

	if len(run.report.Failed) != 1 {
		t.Fatalf("failed = %+v, want the broken link alone", run.report.Failed)
	}
	got := run.report.Failed[0].Error
	for _, want := range []string{"broken symbolic link " + link, "missing-target"} {
		if !strings.Contains(got, want) {
			t.Errorf("failure %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "no such file or directory") {
		t.Errorf("failure %q still reads as a missing file", got)
	}
}

func TestRunReservedDirWarnsOnce(t *testing.T) {
	src := t.TempDir()
	writeTree(t, src, map[string]string{"ok.txt": "o", ".countersign/a": "a", ".countersign/sub/b": "b"})
	if err := os.Symlink("a", filepath.Join(src, ".countersign", "also-a")); err != nil {
		t.Fatal(err)
	}
	fake := newFakeS3()

	run := runSync(t, fake, Options{Source: src})

	if run.err != nil {
		t.Fatalf("Run: %v", run.err)
	}
	if got := countLines(run.log, "reserved directory"); got != 1 {
		t.Errorf("reserved directory warnings = %d, want 1; log:\n%s", got, run.log)
	}
	if !strings.Contains(run.log, "skipped 3 source files") {
		t.Errorf("the warning does not count the 3 files; log:\n%s", run.log)
	}
	if got, want := run.report.Uploaded, []string{"ok.txt"}; !slices.Equal(got, want) {
		t.Errorf("uploaded = %v, want %v", got, want)
	}
}
