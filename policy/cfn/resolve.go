package cfn

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrUnresolved is wrapped by every UnresolvedError.
var ErrUnresolved = errors.New("value cannot be resolved before deployment")

// UnresolvedError names a template value whose deployed form is not known
// from the cloud assembly alone, such as a name CloudFormation generates at
// deploy time or an Fn::ImportValue.
type UnresolvedError struct {
	// Stack is the stack name.
	Stack string

	// LogicalID is the logical id of the resource that contains the value.
	LogicalID string

	// Path is the JSON path of the value in the template, such as
	// "Resources.Bucket.Properties.BucketName".
	Path string

	// Reason is the cause, with the change that makes the value resolvable.
	Reason string
}

func (e *UnresolvedError) Error() string {
	return fmt.Sprintf("stack %q: resource %s: %s: %s", e.Stack, e.LogicalID, e.Path, e.Reason)
}

// Unwrap returns ErrUnresolved.
func (e *UnresolvedError) Unwrap() error {
	return ErrUnresolved
}

// resolver evaluates the intrinsic functions that policies use against one
// stack's environment and resources.
type resolver struct {
	stack     string
	account   string // "" when the environment is unknown
	region    string // "" when the environment is unknown
	partition string // "" when the region is unknown
	urlSuffix string

	parameters *object
	resources  *object

	// logicalID and depth describe the current resolution, for errors and
	// to bound nesting.
	logicalID string
	depth     int

	// names caches each resource's resolved physical name, so that a
	// template whose names refer to each other resolves in linear time.
	// pending holds the names being resolved, to detect reference cycles.
	names   map[string]nameResult
	pending map[string]bool
}

// forResource returns a resolver with r's environment and template for a
// value inside the resource logicalID. It shares no cache with r, so that
// callers on different goroutines do not share state.
func (r *resolver) forResource(logicalID string) *resolver {
	return &resolver{
		stack:      r.stack,
		account:    r.account,
		region:     r.region,
		partition:  r.partition,
		urlSuffix:  r.urlSuffix,
		parameters: r.parameters,
		resources:  r.resources,
		logicalID:  logicalID,
	}
}

type nameResult struct {
	name string
	err  error
}

// maxValueLength bounds a resolved string. It is well above the largest
// IAM policy document (20 KB for an S3 bucket policy), so only a template
// built to blow up memory reaches it.
const maxValueLength = 64 << 10

func (r *resolver) fail(path, format string, args ...any) error {
	return &UnresolvedError{Stack: r.stack, LogicalID: r.logicalID, Path: path, Reason: fmt.Sprintf(format, args...)}
}

// resolve returns v with every intrinsic function replaced by its value.
// path is v's JSON path, used in errors.
func (r *resolver) resolve(v any, path string) (any, error) {
	r.depth++
	defer func() { r.depth-- }()

	if r.depth > maxDepth {
		return nil, r.fail(path, "references nest deeper than %d levels; check for a reference cycle", maxDepth)
	}

	switch t := v.(type) {
	case []any:
		out := make([]any, 0, len(t))
		for i, item := range t {
			resolved, err := r.resolve(item, fmt.Sprintf("%s[%d]", path, i))
			if err != nil {
				return nil, err
			}

			out = append(out, resolved)
		}

		return out, nil
	case *object:
		if name, arg, ok := intrinsic(t); ok {
			return r.intrinsic(name, arg, path+"."+name)
		}

		out := newObject()
		for _, key := range t.keys {
			resolved, err := r.resolve(t.fields[key], path+"."+key)
			if err != nil {
				return nil, err
			}

			out.set(key, resolved)
		}

		return out, nil
	default:
		return v, nil
	}
}

// resolveString resolves v and requires a string result. Numbers are
// accepted in their literal form, as CloudFormation converts them.
func (r *resolver) resolveString(v any, path string) (string, error) {
	resolved, err := r.resolve(v, path)
	if err != nil {
		return "", err
	}

	switch t := resolved.(type) {
	case string:
		return t, nil
	case json.Number:
		return t.String(), nil
	default:
		return "", r.fail(path, "resolves to %s; expected a string", KindOf(resolved))
	}
}

// intrinsic reports whether obj is an intrinsic function call: an object
// with the single key "Ref" or "Fn::Name".
func intrinsic(obj *object) (name string, arg any, ok bool) {
	if len(obj.keys) != 1 {
		return "", nil, false
	}

	key := obj.keys[0]
	if key != "Ref" && !strings.HasPrefix(key, "Fn::") {
		return "", nil, false
	}

	return key, obj.fields[key], true
}

