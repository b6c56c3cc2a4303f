package cfn

import (
	"errors"
	"fmt"

	"github.com/countersign/countersign/policy"
)

// loadStack finds the policy documents of one template. It returns an
// error only when the template's structure is malformed; values that
// cannot be resolved become the stack's Problems.
func loadStack(art stackArtifact, template any) (Stack, error) {
	stack := Stack{
		Name:         art.name,
		ArtifactID:   art.id,
		TemplateFile: art.templateFile,
		Account:      art.account,
		Region:       art.region,
	}

	root, ok := template.(*object)
	if !ok {
		return stack, fmt.Errorf("the template is %s; expected an object", KindOf(template))
	}

	resources, err := templateSection(root, "Resources", true)
	if err != nil {
		return stack, err
	}

	parameters, err := templateSection(root, "Parameters", false)
	if err != nil {
		return stack, err
	}

	for _, id := range resources.keys {
		res, ok := resources.fields[id].(*object)
		if !ok || resourceType(res) == "" {
			return stack, fmt.Errorf("resource %s is not an object with a string Type", id)
		}
	}

	r := &resolver{
		stack:      art.name,
		account:    art.account,
		region:     art.region,
		parameters: parameters,
		resources:  resources,
	}

	if art.region != "" {
		r.partition = partitionFor(art.region)
		r.urlSuffix = urlSuffixFor(r.partition)
		stack.Partition = r.partition
	}

	if art.account == "" || art.region == "" {
		stack.Problems = append(stack.Problems, fmt.Errorf("stack %q has environment %q: %w; set env with an explicit account and region on the stack in the CDK app, so that account and region references resolve", art.name, art.environment, ErrUnknownEnvironment))
	}

	ex := extractor{r: r, stack: &stack}
	ex.run(resources)

	stack.env = r.forResource("")

	return stack, nil
}

// templateSection returns a top-level section such as Resources. A missing
// optional section is returned empty.
func templateSection(root *object, name string, required bool) (*object, error) {
	raw, ok := root.get(name)
	if !ok {
		if required {
			return nil, fmt.Errorf("the template has no %s section", name)
		}

		return newObject(), nil
	}

	section, ok := raw.(*object)
	if !ok {
		return nil, fmt.Errorf("%s is %s; expected an object", name, KindOf(raw))
	}

	return section, nil
}

// extractor collects one stack's roles, attached policies and bucket
// policies, recording every failure in the stack's Problems.
type extractor struct {
	r     *resolver
	stack *Stack
}

func (ex *extractor) problem(err error) {
	ex.stack.Problems = append(ex.stack.Problems, err)
}

func (ex *extractor) run(resources *object) {
	roleIndex := map[string]int{}

	for _, id := range resources.keys {
		res := resources.fields[id]
		ex.r.logicalID = id

		switch resourceType(res) {
		case typeRole:
			roleIndex[id] = len(ex.stack.Roles)
			ex.stack.Roles = append(ex.stack.Roles, ex.role(id, res))
		case typeBucketPolicy:
			if bp, ok := ex.bucketPolicy(id, res); ok {
				ex.stack.BucketPolicies = append(ex.stack.BucketPolicies, bp)
			}
		}
	}

	// Attached policies are read in a second pass, because a template may
	// list a policy before the role it attaches to.
	for _, id := range resources.keys {
		res := resources.fields[id]
		ex.r.logicalID = id

		typ := resourceType(res)
		if typ != typePolicy && typ != typeManaged {
			continue
		}

		ex.attachedPolicy(id, typ, res, roleIndex)
	}
}

func (ex *extractor) role(id string, res any) Role {
	props := resourceProperties(res)
	base := fmt.Sprintf("Resources.%s.Properties", id)
	role := Role{Stack: ex.stack.Name, LogicalID: id}

	path, err := ex.r.rolePath(id, res)
	if err != nil {
		ex.problem(err)
	} else {
		role.Path = path
	}

	name, err := ex.r.physicalName(id, res, "RoleName", base+".RoleName")
	if err != nil {
		ex.problem(err)
	} else {
		role.Name = name

		arn, err := ex.r.roleARN(id, res, base)
		if err != nil {
			// The error is copied because the resolver caches and shares it.
			var ue *UnresolvedError
			if errors.As(err, &ue) {
				labelled := *ue
				labelled.Reason = "role ARN: " + ue.Reason
				err = &labelled
			}

			ex.problem(err)
		} else {
			role.ARN = arn
		}
	}

	if trust, ok := props.get("AssumeRolePolicyDocument"); ok {
		role.TrustJSON, role.Trust, err = ex.document(trust, base+".AssumeRolePolicyDocument")
		if err != nil {
			ex.problem(err)
		}
	} else {
		ex.problem(ex.r.fail(base, "role has no AssumeRolePolicyDocument"))
	}

	role.Policies = ex.inlinePolicies(id, props, base)
	role.ManagedPolicyARNs = ex.managedPolicyARNs(props, base)

	return role
}

func (ex *extractor) inlinePolicies(id string, props *object, base string) []NamedPolicy {
	raw, ok := props.get("Policies")
	if !ok {
		return nil
	}

	items, ok := raw.([]any)
	if !ok {
		ex.problem(ex.r.fail(base+".Policies", "is %s; expected an array", KindOf(raw)))
		return nil
	}

	var out []NamedPolicy
	for i, item := range items {
		path := fmt.Sprintf("%s.Policies[%d]", base, i)

		obj, ok := item.(*object)
		if !ok {
			ex.problem(ex.r.fail(path, "is %s; expected an object with PolicyName and PolicyDocument", KindOf(item)))
			continue
		}

		np, ok := ex.namedPolicy(id, obj, "PolicyName", path)
		if ok {
			out = append(out, np)
		}
	}

	return out
}

