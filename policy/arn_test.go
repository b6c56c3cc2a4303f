package policy

import (
	"reflect"
	"testing"
)

func TestParseARN(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    ARN
		wantErr bool
	}{
		{"RoleWithPath", "arn:aws:iam::111122223333:role/service-role/build-role", ARN{"aws", "iam", "", "111122223333", "role/service-role/build-role"}, false},
		{"AccountRoot", "arn:aws:iam::111122223333:root", ARN{"aws", "iam", "", "111122223333", "root"}, false},
		{"ChinaPartition", "arn:aws-cn:s3:::bucket/key", ARN{"aws-cn", "s3", "", "", "bucket/key"}, false},
		{"ExtraColons", "arn:aws:lambda:eu-west-1:111122223333:function:build:live", ARN{"aws", "lambda", "eu-west-1", "111122223333", "function:build:live"}, false},
		{"AccountID", "111122223333", ARN{}, true},
		{"TooFewParts", "arn:aws:iam::111122223333", ARN{}, true},
		{"NotArnPrefix", "urn:aws:iam::111122223333:root", ARN{}, true},
		{"EmptyService", "arn:aws:::111122223333:root", ARN{}, true},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseARN(tt.input)

			if (err != nil) != tt.wantErr {
				t.Fatalf("ParseARN(%q) error = %v, want error %v", tt.input, err, tt.wantErr)
			}

			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseARN(%q) = %+v, want %+v", tt.input, got, tt.want)
			}

			if err == nil && got.String() != tt.input {
				t.Errorf("String() = %q, want %q", got.String(), tt.input)
			}
		})
	}
}
