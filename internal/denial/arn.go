package denial

import (
	"strings"

	"github.com/countersign/countersign/policy"
)

// parseARN splits s into its fields. It reports false for anything that is
// not arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE with a partition that
// starts with "aws" (aws, aws-cn, aws-us-gov, ...).
func parseARN(s string) (policy.ARN, bool) {
	a, err := policy.ParseARN(s)
	if err != nil || !strings.HasPrefix(a.Partition, "aws") {
		return policy.ARN{}, false
	}

	return a, true
}

// accountOf returns the account id in an ARN, or "" when there is none.
func accountOf(s string) string {
	a, ok := parseARN(s)
	if !ok {
		return ""
	}
	return a.Account
}

// partitionOf returns the partition of an ARN, defaulting to "aws".
func partitionOf(arns ...string) string {
	for _, s := range arns {
		if a, ok := parseARN(s); ok {
			return a.Partition
		}
	}
	return "aws"
}

// principal is a caller or role, reduced to what the fixes need.
type principal struct {
	// ARN is the ARN to put in a policy's Principal element: the role ARN
	// for a role session, else the caller's own ARN.
	ARN string
	// Name is the role or user name, without a path.
	Name string
	// Account is the account id that owns the principal.
	Account string
	// IsRole is true for roles and role sessions.
	IsRole bool
	// PathKnown is false when the role ARN was rebuilt from a session ARN,
	// which drops the role's path.
	PathKnown bool
}

// principalFromARN turns a caller or role ARN into the principal that
// policies name. A session ARN arn:aws:sts::A:assumed-role/NAME/SESSION
// becomes arn:aws:iam::A:role/NAME, because bucket and key policies must
// name the role: a session ARN matches only that one session.
func principalFromARN(s string) (principal, bool) {
	a, ok := parseARN(s)
	if !ok {
		return principal{}, false
	}

	switch {
	case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
		parts := strings.Split(a.Resource, "/")
		if len(parts) < 2 || parts[1] == "" {
			return principal{}, false
		}
		name := parts[1]
		return principal{
			ARN:     "arn:" + a.Partition + ":iam::" + a.Account + ":role/" + name,
			Name:    name,
			Account: a.Account,
			IsRole:  true,
		}, true

	case a.Service == "iam" && strings.HasPrefix(a.Resource, "role/"):
		name := lastSegment(a.Resource)
		if name == "" {
			return principal{}, false
		}
		return principal{ARN: s, Name: name, Account: a.Account, IsRole: true, PathKnown: true}, true

	case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		return principal{ARN: s, Name: lastSegment(a.Resource), Account: a.Account, PathKnown: true}, true

	default:
		// Root, federated users and anything newer: name the ARN as it is.
		return principal{ARN: s, Name: a.Resource, Account: a.Account, PathKnown: true}, true
	}
}

// lastSegment returns the text after the last slash.
func lastSegment(s string) string {
	return s[strings.LastIndexByte(s, '/')+1:]
}

// isSessionARN reports whether s is an assumed-role session ARN.
func isSessionARN(s string) bool {
	a, ok := parseARN(s)
	return ok && a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/")
}

// s3Target is the bucket and key an S3 ARN points at.
type s3Target struct {
	Bucket string
	Key    string
}

// s3TargetOf splits arn:aws:s3:::bucket/key. It reports false for other ARNs.
func s3TargetOf(s string) (s3Target, bool) {
	a, ok := parseARN(s)
	if !ok || a.Service != "s3" || a.Account != "" || a.Resource == "" {
		return s3Target{}, false
	}
	bucket, key, _ := strings.Cut(a.Resource, "/")
	return s3Target{Bucket: bucket, Key: key}, true
}

// projectFromBuildARN turns a CodeBuild build ARN
// arn:aws:codebuild:REGION:ACCOUNT:build/PROJECT:BUILD-ID into the project
// ARN arn:aws:codebuild:REGION:ACCOUNT:project/PROJECT.
func projectFromBuildARN(s string) (string, bool) {
	a, ok := parseARN(s)
	if !ok || a.Service != "codebuild" || !strings.HasPrefix(a.Resource, "build/") {
		return "", false
	}
	project, _, _ := strings.Cut(strings.TrimPrefix(a.Resource, "build/"), ":")
	if project == "" {
		return "", false
	}
	return "arn:" + a.Partition + ":codebuild:" + a.Region + ":" + a.Account + ":project/" + project, true
}
