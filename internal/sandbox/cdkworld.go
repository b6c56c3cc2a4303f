package sandbox

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/countersign/countersign/policy/cfn"
)

// CloudFormation resource types that WorldFromCDK reads.
const (
	cfnBucketType       = "AWS::S3::Bucket"
	cfnBucketPolicyType = "AWS::S3::BucketPolicy"
	cfnProjectType      = "AWS::CodeBuild::Project"
	cfnRoleType         = "AWS::IAM::Role"
	cfnPolicyType       = "AWS::IAM::Policy"
	cfnManagedType      = "AWS::IAM::ManagedPolicy"
)

// WorldFromCDK builds a world from a synthesized CDK app, the cdk.out
// folder that `cdk synth` writes. It reads, with policy/cfn:
//
//   - accounts and the region from the stacks' environments;
//   - every AWS::IAM::Role with a RoleName: its path, trust policy, inline
//     policies, and the AWS::IAM::Policy and AWS::IAM::ManagedPolicy
//     resources attached to it;
//   - every AWS::S3::Bucket with a BucketName, owned by its stack's
//     account, with its AWS::S3::BucketPolicy, OwnershipControls,
//     BucketEncryption and PublicAccessBlockConfiguration;
//   - the first AWS::CodeBuild::Project, whose Name and ServiceRole give the
//     principals "build" (a CodeBuild session of the service role, the
//     default) and "codebuild" (the service principal, with the project's
//     account and ARN as its source).
//
// It adds "dev-admin", the root user of the first bucket's account. Keys
// are derived from the names, so they stay the same across runs. A value
// that cannot be resolved without deploying is an error naming the stack,
// the logical id and the property. The warnings describe what was left
// out, such as AWS managed policies, whose documents live in AWS.
func WorldFromCDK(dir string) (*World, []string, error) {
	assembly, err := cfn.LoadCloudAssembly(dir)
	if err != nil {
		return nil, nil, err
	}

	b := &cdkWorldBuilder{assembly: assembly, world: &World{}}
	if err := b.readStacks(); err != nil {
		return nil, nil, err
	}
	if err := b.checkProblems(); err != nil {
		return nil, b.warnings, err
	}
	if err := b.build(); err != nil {
		return nil, b.warnings, err
	}
	if err := b.world.Validate(); err != nil {
		return nil, b.warnings, fmt.Errorf("the world derived from %s is invalid: %w", dir, err)
	}
	return b.world, b.warnings, nil
}

// cdkStack is a stack of the assembly whose resources the builder reads.
type cdkStack struct {
	stack *cfn.Stack
}

// cdkBucket is an AWS::S3::Bucket read from a template.
type cdkBucket struct {
	stack     *cdkStack
	logicalID string
	bucket    Bucket
}

// cdkProject is an AWS::CodeBuild::Project read from a template.
type cdkProject struct {
	stack     *cdkStack
	logicalID string
	name      string
	arn       string
	role      *cfn.Role
}

type cdkWorldBuilder struct {
	assembly *cfn.Assembly
	world    *World
	warnings []string

	stacks   []*cdkStack
	buckets  []*cdkBucket
	projects []*cdkProject
}

func (b *cdkWorldBuilder) warn(format string, args ...any) {
	b.warnings = append(b.warnings, fmt.Sprintf(format, args...))
}

// readStacks reads the buckets and projects of each stack whose
// environment is known.
func (b *cdkWorldBuilder) readStacks() error {
	var errs []error
	for i := range b.assembly.Stacks {
		stack := &b.assembly.Stacks[i]
		if stack.Account == "" || stack.Region == "" {
			// policy/cfn reports the unknown environment in Problems.
			continue
		}

		s := &cdkStack{stack: stack}
		b.stacks = append(b.stacks, s)

		for _, id := range stack.ResourceIDs(cfnBucketType) {
			bucket, err := s.bucket(id)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			b.buckets = append(b.buckets, bucket)
		}
		for _, id := range stack.ResourceIDs(cfnProjectType) {
			project, err := s.project(id, b.assembly)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			b.projects = append(b.projects, project)
		}
	}
	return errors.Join(errs...)
}

