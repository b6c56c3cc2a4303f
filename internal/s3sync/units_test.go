package s3sync

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/countersign/countersign/internal/denial"
	"github.com/countersign/countersign/internal/exitcode"
)

func TestPartSizeFor(t *testing.T) {
	tests := []struct {
		name       string
		size       int64
		configured int64
		want       int64
	}{
		{name: "Small", size: 20 * MiB, configured: 8 * MiB, want: 8 * MiB},
		{name: "ExactlyMaxParts", size: 10000 * 8 * MiB, configured: 8 * MiB, want: 8 * MiB},
		{name: "OneByteOverMaxParts", size: 10000*8*MiB + 1, configured: 8 * MiB, want: 9 * MiB},
		{name: "HundredGiB", size: 100 * GiB, configured: 8 * MiB, want: 11 * MiB},
		{name: "FiveTiB", size: 5 * TiB, configured: 8 * MiB, want: 525 * MiB},
		{name: "ZeroConfiguredUsesDefault", size: MiB, configured: 0, want: DefaultPartSize},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PartSizeFor(tt.size, tt.configured)

			if got != tt.want {
				t.Errorf("PartSizeFor(%d, %d) = %d, want %d", tt.size, tt.configured, got, tt.want)
			}
			if parts := PartCount(tt.size, got); parts > MaxParts {
				t.Errorf("part count = %d, want at most %d", parts, MaxParts)
			}
			if got%MiB != 0 {
				t.Errorf("part size %d is not a whole number of MiB", got)
			}
		})
	}
}

// A sparse file takes no disk space, so the part size of a file over
// 80 GiB (10,000 parts of 8 MiB) is computed from a real stat.
func TestPartSizeForSparseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sparse.bin")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(81 * GiB); err != nil {
		f.Close()
		t.Skipf("this file system cannot hold an 81 GiB sparse file: %v", err)
	}
	f.Close()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}

	got := PartSizeFor(info.Size(), DefaultPartSize)

	if got != 9*MiB {
		t.Errorf("part size = %d, want %d (9 MiB)", got, 9*MiB)
	}
	if parts := PartCount(info.Size(), got); parts != 9216 {
		t.Errorf("part count = %d, want 9216", parts)
	}
}

func TestParseETag(t *testing.T) {
	tests := []struct {
		name string
		etag string
		want parsedETag
	}{
		{name: "SinglePartQuoted", etag: `"D41D8CD98F00B204E9800998ECF8427E"`, want: parsedETag{digest: "d41d8cd98f00b204e9800998ecf8427e"}},
		{name: "Multipart", etag: `"abc-3"`, want: parsedETag{digest: "abc", parts: 3}},
		{name: "MalformedCount", etag: `"abc-x"`, want: parsedETag{digest: "abc-x", parts: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseETag(tt.etag)

			if got != tt.want {
				t.Errorf("parseETag(%q) = %+v, want %+v", tt.etag, got, tt.want)
			}
		})
	}
}

func TestCandidatePartSizes(t *testing.T) {
	tests := []struct {
		name  string
		size  int64
		parts int64
		want  []int64
	}{
		{name: "OursFirst", size: 20 * MiB, parts: 3, want: []int64{8 * MiB, 7 * MiB}},
		{name: "FiveMiB", size: 20 * MiB, parts: 4, want: []int64{5 * MiB}},
		{name: "SixteenMiB", size: 20 * MiB, parts: 2, want: []int64{16 * MiB, 10 * MiB}},
		{name: "SinglePart", size: 20 * MiB, parts: 1, want: []int64{64 * MiB, 20 * MiB}},
		{name: "NoCandidate", size: 20 * MiB, parts: 100, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := candidatePartSizes(tt.size, tt.parts, 8*MiB)

			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("candidatePartSizes(%d, %d) = %v, want %v", tt.size, tt.parts, got, tt.want)
			}
		})
	}
}

