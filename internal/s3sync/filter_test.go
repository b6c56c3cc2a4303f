package s3sync

import (
	"errors"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
)

func TestFilterMeaning(t *testing.T) {
	ex := func(p string) Filter { return Filter{Exclude: true, Pattern: p} }
	in := func(p string) Filter { return Filter{Pattern: p} }

	tests := []struct {
		name    string
		filters []Filter
		path    string
		want    bool
	}{
		{name: "NoFiltersIncludes", path: "a/b.txt", want: true},
		{name: "BaseNameTopLevel", filters: []Filter{ex("*.tmp")}, path: "c.tmp", want: false},
		{name: "BaseNameAnyDepth", filters: []Filter{ex("*.tmp")}, path: "a/b/c.tmp", want: false},
		{name: "BaseNameNoMatch", filters: []Filter{ex("*.tmp")}, path: "a/b/c.txt", want: true},
		{name: "BaseNameExact", filters: []Filter{ex("Thumbs.db")}, path: "img/Thumbs.db", want: false},
		{name: "BaseNameNotDirectory", filters: []Filter{ex("build")}, path: "build/x", want: true},
		{name: "StarStaysInSegment", filters: []Filter{ex("a/*.txt")}, path: "a/b/c.txt", want: true},
		{name: "StarOneSegment", filters: []Filter{ex("a/*.txt")}, path: "a/c.txt", want: false},
		{name: "SlashPatternAnchored", filters: []Filter{ex("a/*.txt")}, path: "x/a/c.txt", want: true},
		{name: "DoubleStarCrosses", filters: []Filter{ex("a/**/*.txt")}, path: "a/b/c/d.txt", want: false},
		{name: "DoubleStarZeroSegments", filters: []Filter{ex("a/**/*.txt")}, path: "a/d.txt", want: false},
		{name: "DoubleStarPrefix", filters: []Filter{ex("**/cache/*")}, path: "x/y/cache/z", want: false},
		{name: "QuestionMark", filters: []Filter{ex("log?.txt")}, path: "d/log1.txt", want: false},
		{name: "QuestionMarkOneChar", filters: []Filter{ex("log?.txt")}, path: "d/log12.txt", want: true},
		{name: "CharacterClass", filters: []Filter{ex("[ab].txt")}, path: "b.txt", want: false},
		{name: "CharacterClassMiss", filters: []Filter{ex("[ab].txt")}, path: "c.txt", want: true},
		{name: "Alternatives", filters: []Filter{ex("*.{tmp,bak}")}, path: "x/y.bak", want: false},
		{name: "DirectoryTopLevel", filters: []Filter{ex("logs/")}, path: "logs/x", want: false},
		{name: "DirectoryDeepBelow", filters: []Filter{ex("logs/")}, path: "logs/a/b/y", want: false},
		{name: "DirectoryByNameAnyDepth", filters: []Filter{ex("cache/")}, path: "a/cache/b", want: false},
		{name: "DirectoryNotFile", filters: []Filter{ex("logs/")}, path: "logs", want: true},
		{name: "DirectoryNamePrefixOnly", filters: []Filter{ex("logs/")}, path: "logsx/y", want: true},
		{name: "DirectoryPathAnchored", filters: []Filter{ex("a/cache/")}, path: "b/a/cache/x", want: true},
		{name: "DirectoryPathMatch", filters: []Filter{ex("a/cache/")}, path: "a/cache/x/y", want: false},
		{name: "DirectoryGlob", filters: []Filter{ex("tmp*/")}, path: "tmp123/f", want: false},
		{name: "LastMatchWinsInclude", filters: []Filter{ex("*"), in("*.html")}, path: "a/index.html", want: true},
		{name: "LastMatchWinsExclude", filters: []Filter{in("*.html"), ex("*")}, path: "a/index.html", want: false},
		{name: "EarlierMatchOverriddenOnlyByMatch", filters: []Filter{ex("*.log"), in("*.html")}, path: "x.log", want: false},
		{name: "IncludeOnlyLeavesOthersIncluded", filters: []Filter{in("*.html")}, path: "x.css", want: true},
		{name: "ReincludeBelowExcludedDirectory", filters: []Filter{ex("docs/"), in("docs/keep.md")}, path: "docs/keep.md", want: true},
		{name: "UnicodeName", filters: []Filter{ex("日本*")}, path: "a/日本.txt", want: false},
		{name: "SpaceInName", filters: []Filter{ex("with space/*")}, path: "with space/a b", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs, err := compileFilters(tt.filters)
			if err != nil {
				t.Fatalf("compileFilters: %v", err)
			}

			got := fs.Included(tt.path)

			if got != tt.want {
				t.Errorf("Included(%q) with %+v = %v, want %v", tt.path, tt.filters, got, tt.want)
			}
		})
	}
}

func TestFilterInvalidPatterns(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
	}{
		{name: "UnclosedBracket", pattern: "a[b"},
		{name: "UnclosedBrace", pattern: "{a,b"},
		{name: "Empty", pattern: ""},
		{name: "LeadingSlash", pattern: "/abs/*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := compileFilters([]Filter{{Pattern: "ok"}, {Exclude: true, Pattern: tt.pattern}})

			if !errors.Is(err, exitcode.ErrUsage) {
				t.Fatalf("error = %v, want it to wrap ErrUsage", err)
			}
			if tt.pattern != "" && !strings.Contains(err.Error(), `"`+tt.pattern+`"`) {
				t.Errorf("error %q does not name the pattern %q", err, tt.pattern)
			}
		})
	}
}