// checkProblems turns the problems that policy/cfn found into an error
// when they concern what the world needs: the stacks' environments, the
// build role and its policies, and the bucket policies. A role whose name
// CloudFormation generates is left out of the world with a warning.
func (b *cdkWorldBuilder) checkProblems() error {
	needed := b.neededLogicalIDs()

	var errs []error
	for _, s := range b.assembly.Stacks {
		// Nothing of a stack without an environment is read, so each of
		// its problems is an error.
		unknownEnv := s.Account == "" || s.Region == ""
		for _, problem := range s.Problems {
			var unresolved *cfn.UnresolvedError
			if !unknownEnv && errors.As(problem, &unresolved) && !needed[s.Name+"/"+unresolved.LogicalID] {
				b.warn("left out: %v", problem)
				continue
			}
			errs = append(errs, problem)
		}
	}
	if len(b.projects) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("no stack of %s defines an %s: the world needs one for its build and codebuild principals", b.assembly.Dir, cfnProjectType))
	}
	if len(b.buckets) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("no stack of %s defines an %s with a BucketName", b.assembly.Dir, cfnBucketType))
	}
	return errors.Join(errs...)
}

// neededLogicalIDs returns "STACK/LOGICALID" for the resources whose
// problems make the world wrong: the first project's service role, the
// policies that attach to it, the buckets and the bucket policies.
func (b *cdkWorldBuilder) neededLogicalIDs() map[string]bool {
	needed := map[string]bool{}
	for _, bucket := range b.buckets {
		needed[bucket.stack.stack.Name+"/"+bucket.logicalID] = true
	}
	for _, s := range b.stacks {
		for _, id := range s.stack.ResourceIDs(cfnBucketPolicyType) {
			needed[s.stack.Name+"/"+id] = true
		}
	}
	if len(b.projects) == 0 {
		return needed
	}

	role := b.projects[0].role
	needed[role.Stack+"/"+role.LogicalID] = true
	for _, s := range b.stacks {
		if s.stack.Name != role.Stack {
			continue
		}
		for _, typ := range []string{cfnPolicyType, cfnManagedType} {
			for _, id := range s.stack.ResourceIDs(typ) {
				if s.attachesTo(id, role) {
					needed[s.stack.Name+"/"+id] = true
				}
			}
		}
	}
	return needed
}

// build fills the world from what readStacks and policy/cfn found.
func (b *cdkWorldBuilder) build() error {
	w := b.world
	w.Description = "Derived from the CDK app in " + b.assembly.Dir + "."

	var regions []string
	accounts := map[string]*Account{}
	for _, s := range b.stacks {
		if !slices.Contains(regions, s.stack.Region) {
			regions = append(regions, s.stack.Region)
		}
		if accounts[s.stack.Account] == nil {
			w.Accounts = append(w.Accounts, Account{ID: s.stack.Account})
			accounts[s.stack.Account] = &w.Accounts[len(w.Accounts)-1]
		}
	}
	if len(regions) != 1 {
		return fmt.Errorf("the stacks are in regions %s, but a world has one region: synthesize the stacks for one region", strings.Join(regions, ", "))
	}
	w.Region = regions[0]

	// Accounts were appended above, so the pointers are taken again now
	// that the slice no longer grows.
	for i := range w.Accounts {
		accounts[w.Accounts[i].ID] = &w.Accounts[i]
	}
	for _, s := range b.stacks {
		b.addRoles(accounts[s.stack.Account], s.stack)
	}

	for _, bucket := range b.buckets {
		w.Buckets = append(w.Buckets, bucket.bucket)
	}
	if err := b.attachBucketPolicies(); err != nil {
		return err
	}

	b.addPrincipals()
	b.addProjectEnv()
	return nil
}

// addRoles adds the stack's named roles to its account.
func (b *cdkWorldBuilder) addRoles(account *Account, stack *cfn.Stack) {
	for _, r := range stack.Roles {
		if r.Name == "" || r.TrustJSON == nil {
			// checkProblems has reported why, as an error for the build
			// role and a warning for the others.
			continue
		}
		role := Role{Name: r.Name, TrustPolicy: json.RawMessage(r.TrustJSON)}
		if r.Path != "/" {
			role.Path = r.Path
		}
		for _, p := range r.Policies {
			if role.Policies == nil {
				role.Policies = map[string]json.RawMessage{}
			}
			role.Policies[uniquePolicyName(role.Policies, p)] = json.RawMessage(p.JSON)
		}
		if len(r.ManagedPolicyARNs) > 0 {
			b.warn("stack %q: role %s: ManagedPolicyArns %s are left out, because their documents live in AWS", stack.Name, r.LogicalID, strings.Join(r.ManagedPolicyARNs, ", "))
		}
		account.Roles = append(account.Roles, role)
	}
}

// uniquePolicyName returns the policy's name, or its logical id when it has
// none, made unique among the role's policies.
func uniquePolicyName(existing map[string]json.RawMessage, p cfn.NamedPolicy) string {
	name := p.Name
	if name == "" {
		name = p.LogicalID
	}
	unique := name
	for n := 2; existing[unique] != nil; n++ {
		unique = fmt.Sprintf("%s-%d", name, n)
	}
	return unique
}

