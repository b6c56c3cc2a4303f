package s3sync

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/countersign/countersign/internal/denial"
)

// abortTimeout bounds the AbortMultipartUpload request sent after a
// failure or cancellation.
const abortTimeout = 30 * time.Second

// abortAttempts and abortRecheckDelay bound the repeated aborts that clear
// parts landing after the first one.
const (
	abortAttempts     = 3
	abortRecheckDelay = 300 * time.Millisecond
)

// upload sends one file, as a single PutObject or as a multipart upload.
// When hashes is not nil, its MD5s are sent as Content-MD5.
func (s *syncer) upload(ctx context.Context, f localFile, key string, hashes *fileHashes) {
	if s.opts.DryRun {
		s.out.Printf("(dryrun) upload: %s to s3://%s/%s\n", f.path, s.opts.Bucket, key)
		s.progress.bytesDone.Add(f.size)
		s.uploaded(key, f.size)
		return
	}

	file, err := os.Open(f.path)
	if err != nil {
		s.fail(Failure{Key: key, Path: f.path, err: err})
		return
	}
	defer file.Close()

	var etag string
	if s.multipart(f.size) {
		etag, err = s.putMultipart(ctx, file, f, key, hashes)
	} else {
		etag, err = s.putSingle(ctx, file, f, key, hashes)
	}
	if err != nil {
		s.fail(Failure{Key: key, Path: f.path, err: err})
		return
	}

	s.progress.bytesUploaded.Add(f.size)
	if hashes != nil {
		s.entries.add(key, manifestEntry{Size: f.size, MD5: hex.EncodeToString(hashes.md5), ETag: normalizeETag(etag)})
	}
	s.uploaded(key, f.size)
}

// putSingle uploads a file in one PutObject request and returns its ETag.
func (s *syncer) putSingle(ctx context.Context, file *os.File, f localFile, key string, hashes *fileHashes) (string, error) {
	in := &s3.PutObjectInput{
		Bucket: aws.String(s.opts.Bucket),
		Key:    aws.String(key),
		// A section reader is seekable, so the SDK can compute the
		// checksum and retry without buffering, and it never sends more
		// than the walked size even if the file grows meanwhile.
		Body:              io.NewSectionReader(file, 0, f.size),
		ContentLength:     aws.Int64(f.size),
		ContentType:       aws.String(contentTypeFor(path.Base(f.rel))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}
	if hashes != nil {
		in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(hashes.md5))
	}
	if s.opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(s.opts.ExpectedBucketOwner)
	}
	s.opts.Headers.ApplyPut(in)

	if err := s.slots.Acquire(ctx, 1); err != nil {
		return "", err
	}
	defer s.slots.Release(1)

	s.log.Debug().Str("bucket", s.opts.Bucket).Str("key", key).Int64("size", f.size).Msg("PutObject")
	resp, err := s.client.PutObject(ctx, in)
	if err != nil {
		return "", fmt.Errorf("upload %s to s3://%s/%s: %w", f.path, s.opts.Bucket, key, err)
	}
	s.progress.bytesDone.Add(f.size)

	// A single PutObject cannot be rolled back, so a file that changed
	// size during the upload is reported: the object may be torn.
	// NOTE: a same-size rewrite during the upload goes undetected.
	if err := checkSize(file, f); err != nil {
		return "", fmt.Errorf("%w; s3://%s/%s may hold a partial copy, run sync again", err, s.opts.Bucket, key)
	}
	return aws.ToString(resp.ETag), nil
}

// putMultipart uploads a file in parts and returns its ETag. Parts upload
// in parallel, each taking a slot of the global concurrency limit. On any
// failure, including cancellation, the upload is aborted so no parts are
// left behind.
func (s *syncer) putMultipart(ctx context.Context, file *os.File, f localFile, key string, hashes *fileHashes) (string, error) {
	partSize := PartSizeFor(f.size, s.opts.PartSize)
	count := PartCount(f.size, partSize)
	if count > MaxParts {
		return "", fmt.Errorf("%s needs %d parts, more than the %d S3 accepts", f.path, count, MaxParts)
	}

	create := &s3.CreateMultipartUploadInput{
		Bucket:            aws.String(s.opts.Bucket),
		Key:               aws.String(key),
		ContentType:       aws.String(contentTypeFor(path.Base(f.rel))),
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}
	if s.opts.ExpectedBucketOwner != "" {
		create.ExpectedBucketOwner = aws.String(s.opts.ExpectedBucketOwner)
	}
	s.opts.Headers.ApplyCreateMultipart(create)

	s.log.Debug().Str("bucket", s.opts.Bucket).Str("key", key).Int64("size", f.size).Int64("part_size", partSize).Int64("parts", count).Msg("CreateMultipartUpload")
	created, err := s.client.CreateMultipartUpload(ctx, create)
	if err != nil {
		return "", fmt.Errorf("start multipart upload of %s to s3://%s/%s: %w", f.path, s.opts.Bucket, key, err)
	}
	uploadID := aws.ToString(created.UploadId)

	etag, err := s.uploadParts(ctx, file, f, key, uploadID, partSize, count, hashes)
	if err != nil {
		s.abort(ctx, key, uploadID)
		return "", err
	}
	return etag, nil
}

