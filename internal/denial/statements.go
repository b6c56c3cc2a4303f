package denial

import (
	"encoding/json"
	"strings"
	"unicode"

	"github.com/countersign/countersign/internal/delivery"
)

// Placeholders mark values the request did not carry. The angle brackets
// keep a reader from taking them for real values.
const (
	placeholderProjectARN = "<CODEBUILD_PROJECT_ARN>"
	placeholderKeyARN     = "<KMS_KEY_ARN>"
	placeholderRoleARN    = "<ROLE_ARN>"
	placeholderBucket     = "<BUCKET>"
)

// sid builds a statement id from words, keeping only letters and digits
// because AWS accepts nothing else in a Sid.
func sid(words ...string) string {
	var b strings.Builder
	for _, w := range words {
		for _, part := range strings.FieldsFunc(w, func(r rune) bool {
			return !unicode.IsLetter(r) && !unicode.IsDigit(r)
		}) {
			runes := []rune(part)
			runes[0] = unicode.ToUpper(runes[0])
			for _, r := range runes {
				if r < unicode.MaxASCII {
					b.WriteRune(r)
				}
			}
		}
	}
	return b.String()
}

// grant is the action and resource a fix must allow, shared by the
// statements for each document.
type grant struct {
	Actions  []string
	Resource string
	// ListPrefix, when set, limits s3:ListBucket to keys under it with the
	// s3:prefix condition key.
	ListPrefix string
}

// conditions returns the s3:prefix condition for a list grant, or nil.
func (g grant) conditions() map[string]map[string]any {
	if g.ListPrefix == "" {
		return nil
	}
	return map[string]map[string]any{
		"StringLike": {"s3:prefix": g.ListPrefix + "/*"},
	}
}

// identityStatement is the statement to add to the role's identity policy
// (or permissions boundary, or session policy, which take the same form).
func identityStatement(g grant) delivery.Statement {
	return delivery.Statement{
		Sid:       sid("Countersign", "Allow", actionVerbs(g.Actions)),
		Effect:    "Allow",
		Action:    delivery.OneOrMany(g.Actions),
		Resource:  g.Resource,
		Condition: g.conditions(),
	}
}

// resourceStatement is the statement to add to a bucket policy or a VPC
// endpoint policy: the identity statement plus the principal.
func resourceStatement(g grant, principalARN string) delivery.Statement {
	s := identityStatement(g)
	s.Principal = map[string]string{"AWS": principalARN}
	return s
}

// actionVerbs joins the action names without service prefixes for a Sid.
func actionVerbs(actions []string) string {
	verbs := make([]string, 0, len(actions))
	for _, a := range actions {
		_, verb, _ := strings.Cut(a, ":")
		verbs = append(verbs, verb)
	}
	return strings.Join(verbs, " ")
}

// kmsKeyStatement is the statement to add to a KMS key policy so the role
// may use the key through S3. In a key policy, "Resource": "*" means this
// key. The kms:ViaService condition limits the grant to calls S3 makes on
// the role's behalf, when the key's region is known.
func kmsKeyStatement(actions []string, principalARN, region string) delivery.Statement {
	s := delivery.Statement{
		Sid:       "CountersignAllowRoleUseKeyViaS3",
		Effect:    "Allow",
		Principal: map[string]string{"AWS": principalARN},
		Action:    delivery.OneOrMany(actions),
		Resource:  "*",
	}
	if region != "" {
		s.Condition = map[string]map[string]any{
			"StringEquals": {"kms:ViaService": "s3." + region + ".amazonaws.com"},
		}
	}
	return s
}

// trustStatement is the trust policy statement that lets CodeBuild assume
// the build role, scoped to one project so another project in another
// account cannot borrow the role (the confused deputy problem).
func trustStatement(account, projectARN string) delivery.Statement {
	if account == "" {
		account = "<TOOLS_ACCOUNT_ID>"
	}
	if projectARN == "" {
		projectARN = placeholderProjectARN
	}
	return delivery.Statement{
		Sid:       "CountersignTrustCodeBuild",
		Effect:    "Allow",
		Principal: map[string]string{"Service": "codebuild.amazonaws.com"},
		Action:    "sts:AssumeRole",
		Condition: map[string]map[string]any{
			"StringEquals": {"aws:SourceAccount": account},
			"ArnLike":      {"aws:SourceArn": projectARN},
		},
	}
}

// trustStatementForPrincipal lets an IAM role or user assume the role.
func trustStatementForPrincipal(principalARN string) delivery.Statement {
	return delivery.Statement{
		Sid:       "CountersignTrustCaller",
		Effect:    "Allow",
		Principal: map[string]string{"AWS": principalARN},
		Action:    "sts:AssumeRole",
	}
}

// IdentityStatementJSON returns, as indented JSON, the identity policy
// statement that allows actions on resource.
func IdentityStatementJSON(actions []string, resource string) json.RawMessage {
	return identityStatement(grant{Actions: actions, Resource: resource}).Render()
}

// ResourceStatementJSON returns, as indented JSON, the bucket policy
// statement that allows principalARN the actions on resource.
func ResourceStatementJSON(actions []string, resource, principalARN string) json.RawMessage {
	return resourceStatement(grant{Actions: actions, Resource: resource}, principalARN).Render()
}

// TrustStatementJSON returns, as indented JSON, the trust policy statement
// that lets CodeBuild assume the role for one project of account. An empty
// account or project ARN becomes a placeholder.
func TrustStatementJSON(account, projectARN string) json.RawMessage {
	return trustStatement(account, projectARN).Render()
}
