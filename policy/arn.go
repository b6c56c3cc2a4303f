package policy

import (
	"fmt"
	"strings"
)

// ARN is an Amazon Resource Name split into its parts.
type ARN struct {
	Partition string
	Service   string
	Region    string
	Account   string

	// Resource is everything after the fifth colon, such as
	// "role/service-role/build-role" or "function:name:alias".
	Resource string
}

// ParseARN splits an ARN such as a principal "arn:aws:iam::111122223333:role/x".
func ParseARN(s string) (ARN, error) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ARN{}, fmt.Errorf("parse ARN %q: want the form arn:partition:service:region:account:resource", s)
	}

	if parts[1] == "" || parts[2] == "" {
		return ARN{}, fmt.Errorf("parse ARN %q: partition and service must not be empty", s)
	}

	return ARN{Partition: parts[1], Service: parts[2], Region: parts[3], Account: parts[4], Resource: parts[5]}, nil
}

// String returns the ARN in its text form.
func (a ARN) String() string {
	return strings.Join([]string{"arn", a.Partition, a.Service, a.Region, a.Account, a.Resource}, ":")
}
