package audit

import (
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign/policy"
)

func TestPublicGrantFinding(t *testing.T) {
	tests := []struct {
		name      string
		fixture   string
		principal string
		callers   string
	}{
		{"PrincipalStar", "public-grant.json", `"Principal": "*"`, "anyone, anonymous users included,"},
		{"NotPrincipal", "not-principal.json", "NotPrincipal", "anyone, anonymous users included,"},
		{"Federated", "public-federated.json", `the Federated identity provider "graph.facebook.com"`, "anyone who signs in there"},
		{"PrincipalWildcard", "public-principal-wildcard.json", `the principal "arn:aws:iam::*:root"`, "every principal it matches"},
		{"WideIPRange", "public-wide-ip.json", `"Principal": "*"`, "anyone, anonymous users included,"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := runFake(t, hardened(t, tt.fixture), testConfig())

			i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.ID == IDPublicGrant })
			if i < 0 {
				t.Fatalf("no %s finding in %+v", IDPublicGrant, rep.Findings)
			}
			f := rep.Findings[i]

			if !strings.Contains(f.Message, tt.principal) {
				t.Errorf("message %q does not name %s", f.Message, tt.principal)
			}

			if !strings.Contains(f.Message, tt.callers) {
				t.Errorf("message %q does not say that %s may call it", f.Message, tt.callers)
			}

			// The suggested statement must pass S3's BlockPublicPolicy, and
			// grant the expected role.
			fix, err := policy.Parse([]byte(`{"Version": "2012-10-17", "Statement": [` + string(f.Fix.Statement) + `]}`))
			if err != nil {
				t.Fatalf("fix statement does not parse: %v\n%s", err, f.Fix.Statement)
			}

			if got := policy.PublicStatements(fix); len(got) != 0 {
				t.Errorf("fix statement is public:\n%s", f.Fix.Statement)
			}

			st := fix.Statements[0]
			if st.NotPrincipal != nil {
				t.Errorf("fix statement keeps NotPrincipal:\n%s", f.Fix.Statement)
			}

			if got := st.Principal.Values(policy.PrincipalAWS); !slices.Equal(got, []string{testRole}) {
				t.Errorf("fix statement grants AWS principals %v, want [%s]", got, testRole)
			}
		})
	}
}