func (r *resolver) intrinsic(name string, arg any, path string) (any, error) {
	switch name {
	case "Ref":
		target, ok := arg.(string)
		if !ok {
			return nil, r.fail(path, "Ref takes a string, got %s", KindOf(arg))
		}

		return r.ref(target, path)
	case "Fn::GetAtt":
		return r.getAtt(arg, path)
	case "Fn::Join":
		return r.join(arg, path)
	case "Fn::Sub":
		return r.sub(arg, path)
	case "Fn::Select":
		return r.selectItem(arg, path)
	case "Fn::Split":
		return r.split(arg, path)
	case "Fn::ImportValue":
		return nil, r.fail(path, "Fn::ImportValue reads another stack's export at deploy time; pass the value as a literal or a parameter with a Default")
	default:
		return nil, r.fail(path, "intrinsic function %s is not supported; only Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select and Fn::Split are resolved", name)
	}
}

// ref resolves Ref of a pseudo parameter, a parameter or a resource.
func (r *resolver) ref(target, path string) (any, error) {
	if strings.HasPrefix(target, "AWS::") {
		s, err := r.pseudo(target, path)
		if err != nil {
			return nil, err
		}

		return s, nil
	}

	if param, ok := r.parameters.get(target); ok {
		return r.parameter(target, param, path)
	}

	if res, ok := r.resources.get(target); ok {
		return r.resourceRef(target, res, path)
	}

	return nil, r.fail(path, "Ref %q names no parameter or resource in the template", target)
}

func (r *resolver) pseudo(name, path string) (string, error) {
	var value string

	switch name {
	case "AWS::AccountId":
		value = r.account
	case "AWS::Region":
		value = r.region
	case "AWS::Partition":
		value = r.partition
	case "AWS::URLSuffix":
		value = r.urlSuffix
	case "AWS::StackName":
		return r.stack, nil
	default:
		return "", r.fail(path, "pseudo parameter %s is known only at deploy time", name)
	}

	if value == "" {
		return "", r.fail(path, "%s is unknown because the stack's environment is not set; give the stack an explicit account and region", name)
	}

	return value, nil
}

// parameter resolves Ref of a template parameter to its Default.
//
// NOTE: a deployment may override the Default with --parameters, so the
// resolved policies show the values of a deploy without overrides.
func (r *resolver) parameter(name string, param any, path string) (any, error) {
	obj, ok := param.(*object)
	if !ok {
		return nil, r.fail(path, "parameter %q is %s; expected an object", name, KindOf(param))
	}

	typ, _ := obj.get("Type")
	typeName, _ := typ.(string)

	// The Default of an SSM parameter type is the SSM parameter's name.
	// CloudFormation substitutes the value stored in SSM at deploy time.
	if strings.HasPrefix(typeName, "AWS::SSM::Parameter::") {
		return nil, r.fail(path, "parameter %q has type %s, whose value is read from SSM at deploy time", name, typeName)
	}

	def, ok := obj.get("Default")
	if !ok {
		return nil, r.fail(path, "parameter %q has no Default; its value is given at deploy time", name)
	}

	var text string
	switch t := def.(type) {
	case string:
		text = t
	case json.Number:
		text = t.String()
	default:
		return nil, r.fail(path, "parameter %q has a Default that is %s; expected a string", name, KindOf(def))
	}

	if typeName == "CommaDelimitedList" || strings.HasPrefix(typeName, "List<") {
		items := []any{}
		for _, item := range strings.Split(text, ",") {
			items = append(items, item)
		}

		return items, nil
	}

	return text, nil
}

// nameProperties maps each resource type whose Ref returns its name to the
// property that sets the name. CloudFormation generates the name when the
// property is absent.
var nameProperties = map[string]string{
	typeBucket:   "BucketName",
	typeRole:     "RoleName",
	typeProject:  "Name",
	typeLogGroup: "LogGroupName",
	typeFunction: "FunctionName",
}

// resourceRef resolves Ref of a resource, which is its physical name for
// the types that policies refer to.
func (r *resolver) resourceRef(logicalID string, res any, path string) (any, error) {
	typ := resourceType(res)

	property, ok := nameProperties[typ]
	if !ok {
		return nil, r.fail(path, "Ref of resource %s (type %s) is known only at deploy time", logicalID, typ)
	}

	return r.physicalName(logicalID, res, property, path)
}

