package sandbox

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/rs/zerolog"
)

// DeleteObjects limits. S3 takes at most 1,000 keys a request, and a key is
// at most 1,024 bytes, which XML escaping can make 5 KiB ("&amp;" for each
// "&"). So 6 MiB holds any valid body.
const (
	maxDeleteObjects  = 1000
	maxDeleteBodySize = 6 << 20
)

// deleteObjects serves DeleteObjects as S3 authorizes it: each key is
// decided on its own as s3:DeleteObject (or s3:DeleteObjectVersion) on
// BUCKET/KEY. Denied keys get an AccessDenied entry in the 200 response.
// The allowed keys are forwarded to versitygw in a rewritten body, and its
// results are merged with the denials in the order of the request.
func (q *s3Request) deleteObjects() *s3Error {
	body, e := q.readBody(maxDeleteBodySize)
	if e != nil {
		return e
	}
	if len(body) > maxDeleteBodySize {
		return errMalformedXML()
	}
	var in deleteRequest
	if err := xml.Unmarshal(body, &in); err != nil || len(in.Objects) == 0 || len(in.Objects) > maxDeleteObjects {
		return errMalformedXML()
	}

	denied := make(map[int]*s3Error)
	var allowed []deleteObject
	for i, obj := range in.Objects {
		e, err := q.authorizeDelete(obj)
		switch {
		case err != nil:
			return errInternal(err)
		case e != nil:
			denied[i] = e
		default:
			allowed = append(allowed, obj)
		}
	}
	zerolog.Ctx(q.r.Context()).Debug().Str("bucket", q.call.Bucket).Str("principal", q.id.Name).
		Int("allowed", len(allowed)).Int("denied", len(denied)).Msg("delete batch authorized per key")

	results := map[deleteTarget]deleteEntry{}
	if len(allowed) > 0 {
		forwarded := deleteRequest{Quiet: in.Quiet, Objects: allowed}
		var relayed bool
		results, relayed, e = q.forwardDelete(forwarded)
		if e != nil || relayed {
			return e
		}
	}

	out := deleteResult{}
	for i, obj := range in.Objects {
		if e, ok := denied[i]; ok {
			out.Entries = append(out.Entries, deleteEntry{
				XMLName: xml.Name{Local: "Error"}, Key: obj.Key, VersionID: obj.VersionID, Code: e.Code, Message: e.Message,
			})
			continue
		}
		// In quiet mode S3 lists only errors, so a key without a result was
		// deleted.
		if entry, ok := results[obj.target()]; ok {
			out.Entries = append(out.Entries, entry)
		}
	}
	writeXML(q.w, q.r, q.requestID, http.StatusOK, out)
	return nil
}

// authorizeDelete returns the error for a denied key, or an error when the
// Authorizer could not decide.
func (q *s3Request) authorizeDelete(obj deleteObject) (*s3Error, error) {
	req := q.authzRequest()
	req.Action = "s3:DeleteObject"
	if obj.VersionID != "" {
		req.Action = "s3:DeleteObjectVersion"
	}
	req.Key = obj.Key

	err := q.front.authorizer.Authorize(q.r.Context(), req)
	var deniedErr *AccessDeniedError
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &deniedErr):
		e := errAccessDenied()
		if deniedErr.Message != "" {
			e.Message = deniedErr.Message
		}
		return e, nil
	default:
		return nil, err
	}
}

// deleteChecksumHeaders describe the client's body, which the rewritten
// body replaces.
var deleteChecksumHeaders = []string{
	"Content-Md5",
	"X-Amz-Sdk-Checksum-Algorithm",
	"X-Amz-Trailer",
	"X-Amz-Decoded-Content-Length",
	"Content-Encoding",
}