// attachBucketPolicies gives each bucket its AWS::S3::BucketPolicy.
func (b *cdkWorldBuilder) attachBucketPolicies() error {
	for _, s := range b.assembly.Stacks {
		for _, bp := range s.BucketPolicies {
			i := slices.IndexFunc(b.world.Buckets, func(bucket Bucket) bool { return bucket.Name == bp.Bucket })
			switch {
			case i < 0:
				return fmt.Errorf("stack %q: resource %s: Resources.%s.Properties.Bucket: bucket %q is not an %s of the app; define the bucket in the CDK app", s.Name, bp.LogicalID, bp.LogicalID, bp.Bucket, cfnBucketType)
			case b.world.Buckets[i].Policy != nil:
				return fmt.Errorf("stack %q: resource %s: bucket %s has a second bucket policy; S3 keeps one policy per bucket", s.Name, bp.LogicalID, bp.Bucket)
			}
			b.world.Buckets[i].Policy = json.RawMessage(bp.JSON)
		}
	}
	return nil
}

// addPrincipals adds build, codebuild and dev-admin.
func (b *cdkWorldBuilder) addPrincipals() {
	project := b.projects[0]
	for _, other := range b.projects[1:] {
		b.warn("stack %q: project %s (%s) has no principals; the build and codebuild principals act for %s", other.stack.stack.Name, other.logicalID, other.name, project.name)
	}
	owner := b.world.Buckets[0].Owner

	b.world.DefaultPrincipal = "build"
	b.world.Principals = []Principal{
		{
			Name:            "build",
			Role:            project.role.ARN,
			Session:         "AWSCodeBuild-{uuid}",
			AccessKeyID:     derivedKeyID("ASIA", "build:"+project.arn),
			SecretAccessKey: derivedSecret("build:" + project.arn),
			SessionToken:    derivedSessionToken("build:" + project.arn),
		},
		{
			Name:            "dev-admin",
			ARN:             "arn:aws:iam::" + owner + ":root",
			AccessKeyID:     derivedKeyID("AKIA", "root:"+owner),
			SecretAccessKey: derivedSecret("root:" + owner),
		},
		{
			Name:            "codebuild",
			Service:         "codebuild.amazonaws.com",
			SourceAccount:   project.stack.stack.Account,
			SourceARN:       project.arn,
			AccessKeyID:     derivedKeyID("AKIA", "codebuild:"+project.arn),
			SecretAccessKey: derivedSecret("codebuild:" + project.arn),
		},
	}
}

// derivedKeyID returns an access key ID such as AKIA plus 16 characters,
// the same for the same seed.
func derivedKeyID(prefix, seed string) string {
	return prefix + stableID("countersign-cdk-key:"+seed, 16)
}

// derivedSecret returns a 40-character secret access key for seed.
func derivedSecret(seed string) string {
	sum := sha256.Sum256([]byte("countersign-cdk-secret:" + seed))
	return base64.StdEncoding.EncodeToString(sum[:30])
}

// derivedSessionToken returns a session token for seed.
func derivedSessionToken(seed string) string {
	first := sha256.Sum256([]byte("countersign-cdk-token-1:" + seed))
	second := sha256.Sum256([]byte("countersign-cdk-token-2:" + seed))
	return base64.StdEncoding.EncodeToString(append(first[:], second[:]...))
}

// addProjectEnv copies the project's plain-text COUNTERSIGN_* variables,
// such as COUNTERSIGN_PREFIX, into the world's env, so that the env file
// gives countersign the settings the deployed build will have. Those the
// sandbox derives itself (bucket, owner, role) are left to it.
func (b *cdkWorldBuilder) addProjectEnv() {
	project := b.projects[0]
	stack := project.stack.stack

	value, found, err := stack.ResolveProperty(project.logicalID, "Environment.EnvironmentVariables")
	if err != nil {
		b.warn("stack %q: project %s: the environment variables were not read: %v", stack.Name, project.logicalID, err)
		return
	}
	items, _ := value.([]any)
	if !found || len(items) == 0 {
		return
	}

	for i, item := range items {
		variable, _ := item.(map[string]any)
		name, _ := variable["Name"].(string)
		text, isText := variable["Value"].(string)
		kind, _ := variable["Type"].(string)

		switch {
		case !strings.HasPrefix(name, "COUNTERSIGN_") || sandboxEnvNames[name]:
			continue
		case !isText || (kind != "" && kind != "PLAINTEXT"):
			b.warn("stack %q: project %s: Environment.EnvironmentVariables[%d] (%s) is not a plain-text value; set it in the env file by hand", stack.Name, project.logicalID, i, name)
			continue
		}

		if b.world.Env == nil {
			b.world.Env = map[string]string{}
		}
		b.world.Env[name] = text
	}
}
