package sandbox

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Signature Version 4 verification, written from AWS's "Create a signed AWS
// API request" and S3's "Authenticating Requests (AWS Signature Version 4)".

const (
	sigV4Algorithm   = "AWS4-HMAC-SHA256"
	sigV4Terminator  = "aws4_request"
	amzDateFormat    = "20060102T150405Z"
	scopeDateFormat  = "20060102"
	maxClockSkew     = 15 * time.Minute
	maxPresignExpiry = 7 * 24 * time.Hour

	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

	// Values of x-amz-content-sha256 besides a hex SHA-256.
	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
	streamingECDSAPrefix     = "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD"
)

// authFailureKind classifies why a request was not authenticated. S3 and STS
// report the same failure with different error codes.
type authFailureKind int

const (
	authMissing           authFailureKind = iota + 1 // no signature at all
	authMalformed                                    // Authorization header or query parameters not well formed
	authUnsupported                                  // not AWS4-HMAC-SHA256 (SigV2, SigV4a)
	authUnknownKey                                   // access key ID not in the world
	authInvalidToken                                 // session token missing, wrong or unexpected
	authSignatureMismatch                            // signature differs
	authClockSkew                                    // header signature dated too far from now
	authExpired                                      // presigned URL past X-Amz-Expires
	authNotYetValid                                  // presigned URL dated in the future
	authWrongRegion                                  // scope names another region
	authUnsignedHeaders                              // x-amz-* headers present but not signed
	authBadContentSHA256                             // x-amz-content-sha256 missing or not a known value
	authExpiredToken                                 // AssumeRole credentials past their expiration
)

// authFailure is a request that failed authentication, with what the error
// response needs to explain it.
type authFailure struct {
	kind   authFailureKind
	detail string

	accessKeyID      string
	region           string // the region the scope should name
	stringToSign     string
	canonicalRequest string
	headersNotSigned string
}

func (f *authFailure) Error() string { return f.detail }

func authFail(kind authFailureKind, format string, args ...any) *authFailure {
	return &authFailure{kind: kind, detail: fmt.Sprintf(format, args...)}
}

// sigV4Request is the signature information a request carries, in the
// Authorization header or in presigned query parameters.
type sigV4Request struct {
	presigned bool

	accessKeyID string
	scopeDate   string
	region      string
	service     string

	signedHeaders []string
	signature     string

	amzDate string
	time    time.Time
	expires time.Duration // presigned only

	securityToken string
}

func (a *sigV4Request) scope() string {
	return a.scopeDate + "/" + a.region + "/" + a.service + "/" + sigV4Terminator
}

// parseSigV4 extracts the signature information of r without checking it.
func parseSigV4(r *http.Request) (*sigV4Request, *authFailure) {
	header := r.Header.Get("Authorization")
	query := r.URL.Query()
	presigned := query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")

	switch {
	case header != "" && presigned:
		return nil, authFail(authMalformed, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified")
	case header != "":
		return parseAuthorizationHeader(r, header)
	case presigned:
		return parsePresignedQuery(query)
	default:
		return nil, authFail(authMissing, "Access Denied")
	}
}

func parseAuthorizationHeader(r *http.Request, header string) (*sigV4Request, *authFailure) {
	algorithm, rest, _ := strings.Cut(header, " ")
	if algorithm != sigV4Algorithm {
		return nil, authFail(authUnsupported, "The authorization mechanism you have provided is not supported. Please use %s.", sigV4Algorithm)
	}

	a := &sigV4Request{}
	var credential, signedHeaders string
	for part := range strings.SplitSeq(rest, ",") {
		name, value, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return nil, authFail(authMalformed, "The authorization header is malformed; the component %q is not of the form name=value.", strings.TrimSpace(part))
		}
		switch name {
		case "Credential":
			credential = value
		case "SignedHeaders":
			signedHeaders = value
		case "Signature":
			a.signature = value
		default:
			return nil, authFail(authMalformed, "The authorization header is malformed; unknown component %q.", name)
		}
	}
	if credential == "" || signedHeaders == "" || a.signature == "" {
		return nil, authFail(authMalformed, "The authorization header is malformed; it needs Credential, SignedHeaders and Signature.")
	}
	if f := a.parseCredential(credential); f != nil {
		return nil, f
	}
	a.signedHeaders = strings.Split(signedHeaders, ";")

	a.amzDate = r.Header.Get("X-Amz-Date")
	if a.amzDate != "" {
		t, err := time.Parse(amzDateFormat, a.amzDate)
		if err != nil {
			return nil, authFail(authMalformed, "X-Amz-Date %q is not of the form %s.", a.amzDate, amzDateFormat)
		}
		a.time = t
	} else {
		date := r.Header.Get("Date")
		t, err := http.ParseTime(date)
		if err != nil {
			return nil, authFail(authMalformed, "AWS authentication requires a valid Date or x-amz-date header")
		}
		a.time = t.UTC()
		a.amzDate = a.time.Format(amzDateFormat)
	}

	a.securityToken = r.Header.Get("X-Amz-Security-Token")
	return a, a.checkSignedFields()
}

