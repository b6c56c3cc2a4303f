package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Request is one API call to evaluate: who calls, which action on which
// resource, and the request context that conditions test.
type Request struct {
	// Principal is the caller: a role session
	// ("arn:aws:sts::111122223333:assumed-role/Name/Session"), a role, an IAM
	// user, an account root ("arn:aws:iam::111122223333:root"), a federated
	// user, a service principal such as "codebuild.amazonaws.com", or "" or
	// "*" for an anonymous caller.
	Principal string

	// PrincipalRoleARN is the ARN of the session's role with its path, such
	// as "arn:aws:iam::111122223333:role/service-role/Name". A session ARN
	// does not show the path, so without this field a role with a path is
	// matched by account and role name only.
	PrincipalRoleARN string

	// PrincipalAccount is the caller's account. It is derived from
	// Principal when empty.
	PrincipalAccount string

	// Action is the action with its service prefix, such as "s3:PutObject".
	Action string

	// Resource is the ARN the action acts on.
	Resource string

	// ResourceAccount is the account that owns the resource. When empty it
	// is taken from the resource ARN, and when the ARN has no account (as
	// for S3) the resource is taken to be in the caller's account.
	ResourceAccount string

	// Context holds the request's condition keys. Keys compare without
	// regard to case. A key set here replaces the value that Evaluate
	// would otherwise fill in.
	Context map[string][]string

	// Now is the request time for aws:CurrentTime and aws:EpochTime. The
	// zero value means time.Now.
	Now time.Time
}

// Principal kinds, spelled as AWS fills aws:PrincipalType where it has a
// value for them.
const (
	principalAnonymous     = "Anonymous"
	principalAccount       = "Account"
	principalUser          = "User"
	principalAssumedRole   = "AssumedRole"
	principalFederatedUser = "FederatedUser"
	principalService       = "Service"
)

// caller is the request principal split into the parts that principal
// matching and the filled context keys need.
type caller struct {
	kind    string
	raw     string
	account string

	// sessionARN is set for a role session, userARN for an IAM user or a
	// federated user.
	sessionARN string
	userARN    string
	userName   string

	// roleARN is the role of a session, or the role itself. rolePathKnown
	// is false when roleARN was rebuilt from a session ARN without a path.
	roleARN       string
	roleName      string
	rolePathKnown bool

	service string
}

// isIAM reports whether the caller is an identity in an account, so that
// identity policies, boundaries, session policies and SCPs apply to it.
func (c *caller) isIAM() bool {
	return c.kind != principalAnonymous && c.kind != principalService
}

// serviceLinked reports whether the caller is a service-linked role, which
// SCPs and RCPs do not restrict.
func (c *caller) serviceLinked() bool {
	return c.roleARN != "" && c.rolePathKnown && strings.Contains(c.roleARN, ":role/aws-service-role/")
}

func parseCaller(req *Request) (caller, error) {
	c := caller{raw: req.Principal}

	switch {
	case req.Principal == "" || req.Principal == "*":
		c.kind = principalAnonymous
		c.raw = "*"

		return c, nil
	case !strings.HasPrefix(req.Principal, "arn:"):
		if !strings.HasSuffix(req.Principal, ".amazonaws.com") && !strings.HasSuffix(req.Principal, ".amazonaws.com.cn") {
			return c, fmt.Errorf("invalid principal %q: use an ARN, a service principal such as codebuild.amazonaws.com, or \"\" for anonymous", req.Principal)
		}

		c.kind = principalService
		c.service = req.Principal

		return c, nil
	}

	arn, ok := cutARN(req.Principal)
	if !ok {
		return c, fmt.Errorf("invalid principal %q: want the form arn:partition:service:region:account:resource", req.Principal)
	}

	c.account = arn.account

	switch {
	case arn.service == "iam" && arn.resource == "root":
		c.kind = principalAccount
	case arn.service == "iam" && strings.HasPrefix(arn.resource, "user/"):
		c.kind = principalUser
		c.userARN = req.Principal
		c.userName = arn.resource[strings.LastIndexByte(arn.resource, '/')+1:]
	case arn.service == "iam" && strings.HasPrefix(arn.resource, "role/"):
		c.kind = principalAssumedRole
		c.roleARN = req.Principal
		c.roleName = arn.resource[strings.LastIndexByte(arn.resource, '/')+1:]
		c.rolePathKnown = true
	case arn.service == "sts" && strings.HasPrefix(arn.resource, "assumed-role/"):
		role, session, ok := strings.Cut(strings.TrimPrefix(arn.resource, "assumed-role/"), "/")
		if !ok || role == "" || session == "" {
			return c, fmt.Errorf("invalid principal %q: a role session ARN ends in assumed-role/ROLE/SESSION", req.Principal)
		}

		c.kind = principalAssumedRole
		c.sessionARN = req.Principal
		c.roleName = role
		c.roleARN, c.rolePathKnown = req.PrincipalRoleARN, req.PrincipalRoleARN != ""

		if c.roleARN == "" {
			c.roleARN = "arn:" + arn.partition + ":iam::" + arn.account + ":role/" + role
		}
	case arn.service == "sts" && strings.HasPrefix(arn.resource, "federated-user/"):
		c.kind = principalFederatedUser
		c.userARN = req.Principal
	default:
		return c, fmt.Errorf("invalid principal %q: expected a role, role session, user, federated user or account root ARN", req.Principal)
	}

	if req.PrincipalAccount != "" {
		c.account = req.PrincipalAccount
	}

	return c, nil
}

