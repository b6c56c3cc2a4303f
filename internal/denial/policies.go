package denial

import (
	"fmt"
	"strings"
)

// Conditions that most often make a Deny statement match a build that
// should pass. Each list is for the document it is named after.
const (
	bucketDenyCulprits = "Common culprits in a bucket policy: a Deny when aws:SecureTransport is false (the request used plain HTTP), " +
		"a Deny unless aws:PrincipalOrgID matches (the tools account is outside that organization), " +
		"a Deny unless aws:SourceVpce or aws:SourceVpc matches (the build does not use that endpoint), " +
		"a Deny unless s3:x-amz-server-side-encryption or s3:x-amz-acl has a given value, and NotPrincipal lists that leave the role out."
	identityDenyCulprits = "Common culprits in identity policies: a data perimeter Deny unless aws:ResourceOrgID or s3:ResourceAccount matches " +
		"(the dev account's bucket is outside it), a Deny when aws:SecureTransport is false, and a Deny unless aws:SourceVpce matches."
	orgDenyCulprits = "Common culprits: a data perimeter Deny on aws:PrincipalOrgID, aws:ResourceOrgID or aws:SourceVpce, " +
		"a region restriction on aws:RequestedRegion, and a Deny on aws:SecureTransport false."
)

// reasoned diagnoses a message that names the policy type that denied.
func (c *call) reasoned() Diagnosis {
	if c.msg.Explicit {
		return c.explicitDeny()
	}
	return c.implicitDeny()
}

func (c *call) implicitDeny() Diagnosis {
	d := Diagnosis{Kind: KindImplicitDeny, PolicyType: c.msg.PolicyType}
	subject := fmt.Sprintf("%s on %s", firstNonEmpty(c.action, "the action"), firstNonEmpty(c.resource, "the resource"))

	switch c.msg.PolicyType {
	case PolicyIdentity:
		d.Side, d.Account = SideTools, c.tools
		d.Summary = fmt.Sprintf("The tools account denied %s because no identity policy of %s allows it, so add the statement below to the role's policy.",
			subject, c.grantee.Name)
		d.Fixes = []Fix{c.identityFix()}

	case PolicyResource:
		d.Side, d.Account = c.resourceSide()
		d.Summary = fmt.Sprintf("The resource owner denied %s because its resource policy does not allow %s, so add the statement below to it.",
			subject, c.grantee.ARN)
		d.Fixes = []Fix{c.resourceFix()}

	case PolicyPermissionsBoundary:
		d.Side, d.Account = SideTools, c.tools
		d.Summary = fmt.Sprintf("The permissions boundary of role %s does not allow %s, so the role cannot use it even where its identity policy does.",
			c.grantee.Name, subject)
		d.Fixes = []Fix{{
			Document:  fmt.Sprintf("permissions boundary of role %s (%s)", c.grantee.Name, accountLabel(c.tools)),
			Account:   c.tools,
			Statement: identityStatement(c.grant()).Render(),
			Advice:    "A boundary is a managed policy that may be shared: add the statement to it, or attach a boundary that already allows the action.",
		}}

	case PolicySession:
		d.Side, d.Account = SideTools, c.tools
		d.Summary = fmt.Sprintf("The session policy passed when the session %s was created does not allow %s.", c.caller, subject)
		d.Fixes = []Fix{{
			Document:  fmt.Sprintf("session policy passed to sts:AssumeRole for role %s (%s)", c.grantee.Name, accountLabel(c.tools)),
			Account:   c.tools,
			Statement: identityStatement(c.grant()).Render(),
			Advice:    "CodeBuild passes no session policy, so a wrapper or a chained AssumeRole passed Policy or PolicyArns: add the statement there, or stop passing one.",
		}}

	case PolicyVPCEndpoint:
		d.Side, d.Account = SideThirdParty, c.tools
		d.Summary = fmt.Sprintf("The VPC endpoint the build reaches S3 through does not allow %s, so add the statement below to the endpoint policy.", subject)
		d.Fixes = []Fix{c.endpointFix()}

	case PolicySCP:
		d.Side, d.Account = SideOrganization, accountOf(c.msg.PolicyARN)
		d.Summary = fmt.Sprintf("No service control policy on the path from the organization root to account %s allows %s.", firstNonEmpty(c.tools, "of the caller"), subject)
		d.Fixes = []Fix{c.orgFix(PolicySCP,
			fmt.Sprintf("SCPs filter by allow-list here: every SCP from the root to account %s must allow %s. Ask the management account's administrators to add it.",
				firstNonEmpty(c.tools, "<TOOLS_ACCOUNT_ID>"), firstNonEmpty(c.action, "the action")))}

	case PolicyRCP:
		d.Side, d.Account = SideOrganization, accountOf(c.msg.PolicyARN)
		d.Summary = fmt.Sprintf("No resource control policy of the bucket owner's organization allows %s.", subject)
		d.Fixes = []Fix{c.orgFix(PolicyRCP,
			"Every RCP from the root to the bucket owner's account must allow the action. Ask that organization's management account administrators to add it.")}

	default:
		d.PolicyType = PolicyUnknown
		d.Side = SideUnknown
		d.Summary = fmt.Sprintf("AWS denied %s because a policy of a type this tool does not recognise allows nothing, so check both sides.", subject)
		d.Causes = []string{
			"the bucket policy does not allow the role",
			"the role's identity policy does not allow the action",
		}
		d.Fixes = []Fix{c.bucketFix(), c.identityFix()}
		d.Notes = append(d.Notes, "the message named a policy type this tool does not know: "+c.req.Message)
	}
	return d
}

