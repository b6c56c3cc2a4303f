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
// documents, the role ARN, the bucket and its owner, the prefix and the
// project ARN, ready to copy into an Input.
type Assembly struct {
	RoleARN     string
	Identity    []Document
	Bucket      Document
	Trust       *Document
	BucketName  string
	BucketOwner string

	// Prefix and ProjectARN are "" when neither a flag nor the project
	// sets them.
	Prefix     string
	ProjectARN string

	// Defaults are the values taken from the CodeBuild project that uses
	// the role, because no flag set them.
	Defaults []Default

	// Notes are facts about what was not loaded, such as AWS managed
	// policies, whose documents are not in the assembly, and about where
	// defaults came from.
	Notes []string
}

// CDKOptions are the flags that choose what LoadCDK reads. Each value that
// is not empty wins over the one the assembly supplies.
//
// NOTE: an empty value means "not given", so --prefix "" cannot turn off
// the project's COUNTERSIGN_PREFIX.
type CDKOptions struct {
	// Role is the role's ARN or name, and Bucket the bucket's name. Each
	// may be empty when the assembly has one candidate.
	Role   string
	Bucket string

	BucketOwner string
	Prefix      string
	ProjectARN  string
}

// LoadCDK reads the cloud assembly in dir and picks the build role and the
// bucket policy. It returns an error wrapping exitcode.ErrUsage when the
// choice is ambiguous or names nothing. A value that cannot be resolved in
// the stacks of the role or the bucket policy gives a plain error that
// lists each one with its stack, logical id and path.
//
// When exactly one AWS::CodeBuild::Project has the role as its
// ServiceRole, the options left empty default to the project's ARN and to
// its COUNTERSIGN_BUCKET, COUNTERSIGN_BUCKET_OWNER and COUNTERSIGN_PREFIX
// variables. The bucket owner otherwise defaults to the account of the
// bucket policy's stack. A project value that cannot be resolved becomes a
// note, never an error.
func LoadCDK(dir string, opts CDKOptions) (*Assembly, error) {
	assembly, err := cfn.LoadCloudAssembly(dir)
	if err != nil {
		return nil, fmt.Errorf("load cloud assembly: %w", err)
	}

	role, err := pickRole(assembly, opts.Role)
	if err != nil {
		return nil, withProblems(dir, err, assembly.Problems())
	}

	out := &Assembly{
		BucketName:  opts.Bucket,
		BucketOwner: opts.BucketOwner,
		Prefix:      opts.Prefix,
		ProjectARN:  opts.ProjectARN,
	}

	out.applyProjectDefaults(assembly, role)

	bp, err := pickBucketPolicy(assembly, out.BucketName)
	if err != nil {
		if d := out.defaultFor("--bucket"); d != nil {
			err = fmt.Errorf("%s of project %s (stack %s) names the bucket; pass --bucket to check another: %w", d.Source, d.Project, d.Stack, err)
		}

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

	out.RoleARN = role.ARN
	out.Bucket = Document{Name: bp.Stack + "/" + bp.LogicalID, Policy: bp.Policy}
	out.Trust = &Document{Name: role.Stack + "/" + role.LogicalID + " AssumeRolePolicyDocument", Policy: role.Trust}
	out.BucketName = bp.Bucket
	out.checkBucketOwner(stackAccount(assembly, bp.Stack), bp.Stack)

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

// applyProjectDefaults fills the empty bucket, bucket owner, prefix and
// project ARN from the one CodeBuild project that uses role, and records
// each value taken in Defaults and Notes.
func (out *Assembly) applyProjectDefaults(assembly *cfn.Assembly, role *cfn.Role) {
	// The bucket and its owner have other defaults, the only bucket policy
	// and its stack's account, so only these two flags are worth naming
	// when no project supplies them.
	var missing []string
	if out.ProjectARN == "" {
		missing = append(missing, "--project-arn")
	}

	if out.Prefix == "" {
		missing = append(missing, "--prefix")
	}

	projects, notes := projectsForRole(assembly, role)
	out.Notes = append(out.Notes, notes...)

	project, notes := chooseProject(projects, role, out.ProjectARN, missing)
	out.Notes = append(out.Notes, notes...)

	if project == nil {
		return
	}

	if out.ProjectARN == "" {
		if project.arnErr != nil {
			out.Notes = append(out.Notes, fmt.Sprintf("%v; pass --project-arn", project.arnErr))
		} else {
			out.ProjectARN = project.arn
			out.addDefault(project, "--project-arn", project.arn, sourceName)
		}
	}

	targets := []struct {
		variable string
		value    *string
	}{
		{VarPrefix, &out.Prefix},
		{VarBucket, &out.BucketName},
		{VarBucketOwner, &out.BucketOwner},
	}

	var unset []string

	for _, t := range targets {
		if *t.value == "" {
			unset = append(unset, t.variable)
		}
	}

	if len(unset) == 0 {
		return
	}

	values, notes := projectVariables(project, unset)
	out.Notes = append(out.Notes, notes...)

	for _, t := range targets {
		if value, ok := values[t.variable]; ok && *t.value == "" {
			*t.value = value
			out.addDefault(project, flagOf[t.variable], value, t.variable)
		}
	}
}

// defaultFor returns the default recorded for flag, or nil.
func (out *Assembly) defaultFor(flag string) *Default {
	for i := range out.Defaults {
		if out.Defaults[i].Flag == flag {
			return &out.Defaults[i]
		}
	}

	return nil
}

func (out *Assembly) addDefault(p *buildProject, flag, value, source string) {
	d := Default{Flag: flag, Value: value, Source: source, Project: p.name, Stack: p.stack.Name, LogicalID: p.logicalID}
	if d.Project == "" {
		d.Project = p.logicalID
	}

	out.Defaults = append(out.Defaults, d)
	out.Notes = append(out.Notes, d.note())
}

// checkBucketOwner sets the bucket owner to account, the account of the
// bucket policy's stack, when neither a flag nor the project set it. When
// the project set another account, it adds a note, because preflight and
// sync send that value as ExpectedBucketOwner.
func (out *Assembly) checkBucketOwner(account, stack string) {
	if out.BucketOwner == "" {
		out.BucketOwner = account

		return
	}

	d := out.defaultFor("--bucket-owner")
	if d == nil || account == "" || d.Value == account {
		return
	}

	out.Notes = append(out.Notes, fmt.Sprintf("%s of project %s is %s, but stack %s deploys the bucket policy to account %s; preflight and sync send %s as ExpectedBucketOwner, so S3 denies their requests to this bucket with 403 Access Denied; correct the variable in the CDK app", d.Source, d.Project, d.Value, stack, account, d.Value))
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