func TestHashFileMatchesS3ETags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f.bin")
	writeSized(t, path, 12*MiB+3, 11)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	got, err := hashFile(path, int64(len(data)), []int64{5 * MiB, 8 * MiB}, true)

	if err != nil {
		t.Fatalf("hashFile: %v", err)
	}
	if fmt.Sprintf("%x", got.md5) != md5Hex(data) {
		t.Errorf("md5 = %x, want %s", got.md5, md5Hex(data))
	}
	for _, ps := range []int64{5 * MiB, 8 * MiB} {
		if got, want := multipartETag(got.partMD5s[ps]), otherToolETag(data, int(ps)); got != want {
			t.Errorf("multipart ETag with %d-byte parts = %s, want %s", ps, got, want)
		}
	}

	if _, err := hashFile(path, int64(len(data))+1, nil, true); !errors.Is(err, errSizeChanged) {
		t.Errorf("hashFile with a wrong size: error = %v, want errSizeChanged", err)
	}
}

func TestHeadersValidate(t *testing.T) {
	tests := []struct {
		name    string
		headers ObjectHeaders
		wantErr string // empty for valid
	}{
		{name: "Empty"},
		{name: "BucketOwnerFullControl", headers: ObjectHeaders{ACL: "bucket-owner-full-control"}},
		{name: "AES256", headers: ObjectHeaders{SSE: "AES256"}},
		{name: "KMSWithKey", headers: ObjectHeaders{SSE: "aws:kms", SSEKMSKeyID: "arn:aws:kms:us-east-1:111122223333:key/1"}},
		{name: "BucketOwnerRead", headers: ObjectHeaders{ACL: "bucket-owner-read"}},
		{name: "Private", headers: ObjectHeaders{ACL: "private"}},
		{name: "UnknownACL", headers: ObjectHeaders{ACL: "owner-only"}, wantErr: `invalid ACL "owner-only"`},
		{name: "ACLCase", headers: ObjectHeaders{ACL: "Private"}, wantErr: "not a canned object ACL"},
		{name: "UnknownSSE", headers: ObjectHeaders{SSE: "aws:kms:dsse"}, wantErr: "invalid server-side encryption"},
		{name: "KeyWithoutKMS", headers: ObjectHeaders{SSE: "AES256", SSEKMSKeyID: "k"}, wantErr: "KMS key id"},
		{name: "KeyAlone", headers: ObjectHeaders{SSEKMSKeyID: "k"}, wantErr: "KMS key id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.headers.Validate()

			if tt.wantErr == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.wantErr)
			}
			if !errors.Is(err, exitcode.ErrUsage) {
				t.Errorf("Validate() = %v, want it to wrap ErrUsage", err)
			}
		})
	}
}

func TestContentTypeFor(t *testing.T) {
	tests := []struct {
		name string
		file string
		want string
	}{
		{name: "HTML", file: "index.html", want: "text/html; charset=utf-8"},
		{name: "UpperCaseExtension", file: "LOGO.PNG", want: "image/png"},
		{name: "JavaScript", file: "app.mjs", want: "text/javascript; charset=utf-8"},
		{name: "Wasm", file: "m.wasm", want: "application/wasm"},
		{name: "Tarball", file: "dist.tar.gz", want: "application/gzip"},
		{name: "NoExtension", file: "LICENSE", want: "application/octet-stream"},
		{name: "UnknownExtension", file: "x.countersignunknown", want: "application/octet-stream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := contentTypeFor(tt.file); got != tt.want {
				t.Errorf("contentTypeFor(%q) = %q, want %q", tt.file, got, tt.want)
			}
		})
	}
}