// physicalName resolves the property that names a resource. A resource
// without it gets a generated name at deploy time, which is reported.
func (r *resolver) physicalName(logicalID string, res any, property, path string) (string, error) {
	props := resourceProperties(res)

	name, ok := props.get(property)
	if !ok {
		return "", r.fail(path, "resource %s has no %s, so CloudFormation generates its name at deploy time; set %s in the CDK app", logicalID, property, property)
	}

	if cached, ok := r.names[logicalID]; ok {
		return cached.name, cached.err
	}

	if r.pending[logicalID] {
		return "", r.fail(path, "the %s of resource %s refers back to itself; break the reference cycle", property, logicalID)
	}

	if r.names == nil {
		r.names = map[string]nameResult{}
		r.pending = map[string]bool{}
	}

	r.pending[logicalID] = true
	value, err := r.resolveString(name, fmt.Sprintf("Resources.%s.Properties.%s", logicalID, property))
	delete(r.pending, logicalID)

	r.names[logicalID] = nameResult{name: value, err: err}

	return value, err
}

// checkLength rejects a resolved string longer than maxValueLength.
func (r *resolver) checkLength(s, path string) (string, error) {
	if len(s) > maxValueLength {
		return "", r.fail(path, "resolves to %d bytes, more than the %d-byte limit for a policy value", len(s), maxValueLength)
	}

	return s, nil
}

func (r *resolver) getAtt(arg any, path string) (any, error) {
	var logicalID, attribute string

	switch t := arg.(type) {
	case string:
		// The short form "Logical.Attribute" splits at the first dot.
		var ok bool
		logicalID, attribute, ok = strings.Cut(t, ".")
		if !ok {
			return nil, r.fail(path, "Fn::GetAtt %q has no attribute; write [\"LogicalId\", \"Attribute\"]", t)
		}
	case []any:
		if len(t) != 2 {
			return nil, r.fail(path, "Fn::GetAtt takes 2 items, got %d", len(t))
		}

		first, ok1 := t[0].(string)
		second, ok2 := t[1].(string)
		if !ok1 || !ok2 {
			return nil, r.fail(path, "Fn::GetAtt items must be literal strings")
		}

		logicalID, attribute = first, second
	default:
		return nil, r.fail(path, "Fn::GetAtt takes an array, got %s", KindOf(arg))
	}

	return r.attribute(logicalID, attribute, path)
}

func (r *resolver) attribute(logicalID, attribute, path string) (string, error) {
	res, ok := r.resources.get(logicalID)
	if !ok {
		return "", r.fail(path, "Fn::GetAtt names resource %q, which is not in the template", logicalID)
	}

	typ := resourceType(res)

	if attribute != "Arn" {
		return "", r.fail(path, "attribute %s of %s (type %s) is known only at deploy time", attribute, logicalID, typ)
	}

	switch typ {
	case typeBucket:
		return r.bucketARN(logicalID, res, path)
	case typeRole:
		return r.roleARN(logicalID, res, path)
	case typeProject:
		return r.regionalARN(logicalID, res, "codebuild", "project/", "", path)
	case typeLogGroup:
		// The Arn attribute of a log group ends with ":*", which covers its
		// log streams, as the AWS::Logs::LogGroup reference shows.
		return r.regionalARN(logicalID, res, "logs", "log-group:", ":*", path)
	case typeFunction:
		return r.regionalARN(logicalID, res, "lambda", "function:", "", path)
	default:
		return "", r.fail(path, "attribute %s of %s (type %s) is known only at deploy time", attribute, logicalID, typ)
	}
}

func (r *resolver) bucketARN(logicalID string, res any, path string) (string, error) {
	partition, err := r.pseudo("AWS::Partition", path)
	if err != nil {
		return "", err
	}

	name, err := r.physicalName(logicalID, res, "BucketName", path)
	if err != nil {
		return "", err
	}

	return "arn:" + partition + ":s3:::" + name, nil
}

func (r *resolver) roleARN(logicalID string, res any, path string) (string, error) {
	partition, err := r.pseudo("AWS::Partition", path)
	if err != nil {
		return "", err
	}

	account, err := r.pseudo("AWS::AccountId", path)
	if err != nil {
		return "", err
	}

	name, err := r.physicalName(logicalID, res, "RoleName", path)
	if err != nil {
		return "", err
	}

	rolePath, err := r.rolePath(logicalID, res)
	if err != nil {
		return "", err
	}

	return "arn:" + partition + ":iam::" + account + ":role" + rolePath + name, nil
}