func (c *call) explicitDeny() Diagnosis {
	d := Diagnosis{Kind: KindExplicitDeny, PolicyType: c.msg.PolicyType, PolicyARN: c.msg.PolicyARN}
	subject := fmt.Sprintf("%s on %s", firstNonEmpty(c.action, "the action"), firstNonEmpty(c.resource, "the resource"))
	named := ""
	if c.msg.PolicyARN != "" {
		named = " The denying policy is " + c.msg.PolicyARN + "."
	}
	narrow := fmt.Sprintf("Find the Deny statement that matches %s for %s and narrow it (add a condition or an exception for this role) or remove it. "+
		"An Allow elsewhere cannot override it.%s", subject, c.grantee.ARN, named)

	switch c.msg.PolicyType {
	case PolicyIdentity:
		d.Side, d.Account = SideTools, c.tools
		d.Summary = fmt.Sprintf("A Deny statement in a policy attached to role %s blocks %s.", c.grantee.Name, subject)
		d.Fixes = []Fix{{Document: "identity policies attached to " + c.principalLabel(), Account: c.tools,
			Advice: narrow + " " + identityDenyCulprits}}

	case PolicyResource:
		d.Side, d.Account = c.resourceSide()
		doc := c.bucketDoc()
		if _, ok := s3TargetOf(c.resource); !ok && c.resource != "" {
			doc = "resource-based policy of " + c.resource
		}
		d.Summary = fmt.Sprintf("A Deny statement in the %s blocks %s.", doc, subject)
		d.Fixes = []Fix{{Document: doc, Account: d.Account, Advice: narrow + " " + bucketDenyCulprits}}

	case PolicyPermissionsBoundary:
		d.Side, d.Account = SideTools, c.tools
		doc := fmt.Sprintf("permissions boundary of role %s (%s)", c.grantee.Name, accountLabel(c.tools))
		d.Summary = fmt.Sprintf("A Deny statement in the %s blocks %s.", doc, subject)
		d.Fixes = []Fix{{Document: doc, Account: c.tools, Advice: narrow}}

	case PolicySession:
		d.Side, d.Account = SideTools, c.tools
		doc := fmt.Sprintf("session policy passed to sts:AssumeRole for role %s (%s)", c.grantee.Name, accountLabel(c.tools))
		d.Summary = fmt.Sprintf("A Deny statement in the %s blocks %s.", doc, subject)
		d.Fixes = []Fix{{Document: doc, Account: c.tools,
			Advice: narrow + " CodeBuild passes no session policy, so look at the wrapper or chained AssumeRole that passed Policy or PolicyArns."}}

	case PolicyVPCEndpoint:
		d.Side, d.Account = SideThirdParty, c.tools
		d.Summary = fmt.Sprintf("A Deny statement in the policy of the VPC endpoint the build uses blocks %s.", subject)
		d.Fixes = []Fix{{Document: c.endpointDoc(), Account: c.tools, Advice: narrow}}

	case PolicySCP:
		d.Side, d.Account = SideOrganization, accountOf(c.msg.PolicyARN)
		d.Summary = fmt.Sprintf("A service control policy of the organization of account %s blocks %s.", firstNonEmpty(c.tools, "of the caller"), subject)
		d.Fixes = []Fix{c.orgFix(PolicySCP, narrow+" "+orgDenyCulprits)}

	case PolicyRCP:
		d.Side, d.Account = SideOrganization, accountOf(c.msg.PolicyARN)
		d.Summary = fmt.Sprintf("A resource control policy of the bucket owner's organization blocks %s.", subject)
		d.Fixes = []Fix{c.orgFix(PolicyRCP, narrow+" "+orgDenyCulprits)}

	default:
		d.PolicyType = PolicyUnknown
		d.Side = SideUnknown
		d.Summary = fmt.Sprintf("A Deny statement blocks %s, and the message does not say in which policy.", subject)
		d.Causes = []string{
			"a Deny in the bucket policy of " + firstNonEmpty(c.bucket, placeholderBucket),
			"a Deny in a policy attached to role " + c.grantee.Name,
			"a Deny in a service control policy, resource control policy, permissions boundary, session policy or VPC endpoint policy",
		}
		d.Fixes = []Fix{
			{Document: c.bucketDoc(), Account: c.owner, Advice: narrow + " " + bucketDenyCulprits},
			{Document: "identity policies attached to " + c.principalLabel(), Account: c.tools, Advice: narrow + " " + identityDenyCulprits},
		}
	}
	return d
}

