package cfn

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// ResourceIDs returns the logical ids of the stack's resources of the given
// type, such as "AWS::S3::Bucket", sorted.
func (s *Stack) ResourceIDs(typ string) []string {
	if s.env == nil {
		return nil
	}

	var ids []string
	for _, id := range s.env.resources.keys {
		if resourceType(s.env.resources.fields[id]) == typ {
			ids = append(ids, id)
		}
	}

	slices.Sort(ids)

	return ids
}

// ResolveProperty resolves the value at path inside the Properties of the
// resource logicalID, with the same intrinsic functions, environment and
// parameter defaults as the stack's policies.
//
// path names a property and optionally values inside it, with dots between
// keys and [N] for array items, as in "BucketName" or
// "OwnershipControls.Rules[0].ObjectOwnership". An intrinsic function met
// on the way, such as an Fn::Split that builds the list being indexed, is
// resolved first.
//
// The value is returned as a string, json.Number, bool, nil, []any or
// map[string]any. found reports whether the template has a value at path:
// it is false when the property, a key on the path or an array item is
// absent, and true when the value is there but cannot be resolved. A value
// that cannot be resolved before deployment, or a path that meets a value
// of the wrong JSON type, returns an *UnresolvedError that names the
// stack, the logical id and the template path. A logical id that is not in
// the template or a malformed path returns a plain error.
//
// It is safe for concurrent use.
func (s *Stack) ResolveProperty(logicalID, path string) (value any, found bool, err error) {
	if s.env == nil {
		return nil, false, fmt.Errorf("stack %q has no template loaded; load it with LoadCloudAssembly", s.Name)
	}

	res, ok := s.env.resources.get(logicalID)
	if !ok {
		return nil, false, fmt.Errorf("stack %q has no resource with logical id %q", s.Name, logicalID)
	}

	steps, err := parsePropertyPath(path)
	if err != nil {
		return nil, false, err
	}

	r := s.env.forResource(logicalID)
	current := any(resourceProperties(res))
	at := "Resources." + logicalID + ".Properties"

	for _, step := range steps {
		if obj, ok := current.(*object); ok {
			if _, _, call := intrinsic(obj); call {
				if current, err = r.resolve(obj, at); err != nil {
					return nil, false, err
				}
			}
		}

		if step.index < 0 {
			obj, ok := current.(*object)
			if !ok {
				return nil, false, r.fail(at, "is %s; expected an object with the key %s", KindOf(current), step.key)
			}

			if current, ok = obj.get(step.key); !ok {
				return nil, false, nil
			}

			at += "." + step.key

			continue
		}

		items, ok := current.([]any)
		if !ok {
			return nil, false, r.fail(at, "is %s; expected an array", KindOf(current))
		}

		if step.index >= len(items) {
			return nil, false, nil
		}

		current = items[step.index]
		at += fmt.Sprintf("[%d]", step.index)
	}

	resolved, err := r.resolve(current, at)
	if err != nil {
		return nil, true, err
	}

	return plainValue(resolved), true, nil
}

// ResolveAttribute resolves Fn::GetAtt of a resource's attribute, such as
// the Arn of a named CodeBuild project, bucket or role. It resolves what the
// policies' Fn::GetAtt resolves and returns the same *UnresolvedError for
// the rest, for example an attribute known only after deployment.
//
// It is safe for concurrent use.
func (s *Stack) ResolveAttribute(logicalID, attribute string) (string, error) {
	if s.env == nil {
		return "", fmt.Errorf("stack %q has no template loaded; load it with LoadCloudAssembly", s.Name)
	}

	if _, ok := s.env.resources.get(logicalID); !ok {
		return "", fmt.Errorf("stack %q has no resource with logical id %q", s.Name, logicalID)
	}

	r := s.env.forResource(logicalID)

	return r.attribute(logicalID, attribute, "Resources."+logicalID+".Fn::GetAtt."+attribute)
}

// pathStep is one step of a property path: a key, or an array index when
// index is 0 or more.
type pathStep struct {
	key   string
	index int
}

// parsePropertyPath splits "A.B[0].C" into its steps.
func parsePropertyPath(path string) ([]pathStep, error) {
	invalid := func(reason string) error {
		return fmt.Errorf("property path %q is invalid: %s; write it as in \"Rules[0].ObjectOwnership\"", path, reason)
	}

	if path == "" {
		return nil, invalid("it is empty")
	}

	var steps []pathStep
	for _, segment := range strings.Split(path, ".") {
		key, rest, bracket := strings.Cut(segment, "[")
		if key == "" {
			return nil, invalid("a key is empty")
		}

		steps = append(steps, pathStep{key: key, index: -1})

		for bracket {
			digits, after, ok := strings.Cut(rest, "]")
			if !ok {
				return nil, invalid("a [ has no closing ]")
			}

			index, err := strconv.Atoi(digits)
			if err != nil || strings.TrimLeft(digits, "0123456789") != "" {
				return nil, invalid(fmt.Sprintf("index %q is not a non-negative integer", digits))
			}

			steps = append(steps, pathStep{index: index})

			if after == "" {
				break
			}

			if rest, bracket = strings.CutPrefix(after, "["); !bracket {
				return nil, invalid(fmt.Sprintf("%q follows an index", after))
			}
		}
	}

	return steps, nil
}

// plainValue turns a resolved value into the types encoding/json decodes
// into with UseNumber: objects become map[string]any.
func plainValue(v any) any {
	switch t := v.(type) {
	case *object:
		m := make(map[string]any, len(t.keys))
		for _, key := range t.keys {
			m[key] = plainValue(t.fields[key])
		}

		return m
	case []any:
		out := make([]any, len(t))
		for i, item := range t {
			out[i] = plainValue(item)
		}

		return out
	default:
		return v
	}
}
