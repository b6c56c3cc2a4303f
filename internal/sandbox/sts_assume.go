package sandbox

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/countersign/countersign/policy"
)

// AssumeRole's limits, as the STS API reference documents them for
// DurationSeconds and Policy.
const (
	minSessionDuration     = 900 * time.Second
	maxSessionDuration     = 43200 * time.Second
	defaultSessionDuration = time.Hour
	chainedSessionLimit    = time.Hour // for a role session that assumes a role
	maxSessionPolicyLength = 2048      // characters of the Policy parameter
)

// expiredSessionRetention is how long the front keeps credentials after
// they expire, so that a client using them gets ExpiredToken rather than
// InvalidAccessKeyId.
const expiredSessionRetention = time.Hour

var (
	sessionNameParamPattern = regexp.MustCompile(`^[\w+=,.@-]*$`)
	externalIDPattern       = regexp.MustCompile(`^[\w+=,.@:/-]*$`)
)

// unsupportedAssumeRoleParams are AssumeRole parameters that the sandbox
// does not implement. It rejects them rather than ignore what they would
// restrict.
var unsupportedAssumeRoleParams = []string{
	"PolicyArns", "Tags", "TransitiveTagKeys", "SerialNumber", "TokenCode", "SourceIdentity", "ProvidedContexts",
}

// sessionStore holds the credentials that AssumeRole issued, in memory
// only, so they end with the sandbox process.
type sessionStore struct {
	mu    sync.Mutex
	byKey map[string]*Identity
}

func newSessionStore() *sessionStore {
	return &sessionStore{byKey: make(map[string]*Identity)}
}

// Get returns the session that owns an access key ID, expired or not.
func (s *sessionStore) Get(key string) (*Identity, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()

	id, ok := s.byKey[key]
	return id, ok
}

// Add stores a session and drops those expired for longer than
// expiredSessionRetention.
func (s *sessionStore) Add(id *Identity, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()

	for key, old := range s.byKey {
		if now.Sub(old.Expiration) > expiredSessionRetention {
			delete(s.byKey, key)
		}
	}
	s.byKey[id.AccessKeyID] = id
}

// trustEvaluator decides AssumeRole calls with each role's trust policy
// and, for IAM callers, their identity policies.
type trustEvaluator struct {
	dir             *Directory
	trust           map[string]*policy.Policy   // by role ARN with path
	identity        map[string][]*policy.Policy // by role or user ARN with path
	secureTransport bool
}

func newTrustEvaluator(dir *Directory) (*trustEvaluator, error) {
	identity, err := parseIdentityPolicies(dir.World)
	if err != nil {
		return nil, err
	}
	e := &trustEvaluator{
		dir:             dir,
		trust:           make(map[string]*policy.Policy),
		identity:        identity,
		secureTransport: secureTransport(dir.World),
	}

	for i := range dir.World.Accounts {
		account := &dir.World.Accounts[i]
		for j := range account.Roles {
			role := &account.Roles[j]
			if len(role.TrustPolicy) == 0 {
				continue
			}
			arn := role.ARN(account.ID)
			p, err := policy.Parse(role.TrustPolicy)
			if err != nil {
				return nil, fmt.Errorf("trust policy of role %s: %w", arn, err)
			}
			e.trust[arn] = p
		}
	}
	return e, nil
}

// allows reports whether caller may assume the role. A role without a
// trust policy trusts no one.
func (e *trustEvaluator) allows(caller *Identity, roleARN, roleAccount string, context map[string][]string) (bool, error) {
	trust := e.trust[roleARN]
	if trust == nil {
		return false, nil
	}

	req := policy.Request{
		Principal:        caller.ARN,
		PrincipalRoleARN: caller.RoleARN,
		PrincipalAccount: caller.Account,
		Action:           "sts:AssumeRole",
		Resource:         roleARN,
		ResourceAccount:  roleAccount,
		Context:          context,
	}
	set := policy.PolicySet{Identity: e.identity[caller.identityPolicyHolder()]}
	if caller.SessionPolicy != nil {
		set.Session = []*policy.Policy{caller.SessionPolicy}
	}

	res, err := policy.EvaluateTrust(req, trust, set)
	if err != nil {
		return false, fmt.Errorf("evaluate the trust policy of %s: %w", roleARN, err)
	}
	return res.Decision == policy.Allowed, nil
}

// assumeRoleInput is an AssumeRole request's parameters once validated.
type assumeRoleInput struct {
	roleARN       string
	sessionName   string
	duration      time.Duration
	sessionPolicy *policy.Policy
	externalID    string
}

