package denial

import (
	"regexp"
	"strings"
)

// maxMessageBytes bounds the text the parser reads. AWS messages are a few
// hundred bytes, so the bound only stops a pasted log from costing much.
const maxMessageBytes = 16 << 10

// parsedMessage is the caller, action, resource and reason of an access
// denied message.
type parsedMessage struct {
	// Caller is the principal token after "User:", usually an ARN but
	// sometimes a service name ("CodeBuild") or "anonymous".
	Caller   string
	Action   string
	Resource string
	// Explicit is true for "with an explicit deny", false for "because no
	// ... allows".
	Explicit bool
	// HasReason is true when the message named a deny reason at all.
	HasReason  bool
	PolicyType PolicyType
	// PolicyARN is the denying policy from the enhanced message form
	// "... with an explicit deny in a service control policy: arn:...".
	PolicyARN string
	// Authorized is true when the "is not authorized to perform" sentence
	// was found.
	Authorized bool
}

var (
	// The sentence AWS uses in IAM, STS, KMS and S3 messages, with or
	// without the colons, and with the resource quoted (S3) or bare. S3 also
	// writes "on resource:" where STS from CodeBuild writes only "on".
	notAuthorizedPattern = regexp.MustCompile(
		`(?i)(?:user:?\s*)?(\S+)\s+is\s+not\s+authorized\s+to\s+perform:?\s*([a-z0-9-]+:[a-z0-9*-]+)` +
			`(?:\s+on(?:\s+resource)?:?\s*(?:"([^"]*)"|([^"\s]+)))?`)

	implicitPattern = regexp.MustCompile(`(?i)because\s+no\s+([a-z][a-z -]*?)\s+allows?\b`)
	explicitPattern = regexp.MustCompile(`(?i)with\s+an\s+explicit\s+deny(?:\s+in\s+(?:an?\s+|the\s+)?([a-z][a-z -]*?))?(?:\s*:\s*(arn:[^\s,;]+))?\s*(?:[.,;]|\bgo to\b|$|\s(?:note|for|and)\b)`)

	// s3BarePattern matches the plain S3 responses that give no reason.
	s3BarePattern = regexp.MustCompile(`(?i)^\s*(access\s+denied|forbidden)\.?\s*$`)
)

// parseMessage extracts the caller, action, resource and deny reason from
// an AWS access denied message. Missing parts stay empty, and odd input
// gives empty parts rather than a panic.
func parseMessage(msg string) parsedMessage {
	if len(msg) > maxMessageBytes {
		msg = msg[:maxMessageBytes]
	}
	msg = strings.Join(strings.Fields(msg), " ")

	var p parsedMessage
	rest := msg
	if m := notAuthorizedPattern.FindStringSubmatchIndex(msg); m != nil {
		p.Authorized = true
		p.Caller = trimToken(msg[m[2]:m[3]])
		p.Action = msg[m[4]:m[5]]
		switch {
		case m[6] >= 0:
			p.Resource = trimToken(msg[m[6]:m[7]])
		case m[8] >= 0:
			p.Resource = trimToken(msg[m[8]:m[9]])
		}
		rest = msg[m[1]:]
	}

	if m := explicitPattern.FindStringSubmatch(rest); m != nil {
		p.HasReason = true
		p.Explicit = true
		p.PolicyType = policyTypeOf(m[1])
		p.PolicyARN = trimToken(m[2])
		return p
	}
	if m := implicitPattern.FindStringSubmatch(rest); m != nil {
		p.HasReason = true
		p.PolicyType = policyTypeOf(m[1])
		return p
	}

	p.PolicyType = PolicyUnknown
	return p
}

// trimToken removes the quotes and sentence punctuation that surround an
// ARN in running text.
func trimToken(s string) string {
	return strings.TrimRight(strings.Trim(s, `"'`), ".,;:)")
}

// policyTypeOf maps the policy phrase of a message to a PolicyType.
func policyTypeOf(phrase string) PolicyType {
	p := strings.ToLower(strings.Join(strings.Fields(phrase), " "))
	switch {
	case p == "":
		return PolicyUnknown
	case strings.Contains(p, "identity-based"), strings.Contains(p, "identity based"):
		return PolicyIdentity
	case strings.Contains(p, "resource-based"), strings.Contains(p, "resource based"):
		return PolicyResource
	case strings.Contains(p, "service control"):
		return PolicySCP
	case strings.Contains(p, "resource control"):
		return PolicyRCP
	case strings.Contains(p, "permissions boundary"), strings.Contains(p, "permission boundary"):
		return PolicyPermissionsBoundary
	case strings.Contains(p, "session"):
		return PolicySession
	case strings.Contains(p, "vpc endpoint"):
		return PolicyVPCEndpoint
	case strings.Contains(p, "trust"):
		return PolicyTrust
	case strings.Contains(p, "key policy"):
		return PolicyKMSKey
	default:
		return PolicyUnknown
	}
}

// isBareMessage reports whether msg states nothing beyond "denied": the
// S3 "Access Denied", the SDK's "Forbidden" for a bodiless HEAD, or empty.
func isBareMessage(msg string) bool {
	return strings.TrimSpace(msg) == "" || s3BarePattern.MatchString(msg)
}