// regionalARN returns "arn:PARTITION:SERVICE:REGION:ACCOUNT:" followed by
// prefix, the resource's name and suffix.
func (r *resolver) regionalARN(logicalID string, res any, service, prefix, suffix, path string) (string, error) {
	var env [3]string
	for i, pseudo := range []string{"AWS::Partition", "AWS::Region", "AWS::AccountId"} {
		value, err := r.pseudo(pseudo, path)
		if err != nil {
			return "", err
		}

		env[i] = value
	}

	name, err := r.physicalName(logicalID, res, nameProperties[resourceType(res)], path)
	if err != nil {
		return "", err
	}

	return "arn:" + env[0] + ":" + service + ":" + env[1] + ":" + env[2] + ":" + prefix + name + suffix, nil
}

// rolePath returns the role's Path property, or "/" when it is absent.
func (r *resolver) rolePath(logicalID string, res any) (string, error) {
	path := fmt.Sprintf("Resources.%s.Properties.Path", logicalID)

	raw, ok := resourceProperties(res).get("Path")
	if !ok {
		return "/", nil
	}

	value, err := r.resolveString(raw, path)
	if err != nil {
		return "", err
	}

	if !strings.HasPrefix(value, "/") || !strings.HasSuffix(value, "/") {
		return "", r.fail(path, "role path %q must begin and end with a slash, as in \"/service-role/\"", value)
	}

	return value, nil
}

func (r *resolver) join(arg any, path string) (any, error) {
	args, ok := arg.([]any)
	if !ok || len(args) != 2 {
		return nil, r.fail(path, "Fn::Join takes [delimiter, [values]]")
	}

	delimiter, ok := args[0].(string)
	if !ok {
		return nil, r.fail(path+"[0]", "Fn::Join delimiter is %s; expected a string", KindOf(args[0]))
	}

	list, err := r.resolve(args[1], path+"[1]")
	if err != nil {
		return nil, err
	}

	items, ok := list.([]any)
	if !ok {
		return nil, r.fail(path+"[1]", "Fn::Join values resolve to %s; expected an array", KindOf(list))
	}

	parts := make([]string, 0, len(items))
	for i, item := range items {
		switch t := item.(type) {
		case string:
			parts = append(parts, t)
		case json.Number:
			parts = append(parts, t.String())
		default:
			return nil, r.fail(fmt.Sprintf("%s[1][%d]", path, i), "Fn::Join value is %s; expected a string", KindOf(item))
		}
	}

	return r.checkLength(strings.Join(parts, delimiter), path)
}

func (r *resolver) sub(arg any, path string) (any, error) {
	var template string
	variables := newObject()

	switch t := arg.(type) {
	case string:
		template = t
	case []any:
		if len(t) != 2 {
			return nil, r.fail(path, "Fn::Sub takes a string or [template, {variables}], got %d items", len(t))
		}

		s, ok := t[0].(string)
		if !ok {
			return nil, r.fail(path+"[0]", "Fn::Sub template is %s; expected a string", KindOf(t[0]))
		}

		vars, ok := t[1].(*object)
		if !ok {
			return nil, r.fail(path+"[1]", "Fn::Sub variables are %s; expected an object", KindOf(t[1]))
		}

		template, variables = s, vars
	default:
		return nil, r.fail(path, "Fn::Sub takes a string or [template, {variables}], got %s", KindOf(arg))
	}

	return r.substitute(template, variables, path)
}

// substitute replaces each ${Name} in template. "${!Text}" is the escape
// for a literal "${Text}".
func (r *resolver) substitute(template string, variables *object, path string) (string, error) {
	var b strings.Builder

	rest := template
	for {
		start := strings.Index(rest, "${")
		if start < 0 {
			b.WriteString(rest)
			break
		}

		b.WriteString(rest[:start])

		end := strings.Index(rest[start:], "}")
		if end < 0 {
			return "", r.fail(path, "Fn::Sub template %q has a ${ without a closing }", template)
		}

		name := rest[start+2 : start+end]
		rest = rest[start+end+1:]

		if strings.HasPrefix(name, "!") {
			b.WriteString("${" + name[1:] + "}")
			continue
		}

		value, err := r.subVariable(name, variables, path)
		if err != nil {
			return "", err
		}

		b.WriteString(value)

		if b.Len() > maxValueLength {
			return r.checkLength(b.String(), path)
		}
	}

	return r.checkLength(b.String(), path)
}

