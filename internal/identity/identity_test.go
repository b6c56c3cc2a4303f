package identity

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/countersign/countersign/internal/exitcode"
)

type fakeSTS struct {
	arn   string
	err   error
	calls int
}

func (f *fakeSTS) GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return &sts.GetCallerIdentityOutput{Arn: aws.String(f.arn), Account: aws.String("111111111111"), UserId: aws.String("AROAEXAMPLE:session")}, nil
}

func TestParsePrincipal(t *testing.T) {
	tests := []struct {
		name    string
		arn     string
		kind    Kind
		account string
		prName  string
		path    string
		session string
		wantErr bool
	}{
		{"session", "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-1", KindAssumedRole, "111111111111", "CodeBuildRole", "", "AWSCodeBuild-1", false},
		{"roleNoPath", "arn:aws:iam::111111111111:role/CodeBuildRole", KindRole, "111111111111", "CodeBuildRole", "/", "", false},
		{"roleWithPath", "arn:aws:iam::111111111111:role/service-role/CodeBuildRole", KindRole, "111111111111", "CodeBuildRole", "/service-role/", "", false},
		{"user", "arn:aws:iam::222222222222:user/admins/alice", KindUser, "222222222222", "alice", "/admins/", "", false},
		{"root", "arn:aws:iam::222222222222:root", KindRoot, "222222222222", "root", "", "", false},
		{"chinaPartition", "arn:aws-cn:sts::111111111111:assumed-role/R/s", KindAssumedRole, "111111111111", "R", "", "s", false},
		{"notAnARN", "CodeBuildRole", "", "", "", "", "", true},
		{"shortAccount", "arn:aws:iam::1111:role/R", "", "", "", "", "", true},
		{"sessionWithoutSessionName", "arn:aws:sts::111111111111:assumed-role/R", "", "", "", "", "", true},
		{"bucketARN", "arn:aws:s3:::dev-artifacts", "", "", "", "", "", true},
		{"roleWithoutName", "arn:aws:iam::111111111111:role/", "", "", "", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParsePrincipal(tt.arn)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParsePrincipal(%q) = %+v, want an error", tt.arn, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrincipal(%q): %v", tt.arn, err)
			}
			if got.Kind != tt.kind {
				t.Errorf("kind = %q, want %q", got.Kind, tt.kind)
			}
			if got.Account != tt.account {
				t.Errorf("account = %q, want %q", got.Account, tt.account)
			}
			if got.Name != tt.prName {
				t.Errorf("name = %q, want %q", got.Name, tt.prName)
			}
			if got.Path != tt.path {
				t.Errorf("path = %q, want %q", got.Path, tt.path)
			}
			if got.Session != tt.session {
				t.Errorf("session = %q, want %q", got.Session, tt.session)
			}
		})
	}
}

func TestWhoami(t *testing.T) {
	const session = "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-0b6a"
	tests := []struct {
		name     string
		caller   string
		expect   string
		buildARN string
		wantCode int
	}{
		{"noExpectation", session, "", "", exitcode.OK},
		{"sameRole", session, "arn:aws:iam::111111111111:role/CodeBuildRole", "", exitcode.OK},
		{"rolePathIgnoredForSession", session, "arn:aws:iam::111111111111:role/service-role/CodeBuildRole", "", exitcode.OK},
		{"otherRole", session, "arn:aws:iam::111111111111:role/DeployRole", "", exitcode.IdentityWrong},
		{"otherAccount", session, "arn:aws:iam::333333333333:role/CodeBuildRole", "", exitcode.IdentityWrong},
		{"roleNameCaseSensitive", session, "arn:aws:iam::111111111111:role/codebuildrole", "", exitcode.IdentityWrong},
		{"userCaller", "arn:aws:iam::111111111111:user/alice", "arn:aws:iam::111111111111:role/CodeBuildRole", "", exitcode.IdentityWrong},
		{"buildAccountMatches", session, "", "arn:aws:codebuild:us-east-1:111111111111:build/app:4c1e", exitcode.OK},
		{"buildAccountDiffers", session, "", "arn:aws:codebuild:us-east-1:999999999999:build/app:4c1e", exitcode.IdentityWrong},
		{"buildARNGarbage", session, "", "not-an-arn", exitcode.IdentityWrong},
		{"expectNotARN", session, "CodeBuildRole", "", exitcode.Usage},
		{"expectUser", session, "arn:aws:iam::111111111111:user/alice", "", exitcode.Usage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client := &fakeSTS{arn: tt.caller}
			res, err := Whoami(context.Background(), client, Options{ExpectRole: tt.expect, CodeBuildBuildARN: tt.buildARN})
			if got := exitcode.For(err); got != tt.wantCode {
				t.Fatalf("exit code = %d (err %v), want %d", got, err, tt.wantCode)
			}
			if tt.wantCode == exitcode.IdentityWrong && (res == nil || res.Matches || res.Problem == "") {
				t.Errorf("result = %+v, want a non-matching result with a problem", res)
			}
			if tt.wantCode == exitcode.OK && res.RoleARN != "arn:aws:iam::111111111111:role/CodeBuildRole" {
				t.Errorf("role ARN = %q", res.RoleARN)
			}
		})
	}
}

func TestWhoamiSTSFailure(t *testing.T) {
	client := &fakeSTS{err: errors.New("connection refused")}
	_, err := Whoami(context.Background(), client, Options{})
	if got := exitcode.For(err); got != exitcode.Failure {
		t.Errorf("exit code = %d, want %d", got, exitcode.Failure)
	}
}
