package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

const (
	stsVersion   = "2011-06-15"
	stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"
	maxSTSBody   = 64 * 1024
)

// stsError is an error in the STS query protocol's XML form.
type stsError struct {
	Status  int
	Code    string
	Message string
}

// serveSTS serves STS query-protocol requests (form POST or GET):
// GetCallerIdentity and AssumeRole.
func (f *Front) serveSTS(w http.ResponseWriter, r *http.Request, requestID string, auth *sigV4Request, failure *authFailure, info *requestLog) {
	if failure != nil {
		writeSTSError(w, requestID, stsAuthError(failure))
		return
	}

	body, err := io.ReadAll(io.LimitReader(r.Body, maxSTSBody+1))
	if err != nil || len(body) > maxSTSBody {
		writeSTSError(w, requestID, &stsError{http.StatusBadRequest, "InvalidParameterValue", "The request body is unreadable or larger than 64 KiB."})
		return
	}

	payloadHash := r.Header.Get("X-Amz-Content-Sha256")
	if payloadHash == "" {
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	id, failure := f.authenticate(r, auth, payloadHash)
	if failure != nil {
		writeSTSError(w, requestID, stsAuthError(failure))
		return
	}
	info.principal = id.Name

	params := r.URL.Query()
	if r.Method == http.MethodPost {
		form, err := url.ParseQuery(string(body))
		if err != nil {
			writeSTSError(w, requestID, &stsError{http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form: " + err.Error()})
			return
		}
		for name, values := range form {
			params[name] = append(params[name], values...)
		}
	}

	action := params.Get("Action")
	info.operation = action
	version := params.Get("Version")
	switch {
	case version != stsVersion:
	case action == "GetCallerIdentity" && id.Service != "":
		// AWS never hands a service principal's credentials to anyone, so
		// real STS would not know these keys and rejects them as it rejects
		// any key it did not issue. The message explains the rejection,
		// because in the sandbox the same keys do work for AssumeRole.
		writeSTSError(w, requestID, &stsError{http.StatusForbidden, "InvalidClientTokenId",
			"The security token included in the request is invalid: these are the keys of the sandbox's service principal " + id.Service +
				", which have no caller identity; call AssumeRole with them and use the role's session credentials."})
		return
	case action == "GetCallerIdentity":
		writeSTSResponse(w, requestID, getCallerIdentityResponse{
			Result: callerIdentity{Arn: id.ARN, UserID: id.UserID, Account: id.Account},
			Meta:   responseMetadata{RequestID: requestID},
		})
		return
	case action == "AssumeRole":
		resp, e := f.assumeRole(r, id, params, requestID)
		if e != nil {
			writeSTSError(w, requestID, e)
			return
		}
		writeSTSResponse(w, requestID, resp)
		return
	}
	writeSTSError(w, requestID, &stsError{http.StatusBadRequest, "InvalidAction",
		"Could not find operation " + action + " for version " + version})
}

type getCallerIdentityResponse struct {
	XMLName struct{}         `xml:"https://sts.amazonaws.com/doc/2011-06-15/ GetCallerIdentityResponse"`
	Result  callerIdentity   `xml:"GetCallerIdentityResult"`
	Meta    responseMetadata `xml:"ResponseMetadata"`
}

type callerIdentity struct {
	Arn     string `xml:"Arn"`
	UserID  string `xml:"UserId"`
	Account string `xml:"Account"`
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

func writeSTSResponse(w http.ResponseWriter, requestID string, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		writeSTSError(w, requestID, &stsError{http.StatusInternalServerError, "InternalFailure", err.Error()})
		return
	}
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

type stsErrorResponse struct {
	XMLName   struct{}      `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Error     stsErrorInner `xml:"Error"`
	RequestID string        `xml:"RequestId"`
}

type stsErrorInner struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

func writeSTSError(w http.ResponseWriter, requestID string, e *stsError) {
	errType := "Sender"
	if e.Status >= 500 {
		errType = "Receiver"
	}
	body, _ := xml.Marshal(stsErrorResponse{
		Error:     stsErrorInner{Type: errType, Code: e.Code, Message: e.Message},
		RequestID: requestID,
	})
	w.Header().Set("X-Amzn-Requestid", requestID)
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(e.Status)
	_, _ = w.Write(body)
}

// stsAuthError turns an authentication failure into STS's error response.
func stsAuthError(f *authFailure) *stsError {
	switch f.kind {
	case authMissing:
		return &stsError{http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token"}
	case authMalformed, authUnsupported:
		return &stsError{http.StatusBadRequest, "IncompleteSignature", f.detail}
	case authUnknownKey, authInvalidToken:
		return &stsError{http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid."}
	case authWrongRegion:
		return &stsError{http.StatusForbidden, "SignatureDoesNotMatch", "Credential should be scoped to a valid region; " + f.detail + "."}
	case authClockSkew, authExpired, authNotYetValid:
		return &stsError{http.StatusForbidden, "SignatureDoesNotMatch", "Signature expired or not yet valid: " + strings.TrimSuffix(f.detail, ".") + "."}
	case authSignatureMismatch:
		return &stsError{http.StatusForbidden, "SignatureDoesNotMatch", f.detail}
	case authExpiredToken:
		return &stsError{http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired"}
	}
	return &stsError{http.StatusForbidden, "AccessDenied", f.detail}
}
