package sandbox

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/countersign/countersign/policy/cfn"
)

// maxResolveDepth bounds nested intrinsic functions, so that a template
// whose values refer to each other in a loop fails instead of recursing.
const maxResolveDepth = 32

// cdkResolver resolves the bucket and project properties that WorldFromCDK
// reads. policy/cfn resolves policy documents but does not export its
// resolver. This one covers the forms CDK writes for these properties:
// literals, Ref of pseudo parameters, parameters with a Default, buckets,
// roles and projects, Fn::GetAtt of their Arn, Fn::Join and Fn::Sub.
type cdkResolver struct {
	stack      *cfn.Stack
	resources  map[string]any
	parameters map[string]any
}

func newCDKResolver(stack *cfn.Stack, template map[string]any) *cdkResolver {
	resources, _ := template["Resources"].(map[string]any)
	parameters, _ := template["Parameters"].(map[string]any)
	return &cdkResolver{stack: stack, resources: resources, parameters: parameters}
}

// fail returns an error in policy/cfn's form, which names the stack, the
// logical id and the property path.
func (r *cdkResolver) fail(logicalID, path, reason string) error {
	return &cfn.UnresolvedError{Stack: r.stack.Name, LogicalID: logicalID, Path: path, Reason: reason}
}

// logicalIDs returns the logical ids of the resources of type typ, sorted.
func (r *cdkResolver) logicalIDs(typ string) []string {
	var ids []string
	for id, res := range r.resources {
		if resourceTypeOf(res) == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

func resourceTypeOf(res any) string {
	obj, _ := res.(map[string]any)
	typ, _ := obj["Type"].(string)
	return typ
}

func (r *cdkResolver) properties(logicalID string) map[string]any {
	res, _ := r.resources[logicalID].(map[string]any)
	props, _ := res["Properties"].(map[string]any)
	return props
}

// field returns obj's key, or nil when obj is not an object or lacks it.
func field(obj any, key string) any {
	m, _ := obj.(map[string]any)
	return m[key]
}

// item returns obj[key][index] when it exists.
func (r *cdkResolver) item(obj any, key string, index int) (any, bool) {
	list, _ := field(obj, key).([]any)
	if index >= len(list) {
		return nil, false
	}
	return list[index], true
}

// requiredString resolves a property that must be set. The missing text
// says what to change when it is not.
func (r *cdkResolver) requiredString(logicalID string, props map[string]any, base, property, missing string) (string, error) {
	raw, ok := props[property]
	if !ok {
		return "", r.fail(logicalID, base+"."+property, missing)
	}
	return r.resolveString(logicalID, raw, base+"."+property)
}

func (r *cdkResolver) resolveString(logicalID string, v any, path string) (string, error) {
	if v == nil {
		return "", r.fail(logicalID, path, "missing")
	}
	resolved, err := r.resolve(logicalID, v, path, 0)
	if err != nil {
		return "", err
	}
	switch t := resolved.(type) {
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	}
	return "", r.fail(logicalID, path, fmt.Sprintf("resolves to %T; expected a string", resolved))
}

// resolveBool resolves a Boolean property. A missing one is false, as in
// CloudFormation.
func (r *cdkResolver) resolveBool(logicalID string, v any, path string) (bool, error) {
	if v == nil {
		return false, nil
	}
	resolved, err := r.resolve(logicalID, v, path, 0)
	if err != nil {
		return false, err
	}
	switch t := resolved.(type) {
	case bool:
		return t, nil
	case string:
		// CloudFormation also takes "true" and "false" as strings.
		if b, err := strconv.ParseBool(t); err == nil {
			return b, nil
		}
	}
	return false, r.fail(logicalID, path, fmt.Sprintf("resolves to %v; expected true or false", resolved))
}

func (r *cdkResolver) resolve(logicalID string, v any, path string, depth int) (any, error) {
	if depth > maxResolveDepth {
		return nil, r.fail(logicalID, path, "intrinsic functions nest too deeply or refer to each other in a loop")
	}

	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, item := range t {
			resolved, err := r.resolve(logicalID, item, fmt.Sprintf("%s[%d]", path, i), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = resolved
		}
		return out, nil
	case map[string]any:
		if len(t) != 1 {
			return t, nil
		}
		for name, arg := range t {
			if name == "Ref" || strings.HasPrefix(name, "Fn::") {
				return r.intrinsic(logicalID, name, arg, path+"."+name, depth+1)
			}
		}
		return t, nil
	}
	return v, nil
}

func (r *cdkResolver) intrinsic(logicalID, name string, arg any, path string, depth int) (any, error) {
	switch name {
	case "Ref":
		target, ok := arg.(string)
		if !ok {
			return nil, r.fail(logicalID, path, "Ref takes a string")
		}
		return r.ref(logicalID, target, path, depth)
	case "Fn::GetAtt":
		var target, attribute string
		switch t := arg.(type) {
		case string:
			target, attribute, _ = strings.Cut(t, ".")
		case []any:
			if len(t) == 2 {
				target, _ = t[0].(string)
				attribute, _ = t[1].(string)
			}
		}
		return r.attribute(logicalID, target, attribute, path, depth)
	case "Fn::Join":
		return r.join(logicalID, arg, path, depth)
	case "Fn::Sub":
		return r.sub(logicalID, arg, path, depth)
	}
	return nil, r.fail(logicalID, path, "intrinsic function "+name+" is not resolved here; only Ref, Fn::GetAtt, Fn::Join and Fn::Sub are")
}

func (r *cdkResolver) ref(logicalID, target, path string, depth int) (any, error) {
	switch target {
	case "AWS::AccountId":
		return r.stack.Account, nil
	case "AWS::Region":
		return r.stack.Region, nil
	case "AWS::Partition":
		return r.stack.Partition, nil
	case "AWS::StackName":
		return r.stack.Name, nil
	case "AWS::URLSuffix":
		return "amazonaws.com", nil
	}
	if strings.HasPrefix(target, "AWS::") {
		return nil, r.fail(logicalID, path, "pseudo parameter "+target+" is known only at deploy time")
	}

	if param, ok := r.parameters[target]; ok {
		typ, _ := field(param, "Type").(string)
		def, hasDefault := field(param, "Default").(string)
		switch {
		case strings.HasPrefix(typ, "AWS::SSM::Parameter::"):
			return nil, r.fail(logicalID, path, "parameter "+target+" is read from SSM at deploy time")
		case !hasDefault:
			return nil, r.fail(logicalID, path, "parameter "+target+" has no string Default; its value is given at deploy time")
		}
		return def, nil
	}

	res, ok := r.resources[target]
	if !ok {
		return nil, r.fail(logicalID, path, "Ref "+target+" names no parameter or resource of the template")
	}
	props := r.properties(target)
	switch resourceTypeOf(res) {
	case cfnBucketType:
		return r.nameProperty(target, props, "BucketName", depth)
	case cfnProjectType:
		return r.nameProperty(target, props, "Name", depth)
	case cfnRoleType:
		return r.nameProperty(target, props, "RoleName", depth)
	}
	return nil, r.fail(logicalID, path, "Ref of resource "+target+" ("+resourceTypeOf(res)+") is known only at deploy time")
}

// nameProperty resolves the property that names a resource.
func (r *cdkResolver) nameProperty(target string, props map[string]any, property string, depth int) (any, error) {
	path := "Resources." + target + ".Properties." + property
	raw, ok := props[property]
	if !ok {
		return nil, r.fail(target, path, "CloudFormation generates the name at deploy time; set "+property+" in the CDK app")
	}
	return r.resolve(target, raw, path, depth+1)
}

func (r *cdkResolver) attribute(logicalID, target, attribute, path string, depth int) (any, error) {
	if attribute != "Arn" {
		return nil, r.fail(logicalID, path, "attribute "+target+"."+attribute+" is known only at deploy time")
	}

	switch resourceTypeOf(r.resources[target]) {
	case cfnRoleType:
		for _, role := range r.stack.Roles {
			if role.LogicalID == target && role.ARN != "" {
				return role.ARN, nil
			}
		}
		return nil, r.fail(logicalID, path, "role "+target+" has no resolvable ARN; set roleName in the CDK app")
	case cfnBucketType:
		name, err := r.nameProperty(target, r.properties(target), "BucketName", depth)
		if err != nil {
			return nil, err
		}
		return "arn:" + r.stack.Partition + ":s3:::" + fmt.Sprint(name), nil
	case cfnProjectType:
		name, err := r.nameProperty(target, r.properties(target), "Name", depth)
		if err != nil {
			return nil, err
		}
		return "arn:" + r.stack.Partition + ":codebuild:" + r.stack.Region + ":" + r.stack.Account + ":project/" + fmt.Sprint(name), nil
	}
	return nil, r.fail(logicalID, path, "Fn::GetAtt "+target+".Arn is known only at deploy time")
}

func (r *cdkResolver) join(logicalID string, arg any, path string, depth int) (any, error) {
	args, _ := arg.([]any)
	if len(args) != 2 {
		return nil, r.fail(logicalID, path, "Fn::Join takes [delimiter, [values]]")
	}
	delimiter, ok := args[0].(string)
	if !ok {
		return nil, r.fail(logicalID, path, "the Fn::Join delimiter is not a string")
	}
	list, err := r.resolve(logicalID, args[1], path+"[1]", depth)
	if err != nil {
		return nil, err
	}
	items, ok := list.([]any)
	if !ok {
		return nil, r.fail(logicalID, path, "the Fn::Join values are not a list")
	}

	parts := make([]string, len(items))
	for i, item := range items {
		switch t := item.(type) {
		case string:
			parts[i] = t
		case json.Number:
			parts[i] = t.String()
		default:
			return nil, r.fail(logicalID, fmt.Sprintf("%s[1][%d]", path, i), "the Fn::Join value is not a string")
		}
	}
	return strings.Join(parts, delimiter), nil
}

// sub replaces each ${Name} of an Fn::Sub template. ${!Text} is the escape
// for a literal ${Text}.
func (r *cdkResolver) sub(logicalID string, arg any, path string, depth int) (any, error) {
	var template string
	var variables map[string]any
	switch t := arg.(type) {
	case string:
		template = t
	case []any:
		if len(t) == 2 {
			template, _ = t[0].(string)
			variables, _ = t[1].(map[string]any)
		}
	}
	if template == "" {
		return nil, r.fail(logicalID, path, "Fn::Sub takes a template string or [template, {variables}]")
	}

	var b strings.Builder
	rest := template
	for {
		start := strings.Index(rest, "${")
		if start < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		end := strings.Index(rest[start:], "}")
		if end < 0 {
			return nil, r.fail(logicalID, path, "the Fn::Sub template has a ${ without a closing }")
		}
		b.WriteString(rest[:start])
		name := rest[start+2 : start+end]
		rest = rest[start+end+1:]

		if escaped, ok := strings.CutPrefix(name, "!"); ok {
			b.WriteString("${" + escaped + "}")
			continue
		}

		var value any
		var err error
		switch target, attribute, hasDot := strings.Cut(name, "."); {
		case variables[name] != nil:
			value, err = r.resolve(logicalID, variables[name], path+"[1]."+name, depth)
		case hasDot:
			value, err = r.attribute(logicalID, target, attribute, path, depth)
		default:
			value, err = r.ref(logicalID, name, path, depth)
		}
		if err != nil {
			return nil, err
		}
		s, ok := value.(string)
		if !ok {
			return nil, r.fail(logicalID, path, "Fn::Sub variable ${"+name+"} is not a string")
		}
		b.WriteString(s)
	}
}

// attachesTo reports whether the AWS::IAM::Policy or ManagedPolicy
// policyID lists role in its Roles, by Ref or by name.
func (r *cdkResolver) attachesTo(policyID string, role *cfn.Role) bool {
	roles, _ := r.properties(policyID)["Roles"].([]any)
	for _, item := range roles {
		if ref, ok := field(item, "Ref").(string); ok && ref == role.LogicalID {
			return true
		}
		if name, err := r.resolveString(policyID, item, "Roles"); err == nil && role.Name != "" && name == role.Name {
			return true
		}
	}
	return false
}
