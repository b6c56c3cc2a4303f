package s3sync

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/rs/zerolog"
)

// manifestVersion is the format version written to the manifest.
const manifestVersion = 1

// maxManifestBytes bounds how much of a manifest is read, so a damaged or
// foreign object cannot exhaust memory. At about 150 bytes an entry it
// fits several hundred thousand keys.
const maxManifestBytes = 64 * MiB

// manifest records, for objects whose ETag is not an MD5 (SSE-KMS), the
// content each key was uploaded with.
type manifest struct {
	Version int                      `json:"version"`
	Objects map[string]manifestEntry `json:"objects"` // by key
}

// manifestEntry is one key's size, content MD5 (hex) and the ETag S3
// returned for it (lower case, without quotes).
type manifestEntry struct {
	Size int64  `json:"size"`
	MD5  string `json:"md5"`
	ETag string `json:"etag"`
}

// manifestBuilder collects entries from concurrent workers.
type manifestBuilder struct {
	mu      sync.Mutex
	entries map[string]manifestEntry
}

func (b *manifestBuilder) add(key string, e manifestEntry) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries[key] = e
}

func normalizeETag(etag string) string {
	return parseETag(etag).String()
}

// String returns the ETag in the form S3 lists it, without quotes.
func (e parsedETag) String() string {
	if e.parts > 0 {
		return fmt.Sprintf("%s-%d", e.digest, e.parts)
	}
	return e.digest
}

// loadManifest reads the manifest when the listing has one. A manifest
// that cannot be read or parsed is logged and ignored: the run then
// compares ETags only, which at worst uploads unchanged files again.
func loadManifest(ctx context.Context, client Client, opts Options, listed *remoteObject) *manifest {
	if listed == nil {
		return nil
	}
	log := zerolog.Ctx(ctx)

	if listed.size > maxManifestBytes {
		log.Warn().Str("key", listed.key).Int64("size", listed.size).Msg("manifest too large, ignored")
		return nil
	}

	in := &s3.GetObjectInput{Bucket: aws.String(opts.Bucket), Key: aws.String(listed.key)}
	if opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(opts.ExpectedBucketOwner)
	}
	log.Debug().Str("bucket", opts.Bucket).Str("key", listed.key).Msg("GetObject manifest")
	resp, err := client.GetObject(ctx, in)
	if err != nil {
		log.Warn().Err(err).Str("key", listed.key).Msg("manifest not readable, comparing ETags only")
		return nil
	}
	defer resp.Body.Close()

	var m manifest
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxManifestBytes)).Decode(&m); err != nil {
		log.Warn().Err(err).Str("key", listed.key).Msg("manifest not valid JSON, comparing ETags only")
		return nil
	}
	if m.Version != manifestVersion {
		log.Warn().Int("version", m.Version).Str("key", listed.key).Msg("manifest version not supported, comparing ETags only")
		return nil
	}
	return &m
}

// matches reports whether the manifest decides this key and, if it does,
// whether the local MD5 equals the recorded one. The manifest decides
// only when the listed ETag and size equal the recorded ones, which shows
// the object has not been replaced since.
func (m *manifest) matches(obj remoteObject, md5Hex string) (decided, equal bool) {
	if m == nil {
		return false, false
	}
	e, ok := m.Objects[obj.key]
	if !ok || e.Size != obj.size || e.ETag != normalizeETag(obj.etag) {
		return false, false
	}
	return true, e.MD5 == md5Hex
}

// writeManifest uploads the manifest with the same headers as every object.
func writeManifest(ctx context.Context, client Client, opts Options, entries map[string]manifestEntry) error {
	data, err := json.Marshal(manifest{Version: manifestVersion, Objects: entries})
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	sum := md5.Sum(data)
	key := ManifestKey(opts.Prefix)

	in := &s3.PutObjectInput{
		Bucket:            aws.String(opts.Bucket),
		Key:               aws.String(key),
		Body:              bytes.NewReader(data),
		ContentLength:     aws.Int64(int64(len(data))),
		ContentType:       aws.String("application/json"),
		ContentMD5:        aws.String(base64.StdEncoding.EncodeToString(sum[:])),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}
	if opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(opts.ExpectedBucketOwner)
	}
	opts.Headers.ApplyPut(in)

	zerolog.Ctx(ctx).Debug().Str("bucket", opts.Bucket).Str("key", key).Int("entries", len(entries)).Msg("PutObject manifest")
	if _, err := client.PutObject(ctx, in); err != nil {
		return fmt.Errorf("write manifest s3://%s/%s: %w", opts.Bucket, key, err)
	}
	return nil
}