// forwardDelete sends the allowed keys to versitygw and returns its
// results by key. When versitygw fails the whole request, its response is
// relayed to the client as it is, and relayed is true.
func (q *s3Request) forwardDelete(in deleteRequest) (results map[deleteTarget]deleteEntry, relayed bool, e *s3Error) {
	body, err := xml.Marshal(in)
	if err != nil {
		return nil, false, errInternal(err)
	}

	out, e := q.rewrittenRequest(body)
	if e != nil {
		return nil, false, e
	}
	resp, err := q.front.client.Do(out)
	if err != nil {
		return nil, false, errInternal(err)
	}
	defer resp.Body.Close()

	data, err := io.ReadAll(io.LimitReader(resp.Body, maxDeleteBodySize+1))
	if err != nil {
		return nil, false, errInternal(err)
	}
	if resp.StatusCode != http.StatusOK {
		q.relay(resp, data)
		return nil, true, nil
	}

	var result deleteResultInput
	if err := xml.Unmarshal(data, &result); err != nil {
		return nil, false, errInternal(errors.New("versitygw's DeleteObjects result is not a DeleteResult: " + err.Error()))
	}
	results = make(map[deleteTarget]deleteEntry, len(result.Entries))
	for _, entry := range result.Entries {
		entry.XMLName.Space = ""
		results[deleteTarget{entry.Key, entry.VersionID}] = entry
	}
	return results, false, nil
}

// rewrittenRequest builds the request for versitygw with body in place of
// the client's, with a Content-MD5 that matches it, signed with the root key.
func (q *s3Request) rewrittenRequest(body []byte) (*http.Request, *s3Error) {
	target := *q.front.upstream
	target.Path = q.r.URL.Path
	target.RawPath = uriEncode(target.Path, false)
	target.RawQuery = forwardedQuery(q.r.URL.RawQuery)

	out, err := http.NewRequestWithContext(q.r.Context(), http.MethodPost, target.String(), bytes.NewReader(body))
	if err != nil {
		return nil, errInternal(err)
	}
	out.Header = q.r.Header.Clone()
	for _, name := range append(droppedRequestHeaders, deleteChecksumHeaders...) {
		out.Header.Del(name)
	}
	for name := range out.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") {
			out.Header.Del(name)
		}
	}

	sum := md5.Sum(body)
	out.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	out.Header.Set("Content-Type", "application/xml")
	out.ContentLength = int64(len(body))
	payload := sha256.Sum256(body)
	payloadHash := hex.EncodeToString(payload[:])
	out.Header.Set("X-Amz-Content-Sha256", payloadHash)

	err = q.front.signer.SignHTTP(q.r.Context(), q.front.rootCreds, out, payloadHash, "s3", q.front.region, q.front.now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		return nil, errInternal(err)
	}
	return out, nil
}

// relay sends versitygw's response, whose body was read into data, to the
// client.
func (q *s3Request) relay(resp *http.Response, data []byte) {
	header := q.w.Header()
	for name, values := range resp.Header {
		header[name] = values
	}
	for _, name := range droppedResponseHeaders {
		header.Del(name)
	}
	header.Set("Content-Length", strconv.Itoa(len(data)))
	q.w.WriteHeader(resp.StatusCode)
	_, _ = q.w.Write(data)
}

// deleteRequest is the Delete element of a DeleteObjects body. Elements
// match by local name, so the body is accepted with or without S3's
// namespace.
type deleteRequest struct {
	XMLName struct{}       `xml:"Delete"`
	Quiet   bool           `xml:"Quiet,omitempty"`
	Objects []deleteObject `xml:"Object"`
}

type deleteObject struct {
	Key       string `xml:"Key"`
	VersionID string `xml:"VersionId,omitempty"`
	ETag      string `xml:"ETag,omitempty"`
}

// deleteTarget identifies an object version in a batch.
type deleteTarget struct {
	key, versionID string
}

func (o deleteObject) target() deleteTarget {
	return deleteTarget{o.Key, o.VersionID}
}

// deleteResult is the DeleteResult element: Deleted and Error entries in
// one list, so their order is kept.
type deleteResult struct {
	XMLName struct{}      `xml:"http://s3.amazonaws.com/doc/2006-03-01/ DeleteResult"`
	Entries []deleteEntry `xml:",any"`
}

// deleteResultInput matches a DeleteResult by local name, since versitygw
// may leave out S3's namespace.
type deleteResultInput struct {
	XMLName struct{}      `xml:"DeleteResult"`
	Entries []deleteEntry `xml:",any"`
}

// deleteEntry is a Deleted or an Error element, as XMLName records.
type deleteEntry struct {
	XMLName               xml.Name
	Key                   string `xml:"Key"`
	VersionID             string `xml:"VersionId,omitempty"`
	DeleteMarker          string `xml:"DeleteMarker,omitempty"`
	DeleteMarkerVersionID string `xml:"DeleteMarkerVersionId,omitempty"`
	Code                  string `xml:"Code,omitempty"`
	Message               string `xml:"Message,omitempty"`
}
