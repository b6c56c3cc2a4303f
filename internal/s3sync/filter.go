package s3sync

import (
	"fmt"
	"path"
	"strings"

	"github.com/bmatcuk/doublestar/v4"

	"github.com/countersign/countersign/internal/exitcode"
)

// filterSet is a validated, ordered list of filters.
type filterSet []Filter

// compileFilters validates every pattern and returns them in order.
func compileFilters(filters []Filter) (filterSet, error) {
	for _, f := range filters {
		if f.Pattern == "" {
			return nil, fmt.Errorf("invalid filter pattern \"\": give a non-empty pattern: %w", exitcode.ErrUsage)
		}
		if strings.HasPrefix(f.Pattern, "/") {
			return nil, fmt.Errorf("invalid filter pattern %q: patterns are relative to the source directory, drop the leading \"/\": %w", f.Pattern, exitcode.ErrUsage)
		}
		if !doublestar.ValidatePattern(strings.TrimSuffix(f.Pattern, "/")) {
			return nil, fmt.Errorf("invalid filter pattern %q: check its brackets and braces: %w", f.Pattern, exitcode.ErrUsage)
		}
	}
	return filterSet(filters), nil
}

// Included reports whether the "/"-separated relative path passes the
// filters: the last filter that matches decides, and a path that no filter
// matches is included.
func (fs filterSet) Included(rel string) bool {
	for i := len(fs) - 1; i >= 0; i-- {
		if matchPattern(fs[i].Pattern, rel) {
			return !fs[i].Exclude
		}
	}
	return true
}

// matchPattern applies one pattern to a relative file path with the
// meaning given in the package documentation. Patterns are validated
// beforehand, so Match's error cannot occur and is treated as no match.
func matchPattern(pattern, rel string) bool {
	if dir, ok := strings.CutSuffix(pattern, "/"); ok {
		return matchDirectory(dir, rel)
	}

	if ok, _ := doublestar.Match(pattern, rel); ok {
		return true
	}
	if !strings.Contains(pattern, "/") {
		ok, _ := doublestar.Match(pattern, path.Base(rel))
		return ok
	}
	return false
}

// matchDirectory reports whether one of the directories that contain rel
// matches dir: by its whole relative path, or by its base name when dir has
// no "/".
func matchDirectory(dir, rel string) bool {
	segments := strings.Split(rel, "/")
	byName := !strings.Contains(dir, "/")

	for i := 1; i < len(segments); i++ {
		candidate := strings.Join(segments[:i], "/")
		if byName {
			candidate = segments[i-1]
		}
		if ok, _ := doublestar.Match(dir, candidate); ok {
			return true
		}
	}
	return false
}
