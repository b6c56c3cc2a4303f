package denial

import (
	"fmt"
	"strings"

	"github.com/countersign/countersign/internal/delivery"
)

// Diagnose explains why req was denied and how to fix it. It returns a
// diagnosis for any input, and FuzzDiagnose checks that it does not panic.
// Input it cannot read gives KindBare or KindNotDenied with SideUnknown,
// and fields it cannot derive stay empty or contain a marked placeholder
// such as <ROLE_ARN>.
func Diagnose(req Request) Diagnosis {
	c := newCall(req)
	d := c.dispatch()

	d.Caller = c.caller
	if d.Principal == "" {
		d.Principal = c.grantee.ARN
	}
	if d.Action == "" {
		d.Action = c.action
	}
	if d.Resource == "" {
		d.Resource = c.resource
	}
	d.Notes = append(d.Notes, c.notes...)
	return d
}

// dispatch picks the diagnosis from the most specific evidence first. Error
// codes that name their cause come first, then the owner probe, then the
// reason in the message, and last the bare response.
func (c *call) dispatch() Diagnosis {
	code := normalizedCode(c.req.ErrorCode)

	switch {
	case isCredentialCode(code) || strings.EqualFold(c.msg.Caller, "anonymous"):
		return c.credentials(code)
	case code == "accesscontrollistnotsupported":
		return c.aclRejected()
	case code == "allaccessdisabled":
		return c.allAccessDisabled()
	case c.req.ExpectedBucketOwner != "" && c.req.OwnerProbe == ProbeSucceeded && c.denied():
		return c.ownerMismatch()
	case c.isKMS():
		return c.kms()
	case c.isAssumeRole():
		return c.assumeRole()
	case c.msg.HasReason:
		return c.reasoned()
	case c.denied():
		return c.bare()
	default:
		return c.notDenied()
	}
}

// call holds a request with every derived fact the diagnoses share.
type call struct {
	req Request
	msg parsedMessage
	op  operation
	// opKnown is false for operations missing from the operations table.
	opKnown bool

	// caller is the ARN that made the request, and grantee is the
	// principal the fixes grant to.
	caller  string
	grantee principal
	// tools is the caller's account. owner is the bucket owner's account,
	// when ExpectedBucketOwner contains a valid account id.
	tools string
	owner string

	partition string
	action    string
	resource  string
	bucket    string
	key       string
	notes     []string
}

func newCall(req Request) *call {
	c := &call{req: req, msg: parseMessage(req.Message)}
	c.op, c.opKnown = lookupOperation(req.Operation)

	c.resolvePrincipal()
	c.tools = c.grantee.Account
	if c.tools == "" {
		c.tools = accountOf(c.caller)
	}

	owner := strings.TrimSpace(req.ExpectedBucketOwner)
	switch {
	case delivery.IsAccountID(owner):
		c.owner = owner
	case owner != "":
		c.notes = append(c.notes, fmt.Sprintf(
			"ExpectedBucketOwner %q is not a 12-digit account id, so S3 cannot match it against any bucket owner", owner))
	}

	c.partition = partitionOf(c.caller, req.RoleARN, c.msg.Resource)
	c.resolveTarget()
	return c
}

// resolvePrincipal picks the ARN the fixes grant to. The role ARN from the
// request keeps the role's path, which the session ARN in messages drops,
// so it wins when both name the same role.
func (c *call) resolvePrincipal() {
	c.caller = c.req.CallerARN
	if _, ok := parseARN(c.msg.Caller); ok {
		c.caller = c.msg.Caller
	}

	fromRole, roleOK := principalFromARN(c.req.RoleARN)
	fromCaller, callerOK := principalFromARN(c.caller)

	switch {
	case roleOK && callerOK:
		if fromRole.Account == fromCaller.Account && fromRole.Name == fromCaller.Name {
			c.grantee = fromRole
			return
		}
		// AWS evaluated the caller it saw, so the fix must name that one.
		c.grantee = fromCaller
		if c.assumesRole() {
			// RoleARN is the role being assumed, so a different caller is
			// expected.
			return
		}
		c.notes = append(c.notes, fmt.Sprintf(
			"the request was made as %s, not as the expected role %s: check which credentials the build uses before changing any policy",
			c.caller, c.req.RoleARN))
	case roleOK:
		c.grantee = fromRole
	case callerOK:
		c.grantee = fromCaller
	default:
		c.grantee = principal{ARN: placeholderRoleARN, Name: "<ROLE_NAME>", IsRole: true}
		c.notes = append(c.notes, "neither the message nor the request named the caller, so the fixes show <ROLE_ARN>: use the build role's ARN")
		return
	}

	if c.grantee.IsRole && !c.grantee.PathKnown {
		c.notes = append(c.notes, fmt.Sprintf(
			"the role ARN %s was rebuilt from the session ARN, which drops the role's path: if the role has one (roles made by the CodeBuild console use /service-role/), `aws iam get-role --role-name %s` prints the full ARN to use instead",
			c.grantee.ARN, c.grantee.Name))
	}
}