// resourceSide returns the side that owns the denied resource: the bucket
// owner for S3, the resource's own account otherwise.
func (c *call) resourceSide() (Side, string) {
	if _, ok := s3TargetOf(c.resource); ok || c.resource == "" {
		if c.owner == "" {
			return SideDev, ""
		}
		return SideDev, c.owner
	}
	account := accountOf(c.resource)
	return c.sideOf(account), account
}

// resourceFix is the statement to add to the resource policy that lacks an
// allow: the bucket policy for S3, else the named resource's policy.
func (c *call) resourceFix() Fix {
	if _, ok := s3TargetOf(c.resource); ok || c.resource == "" {
		return c.bucketFix()
	}
	return Fix{
		Document:  fmt.Sprintf("resource-based policy of %s (%s)", c.resource, accountLabel(accountOf(c.resource))),
		Account:   accountOf(c.resource),
		Statement: resourceStatement(c.grant(), c.grantee.ARN).Render(),
	}
}

func (c *call) endpointDoc() string {
	return fmt.Sprintf("VPC endpoint policy of the S3 endpoint in the build's VPC (usually %s)", accountLabel(c.tools))
}

// endpointFix is the statement to add to a VPC endpoint policy, which
// needs a Principal like a bucket policy does.
func (c *call) endpointFix() Fix {
	return Fix{
		Document:  c.endpointDoc(),
		Account:   c.tools,
		Statement: resourceStatement(c.grant(), c.grantee.ARN).Render(),
		Advice:    "`aws ec2 describe-vpc-endpoints --filters Name=service-name,Values=com.amazonaws.REGION.s3` lists the endpoint and its policy.",
	}
}

func (c *call) orgFix(kind PolicyType, advice string) Fix {
	account := accountOf(c.msg.PolicyARN)
	var doc string
	switch kind {
	case PolicySCP:
		doc = fmt.Sprintf("service control policies of the organization that contains %s", accountLabel(c.tools))
	default:
		doc = fmt.Sprintf("resource control policies of the organization that contains the bucket owner (%s)", accountLabel(c.owner))
	}
	if account != "" {
		doc += ", managed from account " + account
	}
	return Fix{Document: doc, Account: account, Advice: advice}
}

