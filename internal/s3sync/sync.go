package s3sync

import (
	"cmp"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/semaphore"

	"github.com/countersign/countersign/internal/denial"
	"github.com/countersign/countersign/internal/exitcode"
)

// syncer is the state of one run.
type syncer struct {
	client   Client
	opts     Options
	log      *zerolog.Logger
	listing  *remoteListing
	manifest *manifest           // the destination's manifest, or nil
	entries  *manifestBuilder    // the manifest being built, or nil when none is written
	slots    *semaphore.Weighted // one per hash, PutObject or UploadPart in flight
	progress *progress
	out      *lockedWriter

	mu     sync.Mutex
	report *Report
}

// Run uploads opts.Source to s3://opts.Bucket/opts.Prefix and, with
// opts.Delete, deletes destination keys that have no source file. The
// report is returned even with an error, so the caller can write it.
//
// The error wraps exitcode.ErrUsage for invalid options or a missing
// source, exitcode.ErrRefused when a guard stops the run before any
// change, and exitcode.ErrAccessDenied when S3 denied a request. Any other
// error means some files failed.
func Run(ctx context.Context, client Client, opts Options) (*Report, error) {
	report := newReport(opts.DryRun)
	log := zerolog.Ctx(ctx)

	if opts.BuildFailed && !opts.AllowFailedBuild {
		return report, fmt.Errorf("the build failed (CODEBUILD_BUILD_SUCCEEDING=0), so its artifacts are not delivered: pass --allow-failed-build to sync anyway: %w", exitcode.ErrRefused)
	}

	opts, err := opts.withDefaults()
	if err != nil {
		return report, err
	}
	filters, err := compileFilters(opts.Filters)
	if err != nil {
		return report, err
	}
	start := time.Now()

	local, listing, err := scan(ctx, client, opts, filters)
	if err != nil {
		return report, err
	}
	log.Info().
		Str("source", opts.Source).
		Str("destination", "s3://"+opts.Bucket+"/"+opts.Prefix).
		Int("local_files", len(local.files)).
		Int("excluded", local.excluded).
		Int("remote_keys", len(listing.objects)).
		Bool("dry_run", opts.DryRun).
		Msg("plan")

	deletes, guardErr := planDeletes(opts, filters, local, listing)
	if guardErr != nil && !opts.DryRun {
		return report, guardErr
	}

	s := &syncer{
		client:  client,
		opts:    opts,
		log:     log,
		listing: listing,
		slots:   semaphore.NewWeighted(int64(opts.Concurrency)),
		out:     &lockedWriter{w: opts.Out},
		report:  report,
	}
	s.manifest = loadManifest(ctx, client, opts, listing.manifest)
	// NOTE: a bucket whose default encryption is SSE-KMS gets no manifest
	// unless the run sets SSE "aws:kms", so its objects upload every time.
	if !opts.DryRun && (opts.Headers.SSE == SSEKMS || listing.manifest != nil) {
		s.entries = &manifestBuilder{entries: make(map[string]manifestEntry)}
	}
	for _, f := range local.failures {
		s.fail(f)
	}

	if opts.DryRun {
		s.out.hold()
	}
	s.transfer(ctx, local.files)
	s.out.flushSorted()
	if ctx.Err() == nil {
		s.deleteKeys(ctx, deletes)
	}
	if s.entries != nil && ctx.Err() == nil {
		s.saveManifest(ctx, deletes)
	}

	s.finish(time.Since(start))
	err = s.result(ctx, len(local.files)+len(local.failures)+len(deletes))
	if guardErr != nil {
		// A dry run prints the whole plan before it reports the guard, so
		// the plan shows what tripped it. It still exits as the real run would.
		err = errors.Join(err, fmt.Errorf("dry run: the real run would stop before any change: %w", guardErr))
	}
	return report, err
}

// scan walks the source and lists the destination at the same time.
func scan(ctx context.Context, client Client, opts Options, filters filterSet) (*walkResult, *remoteListing, error) {
	var (
		local   *walkResult
		walkErr error
		listing *remoteListing
		listErr error
	)
	var g errgroup.Group
	g.Go(func() error {
		local, walkErr = walkSource(ctx, opts.Source, opts.Prefix, filters)
		return nil
	})
	g.Go(func() error {
		listing, listErr = listRemote(ctx, client, opts)
		return nil
	})
	_ = g.Wait()

	// A listing failure stops the run before any upload, because without
	// the listing every file would be uploaded again.
	if listErr != nil {
		if denial.IsAccessDenied(listErr) {
			return nil, nil, fmt.Errorf("%w: %w (run `countersign preflight` with the same bucket, --prefix and --bucket-owner to see which account denied it and the fix)", exitcode.ErrAccessDenied, listErr)
		}
		return nil, nil, listErr
	}

	if errors.Is(walkErr, errSourceMissing) {
		if opts.Delete {
			return nil, nil, fmt.Errorf("%w, so --delete would remove every key under s3://%s/%s; nothing was changed: check the source path: %w", walkErr, opts.Bucket, opts.Prefix, exitcode.ErrRefused)
		}
		return nil, nil, fmt.Errorf("%w: check the source path: %w", walkErr, exitcode.ErrUsage)
	}
	if walkErr != nil {
		return nil, nil, walkErr
	}
	return local, listing, nil
}

