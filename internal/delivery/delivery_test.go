package delivery

import (
	"errors"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
)

func TestResolveActionsResources(t *testing.T) {
	targets, err := ResolveActions([]string{"s3:ListBucket", "s3:GetBucketPolicy", "s3:PutObject", "s3:ListMultipartUploadParts"}, "b", "aws")
	if err != nil {
		t.Fatalf("ResolveActions: %v", err)
	}

	want := []bool{true, true, false, false}
	for i, tg := range targets {
		if tg.BucketLevel != want[i] {
			t.Errorf("%s: got bucket-level %t, want %t", tg.Action, tg.BucketLevel, want[i])
		}

		if tg.Resource != "arn:aws:s3:::b" {
			t.Errorf("%s: got resource %q, want arn:aws:s3:::b", tg.Action, tg.Resource)
		}
	}
}

func TestResolveActionsDefaults(t *testing.T) {
	targets, err := ResolveActions(nil, "b", "aws")
	if err != nil {
		t.Fatalf("ResolveActions: %v", err)
	}

	if len(targets) != len(DefaultActions) {
		t.Fatalf("got %d targets, want %d", len(targets), len(DefaultActions))
	}

	for i, tg := range targets {
		if tg.Action != DefaultActions[i] {
			t.Errorf("target %d: got %s, want %s", i, tg.Action, DefaultActions[i])
		}
	}
}

func TestResolveActionsRejects(t *testing.T) {
	for _, action := range []string{"PutObject", "s3:Put*", "iam:PassRole", "s3:"} {
		t.Run(action, func(t *testing.T) {
			_, err := ResolveActions([]string{action}, "b", "aws")
			if !errors.Is(err, exitcode.ErrUsage) {
				t.Errorf("got %v, want a usage error", err)
			}
		})
	}
}

func TestResolveActionsSuggests(t *testing.T) {
	_, err := ResolveActions([]string{"s3:GetObjekt"}, "b", "aws")
	if !errors.Is(err, exitcode.ErrUsage) {
		t.Fatalf("got %v, want a usage error", err)
	}

	if !strings.Contains(err.Error(), "did you mean s3:GetObject?") {
		t.Errorf("got %q, want the suggestion s3:GetObject", err)
	}

	// An action far from every known one may be real, so it passes.
	if _, err := ResolveActions([]string{"s3:GetStorageLensConfiguration"}, "b", "aws"); err != nil {
		t.Errorf("got %v for an action the tables lack, want nil", err)
	}
}

func TestParseRoleARN(t *testing.T) {
	role, err := ParseRoleARN("arn:aws:iam::111111111111:role/service-role/CodeBuildRole")
	if err != nil {
		t.Fatalf("ParseRoleARN: %v", err)
	}

	if role.Account != "111111111111" || role.Name != "CodeBuildRole" || role.Partition != "aws" {
		t.Errorf("got %+v, want account 111111111111, name CodeBuildRole, partition aws", role)
	}

	if got, want := role.SessionARN("s"), "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/s"; got != want {
		t.Errorf("SessionARN = %q, want %q", got, want)
	}

	for _, bad := range []string{"", "arn:aws:iam::1111:role/x", "arn:aws:iam::111111111111:user/x", "arn:aws:iam::111111111111:role/"} {
		if _, err := ParseRoleARN(bad); !errors.Is(err, exitcode.ErrUsage) {
			t.Errorf("ParseRoleARN(%q) = %v, want a usage error", bad, err)
		}
	}
}

func TestGrantResourceAndProbeKey(t *testing.T) {
	tests := []struct {
		name, prefix, key    string
		wantGrant, wantProbe string
	}{
		{"noPrefix", "", "", "arn:aws:s3:::b/*", "probe"},
		{"prefix", "app/", "", "arn:aws:s3:::b/app/*", "app/probe"},
		{"key", "app", "app/x", "arn:aws:s3:::b/app/x", "app/x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ObjectGrantResource("arn:aws:s3:::b", tt.prefix, tt.key); got != tt.wantGrant {
				t.Errorf("ObjectGrantResource = %q, want %q", got, tt.wantGrant)
			}

			if got := ProbeKey(tt.prefix, tt.key, "probe"); got != tt.wantProbe {
				t.Errorf("ProbeKey = %q, want %q", got, tt.wantProbe)
			}
		})
	}
}

func TestListPrefix(t *testing.T) {
	for prefix, want := range map[string]string{"": "", "app": "app/", "app/": "app/"} {
		if got := ListPrefix(prefix); got != want {
			t.Errorf("ListPrefix(%q) = %q, want %q", prefix, got, want)
		}
	}
}
