package explain

import (
	"fmt"
	"slices"
	"strings"

	"github.com/countersign/countersign/policy/cfn"
)

// Variables of the CodeBuild project that buildspec.yml passes to
// countersign. With --cdk-out, explain takes the defaults of its flags
// from them.
const (
	VarBucket      = "COUNTERSIGN_BUCKET"
	VarBucketOwner = "COUNTERSIGN_BUCKET_OWNER"
	VarPrefix      = "COUNTERSIGN_PREFIX"
)

const typeProject = "AWS::CodeBuild::Project"

// sourceName is the Source of the project ARN, which is built from the
// project's Name property.
const sourceName = "Name"

// Default is a check input that no flag set and that explain took from the
// CodeBuild project whose service role is the build role.
type Default struct {
	// Flag is the flag that overrides the value, such as "--prefix".
	Flag  string `json:"flag"`
	Value string `json:"value"`

	// Source is the project's environment variable, such as
	// COUNTERSIGN_PREFIX, or "Name" for the ARN built from the project's
	// name.
	Source string `json:"source"`

	// Project is the project's name, Stack and LogicalID its stack and
	// resource in the cloud assembly.
	Project   string `json:"project"`
	Stack     string `json:"stack"`
	LogicalID string `json:"logical_id"`
}

// note returns the default as a sentence for the report's notes.
func (d Default) note() string {
	subject := map[string]string{
		"--prefix":       "prefix",
		"--bucket":       "bucket",
		"--bucket-owner": "bucket owner",
		"--project-arn":  "project ARN",
	}[d.Flag]

	from := "from"
	if d.Source == sourceName {
		from = "built from the"
	}

	return fmt.Sprintf("%s %s %s %s of project %s (stack %s); %s overrides it", subject, d.Value, from, d.Source, d.Project, d.Stack, d.Flag)
}

// buildProject is an AWS::CodeBuild::Project whose ServiceRole is the
// build role.
type buildProject struct {
	stack     *cfn.Stack
	logicalID string

	// name is "" when the template sets no Name or it cannot be resolved,
	// and arn is "" when name is, or when the stack's environment is
	// unknown. arnErr contains the reason.
	name   string
	arn    string
	arnErr error
}

// label names the project for notes: its name, or its logical id when the
// name is unknown, with its stack.
func (p *buildProject) label() string {
	id := p.name
	if id == "" {
		id = p.logicalID
	}

	return fmt.Sprintf("%s (stack %s)", id, p.stack.Name)
}

// projectsForRole returns the CodeBuild projects of every stack whose
// ServiceRole resolves to role's ARN or name, in stack and logical id
// order. A project whose ServiceRole cannot be resolved is not returned,
// and a note names it.
func projectsForRole(a *cfn.Assembly, role *cfn.Role) ([]*buildProject, []string) {
	var (
		projects []*buildProject
		notes    []string
	)

	for i := range a.Stacks {
		stack := &a.Stacks[i]

		for _, id := range stack.ResourceIDs(typeProject) {
			uses, err := usesRole(stack, id, role)
			if err != nil {
				notes = append(notes, fmt.Sprintf("%v; explain cannot tell whether this CodeBuild project uses the role, so it takes no defaults from it", err))

				continue
			}

			if !uses {
				continue
			}

			p := &buildProject{stack: stack, logicalID: id}
			p.name, p.arn, p.arnErr = projectARN(stack, id)
			projects = append(projects, p)
		}
	}

	return projects, notes
}

// usesRole reports whether the project's ServiceRole is the role. CodeBuild
// accepts the role's ARN or its name there.
func usesRole(stack *cfn.Stack, logicalID string, role *cfn.Role) (bool, error) {
	value, found, err := stack.ResolveProperty(logicalID, "ServiceRole")
	if err != nil {
		return false, err
	}

	if !found {
		return false, nil
	}

	serviceRole, ok := value.(string)
	if !ok {
		return false, fmt.Errorf("stack %q: resource %s: Resources.%s.Properties.ServiceRole is %T; expected the role's ARN or name", stack.Name, logicalID, logicalID, value)
	}

	return (role.ARN != "" && serviceRole == role.ARN) || (role.Name != "" && serviceRole == role.Name), nil
}

// projectARN returns the project's name and the ARN that Fn::GetAtt Arn
// gives, arn:PARTITION:codebuild:REGION:ACCOUNT:project/NAME. The error
// names the stack, the logical id and the property when either is unknown
// before deployment.
func projectARN(stack *cfn.Stack, logicalID string) (name, arn string, err error) {
	value, found, err := stack.ResolveProperty(logicalID, "Name")
	if err != nil {
		return "", "", err
	}

	at := fmt.Sprintf("stack %q: resource %s: Resources.%s.Properties.Name", stack.Name, logicalID, logicalID)

	if !found {
		return "", "", fmt.Errorf("%s is not set, so CloudFormation names the project at deploy time and its ARN is unknown", at)
	}

	name, ok := value.(string)
	if !ok || name == "" {
		return "", "", fmt.Errorf("%s is %q; expected a non-empty string", at, fmt.Sprint(value))
	}

	arn, err = stack.ResolveAttribute(logicalID, "Arn")
	if err != nil {
		return name, "", err
	}

	return name, arn, nil
}

