package s3sync

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/internal/exitcode"
)

// Client is the subset of *s3.Client that the engine uses, so tests can pass
// a fake.
type Client interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// Size units and S3 limits.
const (
	KiB = int64(1) << 10
	MiB = int64(1) << 20
	GiB = int64(1) << 30
	TiB = int64(1) << 40

	// MaxObjectSize is the largest object S3 stores.
	MaxObjectSize = 5 * TiB
	// MaxParts is the largest part count of a multipart upload.
	MaxParts = 10000
	// MinPartSize and MaxPartSize bound every part but the last.
	MinPartSize = 5 * MiB
	MaxPartSize = 5 * GiB
)

// Defaults applied by Run to zero-valued options.
const (
	// DefaultPartSize and DefaultMultipartThreshold equal the AWS CLI's
	// defaults, so objects that the CLI uploaded with its defaults get the
	// same multipart ETag as the local file and compare equal.
	DefaultPartSize           = 8 * MiB
	DefaultMultipartThreshold = 8 * MiB

	// DefaultConcurrency is the number of files hashed or requests in
	// flight at once. Small objects spend most of their time waiting on
	// S3's per-request latency rather than on CPU or bandwidth, so many
	// concurrent requests raise throughput. Each request streams from disk
	// and holds no whole-file buffer, so memory stays flat as it grows.
	// NOTE: the HTTP client should keep at least this many idle connections
	// per host (awsclient.Options.MaxConns), or connections get reopened.
	DefaultConcurrency = 32

	DefaultProgressInterval = 5 * time.Second
)

// ReservedDir is the directory under the prefix that sync never uploads
// to from the source, never deletes and never counts. It holds the manifest
// and preflight's canary object.
const ReservedDir = ".countersign"

// ManifestName is the manifest's name inside ReservedDir.
const ManifestName = "manifest.json"

// ACLBucketOwnerFullControl is the only canned ACL that a bucket with Object
// Ownership "bucket owner enforced" accepts. Buckets with ACLs enabled take
// the others too, so the bucket, not the agent, decides.
const ACLBucketOwnerFullControl = "bucket-owner-full-control"

// SSE values accepted by ObjectHeaders.
const (
	SSEAES256 = "AES256"
	SSEKMS    = "aws:kms"
)

// ObjectHeaders are the headers every upload sends.
type ObjectHeaders struct {
	ACL          string // "" or a canned object ACL, such as "bucket-owner-full-control"
	SSE          string // "", "AES256" or "aws:kms"
	SSEKMSKeyID  string // only with SSE "aws:kms"; empty selects the AWS managed key
	CacheControl string
}

// Validate checks that the headers are values S3 accepts. Whether the
// bucket accepts the ACL depends on its Object Ownership setting, which only
// the dev account can read. So a canned ACL is sent, and a rejection is left
// to the denial diagnosis to explain.
func (h ObjectHeaders) Validate() error {
	if h.ACL != "" && !slices.Contains(types.ObjectCannedACL("").Values(), types.ObjectCannedACL(h.ACL)) {
		return fmt.Errorf("invalid ACL %q: not a canned object ACL; omit the ACL (buckets with Object Ownership \"bucket owner enforced\" need none) or use %q: %w",
			h.ACL, ACLBucketOwnerFullControl, exitcode.ErrUsage)
	}

	switch h.SSE {
	case "", SSEAES256, SSEKMS:
	default:
		return fmt.Errorf("invalid server-side encryption %q: use %q or %q, or omit it for the bucket default: %w", h.SSE, SSEAES256, SSEKMS, exitcode.ErrUsage)
	}

	if h.SSEKMSKeyID != "" && h.SSE != SSEKMS {
		return fmt.Errorf("a KMS key id needs server-side encryption %q, got %q: set both or neither: %w", SSEKMS, h.SSE, exitcode.ErrUsage)
	}
	return nil
}

// ApplyPut sets the headers on a PutObject request. Preflight's canary uses
// it too, so the canary sends exactly what sync sends.
func (h ObjectHeaders) ApplyPut(in *s3.PutObjectInput) {
	if h.ACL != "" {
		in.ACL = types.ObjectCannedACL(h.ACL)
	}
	if h.SSE != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(h.SSE)
	}
	if h.SSEKMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(h.SSEKMSKeyID)
	}
	if h.CacheControl != "" {
		in.CacheControl = aws.String(h.CacheControl)
	}
}

// ApplyCreateMultipart sets the headers on a CreateMultipartUpload request.
func (h ObjectHeaders) ApplyCreateMultipart(in *s3.CreateMultipartUploadInput) {
	if h.ACL != "" {
		in.ACL = types.ObjectCannedACL(h.ACL)
	}
	if h.SSE != "" {
		in.ServerSideEncryption = types.ServerSideEncryption(h.SSE)
	}
	if h.SSEKMSKeyID != "" {
		in.SSEKMSKeyId = aws.String(h.SSEKMSKeyID)
	}
	if h.CacheControl != "" {
		in.CacheControl = aws.String(h.CacheControl)
	}
}

// ProgressMode selects how progress is shown.
type ProgressMode string