// kms diagnoses a denied use of the KMS key that encrypts the object.
func (c *call) kms() Diagnosis {
	keyARN := c.msg.Resource
	if a, ok := parseARN(keyARN); !ok || a.Service != "kms" {
		keyARN = ""
	}
	if keyARN == "" {
		if a, ok := parseARN(c.req.SSEKMSKeyID); ok && a.Service == "kms" {
			keyARN = c.req.SSEKMSKeyID
		}
	}
	key, _ := parseARN(keyARN)

	switch c.msg.PolicyType {
	case PolicySCP, PolicyRCP, PolicyPermissionsBoundary, PolicySession, PolicyVPCEndpoint:
		// These policies deny KMS calls like any other action, and the key
		// policy is not at fault.
		return c.reasoned()
	}

	op := c.op
	if !c.opKnown {
		op = operation{Write: true}
	}
	actions := kmsActionsFor(op)
	action := c.msg.Action
	if !strings.HasPrefix(strings.ToLower(action), "kms:") {
		action = actions[0]
	}

	keyName := firstNonEmpty(keyARN, placeholderKeyARN)
	keyDoc := fmt.Sprintf("key policy of KMS key %s (%s)", keyName, accountLabel(key.Account))
	keyFix := Fix{
		Document:  keyDoc,
		Account:   key.Account,
		Statement: kmsKeyStatement(actions, c.grantee.ARN, key.Region).Render(),
	}
	identityFix := Fix{
		Document:  c.identityDoc(),
		Account:   c.tools,
		Statement: identityStatement(grant{Actions: actions, Resource: keyName}).Render(),
	}

	d := Diagnosis{
		Kind:      KindKMS,
		Action:    action,
		Resource:  keyName,
		PolicyARN: c.msg.PolicyARN,
	}
	switch {
	case c.msg.HasReason && c.msg.Explicit && c.msg.PolicyType == PolicyIdentity:
		d.PolicyType = PolicyIdentity
		d.Side, d.Account = SideTools, c.tools
		d.Summary = fmt.Sprintf("A Deny statement in a policy attached to role %s blocks %s on KMS key %s.", c.grantee.Name, action, keyName)
		d.Fixes = []Fix{{Document: "identity policies attached to " + c.principalLabel(), Account: c.tools,
			Advice: "Find the Deny statement that matches the key and narrow or remove it. An Allow in the key policy cannot override it."}}

	case c.msg.HasReason && c.msg.Explicit:
		d.PolicyType = PolicyKMSKey
		d.Side, d.Account = SideThirdParty, key.Account
		d.Summary = fmt.Sprintf("A Deny statement in the key policy of KMS key %s blocks %s for the role.", keyName, action)
		d.Fixes = []Fix{{Document: keyDoc, Account: key.Account,
			Advice: "Find the Deny statement that matches the role and narrow or remove it. An Allow in the role's identity policy cannot override it."}}

	case c.msg.PolicyType == PolicyIdentity:
		d.PolicyType = PolicyIdentity
		d.Side, d.Account = SideTools, c.tools
		d.Summary = fmt.Sprintf("The role's identity policy does not allow %s on KMS key %s, so S3 cannot encrypt or decrypt the object for it.", action, keyName)
		d.Fixes = []Fix{identityFix, keyFix}

	default:
		d.PolicyType = PolicyKMSKey
		d.Side, d.Account = SideThirdParty, key.Account
		d.Summary = fmt.Sprintf("The key policy of KMS key %s does not let %s use it, so S3 cannot encrypt or decrypt the object for the role.", keyName, c.grantee.ARN)
		d.Fixes = []Fix{keyFix, identityFix}
	}

	if keyARN == "" {
		d.Notes = append(d.Notes, "neither the message nor the request named the key ARN: `aws s3api get-bucket-encryption` on the bucket shows the default key")
	}
	if key.Account != "" && key.Account != c.tools {
		d.Notes = append(d.Notes, fmt.Sprintf("the key belongs to account %s, so its key policy must name the role, and the role's identity policy must allow the key too", key.Account))
	}
	return d
}