// chooseProject returns the one project that gives defaults, or nil with a
// note that gives the reason and names the flags in missing. projectARN,
// when given, picks among several projects the one with that ARN.
func chooseProject(projects []*buildProject, role *cfn.Role, projectARN string, missing []string) (*buildProject, []string) {
	if projectARN != "" && len(projects) > 1 {
		var matching []*buildProject

		for _, p := range projects {
			if p.arn == projectARN {
				matching = append(matching, p)
			}
		}

		if len(matching) == 1 {
			return matching[0], nil
		}
	}

	switch len(projects) {
	case 0:
		if len(missing) == 0 {
			return nil, nil
		}

		advice := "have no default; pass them if the policies need them"
		if len(missing) == 1 {
			advice = "has no default; pass it if the policies need it"
		}

		return nil, []string{fmt.Sprintf("no AWS::CodeBuild::Project in the cloud assembly has the role %s/%s as its ServiceRole, so %s %s", role.Stack, role.LogicalID, strings.Join(missing, " and "), advice)}
	case 1:
		p := projects[0]
		if projectARN != "" && p.arn != "" && p.arn != projectARN {
			return p, []string{fmt.Sprintf("--project-arn %s is not the ARN of project %s, the only project that uses the role; explain still takes the defaults of the other flags from that project", projectARN, p.label())}
		}

		return p, nil
	}

	labels := make([]string, len(projects))
	for i, p := range projects {
		labels[i] = p.label()
	}

	note := fmt.Sprintf("%d CodeBuild projects use the role: %s; explain takes no defaults from them", len(projects), strings.Join(labels, ", "))
	if len(missing) > 0 {
		note += "; pass " + strings.Join(missing, " and ")
	}

	return nil, []string{note}
}

// projectVariables returns the plaintext values of the named variables in
// the project's Environment.EnvironmentVariables. A named variable whose
// value is not in the cloud assembly, because it cannot be resolved or is
// read from Parameter Store or Secrets Manager at build time, gets a note
// instead. When a variable is listed twice, the first value is used.
func projectVariables(p *buildProject, names []string) (map[string]string, []string) {
	values := map[string]string{}
	seen := map[string]bool{}

	var notes []string

	for i := 0; ; i++ {
		item := fmt.Sprintf("Environment.EnvironmentVariables[%d]", i)

		// Resolving the whole item separates the end of the list, where the
		// item is missing, from an item without a Name. An error with found
		// set comes from a value inside the item, handled below.
		_, found, err := p.stack.ResolveProperty(p.logicalID, item)
		if !found {
			if err != nil {
				notes = append(notes, fmt.Sprintf("%v; explain reads no variables of project %s", err, p.label()))
			}

			break
		}

		name, err := variableName(p, item)
		if err != nil {
			notes = append(notes, err.Error())

			continue
		}

		if !slices.Contains(names, name) {
			continue
		}

		if seen[name] {
			continue
		}

		seen[name] = true

		value, err := variableValue(p, item, name)
		if err != nil {
			notes = append(notes, err.Error())

			continue
		}

		values[name] = value
	}

	return values, notes
}

// variableName resolves the Name of one item of EnvironmentVariables.
func variableName(p *buildProject, item string) (string, error) {
	raw, found, err := p.stack.ResolveProperty(p.logicalID, item+".Name")
	if err != nil {
		return "", fmt.Errorf("%w; if it is one of the variables explain reads, pass its flag", err)
	}

	name, ok := raw.(string)
	if !found || !ok {
		return "", fmt.Errorf("stack %q: resource %s: Resources.%s.Properties.%s has no string Name; CodeBuild rejects such a variable", p.stack.Name, p.logicalID, p.logicalID, item)
	}

	return name, nil
}

// variableValue resolves the Value of the variable name in one item of
// EnvironmentVariables. The error names the stack, the logical id and the
// property, and the flag that sets the same value.
func variableValue(p *buildProject, item, name string) (string, error) {
	flag := flagOf[name]
	at := fmt.Sprintf("stack %q: resource %s: Resources.%s.Properties.%s", p.stack.Name, p.logicalID, p.logicalID, item)

	typ, found, err := p.stack.ResolveProperty(p.logicalID, item+".Type")
	if err != nil {
		return "", fmt.Errorf("%w; pass %s", err, flag)
	}

	if typeName, _ := typ.(string); found && typeName != "PLAINTEXT" {
		return "", fmt.Errorf("%s.Type of %s is %v, so CodeBuild reads its value at build time and it is not in the cloud assembly; pass %s", at, name, typ, flag)
	}

	raw, found, err := p.stack.ResolveProperty(p.logicalID, item+".Value")
	if err != nil {
		return "", fmt.Errorf("%w; pass %s", err, flag)
	}

	value, ok := raw.(string)
	if !found || !ok {
		return "", fmt.Errorf("%s.Value of %s is not a string; pass %s", at, name, flag)
	}

	if value == "" {
		return "", fmt.Errorf("%s.Value of %s is empty, so it sets no default; pass %s", at, name, flag)
	}

	return value, nil
}

// flagOf maps each variable explain reads to the flag that sets the same
// value.
var flagOf = map[string]string{
	VarBucket:      "--bucket",
	VarBucketOwner: "--bucket-owner",
	VarPrefix:      "--prefix",
}
