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

func TestForeignGranteeMessageNumber(t *testing.T) {
	tests := []struct {
		name       string
		principals string
		want       string
	}{
		{"one", `"arn:aws:iam::333333333333:role/Partner"`, "arn:aws:iam::333333333333:role/Partner, which is not in the bucket owner's account 222222222222, not an expected role and not in an allowed account"},
		{"two", `["arn:aws:iam::333333333333:role/Partner","arn:aws:iam::444444444444:role/Vendor"]`, "arn:aws:iam::333333333333:role/Partner, arn:aws:iam::444444444444:role/Vendor, which are not in the bucket owner's account 222222222222, not expected roles and not in an allowed account"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := hardened(t, "")
			f.policy = []byte(`{"Version":"2012-10-17","Statement":[{"Sid":"Partners","Effect":"Allow","Principal":{"AWS":` + tt.principals + `},"Action":"s3:GetObject","Resource":"arn:aws:s3:::dev-artifacts/app/*"}]}`)

			rep := runFake(t, f, testConfig())

			i := slices.IndexFunc(rep.Findings, func(f Finding) bool { return f.ID == IDForeignGrantee })
			if i < 0 {
				t.Fatal("no FOREIGN_GRANTEE finding")
			}

			if got := rep.Findings[i].Message; !strings.HasSuffix(got, tt.want) {
				t.Errorf("message %q does not end with %q", got, tt.want)
			}
		})
	}
}
