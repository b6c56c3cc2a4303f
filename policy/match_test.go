package policy

import "testing"

func TestMatchPattern(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		value   string
		want    bool
	}{
		{"ExactMatch", "arn:aws:s3:::bucket", "arn:aws:s3:::bucket", true},
		{"ExactMismatch", "arn:aws:s3:::bucket", "arn:aws:s3:::bucket2", false},
		{"StarMatchesEmpty", "bucket*", "bucket", true},
		{"StarMatchesSlash", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b/c", true},
		{"StarNeedsSlash", "arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket", false},
		{"QuestionOneChar", "file?.txt", "file1.txt", true},
		{"QuestionNotEmpty", "file?.txt", "file.txt", false},
		{"QuestionNotTwo", "file?.txt", "file12.txt", false},
		{"CaseSensitive", "arn:aws:s3:::Bucket", "arn:aws:s3:::bucket", false},
		{"StarAlone", "*", "", true},
		{"MultipleStars", "a*b*c", "aXXbYYc", true},
		{"MultipleStarsBacktrack", "a*b*c", "abcbc", true},
		{"MultipleStarsMiss", "a*b*c", "aXXbYY", false},
		{"EmptyPatternEmptyValue", "", "", true},
		{"EmptyPatternValue", "", "a", false},
		{"TrailingStars", "a**", "a", true},
		{"ValueShorter", "abc", "ab", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MatchPattern(tt.pattern, tt.value)
			if got != tt.want {
				t.Errorf("MatchPattern(%q, %q) = %v, want %v", tt.pattern, tt.value, got, tt.want)
			}
		})
	}
}

func TestMatchAction(t *testing.T) {
	tests := []struct {
		name    string
		pattern string
		action  string
		want    bool
	}{
		{"SameCase", "s3:getobject", "s3:getobject", true},
		{"MixedCaseRequest", "s3:getobject", "S3:GetObject", true},
		{"Wildcard", "s3:get*", "s3:GetObjectAcl", true},
		{"AllActions", "*", "sts:AssumeRole", true},
		{"OtherService", "s3:*", "sts:AssumeRole", false},
		{"QuestionMark", "s3:?etobject", "s3:GetObject", true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MatchAction(tt.pattern, tt.action)
			if got != tt.want {
				t.Errorf("MatchAction(%q, %q) = %v, want %v", tt.pattern, tt.action, got, tt.want)
			}
		})
	}
}

func TestPatternCovers(t *testing.T) {
	tests := []struct {
		name   string
		wide   string
		narrow string
		want   bool
	}{
		{"Equal", "arn:aws:s3:::b/*", "arn:aws:s3:::b/*", true},
		{"StarCoversLiteral", "arn:aws:s3:::b/*", "arn:aws:s3:::b/key", true},
		{"StarCoversStar", "arn:aws:s3:::*", "arn:aws:s3:::b/*", true},
		{"LiteralNotCoverStar", "arn:aws:s3:::b/key", "arn:aws:s3:::b/*", false},
		{"StarCoversQuestion", "a*", "a?", true},
		{"QuestionCoversQuestion", "a?c", "a?c", true},
		{"QuestionCoversLiteral", "a?c", "abc", true},
		{"QuestionNotCoverStar", "a?", "a*", false},
		{"LiteralNotCoverQuestion", "ab", "a?", false},
		{"DisjointPrefixes", "arn:aws:s3:::a*", "arn:aws:s3:::b*", false},
		{"AnyCoversEverything", "*", "s3:get*", true},
		{"NarrowerCoversNothingWider", "s3:get*", "*", false},
		{"PrefixNotCoverLonger", "s3:getobject", "s3:getobjectacl", false},
		{"StarMiddle", "s3:get*acl", "s3:getobjectacl", true},
		{"StarMiddleMiss", "s3:get*acl", "s3:getobject", false},
		{"EmptyCoversEmpty", "", "", true},
		{"KnownIncompleteLengths", "??*", "*??", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := PatternCovers(tt.wide, tt.narrow)
			if got != tt.want {
				t.Errorf("PatternCovers(%q, %q) = %v, want %v", tt.wide, tt.narrow, got, tt.want)
			}
		})
	}
}

func TestActionCoversIgnoresCase(t *testing.T) {
	got := ActionCovers("S3:Get*", "s3:getobject")
	if !got {
		t.Errorf("ActionCovers(%q, %q) = false, want true", "S3:Get*", "s3:getobject")
	}
}

// TestPatternCoversAgreesWithMatch checks soundness on sample strings: when
// wide covers narrow, every sample that narrow matches, wide matches too.
func TestPatternCoversAgreesWithMatch(t *testing.T) {
	patterns := []string{"*", "a*", "a?", "?b", "ab", "a*b", "*b", "a?b", "??", "a**", "?*"}
	samples := []string{"", "a", "b", "ab", "aab", "abb", "ba", "axb", "abc", "aa"}

	for _, wide := range patterns {
		for _, narrow := range patterns {
			if !PatternCovers(wide, narrow) {
				continue
			}

			for _, s := range samples {
				if MatchPattern(narrow, s) && !MatchPattern(wide, s) {
					t.Errorf("PatternCovers(%q, %q) = true, but %q matches only the narrow one", wide, narrow, s)
				}
			}
		}
	}
}