func (r *resolver) subVariable(name string, variables *object, path string) (string, error) {
	if v, ok := variables.get(name); ok {
		return r.resolveString(v, path+"[1]."+name)
	}

	if name == "" {
		return "", r.fail(path, "Fn::Sub template has an empty ${}")
	}

	if strings.HasPrefix(name, "AWS::") {
		return r.pseudo(name, path)
	}

	if logicalID, attribute, ok := strings.Cut(name, "."); ok {
		return r.attribute(logicalID, attribute, path)
	}

	value, err := r.ref(name, path)
	if err != nil {
		return "", err
	}

	s, ok := value.(string)
	if !ok {
		return "", r.fail(path, "Fn::Sub variable ${%s} resolves to %s; expected a string", name, KindOf(value))
	}

	return s, nil
}

func (r *resolver) selectItem(arg any, path string) (any, error) {
	args, ok := arg.([]any)
	if !ok || len(args) != 2 {
		return nil, r.fail(path, "Fn::Select takes [index, [values]]")
	}

	indexText, err := r.resolveString(args[0], path+"[0]")
	if err != nil {
		return nil, err
	}

	index, err := strconv.Atoi(indexText)
	if err != nil || index < 0 {
		return nil, r.fail(path+"[0]", "Fn::Select index %q is not a non-negative integer", indexText)
	}

	list, err := r.resolve(args[1], path+"[1]")
	if err != nil {
		return nil, err
	}

	items, ok := list.([]any)
	if !ok {
		return nil, r.fail(path+"[1]", "Fn::Select values resolve to %s; expected an array", KindOf(list))
	}

	if index >= len(items) {
		return nil, r.fail(path+"[0]", "Fn::Select index %d is out of range for %d values", index, len(items))
	}

	return items[index], nil
}

func (r *resolver) split(arg any, path string) (any, error) {
	args, ok := arg.([]any)
	if !ok || len(args) != 2 {
		return nil, r.fail(path, "Fn::Split takes [delimiter, source]")
	}

	delimiter, ok := args[0].(string)
	if !ok || delimiter == "" {
		return nil, r.fail(path+"[0]", "Fn::Split delimiter must be a non-empty string")
	}

	source, err := r.resolveString(args[1], path+"[1]")
	if err != nil {
		return nil, err
	}

	parts := strings.Split(source, delimiter)
	items := make([]any, 0, len(parts))
	for _, p := range parts {
		items = append(items, p)
	}

	return items, nil
}

// Resource types whose names and ARNs are resolved.
const (
	typeBucket       = "AWS::S3::Bucket"
	typeBucketPolicy = "AWS::S3::BucketPolicy"
	typeRole         = "AWS::IAM::Role"
	typePolicy       = "AWS::IAM::Policy"
	typeManaged      = "AWS::IAM::ManagedPolicy"
	typeProject      = "AWS::CodeBuild::Project"
	typeLogGroup     = "AWS::Logs::LogGroup"
	typeFunction     = "AWS::Lambda::Function"
)

func resourceType(res any) string {
	obj, ok := res.(*object)
	if !ok {
		return ""
	}

	typ, _ := obj.get("Type")
	s, _ := typ.(string)

	return s
}

// resourceProperties returns the resource's Properties, or an empty object
// when it has none.
func resourceProperties(res any) *object {
	obj, ok := res.(*object)
	if !ok {
		return newObject()
	}

	props, _ := obj.get("Properties")
	p, ok := props.(*object)
	if !ok {
		return newObject()
	}

	return p
}

// partitionFor returns the partition of a region, from its name prefix.
func partitionFor(region string) string {
	// NOTE: the region prefixes and URL suffixes of the isolated partitions
	// (aws-iso*) are not checked against AWS endpoint data.
	prefixes := []struct{ prefix, partition string }{
		{"cn-", "aws-cn"},
		{"us-gov-", "aws-us-gov"},
		{"us-isob-", "aws-iso-b"},
		{"us-isof-", "aws-iso-f"},
		{"us-iso-", "aws-iso"},
		{"eu-isoe-", "aws-iso-e"},
	}

	for _, p := range prefixes {
		if strings.HasPrefix(region, p.prefix) {
			return p.partition
		}
	}

	return "aws"
}

// urlSuffixFor returns the domain suffix of a partition's endpoints.
func urlSuffixFor(partition string) string {
	switch partition {
	case "aws-cn":
		return "amazonaws.com.cn"
	case "aws-iso":
		return "c2s.ic.gov"
	case "aws-iso-b":
		return "sc2s.sgov.gov"
	case "aws-iso-e":
		return "cloud.adc-e.uk"
	case "aws-iso-f":
		return "csp.hci.ic.gov"
	default:
		return "amazonaws.com"
	}
}