func parsePresignedQuery(query url.Values) (*sigV4Request, *authFailure) {
	if got := query.Get("X-Amz-Algorithm"); got != sigV4Algorithm {
		return nil, authFail(authUnsupported, "X-Amz-Algorithm %q is not supported. Please use %s.", got, sigV4Algorithm)
	}

	a := &sigV4Request{presigned: true}
	for _, name := range []string{"X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		if query.Get(name) == "" {
			return nil, authFail(authMalformed, "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters; %s is missing.", name)
		}
	}
	if f := a.parseCredential(query.Get("X-Amz-Credential")); f != nil {
		return nil, f
	}
	a.signedHeaders = strings.Split(query.Get("X-Amz-SignedHeaders"), ";")
	a.signature = query.Get("X-Amz-Signature")

	a.amzDate = query.Get("X-Amz-Date")
	t, err := time.Parse(amzDateFormat, a.amzDate)
	if err != nil {
		return nil, authFail(authMalformed, "X-Amz-Date %q is not of the form %s.", a.amzDate, amzDateFormat)
	}
	a.time = t

	expires := query.Get("X-Amz-Expires")
	seconds, err := strconv.ParseInt(expires, 10, 64)
	switch {
	case expires == "" && a.service == "s3":
		return nil, authFail(authMalformed, "Query-string authentication version 4 requires the X-Amz-Expires parameter.")
	case expires == "":
		a.expires = maxClockSkew
	case err != nil || seconds < 1:
		return nil, authFail(authMalformed, "X-Amz-Expires %q must be a positive number of seconds.", expires)
	case time.Duration(seconds)*time.Second > maxPresignExpiry:
		return nil, authFail(authMalformed, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	default:
		a.expires = time.Duration(seconds) * time.Second
	}

	a.securityToken = query.Get("X-Amz-Security-Token")
	return a, a.checkSignedFields()
}

// parseCredential splits AKID/DATE/REGION/SERVICE/aws4_request.
func (a *sigV4Request) parseCredential(credential string) *authFailure {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 || parts[0] == "" || parts[2] == "" || parts[3] == "" {
		return authFail(authMalformed, "The credential %q is malformed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/%s\".", credential, sigV4Terminator)
	}
	if parts[4] != sigV4Terminator {
		return authFail(authMalformed, "The credential %q is malformed; it must end with %q.", credential, sigV4Terminator)
	}
	if _, err := time.Parse(scopeDateFormat, parts[1]); err != nil {
		return authFail(authMalformed, "The credential %q is malformed; %q is not a date of the form YYYYMMDD.", credential, parts[1])
	}

	a.accessKeyID = parts[0]
	a.scopeDate = parts[1]
	a.region = parts[2]
	a.service = parts[3]
	return nil
}

// checkSignedFields checks that the scope date is the request date and that
// the host header is signed, as AWS requires.
func (a *sigV4Request) checkSignedFields() *authFailure {
	if a.scopeDate != a.amzDate[:8] {
		return authFail(authMalformed, "The credential date %s does not match the request date %s.", a.scopeDate, a.amzDate[:8])
	}
	if !slices.Contains(a.signedHeaders, "host") {
		return authFail(authMalformed, "The host header must be signed.")
	}
	return nil
}

// checkTime rejects signatures dated too far from now and expired presigned
// URLs.
func (a *sigV4Request) checkTime(now time.Time) *authFailure {
	if a.presigned {
		if a.time.After(now.Add(maxClockSkew)) {
			return authFail(authNotYetValid, "Request is not valid yet")
		}
		if now.After(a.time.Add(a.expires)) {
			return authFail(authExpired, "Request has expired")
		}
		return nil
	}

	if skew := now.Sub(a.time); skew > maxClockSkew || skew < -maxClockSkew {
		return authFail(authClockSkew, "The difference between the request time and the current time is too large.")
	}
	return nil
}

// unsignedAmzHeaders returns the x-amz-* headers of r that the signature
// does not cover. S3 rejects such requests, because those headers change
// what the request does.
func (a *sigV4Request) unsignedAmzHeaders(r *http.Request) []string {
	if a.presigned {
		return nil
	}

	var missing []string
	for name := range r.Header {
		lower := strings.ToLower(name)
		if strings.HasPrefix(lower, "x-amz-") && !slices.Contains(a.signedHeaders, lower) {
			missing = append(missing, lower)
		}
	}
	slices.Sort(missing)
	return missing
}

