package policy

import (
	"encoding/json"
	"fmt"
	"testing"
)

func principalUnderTest(t *testing.T, element string, raw string) *Statement {
	t.Helper()

	doc := fmt.Sprintf(`{"Version": "2012-10-17", "Statement": [{"Effect": "Deny", %q: %s, "Action": "s3:*", "Resource": "*"}]}`, element, raw)

	p, err := Parse([]byte(doc))
	if err != nil {
		t.Fatalf("parse %s: %v", raw, err)
	}

	return &p.Statements[0]
}

func TestMatchPrincipal(t *testing.T) {
	tests := []struct {
		name      string
		principal string
		roleARN   string
		element   string
		want      PrincipalMatch
	}{
		{"StarString", aliceSession, "", `"*"`, PrincipalMatchWildcard},
		{"StarAWS", aliceSession, "", `{"AWS": "*"}`, PrincipalMatchWildcard},
		{"StarAnonymous", "", "", `{"AWS": "*"}`, PrincipalMatchWildcard},
		{"AccountID", aliceSession, "", `{"AWS": "222222222222"}`, PrincipalMatchAccount},
		{"AccountRootARN", aliceSession, "", `{"AWS": "arn:aws:iam::222222222222:root"}`, PrincipalMatchAccount},
		{"OtherAccount", aliceSession, "", `{"AWS": "111111111111"}`, PrincipalNoMatch},
		{"AccountNotAnonymous", "", "", `{"AWS": "222222222222"}`, PrincipalNoMatch},
		{"RoleOfSession", aliceSession, "", `{"AWS": "arn:aws:iam::222222222222:role/deployer"}`, PrincipalMatchRole},
		{"RoleWithPathByName", buildSession, "", `{"AWS": "arn:aws:iam::111111111111:role/service-role/build-role"}`, PrincipalMatchRole},
		{"RoleWithPathKnown", buildSession, buildRole, `{"AWS": "arn:aws:iam::111111111111:role/service-role/build-role"}`, PrincipalMatchRole},
		{"RolePathMismatch", buildSession, buildRole, `{"AWS": "arn:aws:iam::111111111111:role/build-role"}`, PrincipalNoMatch},
		{"RoleOtherName", aliceSession, "", `{"AWS": "arn:aws:iam::222222222222:role/deployer2"}`, PrincipalNoMatch},
		{"SessionExact", aliceSession, "", `{"AWS": "arn:aws:sts::222222222222:assumed-role/deployer/alice"}`, PrincipalMatchDirect},
		{"SessionOther", bobSession, "", `{"AWS": "arn:aws:sts::222222222222:assumed-role/deployer/alice"}`, PrincipalNoMatch},
		{"UserExact", carolUser, "", `{"AWS": "arn:aws:iam::222222222222:user/carol"}`, PrincipalMatchDirect},
		{"UniqueID", aliceSession, "", `{"AWS": "AROAEXAMPLEROLEID1234"}`, PrincipalNoMatch},
		{"ServiceByName", "codebuild.amazonaws.com", "", `{"Service": "codebuild.amazonaws.com"}`, PrincipalMatchService},
		{"ServiceOther", "lambda.amazonaws.com", "", `{"Service": "codebuild.amazonaws.com"}`, PrincipalNoMatch},
		{"ServiceNotAccount", "codebuild.amazonaws.com", "", `{"AWS": "222222222222"}`, PrincipalNoMatch},
		{"StrongestWins", aliceSession, "", `{"AWS": ["222222222222", "arn:aws:sts::222222222222:assumed-role/deployer/alice"]}`, PrincipalMatchDirect},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Principal: tt.principal, PrincipalRoleARN: tt.roleARN}

			c, err := parseCaller(&req)
			if err != nil {
				t.Fatal(err)
			}

			st := principalUnderTest(t, "Principal", tt.element)

			if got := c.matchPrincipal(st.Principal); got != tt.want {
				t.Errorf("matchPrincipal = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNotPrincipalListed(t *testing.T) {
	tests := []struct {
		name      string
		principal string
		values    []string
		want      bool
	}{
		{"SessionAndAccount", aliceSession, []string{"arn:aws:sts::222222222222:assumed-role/deployer/alice", devRoot}, true},
		{"RoleAndAccount", aliceSession, []string{"arn:aws:iam::222222222222:role/deployer", devRoot}, true},
		{"SessionWithoutAccount", aliceSession, []string{"arn:aws:sts::222222222222:assumed-role/deployer/alice"}, false},
		{"AccountOnly", aliceSession, []string{devRoot}, false},
		{"RootByAccount", devRoot, []string{devRoot}, true},
		{"UserAndAccount", carolUser, []string{carolUser, devAccount}, true},
		{"OtherRole", bobSession, []string{"arn:aws:iam::222222222222:role/deployer", devRoot}, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request{Principal: tt.principal}

			c, err := parseCaller(&req)
			if err != nil {
				t.Fatal(err)
			}

			raw, err := json.Marshal(map[string][]string{"AWS": tt.values})
			if err != nil {
				t.Fatal(err)
			}

			st := principalUnderTest(t, "NotPrincipal", string(raw))

			if got := c.listedIn(st.NotPrincipal); got != tt.want {
				t.Errorf("listedIn = %t, want %t", got, tt.want)
			}
		})
	}
}
