package explain

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/policy"
)

// roleARN is the build role's ARN cut into the parts a check needs.
type roleARN struct {
	arn       string
	partition string
	account   string
	name      string
}

// sessionARN is the caller ARN that S3 evaluates for a session of the role. A session
// ARN drops the role's path.
func (r roleARN) sessionARN() string {
	return "arn:" + r.partition + ":sts::" + r.account + ":assumed-role/" + r.name + "/" + SessionName
}

func parseRoleARN(s string) (roleARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" || parts[2] != "iam" || !isAccountID(parts[4]) || !strings.HasPrefix(parts[5], "role/") {
		return roleARN{}, fmt.Errorf("invalid role ARN %q: want arn:aws:iam::ACCOUNT:role/PATH/NAME with a 12-digit account: %w", s, exitcode.ErrUsage)
	}

	name := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	if name == "" {
		return roleARN{}, fmt.Errorf("invalid role ARN %q: the role name is empty: %w", s, exitcode.ErrUsage)
	}

	return roleARN{arn: s, partition: parts[1], account: parts[4], name: name}, nil
}

func isAccountID(s string) bool {
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

// target is one S3 action and the ARN it is checked on: the bucket ARN for
// a bucket action, the bucket ARN plus "/KEY" for an object action.
type target struct {
	action      string
	resource    string
	bucketLevel bool
}

// resolveActions checks each action's format and pairs it with its ARN.
// Only S3 actions are accepted, because the check builds only S3 resource ARNs.
func resolveActions(actions []string, bucket, partition string) ([]target, error) {
	if len(actions) == 0 {
		actions = DefaultActions
	}

	bucketARN := "arn:" + partition + ":s3:::" + bucket
	targets := make([]target, 0, len(actions))

	for _, a := range actions {
		service, name, ok := strings.Cut(a, ":")
		if !ok || !strings.EqualFold(service, "s3") || !isActionName(name) {
			return nil, fmt.Errorf("invalid action %q: want an S3 action without wildcards, such as s3:PutObject: %w", a, exitcode.ErrUsage)
		}

		targets = append(targets, target{action: "s3:" + name, resource: bucketARN, bucketLevel: policy.IsS3BucketAction(a)})
	}

	return targets, nil
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
