package explain

import (
	"fmt"
	"os"
	"strings"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/policy"
	"github.com/countersign/countersign/policy/cfn"
)

// ReadDocument reads and parses the policy file at path. The error names
// the file and, for a parse error, the position.
func ReadDocument(path string) (Document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Document{}, fmt.Errorf("read policy file: %w", err)
	}

	p, err := policy.Parse(data)
	if err != nil {
		return Document{}, fmt.Errorf("parse policy file %s: %w", path, err)
	}

	return Document{Name: path, Policy: p}, nil
}

// Assembly is the part of a cloud assembly that a check needs: the
// documents, the role ARN, the bucket and its owner, ready to copy into an
// Input.
type Assembly struct {
	RoleARN     string
	Identity    []Document
	Bucket      Document
	Trust       *Document
	BucketName  string
	BucketOwner string

	// Notes are facts about what was not loaded, such as AWS managed
	// policies, whose documents are not in the assembly.
	Notes []string
}

// LoadCDK reads the cloud assembly in dir and picks the build role and the
// bucket policy. roleARNOrName and bucket may be empty when the assembly
// has one candidate. It returns an error wrapping exitcode.ErrUsage when
// the choice is ambiguous or names nothing. A value that cannot be
// resolved in the stacks of the role or the bucket policy gives a plain
// error that lists each one with its stack, logical id and path.
func LoadCDK(dir, roleARNOrName, bucket string) (*Assembly, error) {
	assembly, err := cfn.LoadCloudAssembly(dir)
	if err != nil {
		return nil, fmt.Errorf("load cloud assembly: %w", err)
	}

	role, err := pickRole(assembly, roleARNOrName)
	if err != nil {
		return nil, withProblems(dir, err, assembly.Problems())
	}

	bp, err := pickBucketPolicy(assembly, bucket)
	if err != nil {
		return nil, withProblems(dir, err, assembly.Problems())
	}

	// NOTE: a document that cannot be resolved is left out of the stack,
	// so which role it attaches to is unknown. Every problem of the two
	// stacks is therefore reported, even one on an unrelated resource.
	if problems := stackProblems(assembly, role.Stack, bp.Stack); len(problems) > 0 {
		return nil, fmt.Errorf("cloud assembly %s has values that cannot be checked before deployment:\n  %w", dir, joinLines(problems))
	}

	if role.ARN == "" {
		return nil, fmt.Errorf("stack %q: role %s has no RoleName, so CloudFormation names it at deploy time and bucket policies cannot name it; set roleName on the role", role.Stack, role.LogicalID)
	}

	if role.Trust == nil {
		return nil, fmt.Errorf("stack %q: role %s has no parsed trust policy", role.Stack, role.LogicalID)
	}

	out := &Assembly{
		RoleARN:     role.ARN,
		Bucket:      Document{Name: bp.Stack + "/" + bp.LogicalID, Policy: bp.Policy},
		Trust:       &Document{Name: role.Stack + "/" + role.LogicalID + " AssumeRolePolicyDocument", Policy: role.Trust},
		BucketName:  bp.Bucket,
		BucketOwner: stackAccount(assembly, bp.Stack),
	}

	for _, np := range role.Policies {
		name := role.Stack + "/" + np.LogicalID
		if np.Name != "" && np.Name != np.LogicalID {
			name += " " + np.Name
		}

		out.Identity = append(out.Identity, Document{Name: name, Policy: np.Policy})
	}

	for _, arn := range role.ManagedPolicyARNs {
		out.Notes = append(out.Notes, fmt.Sprintf("managed policy %s is attached to the role but its document is not in the cloud assembly, so it is not checked", arn))
	}

	return out, nil
}

// withProblems turns a failed choice into a plain error listing the
// problems, because a role or bucket policy whose values cannot be resolved
// is left out of the assembly: the flags may be right, the documents not
// checkable.
func withProblems(dir string, err error, problems []error) error {
	if len(problems) == 0 {
		return err
	}

	return fmt.Errorf("cloud assembly %s has values that cannot be checked before deployment, and %s:\n  %w", dir, stripUsage(err), joinLines(problems))
}

// stripUsage drops the usage class from err's text, so the exit code
// reports the problems rather than the flags.
func stripUsage(err error) string {
	return strings.TrimSuffix(err.Error(), ": "+exitcode.ErrUsage.Error())
}