// Progress modes.
const (
	ProgressAuto  ProgressMode = "auto"  // bar on a terminal, lines elsewhere
	ProgressBar   ProgressMode = "bar"   // a progress bar drawn on ProgressOut
	ProgressLines ProgressMode = "lines" // an info log line every ProgressInterval
	ProgressNone  ProgressMode = "none"
)

// Filter is one include or exclude pattern. Patterns are matched against
// the "/"-separated path relative to the source directory (or, for
// destination keys, relative to the prefix) with doublestar.Match rules. A
// pattern without "/" also matches the base name at any depth, and a
// pattern ending in "/" matches that directory and everything below it.
// The last matching filter decides; a path no filter matches is included.
// The package documentation gives the full meaning.
type Filter struct {
	Exclude bool
	Pattern string
}

// Options configure Run.
type Options struct {
	Source              string // local directory
	Bucket              string
	Prefix              string // leading and trailing "/" are dropped; empty means the bucket root
	ExpectedBucketOwner string // account id sent with every request when set

	Delete           bool
	MaxDelete        int     // maximum keys one run may delete; below zero means no limit
	MaxDeletePercent float64 // maximum share of the destination's keys one run may delete, in percent; 0 means no limit

	Filters     []Filter
	DryRun      bool
	Concurrency int // 0 means DefaultConcurrency
	Headers     ObjectHeaders

	PartSize           int64 // bytes; 0 means DefaultPartSize, grown so no file needs more than MaxParts parts
	MultipartThreshold int64 // bytes; files of at least this size go multipart; 0 means DefaultMultipartThreshold

	// BuildFailed is set by the caller from CODEBUILD_BUILD_SUCCEEDING=0.
	// Run then refuses to deliver unless AllowFailedBuild is set.
	BuildFailed      bool
	AllowFailedBuild bool

	Progress         ProgressMode // "" means ProgressAuto
	ProgressOut      io.Writer    // bar destination, usually stderr; nil disables the bar
	ProgressInterval time.Duration

	// Out receives the dry-run plan and the final summary line, for people.
	// Nil discards them.
	Out io.Writer
}

// withDefaults validates opts and fills in the defaults.
func (opts Options) withDefaults() (Options, error) {
	if opts.Bucket == "" {
		return opts, fmt.Errorf("missing destination bucket: give the destination as s3://BUCKET/PREFIX: %w", exitcode.ErrUsage)
	}
	if opts.Source == "" {
		return opts, fmt.Errorf("missing source directory: %w", exitcode.ErrUsage)
	}
	opts.Prefix = NormalizePrefix(opts.Prefix)
	if opts.ExpectedBucketOwner != "" && !delivery.IsAccountID(opts.ExpectedBucketOwner) {
		return opts, fmt.Errorf("invalid --bucket-owner %q: use the 12-digit id of the account that owns the bucket, such as 222222222222: %w", opts.ExpectedBucketOwner, exitcode.ErrUsage)
	}

	if err := opts.Headers.Validate(); err != nil {
		return opts, err
	}

	if opts.Concurrency < 0 {
		return opts, fmt.Errorf("invalid concurrency %d: use a positive number, or 0 for the default %d: %w", opts.Concurrency, DefaultConcurrency, exitcode.ErrUsage)
	}
	if opts.Concurrency == 0 {
		opts.Concurrency = DefaultConcurrency
	}

	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.PartSize < MinPartSize || opts.PartSize > MaxPartSize {
		return opts, fmt.Errorf("invalid --part-size of %d bytes: S3 accepts parts from 5MiB to 5GiB, so use a size such as 8MiB: %w", opts.PartSize, exitcode.ErrUsage)
	}
	if opts.MultipartThreshold == 0 {
		opts.MultipartThreshold = DefaultMultipartThreshold
	}
	if opts.MultipartThreshold < 0 {
		return opts, fmt.Errorf("invalid --multipart-threshold of %d bytes: use a positive size such as 8MiB: %w", opts.MultipartThreshold, exitcode.ErrUsage)
	}

	if opts.MaxDeletePercent < 0 || opts.MaxDeletePercent > 100 {
		return opts, fmt.Errorf("invalid --max-delete-percent %g: use 0 (no limit) to 100: %w", opts.MaxDeletePercent, exitcode.ErrUsage)
	}

	switch opts.Progress {
	case "":
		opts.Progress = ProgressAuto
	case ProgressAuto, ProgressBar, ProgressLines, ProgressNone:
	default:
		return opts, fmt.Errorf("invalid progress mode %q: use auto, bar, lines or none: %w", opts.Progress, exitcode.ErrUsage)
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = DefaultProgressInterval
	}
	if opts.Out == nil {
		opts.Out = io.Discard
	}
	return opts, nil
}

// NormalizePrefix drops leading and trailing "/" from a key prefix.
func NormalizePrefix(prefix string) string {
	return strings.Trim(prefix, "/")
}

// KeyFor returns the destination key of a "/"-separated relative path.
func KeyFor(prefix, rel string) string {
	if prefix == "" {
		return rel
	}
	return prefix + "/" + rel
}

// ReservedPrefix returns the key prefix that sync never touches.
func ReservedPrefix(prefix string) string {
	return KeyFor(NormalizePrefix(prefix), ReservedDir+"/")
}

// ManifestKey returns the key of the manifest object.
func ManifestKey(prefix string) string {
	return ReservedPrefix(prefix) + ManifestName
}
