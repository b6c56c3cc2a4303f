package sandbox

import (
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/countersign/countersign/policy/cfn"
)

// bucket reads an AWS::S3::Bucket. Settings the template leaves out get
// the values S3 gives a new bucket: BucketOwnerEnforced (since April
// 2023), SSE-S3 default encryption (since January 2023) and all four
// public access block settings on (since April 2023).
func (s *cdkStack) bucket(logicalID string) (*cdkBucket, error) {
	name, err := s.requiredString(logicalID, "BucketName",
		"CloudFormation generates the bucket's name at deploy time; set bucketName in the CDK app")
	if err != nil {
		return nil, err
	}
	bucket := Bucket{Name: name, Owner: s.stack.Account, OwnershipControls: ownershipEnforced}

	if ok, err := s.has(logicalID, "OwnershipControls"); err != nil {
		return nil, err
	} else if ok {
		bucket.OwnershipControls, err = s.requiredString(logicalID, "OwnershipControls.Rules[0].ObjectOwnership",
			"OwnershipControls has no rule with an ObjectOwnership; give it one")
		if err != nil {
			return nil, err
		}
	}

	bucket.DefaultEncryption = &DefaultEncryption{SSEAlgorithm: sseS3}
	if ok, err := s.has(logicalID, "BucketEncryption"); err != nil {
		return nil, err
	} else if ok {
		if bucket.DefaultEncryption, err = s.encryption(logicalID); err != nil {
			return nil, err
		}
	}

	bucket.PublicAccessBlock = &PublicAccessBlock{BlockPublicACLs: true, IgnorePublicACLs: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	if ok, err := s.has(logicalID, "PublicAccessBlockConfiguration"); err != nil {
		return nil, err
	} else if ok {
		// As in CloudFormation, a setting the template leaves out is false.
		var block PublicAccessBlock
		for _, f := range []struct {
			name  string
			value *bool
		}{
			{"BlockPublicAcls", &block.BlockPublicACLs},
			{"IgnorePublicAcls", &block.IgnorePublicACLs},
			{"BlockPublicPolicy", &block.BlockPublicPolicy},
			{"RestrictPublicBuckets", &block.RestrictPublicBuckets},
		} {
			if *f.value, err = s.boolean(logicalID, "PublicAccessBlockConfiguration."+f.name); err != nil {
				return nil, err
			}
		}
		bucket.PublicAccessBlock = &block
	}

	return &cdkBucket{stack: s, logicalID: logicalID, bucket: bucket}, nil
}

// encryption reads the first rule of a bucket's BucketEncryption.
func (s *cdkStack) encryption(logicalID string) (*DefaultEncryption, error) {
	rule := "BucketEncryption.ServerSideEncryptionConfiguration[0]"
	if ok, err := s.has(logicalID, rule); err != nil {
		return nil, err
	} else if !ok {
		return nil, s.fail(logicalID, "BucketEncryption.ServerSideEncryptionConfiguration", "no rule; give the configuration one rule")
	}

	algorithm, err := s.requiredString(logicalID, rule+".ServerSideEncryptionByDefault.SSEAlgorithm",
		"the rule has no SSEAlgorithm; set one, such as AES256 or aws:kms")
	if err != nil {
		return nil, err
	}
	enc := &DefaultEncryption{SSEAlgorithm: algorithm}

	if enc.KMSKeyID, _, err = s.optionalString(logicalID, rule+".ServerSideEncryptionByDefault.KMSMasterKeyID"); err != nil {
		return nil, err
	}
	if enc.BucketKeyEnabled, err = s.boolean(logicalID, rule+".BucketKeyEnabled"); err != nil {
		return nil, err
	}
	return enc, nil
}

// project reads an AWS::CodeBuild::Project and finds its service role.
func (s *cdkStack) project(logicalID string, assembly *cfn.Assembly) (*cdkProject, error) {
	name, err := s.requiredString(logicalID, "Name",
		"CloudFormation generates the project's name at deploy time; set projectName in the CDK app")
	if err != nil {
		return nil, err
	}
	roleARN, err := s.requiredString(logicalID, "ServiceRole", "a project needs a service role")
	if err != nil {
		return nil, err
	}
	role, ok := assembly.FindRole(roleARN)
	if !ok {
		return nil, s.fail(logicalID, "ServiceRole", fmt.Sprintf("role %s is not an %s of the app with a RoleName; define the role in the CDK app and set roleName", roleARN, cfnRoleType))
	}

	arn, err := s.stack.ResolveAttribute(logicalID, "Arn")
	if err != nil {
		return nil, err
	}
	return &cdkProject{stack: s, logicalID: logicalID, name: name, arn: arn, role: role}, nil
}

// attachesTo reports whether the AWS::IAM::Policy or ManagedPolicy
// policyID lists role in its Roles. A Ref to the role resolves to its
// name, so comparing names covers both forms. Items that cannot be
// resolved are skipped, because policy/cfn reports them as problems.
func (s *cdkStack) attachesTo(policyID string, role *cfn.Role) bool {
	if role.Name == "" {
		return false
	}
	// The loop ends at the first index past the end of Roles, or at once
	// when Roles is not an array.
	for i := 0; ; i++ {
		name, found, err := s.optionalString(policyID, fmt.Sprintf("Roles[%d]", i))
		if !found {
			return false
		}
		if err == nil && name == role.Name {
			return true
		}
	}
}

// fail returns an error in policy/cfn's form for a property of the
// resource logicalID.
func (s *cdkStack) fail(logicalID, path, reason string) error {
	return &cfn.UnresolvedError{Stack: s.stack.Name, LogicalID: logicalID, Path: "Resources." + logicalID + ".Properties." + path, Reason: reason}
}

// has reports whether the template sets the property path of the
// resource. It resolves the value, so one that cannot be resolved is an
// error.
func (s *cdkStack) has(logicalID, path string) (bool, error) {
	_, found, err := s.stack.ResolveProperty(logicalID, path)
	return found, err
}

// optionalString resolves a string property. A number is taken in its
// literal form, as CloudFormation converts it. found is false when the
// template does not set the property.
func (s *cdkStack) optionalString(logicalID, path string) (value string, found bool, err error) {
	v, found, err := s.stack.ResolveProperty(logicalID, path)
	if err != nil || !found {
		return "", found, err
	}
	switch t := v.(type) {
	case string:
		return t, true, nil
	case json.Number:
		return t.String(), true, nil
	}
	return "", true, s.fail(logicalID, path, "resolves to "+cfn.KindOf(v)+"; expected a string")
}

// requiredString resolves a string property that must be set. missing is
// the reason in the error when it is not set, with the change to make.
func (s *cdkStack) requiredString(logicalID, path, missing string) (string, error) {
	value, found, err := s.optionalString(logicalID, path)
	if err == nil && !found {
		err = s.fail(logicalID, path, missing)
	}
	return value, err
}

// boolean resolves a Boolean property. A missing one is false, as in
// CloudFormation, which also takes the strings "true" and "false".
func (s *cdkStack) boolean(logicalID, path string) (bool, error) {
	v, found, err := s.stack.ResolveProperty(logicalID, path)
	if err != nil || !found {
		return false, err
	}
	switch t := v.(type) {
	case bool:
		return t, nil
	case string:
		if b, err := strconv.ParseBool(t); err == nil {
			return b, nil
		}
	}
	return false, s.fail(logicalID, path, fmt.Sprintf("resolves to %s (%v); expected true or false", cfn.KindOf(v), v))
}
