package audit

import (
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

func TestReadErrorNamesTheFix(t *testing.T) {
	cfg := Config{Bucket: "dev-artifacts", BucketOwner: "222222222222"}

	tests := []struct {
		name    string
		message string
		want    string
	}{
		{"ImplicitDeny", "Access Denied", "run with the credentials of account 222222222222"},
		{"ExplicitDeny", "User: arn:aws:iam::222222222222:root is not authorized to perform: s3:GetEncryptionConfiguration on resource: \"arn:aws:s3:::dev-artifacts\" with an explicit deny in a resource-based policy", "add an exception for the audit's principal"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := readError("default encryption", "s3:GetEncryptionConfiguration", cfg, &smithy.GenericAPIError{Code: "AccessDenied", Message: tt.message})

			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %q, want it to contain %q", err, tt.want)
			}
		})
	}
}
