package s3sync

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/exitcode"
)

// localFile is one regular file found under the source directory.
type localFile struct {
	rel  string // "/"-separated path relative to the source
	path string // path to open, through any symlinks
	size int64
}

// walkResult is the outcome of walking the source: files, failures and
// the count of excluded paths.
type walkResult struct {
	files    []localFile
	failures []Failure // unreadable entries; Key is set when the entry maps to one
	excluded int       // files left out by the filters or the reserved prefix
}

// dirID identifies a directory across symlinks.
type dirID struct {
	dev, ino uint64
}

// walker walks the source directory, following symlinks.
type walker struct {
	ctx      context.Context
	log      *zerolog.Logger
	filters  filterSet
	prefix   string
	result   walkResult
	reserved map[string]string // path by relative path, for files under ReservedDir
}

// errSourceMissing is wrapped when the source directory does not exist.
var errSourceMissing = errors.New("source directory not found")

// walkSource lists the regular files under root that pass the filters.
// Symlinks are followed; a directory that is already on the current path
// (a symlink loop) is reported once as a warning and not entered. Special
// files are skipped with a warning. Entries that cannot be read become
// failures, and the walk goes on.
func walkSource(ctx context.Context, root, prefix string, filters filterSet) (*walkResult, error) {
	info, err := os.Stat(root)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", errSourceMissing, root)
	}
	if err != nil {
		return nil, fmt.Errorf("read source directory %s: %w", root, err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("source %s is not a directory: give the directory to upload: %w", root, exitcode.ErrUsage)
	}

	w := &walker{ctx: ctx, log: zerolog.Ctx(ctx), filters: filters, prefix: prefix, reserved: make(map[string]string)}
	if err := w.walkDir(root, "", []dirID{idOf(info)}); err != nil {
		return nil, err
	}
	w.warnReserved()
	return &w.result, nil
}

// warnReserved logs the source files under the reserved directory in one
// warning, so a run names the problem once however many files it skipped.
func (w *walker) warnReserved() {
	if len(w.reserved) == 0 {
		return
	}
	paths := slices.Sorted(maps.Values(w.reserved))
	files := "files"
	if len(paths) == 1 {
		files = "file"
	}
	w.log.Warn().
		Int("files", len(paths)).
		Strs("paths", paths[:min(len(paths), 10)]).
		Msgf("skipped %d source %s under the reserved directory %s/, which sync never uploads: move them elsewhere in the source", len(paths), files, ReservedDir)
}

// walkDir walks one directory. The stack lists the directories on the
// path from the root to it.
func (w *walker) walkDir(dir, rel string, stack []dirID) error {
	if err := w.ctx.Err(); err != nil {
		return err
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		w.fail(rel, dir, fmt.Errorf("read directory %s: %w", dir, err))
		return nil
	}

	for _, entry := range entries {
		path := filepath.Join(dir, entry.Name())
		entryRel := joinRel(rel, entry.Name())

		info, err := os.Stat(path) // follows symlinks
		if err != nil {
			w.fail(entryRel, path, explainStatError(path, err))
			continue
		}

		switch {
		case info.IsDir():
			id := idOf(info)
			if containsID(stack, id) {
				w.log.Warn().Str("path", path).Msg("symlink loop: directory already on the current path, not followed")
				continue
			}
			if err := w.walkDir(path, entryRel, append(stack, id)); err != nil {
				return err
			}

		case info.Mode().IsRegular():
			w.addFile(localFile{rel: entryRel, path: path, size: info.Size()})

		default:
			if w.filters.Included(entryRel) {
				w.log.Warn().Str("path", path).Str("mode", info.Mode().Type().String()).Msg("skipped special file")
			}
		}
	}
	return nil
}

// explainStatError names a broken symbolic link and its target, where
// os.Stat reports only that the path does not exist. Other errors name the
// path already.
func explainStatError(path string, err error) error {
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	target, linkErr := os.Readlink(path)
	if linkErr != nil {
		return err
	}
	return fmt.Errorf("broken symbolic link %s: its target %s does not exist: fix or remove the link, or leave it out with --exclude", path, target)
}

func (w *walker) addFile(f localFile) {
	if strings.HasPrefix(f.rel, ReservedDir+"/") {
		w.reserved[f.rel] = f.path
		w.result.excluded++
		return
	}
	if !w.filters.Included(f.rel) {
		w.log.Debug().Str("path", f.path).Msg("excluded by filter")
		w.result.excluded++
		return
	}
	w.result.files = append(w.result.files, f)
}

// fail records an unreadable entry unless the filters exclude it.
func (w *walker) fail(rel, path string, err error) {
	if rel != "" && !w.filters.Included(rel) {
		return
	}
	f := Failure{Path: path, Error: err.Error(), err: err}
	if rel != "" {
		f.Key = KeyFor(w.prefix, rel)
	}
	w.result.failures = append(w.result.failures, f)
}

func joinRel(dir, name string) string {
	if dir == "" {
		return name
	}
	return dir + "/" + name
}

func idOf(info fs.FileInfo) dirID {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return dirID{}
	}
	return dirID{dev: uint64(st.Dev), ino: uint64(st.Ino)}
}

func containsID(stack []dirID, id dirID) bool {
	if id == (dirID{}) {
		return false
	}
	for _, s := range stack {
		if s == id {
			return true
		}
	}
	return false
}
