package denial

import (
	"fmt"
	"strings"
)

// credentialAdvice maps credential error codes, lower-cased, to what
// usually causes them in a build.
var credentialAdvice = map[string]string{
	"invalidaccesskeyid": "AWS does not know the access key id: it was deleted, belongs to another partition, " +
		"or static keys in the build environment (AWS_ACCESS_KEY_ID) override the build role. " +
		"Remove static keys from the CodeBuild environment so the SDK uses the role's credentials.",
	"signaturedoesnotmatch": "the secret key does not match the access key id, or something changed the " +
		"request after signing (a proxy, a rewritten Host header, a wrong region or endpoint). " +
		"Check AWS_SECRET_ACCESS_KEY and any proxy between the build and S3.",
	"expiredtoken": "the session credentials expired. The SDK refreshes the build role's credentials by itself, " +
		"so an expired token usually means a fixed AWS_SESSION_TOKEN was exported in the build environment: remove it.",
	"expiredtokenexception": "the session credentials expired. The SDK refreshes the build role's credentials by itself, " +
		"so an expired token usually means a fixed AWS_SESSION_TOKEN was exported in the build environment: remove it.",
	"tokenrefreshrequired": "the session token must be refreshed. Let the SDK load the build role's credentials " +
		"instead of a fixed AWS_SESSION_TOKEN.",
	"invalidtoken": "the session token is malformed, truncated or issued for another partition or region. " +
		"Check AWS_SESSION_TOKEN, or unset it so the SDK uses the build role.",
	"invalidclienttokenid": "STS does not recognise the credentials: the access key or session token is invalid, " +
		"or a regional STS endpoint is disabled for the account.",
	"unrecognizedclientexception": "the service does not recognise the credentials: the access key or session token is invalid.",
	"requesttimetooskewed": "the build host's clock differs from AWS's by more than 15 minutes, so the signature is rejected. " +
		"Sync the clock with NTP.",
	"missingauthenticationtoken": "the request was not signed. Check that the build has credentials and that the " +
		"client was not configured for anonymous access.",
}

// isCredentialCode reports whether a normalized code is a credential
// problem rather than a policy decision.
func isCredentialCode(code string) bool {
	_, ok := credentialAdvice[code]
	return ok
}

func (c *call) credentials(code string) Diagnosis {
	advice, ok := credentialAdvice[code]
	if !ok {
		advice = credentialAdvice["missingauthenticationtoken"]
	}

	return Diagnosis{
		Kind:       KindCredentials,
		PolicyType: PolicyNone,
		Side:       SideTools,
		Account:    c.tools,
		Summary: fmt.Sprintf("AWS rejected the build's credentials (%s) before evaluating any policy, so no policy change helps: fix the credentials.",
			firstNonEmpty(c.req.ErrorCode, "unsigned request")),
		Fixes: []Fix{{
			Document: "credentials of the build (CodeBuild environment variables and service role)",
			Account:  c.tools,
			Advice:   advice,
		}},
	}
}

func (c *call) aclRejected() Diagnosis {
	bucket := firstNonEmpty(c.bucket, placeholderBucket)
	return Diagnosis{
		Kind:       KindACLRejected,
		PolicyType: PolicyNone,
		Side:       SideDev,
		Account:    c.owner,
		Summary: fmt.Sprintf("Bucket %s has ACLs disabled (Object Ownership is bucket owner enforced), so S3 rejects the %s ACL the request sent.",
			bucket, firstNonEmpty(c.req.ACL, "non-default")),
		Fixes: []Fix{
			{
				Document: "countersign flags of the build (--acl)",
				Account:  c.tools,
				Advice:   "Drop --acl, or set it to bucket-owner-full-control, the only ACL a bucket with ACLs disabled accepts. The bucket owner owns every object under bucket owner enforced, so no ACL is needed.",
			},
			{
				Document: fmt.Sprintf("Object Ownership setting of %s (%s)", bucket, accountLabel(c.owner)),
				Account:  c.owner,
				Advice:   "Leave it at BucketOwnerEnforced: re-enabling ACLs only to accept this header weakens the bucket.",
			},
		},
	}
}

func (c *call) allAccessDisabled() Diagnosis {
	bucket := firstNonEmpty(c.bucket, placeholderBucket)
	return Diagnosis{
		Kind:       KindAllAccessDisabled,
		PolicyType: PolicyNone,
		Side:       SideDev,
		Account:    c.owner,
		Summary:    fmt.Sprintf("AWS has disabled all access to bucket %s, so no policy change on either side helps.", bucket),
		Fixes: []Fix{{
			Document: fmt.Sprintf("AWS account that owns %s (%s)", bucket, accountLabel(c.owner)),
			Account:  c.owner,
			Advice:   "AWS disables access when the owning account is suspended or closed, or after an abuse report. The bucket owner must resolve it with AWS Support.",
		}},
	}
}

func (c *call) ownerMismatch() Diagnosis {
	bucket := firstNonEmpty(c.bucket, placeholderBucket)
	return Diagnosis{
		Kind:       KindOwnerMismatch,
		PolicyType: PolicyNone,
		Side:       SideTools,
		Account:    c.tools,
		Summary: fmt.Sprintf("Bucket %s exists but is not owned by account %s: the same call without ExpectedBucketOwner succeeded.",
			bucket, c.req.ExpectedBucketOwner),
		Fixes: []Fix{{
			Document: "countersign configuration of the build (--bucket-owner or COUNTERSIGN_BUCKET_OWNER)",
			Account:  c.tools,
			Advice: fmt.Sprintf("Set the bucket owner to the dev account's id. If %s is the right id, the bucket name is wrong: "+
				"bucket names are global, and %s may belong to someone else, so do not deliver to it until its owner is confirmed.",
				c.req.ExpectedBucketOwner, bucket),
		}},
	}
}

// ownerCause is the likely-cause line for a possibly wrong ExpectedBucketOwner.
func (c *call) ownerCause() string {
	return fmt.Sprintf("ExpectedBucketOwner %s is not the account that owns %s: S3 answers such requests with a bare 403. "+
		"Repeat the call without it to tell, or compare the value with the dev account's id.",
		c.req.ExpectedBucketOwner, firstNonEmpty(c.bucket, placeholderBucket))
}

func (c *call) ownerFix() Fix {
	return Fix{
		Document: "countersign configuration of the build (--bucket-owner or COUNTERSIGN_BUCKET_OWNER)",
		Account:  c.tools,
		Advice:   fmt.Sprintf("Confirm that %s is the id of the account that owns %s.", c.req.ExpectedBucketOwner, firstNonEmpty(c.bucket, placeholderBucket)),
	}
}

func (c *call) notDenied() Diagnosis {
	return Diagnosis{
		Kind:       KindNotDenied,
		PolicyType: PolicyNone,
		Side:       SideUnknown,
		Summary: fmt.Sprintf("The error is not an access denial (status %d, code %q), so no policy needs to change.",
			c.req.StatusCode, c.req.ErrorCode),
	}
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
