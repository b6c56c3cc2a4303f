package identity

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/exitcode"
)

// STSClient is the STS call whoami needs.
type STSClient interface {
	GetCallerIdentity(ctx context.Context, in *sts.GetCallerIdentityInput, optFns ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// Options are whoami's inputs.
type Options struct {
	// ExpectRole is the role ARN the build should run as; empty skips the check.
	ExpectRole string
	// CodeBuildBuildARN is CODEBUILD_BUILD_ARN; when set, its account must be
	// the caller's, because a CodeBuild service role lives in the project's account.
	CodeBuildBuildARN string
}

// Result is the caller's identity and the outcome of the checks.
type Result struct {
	Caller     Principal `json:"caller"`
	UserID     string    `json:"user_id"`
	RoleARN    string    `json:"role_arn,omitempty"`
	ExpectRole string    `json:"expect_role,omitempty"`
	// Matches is true when no role was expected or the caller is that role.
	Matches  bool   `json:"matches"`
	Problem  string `json:"problem,omitempty"`
	BuildARN string `json:"codebuild_build_arn,omitempty"`
}

// Whoami calls GetCallerIdentity, parses the caller and checks it against
// the expected role and the CodeBuild build's account. A mismatch returns
// the result and an error wrapping exitcode.ErrIdentityMismatch.
func Whoami(ctx context.Context, client STSClient, opts Options) (*Result, error) {
	log := zerolog.Ctx(ctx)

	var expected Principal
	if opts.ExpectRole != "" {
		var err error
		expected, err = ParsePrincipal(opts.ExpectRole)
		if err != nil {
			return nil, fmt.Errorf("--expect-role: %w; use a role ARN such as arn:aws:iam::111111111111:role/CodeBuildRole: %w", err, exitcode.ErrUsage)
		}
		if expected.Kind != KindRole && expected.Kind != KindAssumedRole {
			return nil, fmt.Errorf("--expect-role %q names a %s, not a role: use arn:aws:iam::ACCOUNT:role/NAME: %w", opts.ExpectRole, expected.Kind, exitcode.ErrUsage)
		}
	}

	out, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("get caller identity: %w", err)
	}
	callerARN := aws.ToString(out.Arn)
	caller, err := ParsePrincipal(callerARN)
	if err != nil {
		return nil, fmt.Errorf("get caller identity returned an unexpected ARN: %w", err)
	}
	log.Debug().Str("caller", callerARN).Str("account", caller.Account).Msg("caller identity")

	res := &Result{
		Caller:     caller,
		UserID:     aws.ToString(out.UserId),
		RoleARN:    caller.RoleARN(),
		ExpectRole: opts.ExpectRole,
		Matches:    true,
		BuildARN:   opts.CodeBuildBuildARN,
	}

	var problems []string
	if opts.ExpectRole != "" {
		if reason := roleMismatch(caller, expected); reason != "" {
			problems = append(problems, reason)
		}
	}
	if opts.CodeBuildBuildARN != "" {
		if reason := buildAccountMismatch(caller, opts.CodeBuildBuildARN); reason != "" {
			problems = append(problems, reason)
		}
	}

	if len(problems) > 0 {
		res.Matches = false
		res.Problem = strings.Join(problems, "; ")
		return res, fmt.Errorf("%s: %w", res.Problem, exitcode.ErrIdentityMismatch)
	}
	return res, nil
}

// roleMismatch explains why caller is not the expected role, or returns "".
// A session ARN drops the role's path, so "role/service-role/X" matches
// "assumed-role/X/SESSION"; role names are case-sensitive in ARNs.
func roleMismatch(caller, expected Principal) string {
	if caller.Kind != KindAssumedRole && caller.Kind != KindRole {
		return fmt.Sprintf("caller %s is an IAM %s, not a session of role %s: the build is not running with the expected role's credentials", caller.ARN, caller.Kind, expected.ARN)
	}
	if caller.Partition != expected.Partition || caller.Account != expected.Account {
		return fmt.Sprintf("caller %s is in account %s, but the expected role %s is in account %s", caller.ARN, caller.Account, expected.ARN, expected.Account)
	}
	if caller.Name != expected.Name {
		return fmt.Sprintf("caller %s is a session of role %s, not of the expected role %s", caller.ARN, caller.Name, expected.ARN)
	}
	if caller.Kind == KindRole && expected.Kind == KindRole && caller.Path != expected.Path {
		return fmt.Sprintf("caller role %s has path %s, but the expected role %s has path %s", caller.ARN, caller.Path, expected.ARN, expected.Path)
	}
	return ""
}

// buildAccountMismatch compares the account of CODEBUILD_BUILD_ARN with the
// caller's, or returns "" when they agree.
func buildAccountMismatch(caller Principal, buildARN string) string {
	a, err := arn.Parse(buildARN)
	if err != nil || a.Service != "codebuild" {
		return fmt.Sprintf("CODEBUILD_BUILD_ARN %q is not a CodeBuild build ARN", buildARN)
	}
	if a.AccountID != caller.Account {
		return fmt.Sprintf("the build runs in account %s (CODEBUILD_BUILD_ARN), but the credentials belong to account %s (%s)", a.AccountID, caller.Account, caller.ARN)
	}
	return ""
}

// WriteText prints the result for a person.
func WriteText(w io.Writer, res *Result) {
	c := res.Caller
	fmt.Fprintf(w, "caller:   %s\n", c.ARN)
	fmt.Fprintf(w, "account:  %s\n", c.Account)
	if c.Kind == KindAssumedRole {
		fmt.Fprintf(w, "role:     %s\n", res.RoleARN)
		fmt.Fprintf(w, "session:  %s\n", c.Session)
	} else {
		fmt.Fprintf(w, "kind:     %s\n", c.Kind)
	}
	if res.BuildARN != "" {
		fmt.Fprintf(w, "build:    %s\n", res.BuildARN)
	}
	switch {
	case !res.Matches:
		fmt.Fprintf(w, "check:    MISMATCH: %s\n", res.Problem)
	case res.ExpectRole != "":
		fmt.Fprintf(w, "check:    OK, the caller is a session of %s\n", res.ExpectRole)
	}
}