// uploadParts sends every part, then completes the upload.
func (s *syncer) uploadParts(ctx context.Context, file *os.File, f localFile, key, uploadID string, partSize, count int64, hashes *fileHashes) (string, error) {
	var partMD5s [][]byte
	if hashes != nil {
		partMD5s = hashes.partMD5s[partSize]
	}
	completed := make([]types.CompletedPart, count)

	// The group's limit caps goroutines per file; the global slots cap
	// requests in flight across all files.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.opts.Concurrency)
	for i := range count {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			offset := i * partSize
			length := min(partSize, f.size-offset)
			number := int32(i + 1)

			in := &s3.UploadPartInput{
				Bucket:            aws.String(s.opts.Bucket),
				Key:               aws.String(key),
				UploadId:          aws.String(uploadID),
				PartNumber:        aws.Int32(number),
				Body:              io.NewSectionReader(file, offset, length),
				ContentLength:     aws.Int64(length),
				ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
			}
			if int64(len(partMD5s)) == count {
				in.ContentMD5 = aws.String(base64.StdEncoding.EncodeToString(partMD5s[i]))
			}
			if s.opts.ExpectedBucketOwner != "" {
				in.ExpectedBucketOwner = aws.String(s.opts.ExpectedBucketOwner)
			}

			if err := s.slots.Acquire(gctx, 1); err != nil {
				return err
			}
			defer s.slots.Release(1)

			s.log.Trace().Str("key", key).Int32("part", number).Int64("size", length).Msg("UploadPart")
			resp, err := s.client.UploadPart(gctx, in)
			if err != nil {
				return fmt.Errorf("upload part %d of %s to s3://%s/%s: %w", number, f.path, s.opts.Bucket, key, err)
			}
			completed[i] = types.CompletedPart{
				PartNumber:     aws.Int32(number),
				ETag:           resp.ETag,
				ChecksumCRC32C: resp.ChecksumCRC32C,
			}
			s.progress.bytesDone.Add(length)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return "", err
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}

	// Completing a file that changed size would publish a torn object.
	if err := checkSize(file, f); err != nil {
		return "", err
	}

	complete := &s3.CompleteMultipartUploadInput{
		Bucket:          aws.String(s.opts.Bucket),
		Key:             aws.String(key),
		UploadId:        aws.String(uploadID),
		MultipartUpload: &types.CompletedMultipartUpload{Parts: completed},
	}
	if s.opts.ExpectedBucketOwner != "" {
		complete.ExpectedBucketOwner = aws.String(s.opts.ExpectedBucketOwner)
	}
	s.log.Debug().Str("bucket", s.opts.Bucket).Str("key", key).Msg("CompleteMultipartUpload")
	resp, err := s.client.CompleteMultipartUpload(ctx, complete)
	if err != nil {
		return "", fmt.Errorf("complete multipart upload of %s to s3://%s/%s: %w", f.path, s.opts.Bucket, key, err)
	}
	return aws.ToString(resp.ETag), nil
}

// abort cancels a multipart upload with a context that outlives ctx, so a
// cancelled run (SIGTERM) still removes its parts. A part whose request was
// cut off may still land after the first abort; S3's documentation says an
// upload may need aborting more than once for that reason, so abort repeats
// until S3 reports NoSuchUpload, a few times at most.
func (s *syncer) abort(ctx context.Context, key, uploadID string) {
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()

	in := &s3.AbortMultipartUploadInput{
		Bucket:   aws.String(s.opts.Bucket),
		Key:      aws.String(key),
		UploadId: aws.String(uploadID),
	}
	if s.opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(s.opts.ExpectedBucketOwner)
	}

	for attempt := 1; attempt <= abortAttempts; attempt++ {
		s.log.Debug().Str("bucket", s.opts.Bucket).Str("key", key).Int("attempt", attempt).Msg("AbortMultipartUpload")
		_, err := s.client.AbortMultipartUpload(actx, in)

		var gone *types.NoSuchUpload
		switch {
		case errors.As(err, &gone):
			return
		case err != nil && denial.IsAccessDenied(err):
			// The role lacks s3:AbortMultipartUpload, which the four
			// delivery actions do not include.
			s.log.Warn().Err(err).Str("key", key).Str("upload_id", uploadID).
				Msgf("abort multipart upload denied: grant s3:AbortMultipartUpload on arn:aws:s3:::%s/%s to the role, or rely on a lifecycle rule that aborts incomplete multipart uploads; until then the parts stay billed", s.opts.Bucket, key)
			return
		case err != nil:
			// NOTE: the parts stay billed until a lifecycle rule for
			// incomplete multipart uploads removes them.
			s.log.Warn().Err(err).Str("key", key).Str("upload_id", uploadID).Msg("abort multipart upload failed")
			return
		}

		if attempt == abortAttempts {
			return
		}
		select {
		case <-actx.Done():
			return
		case <-time.After(abortRecheckDelay):
		}
	}
}

// checkSize fails when the open file's size differs from the walked size.
func checkSize(file *os.File, f localFile) error {
	info, err := file.Stat()
	if err != nil {
		return fmt.Errorf("stat %s: %w", f.path, err)
	}
	if info.Size() != f.size {
		return fmt.Errorf("%s: %w (was %d bytes, now %d)", f.path, errSizeChanged, f.size, info.Size())
	}
	return nil
}