// transfer hashes, compares and uploads the files with bounded
// concurrency. Hashing and uploading overlap: a file with no destination
// key of its size uploads at once, while others are still being hashed.
func (s *syncer) transfer(ctx context.Context, files []localFile) {
	var total int64
	for _, f := range files {
		total += f.size
	}
	s.progress = newProgress(len(files), total)
	s.progress.run(ctx, s.opts)
	defer s.progress.Close()

	// Largest first, so a large multipart upload does not start last and
	// leave the other workers idle at the end.
	ordered := slices.Clone(files)
	slices.SortStableFunc(ordered, func(a, b localFile) int { return cmp.Compare(b.size, a.size) })

	var g errgroup.Group
	g.SetLimit(s.opts.Concurrency)
	for _, f := range ordered {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			s.syncFile(ctx, f)
			return nil
		})
	}
	_ = g.Wait()
}

// syncFile decides whether one file must be uploaded, and uploads it.
func (s *syncer) syncFile(ctx context.Context, f localFile) {
	key := KeyFor(s.opts.Prefix, f.rel)
	defer s.progress.filesDone.Add(1)

	if f.size > MaxObjectSize {
		s.fail(Failure{Key: key, Path: f.path, err: fmt.Errorf("%s is %d bytes, larger than the 5 TiB S3 accepts for one object", f.path, f.size)})
		return
	}

	remote, exists := s.listing.objects[f.rel]
	sameSize := exists && remote.size == f.size
	var hashes *fileHashes

	if sameSize || s.entries != nil {
		var err error
		hashes, err = s.hash(ctx, f, remote, sameSize)
		if err != nil {
			s.fail(Failure{Key: key, Path: f.path, err: err})
			return
		}
	}

	if sameSize && s.unchanged(f, remote, hashes) {
		s.log.Debug().Str("key", key).Msg("skip: content equal")
		s.skip(key, f, remote, hashes)
		return
	}

	s.log.Debug().Str("key", key).Bool("exists", exists).Msg("upload: new or changed")
	s.upload(ctx, f, key, hashes)
}

// hash computes the whole-file MD5 and the part MD5s for this package's
// part size. When the destination ETag is multipart, it also computes the
// part MD5s for each part size that could have produced its part count.
func (s *syncer) hash(ctx context.Context, f localFile, remote remoteObject, sameSize bool) (*fileHashes, error) {
	var layouts []int64
	ours := PartSizeFor(f.size, s.opts.PartSize)
	if s.multipart(f.size) {
		layouts = append(layouts, ours)
	}
	if sameSize {
		if etag := parseETag(remote.etag); etag.parts > 0 {
			for _, ps := range candidatePartSizes(f.size, etag.parts, ours) {
				if !slices.Contains(layouts, ps) {
					layouts = append(layouts, ps)
				}
			}
		}
	}

	// The whole-file MD5 serves the manifest and a single-part upload's
	// Content-MD5. A multipart comparison needs only the part MD5s, and
	// skipping the second digest halves the CPU spent on large files.
	whole := s.manifest != nil || s.entries != nil || !s.multipart(f.size) ||
		(sameSize && parseETag(remote.etag).parts == 0)

	if err := s.slots.Acquire(ctx, 1); err != nil {
		return nil, err
	}
	defer s.slots.Release(1)
	return hashFile(f.path, f.size, layouts, whole)
}

// unchanged reports whether the destination object holds the file's
// content, by the manifest when it vouches for the listed ETag and by the
// ETag otherwise.
func (s *syncer) unchanged(f localFile, remote remoteObject, hashes *fileHashes) bool {
	md5Hex := hex.EncodeToString(hashes.md5)
	if hashes.md5 != nil {
		if decided, equal := s.manifest.matches(remote, md5Hex); decided {
			return equal
		}
	}

	etag := parseETag(remote.etag)
	switch {
	case etag.parts == 0:
		return etag.digest == md5Hex
	case etag.parts > 0:
		want := etag.String()
		for _, ps := range candidatePartSizes(f.size, etag.parts, PartSizeFor(f.size, s.opts.PartSize)) {
			if parts, ok := hashes.partMD5s[ps]; ok && multipartETag(parts) == want {
				return true
			}
		}
	}
	return false
}

