// Package delivery describes what a build role needs to deliver artifacts
// into a bucket: the role, the S3 actions, and the ARNs those actions act
// on. Both the offline explain check and the bucket audit build their
// policy requests from it.
package delivery

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/policy"
)

// DefaultActions are the S3 actions that preflight and sync need.
var DefaultActions = []string{"s3:ListBucket", "s3:PutObject", "s3:GetObject", "s3:DeleteObject"}

// RoleARN is a role ARN cut into the parts a policy check needs.
type RoleARN struct {
	// ARN is the role ARN as given, with its path.
	ARN       string
	Partition string
	Account   string

	// Name is the role name without its path.
	Name string
}

// SessionARN returns the caller ARN that S3 evaluates for a session of the
// role. A session ARN drops the role's path.
func (r RoleARN) SessionARN(session string) string {
	return "arn:" + r.Partition + ":sts::" + r.Account + ":assumed-role/" + r.Name + "/" + session
}

// ParseRoleARN checks that s is an IAM role ARN with a 12-digit account
// and splits it. The error wraps exitcode.ErrUsage.
func ParseRoleARN(s string) (RoleARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "iam" || !IsAccountID(parts[4]) || !strings.HasPrefix(parts[5], "role/") {
		return RoleARN{}, fmt.Errorf("invalid role ARN %q: want arn:aws:iam::ACCOUNT:role/PATH/NAME with a 12-digit account: %w", s, exitcode.ErrUsage)
	}

	name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	if name == "" {
		return RoleARN{}, fmt.Errorf("invalid role ARN %q: the role name is empty: %w", s, exitcode.ErrUsage)
	}

	return RoleARN{ARN: s, Partition: parts[1], Account: parts[4], Name: name}, nil
}

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}

	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}

	return true
}

// Target is one S3 action and its bucket ARN. For an object action
// (BucketLevel false) the caller appends "/KEY" to Resource.
type Target struct {
	Action      string
	Resource    string
	BucketLevel bool
}

// ResolveActions checks each action's format and pairs it with the bucket
// ARN. An empty list means DefaultActions. Only S3 actions without
// wildcards are accepted, because only S3 ARNs are built. The error wraps
// exitcode.ErrUsage.
func ResolveActions(actions []string, bucket, partition string) ([]Target, error) {
	if len(actions) == 0 {
		actions = DefaultActions
	}

	bucketARN := BucketARN(partition, bucket)
	targets := make([]Target, 0, len(actions))

	for _, a := range actions {
		service, name, ok := strings.Cut(a, ":")
		if !ok || !strings.EqualFold(service, "s3") || !isActionName(name) {
			return nil, fmt.Errorf("invalid action %q: want an S3 action without wildcards, such as s3:PutObject: %w", a, exitcode.ErrUsage)
		}

		if suggestion, ok := policy.SuggestS3Action(a); ok {
			return nil, fmt.Errorf("unknown action %q: did you mean %s? %w", a, suggestion, exitcode.ErrUsage)
		}

		targets = append(targets, Target{Action: "s3:" + name, Resource: bucketARN, BucketLevel: policy.IsS3BucketAction(a)})
	}

	return targets, nil
}

// BucketARN returns the ARN of a bucket in a partition.
func BucketARN(partition, bucket string) string {
	return "arn:" + partition + ":s3:::" + bucket
}

func isActionName(s string) bool {
	if s == "" {
		return false
	}

	for _, r := range s {
		if (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			return false
		}
	}

	return true
}

// ObjectGrantResource is the object ARN a grant covers: every key under
// the prefix that sync writes, or the one key asked about.
func ObjectGrantResource(bucketARN, prefix, key string) string {
	if key != "" {
		return bucketARN + "/" + key
	}

	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return bucketARN + "/*"
	}

	return bucketARN + "/" + prefix + "/*"
}

// ProbeKey is the object key a check evaluates object actions on: key
// when given, else name under the prefix.
func ProbeKey(prefix, key, name string) string {
	if key != "" {
		return key
	}

	prefix = strings.Trim(prefix, "/")
	if prefix == "" {
		return name
	}

	return prefix + "/" + name
}

// ListPrefix is the s3:prefix value that sync sends when it lists under
// prefix, or "" when it lists the whole bucket.
func ListPrefix(prefix string) string {
	if prefix == "" {
		return ""
	}

	return strings.TrimSuffix(prefix, "/") + "/"
}
