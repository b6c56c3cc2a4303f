package policy

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzEvaluate checks that Evaluate and EvaluateTrust never panic, and
// that an allowed request names no denying policy type, for any policy
// that Parse accepts and any request.
func FuzzEvaluate(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "eval", "*.json"))
	if err != nil {
		f.Fatal(err)
	}

	seeds := []struct{ principal, action, resource, key, value string }{
		{aliceSession, "s3:PutObject", artifact, "s3:x-amz-acl", "bucket-owner-full-control"},
		{buildSession, "s3:GetObject", "arn:aws:s3:::dev-artifacts/home/${aws:username}/*", "aws:PrincipalTag/team", "blue"},
		{"codebuild.amazonaws.com", "sts:AssumeRole", deliveryRole, "aws:SourceAccount", toolsAccount},
		{"", "s3:GetObject", "arn:aws:s3:::dev-artifacts/public/a", "aws:SourceIp", "203.0.113.9"},
		{carolUser, "iam:CreateRole", "*", "aws:CurrentTime", "2026-01-01T00:00:00Z"},
	}

	for i, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}

		s := seeds[i%len(seeds)]
		f.Add(data, s.principal, s.action, s.resource, s.key, s.value)
	}

	f.Fuzz(func(t *testing.T, data []byte, principal, action, resource, key, value string) {
		p, err := Parse(data)
		if err != nil {
			return
		}

		req := Request{
			Principal: principal,
			Action:    action,
			Resource:  resource,
			Context:   map[string][]string{key: {value}},
		}

		sets := []PolicySet{
			{Identity: []*Policy{p}},
			{Resource: p, Boundary: p},
			{Identity: []*Policy{p}, Resource: p, SCPs: [][]*Policy{{p}}, RCPs: [][]*Policy{{p}}, Session: []*Policy{p}},
		}

		for _, set := range sets {
			got, err := Evaluate(req, set)
			if err != nil {
				continue
			}

			checkResult(t, got)
			_ = got.String()
		}

		if got, err := EvaluateTrust(req, p, PolicySet{Identity: []*Policy{p}}); err == nil {
			checkResult(t, got)
		}
	})
}

func checkResult(t *testing.T, r Result) {
	t.Helper()

	if r.Decision == Allowed && len(r.DeniedBy) > 0 {
		t.Fatalf("allowed result names denying types %v\n%s", r.DeniedBy, r)
	}

	if r.Decision != Allowed && len(r.DeniedBy) == 0 {
		t.Fatalf("denied result names no policy type\n%s", r)
	}

	for _, p := range r.Policies {
		for _, s := range p.Statements {
			if s.Matched != (s.Failed == ElementNone) {
				t.Fatalf("statement %d: Matched %t with Failed %q", s.Index, s.Matched, s.Failed)
			}

			_ = s.Reason()
		}
	}
}