func pickRole(a *cfn.Assembly, roleARNOrName string) (*cfn.Role, error) {
	if roleARNOrName != "" {
		if role, ok := a.FindRole(roleARNOrName); ok {
			return role, nil
		}

		return nil, fmt.Errorf("no role with ARN or name %q in the cloud assembly; roles: %s: %w", roleARNOrName, roleNames(allRoles(a)), exitcode.ErrUsage)
	}

	// Roles that CodeBuild may assume are the candidates, so that the
	// roles of Lambda functions and custom resources do not make the
	// choice ambiguous.
	candidates := codeBuildRoles(a)
	if len(candidates) == 0 {
		candidates = allRoles(a)
	}

	switch len(candidates) {
	case 0:
		return nil, fmt.Errorf("the cloud assembly defines no AWS::IAM::Role; check the --cdk-out folder: %w", exitcode.ErrUsage)
	case 1:
		return candidates[0], nil
	}

	return nil, fmt.Errorf("the cloud assembly has %d candidate roles; choose one with --role-arn: %s: %w", len(candidates), roleNames(candidates), exitcode.ErrUsage)
}

func allRoles(a *cfn.Assembly) []*cfn.Role {
	var roles []*cfn.Role

	for i := range a.Stacks {
		for j := range a.Stacks[i].Roles {
			roles = append(roles, &a.Stacks[i].Roles[j])
		}
	}

	return roles
}

func codeBuildRoles(a *cfn.Assembly) []*cfn.Role {
	var roles []*cfn.Role

	for _, role := range allRoles(a) {
		if role.Trust == nil {
			continue
		}

		for _, st := range role.Trust.Statements {
			for _, service := range st.Principal.Values(policy.PrincipalService) {
				if service == CodeBuildPrincipal {
					roles = append(roles, role)
				}
			}
		}
	}

	return roles
}

func roleNames(roles []*cfn.Role) string {
	names := make([]string, len(roles))

	for i, r := range roles {
		id := r.ARN
		if id == "" {
			id = "(no RoleName)"
		}

		names[i] = fmt.Sprintf("%s/%s %s", r.Stack, r.LogicalID, id)
	}

	return strings.Join(names, ", ")
}

func pickBucketPolicy(a *cfn.Assembly, bucket string) (*cfn.BucketPolicy, error) {
	var all []*cfn.BucketPolicy

	for i := range a.Stacks {
		for j := range a.Stacks[i].BucketPolicies {
			all = append(all, &a.Stacks[i].BucketPolicies[j])
		}
	}

	if bucket != "" {
		if bp, ok := a.BucketPolicyFor(bucket); ok {
			return bp, nil
		}

		return nil, fmt.Errorf("no bucket policy for bucket %q in the cloud assembly; bucket policies: %s: %w", bucket, bucketNames(all), exitcode.ErrUsage)
	}

	switch len(all) {
	case 0:
		return nil, fmt.Errorf("the cloud assembly defines no AWS::S3::BucketPolicy that could be resolved; check the --cdk-out folder: %w", exitcode.ErrUsage)
	case 1:
		return all[0], nil
	}

	return nil, fmt.Errorf("the cloud assembly has %d bucket policies; choose one with --bucket: %s: %w", len(all), bucketNames(all), exitcode.ErrUsage)
}

func bucketNames(policies []*cfn.BucketPolicy) string {
	names := make([]string, len(policies))
	for i, bp := range policies {
		names[i] = fmt.Sprintf("%s/%s %s", bp.Stack, bp.LogicalID, bp.Bucket)
	}

	return strings.Join(names, ", ")
}

func stackProblems(a *cfn.Assembly, names ...string) []error {
	var problems []error

	for _, s := range a.Stacks {
		for _, n := range names {
			if s.Name == n {
				problems = append(problems, s.Problems...)

				break
			}
		}
	}

	return problems
}

func stackAccount(a *cfn.Assembly, name string) string {
	for _, s := range a.Stacks {
		if s.Name == name {
			return s.Account
		}
	}

	return ""
}

// joinLines joins errors one per line, keeping each for errors.Is.
func joinLines(errs []error) error {
	lines := make([]string, len(errs))
	for i, e := range errs {
		lines[i] = e.Error()
	}

	return &linesError{text: strings.Join(lines, "\n  "), errs: errs}
}

type linesError struct {
	text string
	errs []error
}

func (e *linesError) Error() string   { return e.text }
func (e *linesError) Unwrap() []error { return e.errs }
