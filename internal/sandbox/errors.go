package sandbox

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// s3Error is an error response in S3's REST form: an XML Error element with
// Code, Message and RequestId, and any fields that explain it further.
type s3Error struct {
	Status  int
	Code    string
	Message string
	Fields  []xmlField // extra elements, in order
}

type xmlField struct {
	Name  string
	Value string
}

func (e *s3Error) Error() string {
	return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, e.Message)
}

func (e *s3Error) with(name, value string) *s3Error {
	e.Fields = append(e.Fields, xmlField{name, value})
	return e
}

func errAccessDenied() *s3Error {
	return &s3Error{Status: http.StatusForbidden, Code: "AccessDenied", Message: "Access Denied"}
}

func errInvalidRequest(format string, args ...any) *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "InvalidRequest", Message: fmt.Sprintf(format, args...)}
}

func errInvalidArgument(name, value, format string, args ...any) *s3Error {
	return (&s3Error{Status: http.StatusBadRequest, Code: "InvalidArgument", Message: fmt.Sprintf(format, args...)}).
		with("ArgumentName", name).with("ArgumentValue", value)
}

func errInternal(err error) *s3Error {
	return &s3Error{Status: http.StatusInternalServerError, Code: "InternalError", Message: "We encountered an internal error. Please try again. (" + err.Error() + ")"}
}

// writeS3Error sends e as S3 does. HEAD responses carry no body, so clients
// see only the status.
func writeS3Error(w http.ResponseWriter, r *http.Request, requestID string, e *s3Error) {
	var body strings.Builder
	body.WriteString(xml.Header)
	body.WriteString("<Error>")
	writeXMLElement(&body, "Code", e.Code)
	writeXMLElement(&body, "Message", e.Message)
	for _, f := range e.Fields {
		writeXMLElement(&body, f.Name, f.Value)
	}
	writeXMLElement(&body, "RequestId", requestID)
	writeXMLElement(&body, "HostId", hostID(requestID))
	body.WriteString("</Error>")

	setRequestIDHeaders(w, requestID)
	w.Header().Set("Content-Type", "application/xml")
	if r.Method == http.MethodHead {
		w.WriteHeader(e.Status)
		return
	}
	w.Header().Set("Content-Length", strconv.Itoa(body.Len()))
	w.WriteHeader(e.Status)
	_, _ = w.Write([]byte(body.String()))
}

func writeXMLElement(b *strings.Builder, name, value string) {
	b.WriteString("<" + name + ">")
	_ = xml.EscapeText(b, []byte(value))
	b.WriteString("</" + name + ">")
}

// writeXML sends a successful XML response.
func writeXML(w http.ResponseWriter, r *http.Request, requestID string, status int, v any) {
	body, err := xml.Marshal(v)
	if err != nil {
		writeS3Error(w, r, requestID, errInternal(err))
		return
	}
	body = append([]byte(xml.Header), body...)

	setRequestIDHeaders(w, requestID)
	w.Header().Set("Content-Type", "application/xml")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

func setRequestIDHeaders(w http.ResponseWriter, requestID string) {
	w.Header().Set("x-amz-request-id", requestID)
	w.Header().Set("x-amz-id-2", hostID(requestID))
}

// newRequestID returns a 16-character ID in the style of S3's request IDs.
func newRequestID() string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	var raw [16]byte
	_, _ = rand.Read(raw[:])
	for i, b := range raw {
		raw[i] = alphabet[int(b)%len(alphabet)]
	}
	return string(raw[:])
}

func hostID(requestID string) string {
	return base64.StdEncoding.EncodeToString([]byte("countersign-sandbox/" + requestID))
}