func TestIsAccessDenied(t *testing.T) {
	forbidden := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusForbidden}},
		Err:      errors.New("forbidden"),
	}}
	notFound := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: http.StatusNotFound}},
		Err:      errors.New("not found"),
	}}

	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "AccessDeniedCode", err: &smithy.GenericAPIError{Code: "AccessDenied"}, want: true},
		{name: "AllAccessDisabled", err: &smithy.GenericAPIError{Code: "AllAccessDisabled"}, want: true},
		{name: "Wrapped", err: fmt.Errorf("upload: %w", &smithy.GenericAPIError{Code: "AccessDenied"}), want: true},
		{name: "Bare403", err: forbidden, want: true},
		{name: "NotFound404", err: notFound, want: false},
		{name: "OtherCode", err: &smithy.GenericAPIError{Code: "SlowDown"}, want: false},
		{name: "DeleteKeyError", err: &deleteError{key: "k", code: "AccessDenied"}, want: true},
		{name: "Plain", err: errors.New("boom"), want: false},
		{name: "Nil", err: nil, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := denial.IsAccessDenied(tt.err); got != tt.want {
				t.Errorf("denial.IsAccessDenied(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestReportJSONFields(t *testing.T) {
	r := newReport(true)
	r.Summary = Summary{Uploaded: 2, Skipped: 1, Deleted: 3, Failed: 1, BytesUploaded: 5 * GiB}
	r.Uploaded = []string{"a", "b"}
	r.Failed = []Failure{{Key: "k", Path: "/src/k", Error: "boom"}}
	path := filepath.Join(t.TempDir(), "report.json")

	if err := r.WriteFile(path); err != nil {
		t.Fatalf("WriteFile: %v", err)
	}

	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o644 {
		t.Errorf("mode = %o, want 644", got)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	for _, field := range []string{"summary", "uploaded", "skipped", "deleted", "failed", "dry_run"} {
		if _, ok := doc[field]; !ok {
			t.Errorf("report lacks field %q", field)
		}
	}
	if got := string(doc["skipped"]); got != "[]" {
		t.Errorf("empty skipped list = %s, want []", got)
	}
	if got := string(doc["dry_run"]); got != "true" {
		t.Errorf("dry_run = %s, want true", got)
	}

	var summary map[string]json.RawMessage
	if err := json.Unmarshal(doc["summary"], &summary); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"uploaded": "2", "skipped": "1", "deleted": "3", "failed": "1", "bytes_uploaded": "5368709120"}
	for field, value := range want {
		if got := string(summary[field]); got != value {
			t.Errorf("summary.%s = %s, want the integer %s", field, got, value)
		}
	}

	var failed []map[string]string
	if err := json.Unmarshal(doc["failed"], &failed); err != nil {
		t.Fatal(err)
	}
	if len(failed) != 1 || failed[0]["key"] != "k" || failed[0]["path"] != "/src/k" || failed[0]["error"] != "boom" {
		t.Errorf("failed = %v, want key, path and error", failed)
	}

	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".report.json.*"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestNormalizePrefixAndKeys(t *testing.T) {
	tests := []struct {
		name   string
		prefix string
		rel    string
		want   string
	}{
		{name: "Root", prefix: "", rel: "a/b", want: "a/b"},
		{name: "SlashOnly", prefix: "/", rel: "a", want: "a"},
		{name: "Trimmed", prefix: "/builds/42/", rel: "x", want: "builds/42/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := KeyFor(NormalizePrefix(tt.prefix), tt.rel); got != tt.want {
				t.Errorf("key = %q, want %q", got, tt.want)
			}
		})
	}
	if got := ManifestKey("/p/"); got != "p/.countersign/manifest.json" {
		t.Errorf("ManifestKey = %q", got)
	}
}

func TestFormatBytes(t *testing.T) {
	tests := []struct {
		name string
		n    int64
		want string
	}{
		{"zero", 0, "0 B"},
		{"oneByte", 1, "1 B"},
		{"belowKiB", 1023, "1023 B"},
		{"oneKiB", KiB, "1.0 KiB"},
		{"belowMiB", 512 * KiB, "512.0 KiB"},
		{"oneAndHalfMiB", MiB + MiB/2, "1.5 MiB"},
		{"twoGiB", 2 * GiB, "2.0 GiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatBytes(tt.n); got != tt.want {
				t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
			}
		})
	}
}

func TestCheckReportPath(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		path     string
		wantErr  bool
		wantText string
	}{
		{"writableDirectory", filepath.Join(dir, "report.json"), false, ""},
		{"missingDirectory", filepath.Join(dir, "missing", "report.json"), true, filepath.Join(dir, "missing") + " does not exist"},
		{"pathIsDirectory", dir, true, "is a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckReportPath(tt.path)
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("CheckReportPath(%s): %v", tt.path, err)
				}
				if leftovers, _ := filepath.Glob(filepath.Join(dir, ".*")); len(leftovers) != 0 {
					t.Errorf("the check left files behind: %v", leftovers)
				}
				return
			}
			if !errors.Is(err, exitcode.ErrUsage) {
				t.Fatalf("error = %v, want it to wrap ErrUsage", err)
			}
			for _, want := range []string{tt.path, tt.wantText} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q lacks %q", err, want)
				}
			}
		})
	}
}