// assumeRole serves STS AssumeRole: it validates the parameters, checks the
// role's trust policy (and the caller's own policies), and issues temporary
// credentials that the front accepts until they expire.
func (f *Front) assumeRole(r *http.Request, caller *Identity, params url.Values, requestID string) (*assumeRoleResponse, *stsError) {
	in, e := parseAssumeRoleInput(params)
	if e != nil {
		return nil, e
	}

	if rootARNPattern.MatchString(caller.ARN) {
		return nil, &stsError{http.StatusForbidden, "AccessDenied", "Roles may not be assumed by root accounts."}
	}
	denied := &stsError{http.StatusForbidden, "AccessDenied",
		"User: " + caller.ARN + " is not authorized to perform: sts:AssumeRole on resource: " + in.roleARN}

	// STS gives the same denial for a role that does not exist, so that
	// callers cannot probe for role names.
	account, role, err := findRole(f.dir.accounts, in.roleARN)
	if err != nil {
		return nil, denied
	}

	allowed, err := f.trust.allows(caller, in.roleARN, account.ID, f.trustContext(r, caller, in))
	if err != nil {
		return nil, &stsError{http.StatusInternalServerError, "InternalFailure", err.Error()}
	}
	if !allowed {
		return nil, denied
	}

	switch {
	case caller.roleSession() && in.duration > chainedSessionLimit:
		return nil, &stsError{http.StatusBadRequest, "ValidationError",
			"The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining."}
	case in.duration > role.maxSession():
		return nil, &stsError{http.StatusBadRequest, "ValidationError",
			"The requested DurationSeconds exceeds the MaxSessionDuration set for this role."}
	}

	session, err := newSessionCredentials()
	if err != nil {
		return nil, &stsError{http.StatusInternalServerError, "InternalFailure", err.Error()}
	}
	session.Name = "session:" + role.Name + "/" + in.sessionName
	setRoleSession(session, account, role, in.sessionName)
	session.SessionPolicy = in.sessionPolicy
	// STS reports expirations to the second.
	session.Expiration = f.now().Add(in.duration).UTC().Truncate(time.Second)
	f.sessions.Add(session, f.now())

	zerolog.Ctx(r.Context()).Debug().Str("caller", caller.ARN).Str("role", in.roleARN).Str("session", in.sessionName).
		Time("expiration", session.Expiration).Bool("session_policy", in.sessionPolicy != nil).Msg("role assumed")

	return &assumeRoleResponse{
		Result: assumeRoleResult{
			Credentials: stsCredentials{
				AccessKeyID:     session.AccessKeyID,
				SecretAccessKey: session.SecretAccessKey,
				SessionToken:    session.SessionToken,
				Expiration:      session.Expiration.Format(time.RFC3339),
			},
			AssumedRoleUser: assumedRoleUser{AssumedRoleID: session.UserID, Arn: session.ARN},
		},
		Meta: responseMetadata{RequestID: requestID},
	}, nil
}

// trustContext returns the condition keys of an AssumeRole request.
func (f *Front) trustContext(r *http.Request, caller *Identity, in *assumeRoleInput) map[string][]string {
	keys := map[string][]string{
		"aws:SecureTransport": {strconv.FormatBool(f.trust.secureTransport || r.TLS != nil)},
		"sts:RoleSessionName": {in.sessionName},
	}
	if ip := remoteIP(r); ip != "" {
		keys["aws:SourceIp"] = []string{ip}
	}
	if in.externalID != "" {
		keys["sts:ExternalId"] = []string{in.externalID}
	}
	if caller.SourceAccount != "" {
		keys["aws:SourceAccount"] = []string{caller.SourceAccount}
	}
	if caller.SourceARN != "" {
		keys["aws:SourceArn"] = []string{caller.SourceARN}
	}
	return keys
}