// assumeRole diagnoses a denied sts:AssumeRole, which for this tool is
// CodeBuild failing to assume the build role.
func (c *call) assumeRole() Diagnosis {
	target := c.resource
	targetRole, ok := principalFromARN(target)
	if !ok {
		target = firstNonEmpty(c.req.RoleARN, placeholderRoleARN)
		targetRole, _ = principalFromARN(target)
	}
	account := targetRole.Account
	name := firstNonEmpty(targetRole.Name, "<ROLE_NAME>")

	projectARN := c.req.ProjectARN
	if projectARN == "" {
		projectARN, _ = projectFromBuildARN(c.req.BuildARN)
	}

	// A caller ARN means a role or user assumed the role. No caller ARN
	// means a service did, which for this tool is CodeBuild.
	callerIsService := c.caller == "" || strings.EqualFold(c.msg.Caller, "CodeBuild")
	trust := trustStatement(account, projectARN)
	if !callerIsService {
		trust = trustStatementForPrincipal(c.grantee.ARN)
	}
	trustFix := Fix{
		Document:  fmt.Sprintf("trust policy of role %s (%s)", name, accountLabel(account)),
		Account:   account,
		Statement: trust.Render(),
	}

	d := Diagnosis{Action: "sts:AssumeRole", Resource: target, PolicyARN: c.msg.PolicyARN}
	if callerIsService {
		d.Principal = "codebuild.amazonaws.com"
	}
	switch {
	case c.msg.HasReason && c.msg.PolicyType != PolicyResource && c.msg.PolicyType != PolicyTrust:
		// The caller's own policies, an SCP or a boundary denied, so the
		// mapping is the same as for any other action.
		return c.reasoned()

	case c.msg.Explicit:
		d.Kind, d.PolicyType = KindExplicitDeny, PolicyTrust
		d.Side, d.Account = c.sideOf(account), account
		d.Summary = fmt.Sprintf("A Deny statement in the trust policy of role %s blocks sts:AssumeRole.", name)
		d.Fixes = []Fix{{Document: trustFix.Document, Account: account,
			Advice: "Find the Deny statement that matches the caller and narrow or remove it."}}

	default:
		d.Kind, d.PolicyType = KindImplicitDeny, PolicyTrust
		d.Side, d.Account = c.sideOf(account), account
		if account != "" && d.Side == SideThirdParty && callerIsService {
			// The build role lives in the tools account even when the
			// caller ARN was not given.
			d.Side = SideTools
		}
		trusted := "CodeBuild (codebuild.amazonaws.com)"
		if !callerIsService {
			trusted = c.grantee.ARN
		}
		d.Summary = fmt.Sprintf("The trust policy of role %s does not let %s assume it, so add the statement below to the role's trust policy.", name, trusted)
		d.Fixes = []Fix{trustFix}
		if !c.msg.HasReason {
			d.Causes = []string{
				fmt.Sprintf("the trust policy of role %s does not trust %s", name, trusted),
				"the trust policy's aws:SourceAccount or aws:SourceArn condition names another account or project",
			}
			if !callerIsService {
				d.Causes = append(d.Causes, fmt.Sprintf("the identity policy of %s does not allow sts:AssumeRole on %s", c.grantee.ARN, target))
				d.Fixes = append(d.Fixes, Fix{
					Document:  c.identityDoc(),
					Account:   c.tools,
					Statement: identityStatement(grant{Actions: []string{"sts:AssumeRole"}, Resource: target}).Render(),
				})
			}
			d.Causes = append(d.Causes, "a Deny on sts:AssumeRole in a service control policy of the role's organization")
		}
	}

	if callerIsService && projectARN == "" {
		d.Notes = append(d.Notes, "the CodeBuild project ARN is unknown, so the trust statement shows <CODEBUILD_PROJECT_ARN>: use arn:aws:codebuild:REGION:ACCOUNT:project/NAME")
	}
	return d
}