// verify recomputes the signature of r with secret and compares it with the
// one r carries. payloadHash is the value the client put in the canonical
// request.
func (a *sigV4Request) verify(r *http.Request, secret, payloadHash string) *authFailure {
	canonical := canonicalRequest(r, a, payloadHash)
	stringToSign := a.stringToSign(canonical)
	want := hex.EncodeToString(hmacSHA256(a.signingKey(secret), []byte(stringToSign)))

	if !hmac.Equal([]byte(want), []byte(a.signature)) {
		f := authFail(authSignatureMismatch, "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
		f.accessKeyID = a.accessKeyID
		f.stringToSign = stringToSign
		f.canonicalRequest = redactSecurityToken(canonical)
		return f
	}
	return nil
}

func (a *sigV4Request) stringToSign(canonical string) string {
	sum := sha256.Sum256([]byte(canonical))
	return sigV4Algorithm + "\n" + a.amzDate + "\n" + a.scope() + "\n" + hex.EncodeToString(sum[:])
}

func (a *sigV4Request) signingKey(secret string) []byte {
	key := hmacSHA256([]byte("AWS4"+secret), []byte(a.scopeDate))
	key = hmacSHA256(key, []byte(a.region))
	key = hmacSHA256(key, []byte(a.service))
	return hmacSHA256(key, []byte(sigV4Terminator))
}

func hmacSHA256(key, data []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(data)
	return mac.Sum(nil)
}

// canonicalRequest builds the string that the client signed:
// method, URI, query, headers, signed header names and payload hash.
func canonicalRequest(r *http.Request, a *sigV4Request, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r, a.service))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, a.presigned))
	b.WriteByte('\n')
	for _, name := range a.signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(a.signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI encodes each path segment once for S3, whose keys are taken
// literally, and encodes the escaped path a second time for other services.
func canonicalURI(r *http.Request, service string) string {
	if service != "s3" {
		path := r.URL.EscapedPath()
		if path == "" {
			return "/"
		}
		return uriEncode(path, false)
	}

	path := r.URL.Path
	if path == "" {
		return "/"
	}
	return uriEncode(path, false)
}

// canonicalQuery sorts the query parameters by name and value, each
// URI-encoded. A presigned request's own signature is left out.
func canonicalQuery(rawQuery string, presigned bool) string {
	type pair struct{ name, value string }
	var pairs []pair
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		name = queryUnescape(name)
		value = queryUnescape(value)
		if presigned && name == "X-Amz-Signature" {
			continue
		}
		pairs = append(pairs, pair{uriEncode(name, true), uriEncode(value, true)})
	}

	slices.SortFunc(pairs, func(x, y pair) int {
		if c := strings.Compare(x.name, y.name); c != 0 {
			return c
		}
		return strings.Compare(x.value, y.value)
	})

	parts := make([]string, len(pairs))
	for i, p := range pairs {
		parts[i] = p.name + "=" + p.value
	}
	return strings.Join(parts, "&")
}

func queryUnescape(s string) string {
	u, err := url.QueryUnescape(s)
	if err != nil {
		// Keep the raw text: the signature then fails to match, which is
		// the answer a malformed query deserves.
		return s
	}
	return u
}

// canonicalHeaderValue joins a header's values with commas, each trimmed and
// with inner runs of spaces collapsed. Go's server moves Host and
// Transfer-Encoding out of the header map, so they are read back from the
// request.
func canonicalHeaderValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		values = []string{r.Host}
	case "transfer-encoding":
		values = r.Header.Values(name)
		if len(values) == 0 {
			values = r.TransferEncoding
		}
	case "content-length":
		values = r.Header.Values(name)
		if len(values) == 0 && r.ContentLength >= 0 && r.TransferEncoding == nil {
			values = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	default:
		values = r.Header.Values(name)
	}

	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(trimmed, ",")
}

// uriEncode percent-encodes every byte outside A-Za-z0-9-._~ as %XX with
// uppercase hex, and keeps '/' unless encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~':
			b.WriteByte(c)
		case c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// redactSecurityToken hides the session token's value in a canonical request
// that is echoed back in an error response.
func redactSecurityToken(canonical string) string {
	lines := strings.Split(canonical, "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "x-amz-security-token:") {
			lines[i] = "x-amz-security-token:<redacted>"
		}
	}
	// The third line is the query, where presigned requests carry the token.
	if len(lines) > 2 {
		lines[2] = redactQueryToken(lines[2])
	}
	return strings.Join(lines, "\n")
}

func redactQueryToken(query string) string {
	parts := strings.Split(query, "&")
	for i, p := range parts {
		if strings.HasPrefix(p, "X-Amz-Security-Token=") {
			parts[i] = "X-Amz-Security-Token=<redacted>"
		}
	}
	return strings.Join(parts, "&")
}

// isHexSHA256 reports whether s is 64 lowercase or uppercase hex digits.
func isHexSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}
