// Package cfn reads the IAM policies of a synthesized CDK app (a cloud
// assembly, the cdk.out folder) before it is deployed.
//
// It loads each CloudFormation stack's template, resolves the intrinsic
// functions that policies use from the stack's environment (account and
// region), and returns role trust policies, role policies and S3 bucket
// policies both as resolved JSON and as parsed *policy.Policy values. A
// value that is known only at deploy time is reported as an
// *UnresolvedError, never guessed.
package cfn

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/countersign/countersign/policy"
)

// ErrUnknownEnvironment is wrapped by the problem reported for a stack
// synthesized without an explicit account or region.
var ErrUnknownEnvironment = errors.New("stack environment is not set")

// Assembly is a loaded cloud assembly.
type Assembly struct {
	// Dir is the cloud assembly folder.
	Dir string

	// Stacks in manifest order.
	Stacks []Stack
}

// Stack is one CloudFormation stack of the assembly with the policy
// documents found in its template.
type Stack struct {
	// Name is the CloudFormation stack name: properties.stackName from the
	// manifest, or the artifact id when that is absent.
	Name string

	// ArtifactID is the stack's key in the manifest's artifacts.
	ArtifactID string

	// TemplateFile is the template's path inside the assembly folder.
	TemplateFile string

	// Account, Region and Partition come from the manifest's environment.
	// Each is "" when the environment leaves it unknown.
	Account   string
	Region    string
	Partition string

	Roles          []Role
	BucketPolicies []BucketPolicy

	// Problems lists what could not be resolved or parsed: an unknown
	// environment (ErrUnknownEnvironment), values known only at deploy time
	// (*UnresolvedError) and policies that fail policy.Parse
	// (policy.ErrInvalid). Each document reports only its first unresolved
	// value, so fixing it may reveal another.
	Problems []error

	// env is the template and environment that ResourceIDs and
	// ResolveProperty read. It is nil in a Stack not built by
	// LoadCloudAssembly.
	env *resolver
}

// Role is an AWS::IAM::Role with its trust policy and identity policies.
type Role struct {
	// Stack is the name of the stack that defines the role.
	Stack string

	LogicalID string

	// Name, ARN and Path are "" when the role has no RoleName, because
	// CloudFormation then generates the name at deploy time. Path is "/"
	// when the template sets none.
	Name string
	ARN  string
	Path string

	// Trust is the parsed AssumeRolePolicyDocument, and TrustJSON the same
	// document resolved. Trust is nil when the document could not be
	// resolved or parsed, and TrustJSON is nil when it could not be
	// resolved. Stack.Problems contains the reason.
	Trust     *policy.Policy
	TrustJSON []byte

	// Policies are the inline Policies of the role followed by the
	// AWS::IAM::Policy and AWS::IAM::ManagedPolicy resources that attach to
	// it, in template order.
	Policies []NamedPolicy

	// ManagedPolicyARNs are the role's ManagedPolicyArns as resolved. The
	// documents of AWS managed policies live in AWS, so they are not loaded.
	ManagedPolicyARNs []string
}

// NamedPolicy is an identity policy attached to a role.
type NamedPolicy struct {
	// Name is the PolicyName (inline policies and AWS::IAM::Policy) or the
	// ManagedPolicyName, or "" when the template sets none.
	Name string

	// LogicalID is the AWS::IAM::Policy or AWS::IAM::ManagedPolicy resource,
	// or the role's own logical id for an inline policy.
	LogicalID string

	// Path is the document's JSON path in the template.
	Path string

	Policy *policy.Policy
	JSON   []byte
}

// BucketPolicy is an AWS::S3::BucketPolicy with its bucket resolved to a
// name.
type BucketPolicy struct {
	// Stack is the name of the stack that defines the bucket policy.
	Stack string

	LogicalID string
	Bucket    string

	Policy *policy.Policy
	JSON   []byte
}

// FindRole returns the role whose ARN or name is arnOrName, searching
// every stack in order.
func (a *Assembly) FindRole(arnOrName string) (*Role, bool) {
	for i := range a.Stacks {
		for j := range a.Stacks[i].Roles {
			role := &a.Stacks[i].Roles[j]
			if arnOrName != "" && (role.ARN == arnOrName || role.Name == arnOrName) {
				return role, true
			}
		}
	}

	return nil, false
}

// BucketPolicyFor returns the bucket policy of the named bucket. It also
// accepts the bucket's ARN ("arn:aws:s3:::NAME").
func (a *Assembly) BucketPolicyFor(bucket string) (*BucketPolicy, bool) {
	if strings.HasPrefix(bucket, "arn:") {
		if _, name, ok := strings.Cut(bucket, ":s3:::"); ok {
			bucket = name
		}
	}

	for i := range a.Stacks {
		for j := range a.Stacks[i].BucketPolicies {
			bp := &a.Stacks[i].BucketPolicies[j]
			if bucket != "" && bp.Bucket == bucket {
				return bp, true
			}
		}
	}

	return nil, false
}

// Problems returns every stack's problems in stack order.
func (a *Assembly) Problems() []error {
	var all []error
	for _, s := range a.Stacks {
		all = append(all, s.Problems...)
	}

	return all
}

// maxNesting bounds how deep nested cloud assemblies are followed, so that
// a manifest naming its own folder cannot loop.
const maxNesting = 16

// LoadCloudAssembly reads dir/manifest.json, the manifests of nested cloud
// assemblies (CDK Stages) and every stack template they list, and extracts
// the stacks' policies. It returns an error naming the file when a
// manifest or a template cannot be read or is malformed. Values that
// cannot be resolved do not fail the load: they are listed in each Stack's
// Problems.
func LoadCloudAssembly(dir string) (*Assembly, error) {
	assembly := &Assembly{Dir: dir}

	if err := assembly.load("", 0); err != nil {
		return nil, err
	}

	if len(assembly.Stacks) == 0 {
		return nil, fmt.Errorf("manifest %s lists no artifact of type aws:cloudformation:stack; check that the CDK app defines a stack", filepath.Join(dir, "manifest.json"))
	}

	return assembly, nil
}

// load reads the manifest in the folder sub of the assembly, then the
// nested assemblies it lists, appending stacks in manifest order.
func (a *Assembly) load(sub string, depth int) error {
	manifestPath := filepath.Join(a.Dir, sub, "manifest.json")

	if depth > maxNesting {
		return fmt.Errorf("manifest %s: nested cloud assemblies are deeper than %d levels; check each directoryName", manifestPath, maxNesting)
	}

	contents, err := readManifest(manifestPath)
	if err != nil {
		return err
	}

	for _, art := range contents.stacks {
		art.templateFile = filepath.Join(sub, art.templateFile)
		templatePath := filepath.Join(a.Dir, art.templateFile)

		data, err := os.ReadFile(templatePath)
		if err != nil {
			return fmt.Errorf("read template of stack %q: %w; run cdk synth again to rewrite the cloud assembly", art.id, err)
		}

		template, err := decodeJSON(data)
		if err != nil {
			return fmt.Errorf("template %s is not valid JSON: %w", templatePath, err)
		}

		stack, err := loadStack(art, template)
		if err != nil {
			return fmt.Errorf("template %s: %w", templatePath, err)
		}

		a.Stacks = append(a.Stacks, stack)
	}

	for _, nested := range contents.nested {
		if err := a.load(filepath.Join(sub, nested), depth+1); err != nil {
			return err
		}
	}

	return nil
}