// bare diagnoses a response that gives no reason, such as S3's
// cross-account "Access Denied" or a HEAD request's bodiless 403.
func (c *call) bare() Diagnosis {
	d := Diagnosis{Kind: KindBare, PolicyType: PolicyUnknown, Side: SideUnknown}
	subject := fmt.Sprintf("%s on %s", firstNonEmpty(c.action, "the action"), firstNonEmpty(c.resource, "the resource"))
	head := isHeadOperation(c.req.Operation)

	if head && isBareMessage(c.req.Message) {
		d.Summary = fmt.Sprintf("AWS denied %s with a bodiless 403, because HEAD responses carry no message, so the likely causes follow.", subject)
	} else {
		d.Summary = fmt.Sprintf("AWS denied %s without saying which policy, as S3 does for cross-account requests, so the likely causes follow.", subject)
	}

	ownerSuspect := c.req.ExpectedBucketOwner != "" && c.req.OwnerProbe == ProbeUnknown
	if ownerSuspect && head {
		d.Causes = append(d.Causes, c.ownerCause())
		d.Fixes = append(d.Fixes, c.ownerFix())
	}

	sameAccount := c.owner != "" && c.owner == c.tools
	bucketCause := fmt.Sprintf("the %s does not allow %s to %s", c.bucketDoc(), c.grantee.ARN, firstNonEmpty(c.action, "make this call"))
	identityCause := fmt.Sprintf("the %s does not allow %s", c.identityDoc(), subject)
	if sameAccount {
		// Within one account either document alone grants access, so the
		// role's own policy is the likelier gap.
		d.Causes = append(d.Causes, identityCause+" (within one account either policy alone is enough)", bucketCause)
		d.Fixes = append(d.Fixes, c.identityFix(), c.bucketFix())
	} else {
		d.Causes = append(d.Causes, bucketCause, identityCause+" (cross-account, both sides must allow)")
		d.Fixes = append(d.Fixes, c.bucketFix(), c.identityFix())
	}

	d.Causes = append(d.Causes, "an explicit Deny on either side: in the bucket policy (aws:SecureTransport false, aws:PrincipalOrgID, "+
		"aws:SourceVpce conditions), in the role's policies (aws:ResourceOrgID or s3:ResourceAccount perimeters), "+
		"or in a service control policy or VPC endpoint policy")

	if c.op.Read && !isBucketLevelAction(c.action) {
		d.Causes = append(d.Causes, fmt.Sprintf("the object %s does not exist and the role lacks s3:ListBucket on %s: "+
			"S3 then returns 403 instead of 404", firstNonEmpty(c.key, "requested"), c.bucketARN()))
		// A GET sends no encryption headers, so the request cannot show
		// whether the object is encrypted with SSE-KMS.
		d.Causes = append(d.Causes, "the object is encrypted with a customer managed KMS key whose key policy "+
			"or the role's identity policy does not allow kms:Decrypt")
	}
	d.Causes = append(d.Causes, c.writeCauses()...)

	if ownerSuspect && !head {
		d.Causes = append(d.Causes, c.ownerCause())
	}
	if c.req.ExpectedBucketOwner != "" && c.req.OwnerProbe == ProbeDenied {
		d.Notes = append(d.Notes, "the same call without ExpectedBucketOwner was denied too, so the bucket owner setting is not the only problem")
	}
	if head {
		d.Notes = append(d.Notes, "a GET or list call on the same resource returns a message body, which may name the policy type")
	}
	d.Notes = append(d.Notes, "`countersign explain` settles which side denies, offline, from the role's policies and the bucket policy (the dev account can read it with `aws s3api get-bucket-policy --bucket BUCKET`)")
	return d
}

// writeCauses lists the causes specific to the headers a write sent.
func (c *call) writeCauses() []string {
	if !c.op.Write {
		return nil
	}

	var causes []string
	if strings.EqualFold(c.req.SSE, "aws:kms") || strings.EqualFold(c.req.SSE, "aws:kms:dsse") || c.req.SSEKMSKeyID != "" {
		causes = append(causes, fmt.Sprintf("the key policy of KMS key %s does not let the role use kms:GenerateDataKey "+
			"(a customer managed key is a third party: its key policy and the role's identity policy must both allow it)",
			firstNonEmpty(c.req.SSEKMSKeyID, "used by the bucket")))
	}
	if c.req.ACL != "" {
		causes = append(causes, fmt.Sprintf("the request sent ACL %s: the role also needs s3:PutObjectAcl, "+
			"and a bucket policy may require bucket-owner-full-control, while a bucket with Object Ownership set to bucket owner enforced accepts no other ACL",
			c.req.ACL))
	}
	return causes
}