// resolveTarget fills the action, bucket, key and resource, preferring what
// the message states over what the request carried.
func (c *call) resolveTarget() {
	c.action = c.msg.Action
	if c.action == "" && c.opKnown {
		c.action = c.op.Action
	}

	c.bucket, c.key = c.req.Bucket, c.req.Key
	if t, ok := s3TargetOf(c.msg.Resource); ok {
		c.bucket, c.key = t.Bucket, t.Key
	}

	c.resource = c.msg.Resource
	if c.resource != "" {
		return
	}
	switch {
	case strings.EqualFold(c.action, "sts:AssumeRole"):
		c.resource = c.req.RoleARN
	case c.bucket == "":
		// Without a bucket there is no S3 resource to name.
	case isBucketLevelAction(c.action) || c.key == "":
		c.resource = c.bucketARN()
	default:
		c.resource = c.bucketARN() + "/" + c.key
	}
}

// denied reports whether the response is an access denial of some form.
func (c *call) denied() bool {
	switch normalizedCode(c.req.ErrorCode) {
	case "accessdenied", "accessdeniedexception", "forbidden":
		return true
	case "":
		return c.req.StatusCode == 403 || c.msg.Authorized
	default:
		return c.msg.Authorized || (c.req.StatusCode == 403 && isBareMessage(c.req.Message))
	}
}

func (c *call) bucketARN() string {
	bucket := c.bucket
	if bucket == "" {
		bucket = placeholderBucket
	}
	return "arn:" + c.partition + ":s3:::" + bucket
}

// grant returns what the fixes must allow: the denied action on the
// narrowest resource that covers the build's prefix.
func (c *call) grant() grant {
	actions := []string{c.action}
	if c.action == "" {
		actions = []string{"<ACTION>"}
	}
	// An ACL header on PutObject is authorized by s3:PutObjectAcl as well.
	if c.req.ACL != "" && strings.EqualFold(c.action, "s3:PutObject") {
		actions = append(actions, "s3:PutObjectAcl")
	}

	if !strings.HasPrefix(strings.ToLower(c.action), "s3:") {
		return grant{Actions: actions, Resource: c.resource}
	}

	prefix := strings.Trim(c.req.Prefix, "/")
	if isBucketLevelAction(c.action) {
		g := grant{Actions: actions, Resource: c.bucketARN()}
		if strings.EqualFold(c.action, "s3:ListBucket") {
			g.ListPrefix = prefix
		}
		return g
	}

	if prefix != "" && (c.key == "" || strings.HasPrefix(c.key, prefix+"/")) {
		return grant{Actions: actions, Resource: c.bucketARN() + "/" + prefix + "/*"}
	}
	return grant{Actions: actions, Resource: c.bucketARN() + "/*"}
}

// normalizedCode lower-cases an error code and strips a service prefix
// such as "KMS." so codes compare the same from every SDK.
func normalizedCode(code string) string {
	code = strings.ToLower(strings.TrimSpace(code))
	if i := strings.LastIndexByte(code, '.'); i >= 0 {
		code = code[i+1:]
	}
	return code
}

func (c *call) isAssumeRole() bool {
	return strings.EqualFold(c.action, "sts:AssumeRole")
}

// assumesRole is isAssumeRole before the action is resolved.
func (c *call) assumesRole() bool {
	return strings.EqualFold(c.msg.Action, "sts:AssumeRole") || (c.opKnown && c.op.Action == "sts:AssumeRole")
}

// isKMS reports whether the denial concerns a KMS key rather than S3.
func (c *call) isKMS() bool {
	if strings.HasPrefix(strings.ToLower(strings.TrimSpace(c.req.ErrorCode)), "kms.") {
		return true
	}
	if strings.HasPrefix(strings.ToLower(c.msg.Action), "kms:") {
		return true
	}
	if a, ok := parseARN(c.msg.Resource); ok && a.Service == "kms" {
		return true
	}
	lower := strings.ToLower(c.req.Message)
	return strings.Contains(lower, "kms:generatedatakey") || strings.Contains(lower, "kms:decrypt")
}

// sideOf names the side that owns an account.
func (c *call) sideOf(account string) Side {
	switch {
	case account == "":
		return SideUnknown
	case account == c.tools:
		return SideTools
	case account == c.owner:
		return SideDev
	default:
		return SideThirdParty
	}
}

// accountLabel renders an account id for a document name.
func accountLabel(account string) string {
	if account == "" {
		return "account unknown"
	}
	return "account " + account
}

// principalLabel names the caller for a document name: "role NAME (account A)".
func (c *call) principalLabel() string {
	kind := "role"
	if !c.grantee.IsRole {
		kind = "principal"
	}
	return fmt.Sprintf("%s %s (%s)", kind, c.grantee.Name, accountLabel(c.tools))
}

func (c *call) identityDoc() string {
	return "identity policy of " + c.principalLabel()
}

func (c *call) bucketDoc() string {
	bucket := c.bucket
	if bucket == "" {
		bucket = placeholderBucket
	}
	if c.owner == "" {
		return fmt.Sprintf("bucket policy of %s (bucket owner's account, unknown because no ExpectedBucketOwner was sent)", bucket)
	}
	return fmt.Sprintf("bucket policy of %s (account %s)", bucket, c.owner)
}

// identityFix is the statement to add to the role's identity policy.
func (c *call) identityFix() Fix {
	return Fix{
		Document:  c.identityDoc(),
		Account:   c.tools,
		Statement: identityStatement(c.grant()).Render(),
	}
}

// bucketFix is the statement to add to the bucket policy.
func (c *call) bucketFix() Fix {
	return Fix{
		Document:  c.bucketDoc(),
		Account:   c.owner,
		Statement: resourceStatement(c.grant(), c.grantee.ARN).Render(),
	}
}