// namedPolicy resolves an object with a name property and PolicyDocument.
func (ex *extractor) namedPolicy(logicalID string, obj *object, nameKey, path string) (NamedPolicy, bool) {
	np := NamedPolicy{LogicalID: logicalID, Path: path + ".PolicyDocument"}

	if rawName, ok := obj.get(nameKey); ok {
		name, err := ex.r.resolveString(rawName, path+"."+nameKey)
		if err != nil {
			ex.problem(err)
		}

		np.Name = name
	}

	doc, ok := obj.get("PolicyDocument")
	if !ok {
		ex.problem(ex.r.fail(path, "has no PolicyDocument"))
		return np, false
	}

	var err error
	np.JSON, np.Policy, err = ex.document(doc, np.Path)
	if err != nil {
		ex.problem(err)
		return np, false
	}

	return np, true
}

func (ex *extractor) managedPolicyARNs(props *object, base string) []string {
	raw, ok := props.get("ManagedPolicyArns")
	if !ok {
		return nil
	}

	path := base + ".ManagedPolicyArns"

	resolved, err := ex.r.resolve(raw, path)
	if err != nil {
		ex.problem(err)
		return nil
	}

	items, ok := resolved.([]any)
	if !ok {
		ex.problem(ex.r.fail(path, "resolves to %s; expected an array", KindOf(resolved)))
		return nil
	}

	var arns []string
	for i, item := range items {
		s, ok := item.(string)
		if !ok {
			ex.problem(ex.r.fail(fmt.Sprintf("%s[%d]", path, i), "is %s; expected a string", KindOf(item)))
			continue
		}

		arns = append(arns, s)
	}

	return arns
}

// attachedPolicy adds an AWS::IAM::Policy or AWS::IAM::ManagedPolicy to
// each role of this stack that its Roles list names.
func (ex *extractor) attachedPolicy(id, typ string, res any, roleIndex map[string]int) {
	props := resourceProperties(res)
	base := fmt.Sprintf("Resources.%s.Properties", id)

	nameKey := "PolicyName"
	if typ == typeManaged {
		nameKey = "ManagedPolicyName"
	}

	targets := ex.attachedRoles(props, base, roleIndex)
	if len(targets) == 0 {
		return
	}

	np, ok := ex.namedPolicy(id, props, nameKey, base)
	if !ok {
		return
	}

	for _, i := range targets {
		ex.stack.Roles[i].Policies = append(ex.stack.Roles[i].Policies, np)
	}
}

// attachedRoles returns the indexes of the roles a policy's Roles list
// names, by Ref to the logical id or by a resolved role name.
//
// NOTE: a policy that names only roles outside this stack is skipped,
// because their trust policies are not in this template.
func (ex *extractor) attachedRoles(props *object, base string, roleIndex map[string]int) []int {
	raw, ok := props.get("Roles")
	if !ok {
		return nil
	}

	items, ok := raw.([]any)
	if !ok {
		ex.problem(ex.r.fail(base+".Roles", "is %s; expected an array", KindOf(raw)))
		return nil
	}

	var targets []int
	for i, item := range items {
		path := fmt.Sprintf("%s.Roles[%d]", base, i)

		// A Ref to a role in this template matches even when the role has
		// no RoleName and its name is generated at deploy time.
		if obj, ok := item.(*object); ok {
			if name, arg, ok := intrinsic(obj); ok && name == "Ref" {
				if target, ok := arg.(string); ok {
					if idx, ok := roleIndex[target]; ok {
						targets = append(targets, idx)
						continue
					}
				}
			}
		}

		roleName, err := ex.r.resolveString(item, path)
		if err != nil {
			ex.problem(err)
			continue
		}

		for idx, role := range ex.stack.Roles {
			if role.Name != "" && role.Name == roleName {
				targets = append(targets, idx)
			}
		}
	}

	return targets
}

func (ex *extractor) bucketPolicy(id string, res any) (BucketPolicy, bool) {
	props := resourceProperties(res)
	base := fmt.Sprintf("Resources.%s.Properties", id)
	bp := BucketPolicy{Stack: ex.stack.Name, LogicalID: id}

	if raw, ok := props.get("Bucket"); ok {
		bucket, err := ex.r.resolveString(raw, base+".Bucket")
		if err != nil {
			ex.problem(err)
		}

		bp.Bucket = bucket
	} else {
		ex.problem(ex.r.fail(base, "bucket policy has no Bucket"))
	}

	doc, ok := props.get("PolicyDocument")
	if !ok {
		ex.problem(ex.r.fail(base, "bucket policy has no PolicyDocument"))
		return bp, false
	}

	var err error
	bp.JSON, bp.Policy, err = ex.document(doc, base+".PolicyDocument")
	if err != nil {
		ex.problem(err)
		return bp, false
	}

	return bp, true
}

// document resolves a policy document, encodes it as JSON and parses it.
func (ex *extractor) document(doc any, path string) ([]byte, *policy.Policy, error) {
	resolved, err := ex.r.resolve(doc, path)
	if err != nil {
		return nil, nil, err
	}

	data, err := encodeJSON(resolved)
	if err != nil {
		return nil, nil, fmt.Errorf("stack %q: resource %s: %s: encode resolved policy: %w", ex.r.stack, ex.r.logicalID, path, err)
	}

	parsed, err := policy.Parse(data)
	if err != nil {
		return data, nil, fmt.Errorf("stack %q: resource %s: %s: %w", ex.r.stack, ex.r.logicalID, path, err)
	}

	return data, parsed, nil
}