// parseAssumeRoleInput validates the parameters as STS does and reports
// every invalid one in a single ValidationError.
func parseAssumeRoleInput(params url.Values) (*assumeRoleInput, *stsError) {
	for name := range params {
		for _, unsupported := range unsupportedAssumeRoleParams {
			if name == unsupported || strings.HasPrefix(name, unsupported+".") {
				return nil, &stsError{http.StatusBadRequest, "InvalidParameterValue",
					"The sandbox does not support the AssumeRole parameter " + unsupported + "; remove it."}
			}
		}
	}

	var problems []string
	in := &assumeRoleInput{duration: defaultSessionDuration}

	in.roleARN = params.Get("RoleArn")
	problems = append(problems, checkLength("roleArn", in.roleARN, params.Has("RoleArn"), 20, 2048)...)

	in.sessionName = params.Get("RoleSessionName")
	if p := checkLength("roleSessionName", in.sessionName, params.Has("RoleSessionName"), 2, 64); len(p) > 0 {
		problems = append(problems, p...)
	} else if !sessionNameParamPattern.MatchString(in.sessionName) {
		problems = append(problems, constraint("roleSessionName", in.sessionName, `Member must satisfy regular expression pattern: [\w+=,.@-]*`))
	}

	if text := params.Get("DurationSeconds"); params.Has("DurationSeconds") {
		seconds, err := strconv.Atoi(text)
		switch {
		case err != nil:
			problems = append(problems, constraint("durationSeconds", text, "Member must be an integer"))
		case time.Duration(seconds)*time.Second < minSessionDuration:
			problems = append(problems, constraint("durationSeconds", text, "Member must have value greater than or equal to 900"))
		case time.Duration(seconds)*time.Second > maxSessionDuration:
			problems = append(problems, constraint("durationSeconds", text, "Member must have value less than or equal to 43200"))
		default:
			in.duration = time.Duration(seconds) * time.Second
		}
	}

	if params.Has("ExternalId") {
		in.externalID = params.Get("ExternalId")
		if p := checkLength("externalId", in.externalID, true, 2, 1224); len(p) > 0 {
			problems = append(problems, p...)
		} else if !externalIDPattern.MatchString(in.externalID) {
			problems = append(problems, constraint("externalId", in.externalID, `Member must satisfy regular expression pattern: [\w+=,.@:\/-]*`))
		}
	}

	doc := params.Get("Policy")
	if params.Has("Policy") {
		problems = append(problems, checkLength("policy", doc, true, 1, maxSessionPolicyLength)...)
	}

	if len(problems) > 0 {
		noun := "error"
		if len(problems) > 1 {
			noun = "errors"
		}
		return nil, &stsError{http.StatusBadRequest, "ValidationError",
			fmt.Sprintf("%d validation %s detected: %s", len(problems), noun, strings.Join(problems, "; "))}
	}

	if !roleARNPattern.MatchString(in.roleARN) {
		return nil, &stsError{http.StatusBadRequest, "ValidationError",
			in.roleARN + " is invalid: a role ARN is arn:aws:iam::ACCOUNT:role/NAME"}
	}
	if doc != "" {
		p, err := policy.Parse([]byte(doc))
		if err != nil {
			return nil, &stsError{http.StatusBadRequest, "MalformedPolicyDocument", "The session policy is invalid: " + err.Error()}
		}
		in.sessionPolicy = p
	}
	return in, nil
}

// checkLength returns STS's validation messages for a missing value or one
// whose length in characters is outside min..max.
func checkLength(member, value string, present bool, minLength, maxLength int) []string {
	n := len([]rune(value))
	switch {
	case !present:
		return []string{"Value null at '" + member + "' failed to satisfy constraint: Member must not be null"}
	case n < minLength:
		return []string{constraint(member, value, fmt.Sprintf("Member must have length greater than or equal to %d", minLength))}
	case n > maxLength:
		return []string{constraint(member, value, fmt.Sprintf("Member must have length less than or equal to %d", maxLength))}
	}
	return nil
}

func constraint(member, value, rule string) string {
	return "Value '" + value + "' at '" + member + "' failed to satisfy constraint: " + rule
}

// newSessionCredentials returns an identity with fresh random temporary
// credentials: an ASIA key ID, a 40-character secret and a session token.
func newSessionCredentials() (*Identity, error) {
	raw := make([]byte, 10+30+96)
	if _, err := rand.Read(raw); err != nil {
		return nil, fmt.Errorf("generate session credentials: %w", err)
	}

	return &Identity{
		AccessKeyID:     "ASIA" + base32.StdEncoding.EncodeToString(raw[:10])[:16],
		SecretAccessKey: base64.StdEncoding.EncodeToString(raw[10:40]),
		SessionToken:    base64.StdEncoding.EncodeToString(raw[40:]),
	}, nil
}

type assumeRoleResponse struct {
	XMLName struct{}         `xml:"https://sts.amazonaws.com/doc/2011-06-15/ AssumeRoleResponse"`
	Result  assumeRoleResult `xml:"AssumeRoleResult"`
	Meta    responseMetadata `xml:"ResponseMetadata"`
}

type assumeRoleResult struct {
	Credentials     stsCredentials  `xml:"Credentials"`
	AssumedRoleUser assumedRoleUser `xml:"AssumedRoleUser"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

type assumedRoleUser struct {
	AssumedRoleID string `xml:"AssumedRoleId"`
	Arn           string `xml:"Arn"`
}
