package audit

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/countersign/countersign/internal/delivery"
)

func (a *analysis) checkOwnership() {
	if a.state.Ownership == types.ObjectOwnershipBucketOwnerEnforced {
		return
	}

	current := string(a.state.Ownership)
	if current == "" {
		current = "not configured, which S3 treats as ObjectWriter"
	}

	setting := `{"Rules":[{"ObjectOwnership":"BucketOwnerEnforced"}]}`

	a.add(Finding{
		ID:       IDACLsEnabled,
		Severity: Medium,
		Message: fmt.Sprintf("Object Ownership of %s is %s, so ACLs stay in effect and objects that another account uploads stay owned by that account, which the bucket owner then cannot read unless each upload grants it access",
			a.cfg.Bucket, current),
		Fix: Fix{
			Advice: fmt.Sprintf("set Object Ownership to BucketOwnerEnforced: aws s3api put-bucket-ownership-controls --bucket %s --expected-bucket-owner %s --ownership-controls '%s'",
				a.cfg.Bucket, a.cfg.BucketOwner, setting),
			Setting: json.RawMessage(setting),
		},
	})
}

func (a *analysis) checkPublicAccessBlock() {
	pab := a.state.PublicAccessBlock
	if pab == nil {
		pab = &types.PublicAccessBlockConfiguration{}
	}

	flags := []struct {
		name string
		on   *bool
	}{
		{"BlockPublicAcls", pab.BlockPublicAcls},
		{"IgnorePublicAcls", pab.IgnorePublicAcls},
		{"BlockPublicPolicy", pab.BlockPublicPolicy},
		{"RestrictPublicBuckets", pab.RestrictPublicBuckets},
	}

	var off []string
	for _, f := range flags {
		if !aws.ToBool(f.on) {
			off = append(off, f.name)
		}
	}

	if len(off) == 0 {
		return
	}

	setting := `{"BlockPublicAcls":true,"IgnorePublicAcls":true,"BlockPublicPolicy":true,"RestrictPublicBuckets":true}`
	state := "has no public access block"
	if a.state.PublicAccessBlock != nil {
		state = "has its public access block partly off (" + strings.Join(off, ", ") + ")"
	}

	// NOTE: the account-wide public access block (S3 Control) is not read,
	// so a bucket it protects is still reported here.
	a.add(Finding{
		ID:       IDPublicAccessBlockOff,
		Severity: High,
		Message:  fmt.Sprintf("bucket %s %s, so a public policy or ACL written later would take effect", a.cfg.Bucket, state),
		Fix: Fix{
			Advice: fmt.Sprintf("turn every flag on: aws s3api put-public-access-block --bucket %s --expected-bucket-owner %s --public-access-block-configuration '%s'",
				a.cfg.Bucket, a.cfg.BucketOwner, setting),
			Setting: json.RawMessage(setting),
		},
	})
}

// checkEncryption reminds that a KMS key is a third party to the delivery:
// with SSE-KMS default encryption, the role needs the key policy's allow
// too.
func (a *analysis) checkEncryption() {
	for _, rule := range a.state.Encryption {
		def := rule.ApplyServerSideEncryptionByDefault
		if def == nil || (def.SSEAlgorithm != types.ServerSideEncryptionAwsKms && def.SSEAlgorithm != types.ServerSideEncryptionAwsKmsDsse) {
			continue
		}

		key := aws.ToString(def.KMSMasterKeyID)

		if key == "" || key == "alias/aws/s3" || strings.HasSuffix(key, ":alias/aws/s3") {
			a.add(Finding{
				ID:       IDKMSKeyPolicyNeeded,
				Severity: Medium,
				Message: fmt.Sprintf("default encryption of %s uses the AWS managed key aws/s3, whose key policy cannot be changed, so it cannot allow roles of another account",
					a.cfg.Bucket),
				Fix: Fix{
					Advice:  "use a customer managed KMS key whose key policy allows the expected roles, or SSE-S3 (AES256)",
					Setting: json.RawMessage(`{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}`),
				},
			})

			continue
		}

		a.add(Finding{
			ID:       IDKMSKeyPolicyNeeded,
			Severity: Info,
			Message: fmt.Sprintf("default encryption of %s uses the customer managed KMS key %s, so the key policy must also allow the expected roles, and their identity policies must allow the key",
				a.cfg.Bucket, key),
			Fix: Fix{
				Advice:    "make sure the key policy has this statement; the audit cannot read key policies",
				Statement: a.kmsStatement(key).Render(),
			},
		})
	}
}

// kmsStatement is the key policy statement that lets the roles use the key
// through S3: GenerateDataKey to upload and Decrypt to download and to
// complete multipart uploads. In a key policy, "Resource": "*" means the
// key itself.
func (a *analysis) kmsStatement(key string) delivery.Statement {
	st := delivery.Statement{
		Sid:       "CountersignAllowRolesUseKeyViaS3",
		Effect:    "Allow",
		Principal: map[string]any{"AWS": delivery.OneOrMany(a.cfg.RoleARNs)},
		Action:    []string{"kms:GenerateDataKey", "kms:Decrypt"},
		Resource:  "*",
	}

	if parts := strings.SplitN(key, ":", 6); len(parts) == 6 && parts[0] == "arn" && parts[3] != "" {
		st.Condition = map[string]map[string]any{"StringEquals": {"kms:ViaService": "s3." + parts[3] + ".amazonaws.com"}}
	}

	return st
}
