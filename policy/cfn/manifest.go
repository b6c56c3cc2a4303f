package cfn

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Placeholders that CDK writes into an environment when the stack sets no
// account or region.
const (
	unknownAccount = "unknown-account"
	unknownRegion  = "unknown-region"
)

var (
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
)

// stackArtifact is one "aws:cloudformation:stack" artifact of a manifest.
type stackArtifact struct {
	id           string
	name         string
	environment  string
	account      string // "" when unknown
	region       string // "" when unknown
	templateFile string
}

// manifestContents lists a manifest's stack artifacts and the folders of
// its nested cloud assemblies, both in manifest order.
type manifestContents struct {
	stacks []stackArtifact
	nested []string
}

// readManifest reads the stack artifacts and nested cloud assemblies of a
// manifest. Artifacts of other types (asset manifests, the tree) are
// skipped.
func readManifest(path string) (*manifestContents, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cloud assembly manifest: %w; run cdk synth to create it", err)
	}

	root, err := decodeJSON(data)
	if err != nil {
		return nil, fmt.Errorf("manifest %s is not valid JSON: %w", path, err)
	}

	manifest, ok := root.(*object)
	if !ok {
		return nil, fmt.Errorf("manifest %s is %s; expected an object", path, KindOf(root))
	}

	raw, ok := manifest.get("artifacts")
	if !ok {
		return nil, fmt.Errorf("manifest %s has no artifacts; run cdk synth to write a complete cloud assembly", path)
	}

	artifacts, ok := raw.(*object)
	if !ok {
		return nil, fmt.Errorf("manifest %s: artifacts is %s; expected an object", path, KindOf(raw))
	}

	contents := &manifestContents{}

	for _, id := range artifacts.keys {
		obj, ok := artifacts.fields[id].(*object)
		if !ok {
			return nil, fmt.Errorf("manifest %s: artifact %q is %s; expected an object", path, id, KindOf(artifacts.fields[id]))
		}

		typ, _ := obj.get("type")

		switch typ {
		case "aws:cloudformation:stack":
			art, err := readStackArtifact(id, obj)
			if err != nil {
				return nil, fmt.Errorf("manifest %s: artifact %q: %w", path, id, err)
			}

			contents.stacks = append(contents.stacks, *art)
		case "cdk:cloud-assembly":
			dir, err := readNestedAssembly(obj)
			if err != nil {
				return nil, fmt.Errorf("manifest %s: artifact %q: %w", path, id, err)
			}

			contents.nested = append(contents.nested, dir)
		}
	}

	return contents, nil
}

// readNestedAssembly returns the folder of a nested cloud assembly, which
// CDK writes for each Stage.
func readNestedAssembly(obj *object) (string, error) {
	propsRaw, _ := obj.get("properties")
	props, ok := propsRaw.(*object)
	if !ok {
		return "", fmt.Errorf("properties is missing or not an object")
	}

	dir, ok := stringField(props, "directoryName")
	if !ok || dir == "" {
		return "", fmt.Errorf("properties.directoryName is missing or not a string")
	}

	if !filepath.IsLocal(dir) {
		return "", fmt.Errorf("properties.directoryName %q is not a relative path inside the assembly folder", dir)
	}

	return dir, nil
}

// readStackArtifact reads an artifact of type aws:cloudformation:stack.
func readStackArtifact(id string, obj *object) (*stackArtifact, error) {
	env, ok := stringField(obj, "environment")
	if !ok {
		return nil, fmt.Errorf("environment is missing or not a string; expected \"aws://ACCOUNT/REGION\"")
	}

	account, region, err := parseEnvironment(env)
	if err != nil {
		return nil, err
	}

	propsRaw, _ := obj.get("properties")
	props, ok := propsRaw.(*object)
	if !ok {
		return nil, fmt.Errorf("properties is missing or not an object")
	}

	templateFile, ok := stringField(props, "templateFile")
	if !ok || templateFile == "" {
		return nil, fmt.Errorf("properties.templateFile is missing or not a string")
	}

	// The template must sit inside the assembly folder, so that a manifest
	// cannot point the loader at other files.
	if !filepath.IsLocal(templateFile) {
		return nil, fmt.Errorf("properties.templateFile %q is not a relative path inside the assembly folder", templateFile)
	}

	name := id
	if stackName, ok := stringField(props, "stackName"); ok && stackName != "" {
		name = stackName
	}

	return &stackArtifact{
		id:           id,
		name:         name,
		environment:  env,
		account:      account,
		region:       region,
		templateFile: templateFile,
	}, nil
}

// parseEnvironment splits "aws://ACCOUNT/REGION". An unknown account or
// region is returned as "".
func parseEnvironment(env string) (account, region string, err error) {
	rest, ok := strings.CutPrefix(env, "aws://")
	if !ok {
		return "", "", fmt.Errorf("environment %q does not start with aws://; expected \"aws://ACCOUNT/REGION\"", env)
	}

	account, region, ok = strings.Cut(rest, "/")
	if !ok || strings.Contains(region, "/") {
		return "", "", fmt.Errorf("environment %q is not of the form \"aws://ACCOUNT/REGION\"", env)
	}

	switch {
	case account == unknownAccount:
		account = ""
	case !accountPattern.MatchString(account):
		return "", "", fmt.Errorf("environment %q has account %q; expected 12 digits or %q", env, account, unknownAccount)
	}

	switch {
	case region == unknownRegion:
		region = ""
	case !regionPattern.MatchString(region):
		return "", "", fmt.Errorf("environment %q has region %q; expected a region such as us-east-1 or %q", env, region, unknownRegion)
	}

	return account, region, nil
}

func stringField(obj *object, key string) (string, bool) {
	v, ok := obj.get(key)
	if !ok {
		return "", false
	}

	s, ok := v.(string)

	return s, ok
}