// arnParts are the six parts of an ARN, cut without allocating.
type arnParts struct {
	partition, service, region, account, resource string
}

func cutARN(s string) (arnParts, bool) {
	var p arnParts

	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return p, false
	}

	fields := [4]*string{&p.partition, &p.service, &p.region, &p.account}
	for _, f := range fields {
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			return p, false
		}

		*f, rest = rest[:i], rest[i+1:]
	}

	p.resource = rest

	return p, p.partition != "" && p.service != ""
}

// Indexes of the filled keys in requestContext.filled.
const (
	filledPrincipalArn = iota
	filledPrincipalAccount
	filledPrincipalType
	filledUserID
	filledUsername
	filledSecureTransport
	filledPrincipalIsAWSService
	filledResourceAccount
	filledCurrentTime
	filledEpochTime
	filledCount
)

// requestContext resolves condition keys: the caller's Context first, then
// the keys that AWS fills for every request.
type requestContext struct {
	req    *Request
	caller *caller

	resourceAccount string
	s3              bool

	filled    [filledCount]string
	hasFilled [filledCount]bool
	timeDone  bool
}

func newRequestContext(req *Request, c *caller, resourceAccount string) *requestContext {
	rc := &requestContext{req: req, caller: c, resourceAccount: resourceAccount}
	rc.s3 = strings.HasPrefix(req.Action, "s3:") || strings.HasPrefix(req.Action, "S3:")

	set := func(i int, v string) {
		rc.filled[i], rc.hasFilled[i] = v, true
	}

	switch {
	case c.sessionARN != "" || c.kind == principalAssumedRole:
		set(filledPrincipalArn, c.roleARN)
	case c.kind == principalAccount || c.kind == principalUser || c.kind == principalFederatedUser:
		set(filledPrincipalArn, req.Principal)
	}

	if c.account != "" {
		set(filledPrincipalAccount, c.account)
	}

	if c.kind != principalService {
		set(filledPrincipalType, c.kind)
	}

	switch c.kind {
	case principalAccount:
		set(filledUserID, c.account)
	case principalAnonymous:
		set(filledUserID, "anonymous")
	case principalUser:
		set(filledUsername, c.userName)
	}

	set(filledSecureTransport, "true")

	if c.kind == principalService {
		set(filledPrincipalIsAWSService, "true")
	} else {
		set(filledPrincipalIsAWSService, "false")
	}

	if resourceAccount != "" {
		set(filledResourceAccount, resourceAccount)
	}

	return rc
}

// filledIndex maps a lowercased global key to its slot, or -1.
func filledIndex(keyLower string) int {
	switch keyLower {
	case "aws:principalarn":
		return filledPrincipalArn
	case "aws:principalaccount":
		return filledPrincipalAccount
	case "aws:principaltype":
		return filledPrincipalType
	case "aws:userid":
		return filledUserID
	case "aws:username":
		return filledUsername
	case "aws:securetransport":
		return filledSecureTransport
	case "aws:principalisawsservice":
		return filledPrincipalIsAWSService
	case "aws:resourceaccount", "s3:resourceaccount":
		return filledResourceAccount
	case "aws:currenttime":
		return filledCurrentTime
	case "aws:epochtime":
		return filledEpochTime
	}

	return -1
}

// lookup returns the values of a condition key, whose name compares
// without regard to case, and whether the request has the key.
func (rc *requestContext) lookup(key string) ([]string, bool) {
	for k, v := range rc.req.Context {
		if strings.EqualFold(k, key) {
			return v, true
		}
	}

	i := filledIndex(strings.ToLower(key))
	if i < 0 {
		return nil, false
	}

	// s3:ResourceAccount is an S3 key, so other services do not send it.
	if i == filledResourceAccount && !rc.s3 && !strings.EqualFold(key, "aws:ResourceAccount") {
		return nil, false
	}

	if (i == filledCurrentTime || i == filledEpochTime) && !rc.timeDone {
		now := rc.req.Now
		if now.IsZero() {
			now = time.Now()
		}

		rc.filled[filledCurrentTime] = now.UTC().Format(time.RFC3339)
		rc.filled[filledEpochTime] = strconv.FormatInt(now.Unix(), 10)
		rc.hasFilled[filledCurrentTime], rc.hasFilled[filledEpochTime] = true, true
		rc.timeDone = true
	}

	if !rc.hasFilled[i] {
		return nil, false
	}

	return rc.filled[i : i+1], true
}
