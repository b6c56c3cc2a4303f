package s3sync

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/countersign/countersign/internal/exitcode"
)

// deleteBatchSize is the maximum number of keys in one DeleteObjects request.
const deleteBatchSize = 1000

// planDeletes returns the destination keys that have no source file, when
// opts.Delete is set, and then checks the guards. Keys the filters exclude
// are kept, and so are keys under a source entry that could not be read,
// because their files may still exist. When a guard stops the run, the
// error wraps exitcode.ErrRefused and the keys are returned with it, so a
// dry run can still show them.
func planDeletes(opts Options, filters filterSet, local *walkResult, listing *remoteListing) ([]remoteObject, error) {
	if !opts.Delete {
		return nil, nil
	}

	present := make(map[string]bool, len(local.files))
	for _, f := range local.files {
		present[f.rel] = true
	}
	var unreadable []string
	for _, f := range local.failures {
		unreadable = append(unreadable, strings.TrimPrefix(f.Key, KeyFor(opts.Prefix, "")))
	}

	var deletes []remoteObject
	for rel, obj := range listing.objects {
		if present[rel] || !filters.Included(rel) || underAny(rel, unreadable) {
			continue
		}
		deletes = append(deletes, obj)
	}
	slices.SortFunc(deletes, func(a, b remoteObject) int { return strings.Compare(a.key, b.key) })
	return deletes, checkDeleteGuards(opts, local, listing, deletes)
}

// checkDeleteGuards returns an error wrapping exitcode.ErrRefused when the
// source is empty or the deletes exceed --max-delete or
// --max-delete-percent.
func checkDeleteGuards(opts Options, local *walkResult, listing *remoteListing, deletes []remoteObject) error {
	dest := fmt.Sprintf("s3://%s/%s", opts.Bucket, opts.Prefix)

	if len(local.files) == 0 {
		return fmt.Errorf("source %s has no files after filtering, so --delete would remove every key under %s; nothing was changed: check the source path and filters: %w", opts.Source, dest, exitcode.ErrRefused)
	}
	if opts.MaxDelete >= 0 && len(deletes) > opts.MaxDelete {
		return fmt.Errorf("%d keys under %s would be deleted, more than the maximum of %d, so nothing was changed: raise --max-delete if this is intended: %w", len(deletes), dest, opts.MaxDelete, exitcode.ErrRefused)
	}
	if opts.MaxDeletePercent > 0 && len(listing.objects) > 0 {
		share := float64(len(deletes)) * 100 / float64(len(listing.objects))
		if share > opts.MaxDeletePercent {
			return fmt.Errorf("%d of %d keys under %s (%.1f%%) would be deleted, more than the maximum of %g%%, so nothing was changed: raise --max-delete-percent (0 for no limit) if this is intended: %w",
				len(deletes), len(listing.objects), dest, share, opts.MaxDeletePercent, exitcode.ErrRefused)
		}
	}
	return nil
}

// underAny reports whether rel is one of paths or lies below one of them.
func underAny(rel string, paths []string) bool {
	for _, p := range paths {
		if p == "" || rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// deleteKeys deletes the keys in batches, recording each key that S3
// reports as not deleted as a failure.
func (s *syncer) deleteKeys(ctx context.Context, deletes []remoteObject) {
	if s.opts.DryRun {
		for _, obj := range deletes {
			s.out.Printf("(dryrun) delete: s3://%s/%s\n", s.opts.Bucket, obj.key)
			s.deleted(obj.key)
		}
		return
	}

	for batch := range slices.Chunk(deletes, deleteBatchSize) {
		if ctx.Err() != nil {
			return
		}
		s.deleteBatch(ctx, batch)
	}
}

func (s *syncer) deleteBatch(ctx context.Context, batch []remoteObject) {
	ids := make([]types.ObjectIdentifier, len(batch))
	for i, obj := range batch {
		ids[i] = types.ObjectIdentifier{Key: aws.String(obj.key)}
	}
	in := &s3.DeleteObjectsInput{
		Bucket:            aws.String(s.opts.Bucket),
		Delete:            &types.Delete{Objects: ids, Quiet: aws.Bool(true)},
		ChecksumAlgorithm: types.ChecksumAlgorithmCrc32c,
	}
	if s.opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(s.opts.ExpectedBucketOwner)
	}

	s.log.Debug().Str("bucket", s.opts.Bucket).Int("keys", len(batch)).Msg("DeleteObjects")
	resp, err := s.client.DeleteObjects(ctx, in)
	if err != nil {
		for _, obj := range batch {
			s.fail(Failure{Key: obj.key, err: fmt.Errorf("delete s3://%s/%s: %w", s.opts.Bucket, obj.key, err)})
		}
		return
	}

	failed := make(map[string]bool, len(resp.Errors))
	for _, e := range resp.Errors {
		key := aws.ToString(e.Key)
		failed[key] = true
		s.fail(Failure{Key: key, err: &deleteError{key: key, code: aws.ToString(e.Code), message: aws.ToString(e.Message)}})
	}
	for _, obj := range batch {
		if !failed[obj.key] {
			s.deleted(obj.key)
		}
	}
}

func (s *syncer) deleted(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report.Deleted = append(s.report.Deleted, key)
	s.report.Summary.Deleted++
}

// deleteError is one key that DeleteObjects reported as not deleted.
type deleteError struct {
	key, code, message string
}

func (e *deleteError) Error() string {
	return fmt.Sprintf("delete %s: %s: %s", e.key, e.code, e.message)
}

// ErrorCode lets denial.IsAccessDenied classify the key's error code.
func (e *deleteError) ErrorCode() string             { return e.code }
func (e *deleteError) ErrorMessage() string          { return e.message }
func (e *deleteError) ErrorFault() smithy.ErrorFault { return smithy.FaultUnknown }