func (s *syncer) multipart(size int64) bool {
	return size > 0 && size >= s.opts.MultipartThreshold
}

func (s *syncer) skip(key string, f localFile, remote remoteObject, hashes *fileHashes) {
	s.progress.bytesDone.Add(f.size)
	s.entries.add(key, manifestEntry{Size: f.size, MD5: hex.EncodeToString(hashes.md5), ETag: normalizeETag(remote.etag)})

	s.mu.Lock()
	defer s.mu.Unlock()
	s.report.Skipped = append(s.report.Skipped, key)
	s.report.Summary.Skipped++
}

func (s *syncer) uploaded(key string, size int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.report.Uploaded = append(s.report.Uploaded, key)
	s.report.Summary.Uploaded++
	s.report.Summary.BytesUploaded += size
}

// fail records a failure and logs it once.
func (s *syncer) fail(f Failure) {
	if f.err != nil && f.Error == "" {
		f.Error = f.err.Error()
	}
	s.log.Error().Str("key", f.Key).Str("path", f.Path).Str("error", f.Error).Msg("file failed")

	s.mu.Lock()
	defer s.mu.Unlock()
	s.report.Failed = append(s.report.Failed, f)
	s.report.Summary.Failed++
}

// saveManifest writes the manifest: this run's entries plus the previous
// manifest's entries for keys the run left alone (excluded by filters)
// whose listed ETag is unchanged.
func (s *syncer) saveManifest(ctx context.Context, deleted []remoteObject) {
	entries := s.entries.entries
	if s.manifest != nil {
		gone := make(map[string]bool, len(deleted))
		for _, d := range deleted {
			gone[d.key] = true
		}
		for _, obj := range s.listing.objects {
			old, ok := s.manifest.Objects[obj.key]
			if _, done := entries[obj.key]; done || !ok || gone[obj.key] {
				continue
			}
			if old.ETag == normalizeETag(obj.etag) && old.Size == obj.size {
				entries[obj.key] = old
			}
		}
	}

	if err := writeManifest(ctx, s.client, s.opts, entries); err != nil {
		// The objects are delivered. Without a manifest the next run only
		// uploads unchanged SSE-KMS objects again.
		s.log.Warn().Err(err).Msg("manifest not written, the next run will upload SSE-KMS objects again")
	}
}

// finish sorts the report and prints the summary line.
func (s *syncer) finish(elapsed time.Duration) {
	r := s.report
	slices.Sort(r.Uploaded)
	slices.Sort(r.Skipped)
	slices.Sort(r.Deleted)
	slices.SortFunc(r.Failed, func(a, b Failure) int { return strings.Compare(a.Path+a.Key, b.Path+b.Key) })

	sum := r.Summary
	dry := ""
	if r.DryRun {
		dry = "(dryrun) "
	}
	s.out.Printf("%suploaded %d (%s), skipped %d, deleted %d, failed %d in %.1fs\n",
		dry, sum.Uploaded, formatBytes(sum.BytesUploaded), sum.Skipped, sum.Deleted, sum.Failed, elapsed.Seconds())
	s.log.Info().
		Int("uploaded", sum.Uploaded).
		Int64("bytes_uploaded", sum.BytesUploaded).
		Int("skipped", sum.Skipped).
		Int("deleted", sum.Deleted).
		Int("failed", sum.Failed).
		Int64("elapsed_ms", elapsed.Milliseconds()).
		Bool("dry_run", r.DryRun).
		Msg("summary")
}

// result returns the run's error: nil when everything succeeded.
func (s *syncer) result(ctx context.Context, total int) error {
	var errs []error
	if err := ctx.Err(); err != nil {
		errs = append(errs, fmt.Errorf("sync interrupted: %w", err))
	}

	failed := s.report.Failed
	if len(failed) > 0 {
		first := failed[0]
		name := first.Path
		if name == "" {
			name = first.Key
		}
		denied := slices.ContainsFunc(failed, func(f Failure) bool { return denial.IsRefusal(f.err) })
		if denied {
			errs = append(errs, fmt.Errorf("%d of %d files failed, S3 denied access, first %s: %s (run `countersign preflight` with the same bucket and prefix to see which account denied it and the fix): %w", len(failed), total, name, first.Error, exitcode.ErrAccessDenied))
		} else {
			errs = append(errs, fmt.Errorf("%d of %d files failed, first %s: %s", len(failed), total, name, first.Error))
		}
	}
	return errors.Join(errs...)
}
