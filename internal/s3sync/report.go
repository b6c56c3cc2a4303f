package s3sync

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/countersign/countersign/internal/exitcode"
)

// Summary counts what a run did.
type Summary struct {
	Uploaded      int   `json:"uploaded"`
	Skipped       int   `json:"skipped"`
	Deleted       int   `json:"deleted"`
	Failed        int   `json:"failed"`
	BytesUploaded int64 `json:"bytes_uploaded"`
}

// Failure is one file or key that could not be synced.
type Failure struct {
	Key   string `json:"key"`
	Path  string `json:"path"`
	Error string `json:"error"`

	err error // the original error, kept for classification
}

// Report lists what a run uploaded, skipped and deleted, by key. In a dry
// run it lists what the run would have done.
type Report struct {
	Summary  Summary   `json:"summary"`
	Uploaded []string  `json:"uploaded"`
	Skipped  []string  `json:"skipped"`
	Deleted  []string  `json:"deleted"`
	Failed   []Failure `json:"failed"`
	DryRun   bool      `json:"dry_run"`
}

func newReport(dryRun bool) *Report {
	return &Report{
		Uploaded: []string{},
		Skipped:  []string{},
		Deleted:  []string{},
		Failed:   []Failure{},
		DryRun:   dryRun,
	}
}

// CheckReportPath checks that a report can be written to path before a
// run starts: path is not a directory, and its directory exists and accepts
// a new file. The error wraps exitcode.ErrUsage.
func CheckReportPath(path string) error {
	if info, err := os.Stat(path); err == nil && info.IsDir() {
		return fmt.Errorf("invalid --report %s: it is a directory: give a file path such as %s: %w", path, filepath.Join(path, "sync-report.json"), exitcode.ErrUsage)
	}

	dir := filepath.Dir(path)
	probe, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("invalid --report %s: directory %s does not exist: create it before the sync or choose another path: %w", path, dir, exitcode.ErrUsage)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("invalid --report %s: directory %s is not writable: choose a writable path: %w", path, dir, exitcode.ErrUsage)
	case err != nil:
		return fmt.Errorf("invalid --report %s: %w: choose a writable path: %w", path, err, exitcode.ErrUsage)
	}
	probe.Close()
	return os.Remove(probe.Name())
}

// WriteFile writes the report as indented JSON to path, atomically: it
// writes a temporary file in the same directory and renames it over path,
// so a reader never sees a partial report.
func (r *Report) WriteFile(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	data = append(data, '\n')

	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // a no-op once renamed

	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("write report %s: %w", path, err)
	}
	return nil
}
