package sandbox

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/rs/zerolog"
)

// droppedRequestHeaders are the client headers that are not forwarded: its
// credentials and signature (the request is re-signed), the checks the front
// has already applied, and hop-by-hop headers.
var droppedRequestHeaders = []string{
	"Authorization",
	"X-Amz-Date",
	"X-Amz-Security-Token",
	"X-Amz-Content-Sha256",
	"X-Amz-Expected-Bucket-Owner",
	"X-Amz-Source-Expected-Bucket-Owner",
	"X-Amz-Acl",
	"X-Amz-Server-Side-Encryption",
	"X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id",
	"X-Amz-Server-Side-Encryption-Context",
	"X-Amz-Server-Side-Encryption-Bucket-Key-Enabled",
	sseMetadataHeader,
	"Content-Length", // set from the outgoing body, which may differ
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Proxy-Authorization",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
	"Expect",
}

// droppedResponseHeaders are hop-by-hop headers of versitygw's response.
var droppedResponseHeaders = []string{
	"Connection",
	"Proxy-Connection",
	"Keep-Alive",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// presignParams are the query parameters of a presigned URL's signature.
var presignParams = map[string]bool{
	"X-Amz-Algorithm":      true,
	"X-Amz-Credential":     true,
	"X-Amz-Date":           true,
	"X-Amz-Expires":        true,
	"X-Amz-SignedHeaders":  true,
	"X-Amz-Signature":      true,
	"X-Amz-Security-Token": true,
}

// forward sends the request to versitygw, signed with its root key, and
// streams the response back. Bodies are never held in memory whole.
func (q *s3Request) forward() *s3Error {
	out, body, e := q.outboundRequest()
	if e != nil {
		return e
	}

	resp, err := q.front.client.Do(out)
	if err != nil {
		// A body that failed its chunk checks cut the upload short; the
		// client needs to hear why.
		if body != nil && body.err != nil {
			var s3e *s3Error
			if errors.As(body.err, &s3e) {
				return s3e
			}
		}
		if q.r.Context().Err() != nil {
			// The client disconnected, so no response can reach it.
			return nil
		}
		return errInternal(err)
	}
	defer resp.Body.Close()

	header := q.w.Header()
	for name, values := range resp.Header {
		header[name] = values
	}
	for _, name := range droppedResponseHeaders {
		header.Del(name)
	}
	// versitygw 1.8.0 sends these twice; S3 sends each once.
	for _, name := range []string{"X-Amz-Request-Id", "X-Amz-Id-2"} {
		if values := header.Values(name); len(values) > 1 {
			header.Set(name, values[0])
		}
	}
	q.reportSSE(resp, header)

	q.w.WriteHeader(resp.StatusCode)
	if q.r.Method == http.MethodHead {
		return nil
	}

	buf := make([]byte, 64*1024)
	if _, err := io.CopyBuffer(q.w, resp.Body, buf); err != nil && q.r.Context().Err() == nil {
		// The status line is gone, so the client sees a short body.
		zerolog.Ctx(q.r.Context()).Warn().Err(err).Str("operation", q.call.Operation).
			Str("bucket", q.call.Bucket).Str("key", q.call.Key).Msg("response body cut short")
	}
	return nil
}

// outboundRequest builds the request for versitygw. It returns the chunk
// decoder, if any, so that forward can tell why a body failed.
func (q *s3Request) outboundRequest() (*http.Request, *chunkedBody, *s3Error) {
	r := q.r

	target := *q.front.upstream
	target.Path = r.URL.Path
	if target.Path == "" {
		target.Path = "/"
	}
	// The path is encoded the same way as in the canonical request, so
	// versitygw gets the key the client signed.
	target.RawPath = uriEncode(target.Path, false)
	target.RawQuery = forwardedQuery(r.URL.RawQuery)

	out, err := http.NewRequestWithContext(r.Context(), r.Method, target.String(), nil)
	if err != nil {
		return nil, nil, errInternal(err)
	}
	out.Header = r.Header.Clone()
	for _, name := range droppedRequestHeaders {
		out.Header.Del(name)
	}
	// The front has applied the rules for grant headers, and versitygw's
	// own ACLs would name its root user.
	for name := range out.Header {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-grant-") {
			out.Header.Del(name)
		}
	}
	if out.Header.Get("User-Agent") == "" {
		// Keep Go's default agent out of versitygw's logs.
		out.Header.Set("User-Agent", "")
	}
	if q.sse != nil && q.sse.algorithm != "AES256" && q.storesMetadata() {
		out.Header.Set(sseMetadataHeader, q.sse.metadataValue())
	}

	chunked, e := q.requestChunkedBody()
	if e != nil {
		return nil, nil, e
	}

	payloadHash := q.payloadHash
	switch q.payloadHash {
	case streamingSigned:
		// Chunk signatures are tied to the client's key, so the front
		// decodes them and forwards the plain data.
		out.Body = io.NopCloser(chunked)
		out.ContentLength = chunked.decodedLength
		payloadHash = unsignedPayload
		removeAWSChunkedEncoding(out.Header)
		out.Header.Del("X-Amz-Decoded-Content-Length")
	case streamingSignedTrailer:
		// The trailing checksum must reach versitygw, so the data is
		// re-framed as unsigned chunks with the same trailers.
		out.Body = io.NopCloser(newUnsignedChunkEncoder(chunked))
		out.ContentLength = -1
		payloadHash = streamingUnsignedTrailer
	default:
		// Hex hashes, UNSIGNED-PAYLOAD and STREAMING-UNSIGNED-PAYLOAD-TRAILER
		// go through as sent; versitygw checks the hash or decodes the
		// chunks and checks the trailing checksum.
		chunked = nil
		out.ContentLength = r.ContentLength
		if r.ContentLength != 0 {
			out.Body = r.Body
		}
	}
	if out.ContentLength == 0 {
		out.Body = http.NoBody
	}

	out.Header.Set("X-Amz-Content-Sha256", payloadHash)
	err = q.front.signer.SignHTTP(r.Context(), q.front.rootCreds, out, payloadHash, "s3", q.front.region, q.front.now(),
		func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	if err != nil {
		return nil, nil, errInternal(err)
	}
	return out, chunked, nil
}

// storesMetadata reports whether the operation sets the object's metadata,
// which is where the front records a non-default SSE setting.
func (q *s3Request) storesMetadata() bool {
	switch q.call.Operation {
	case "PutObject", "CreateMultipartUpload":
		return true
	case "CopyObject":
		return strings.EqualFold(q.r.Header.Get("X-Amz-Metadata-Directive"), "REPLACE")
	}
	return false
}

// reportSSE sets the encryption headers S3 sends and removes the metadata
// the front uses to remember them.
//
// NOTE: UploadPart and CompleteMultipartUpload report AES256 even for an
// upload created with SSE-KMS; a CopyObject that keeps the source's metadata
// keeps the source's recorded SSE setting too.
func (q *s3Request) reportSSE(resp *http.Response, header http.Header) {
	stored := header.Get(sseMetadataHeader)
	header.Del(sseMetadataHeader)
	if resp.StatusCode >= 300 {
		return
	}

	switch q.call.Operation {
	case "PutObject", "CreateMultipartUpload", "CopyObject":
		q.sse.setResponseHeaders(header)
	case "GetObject", "HeadObject":
		sseFromMetadata(stored).setResponseHeaders(header)
	case "UploadPart", "UploadPartCopy", "CompleteMultipartUpload":
		(&sseSetting{algorithm: "AES256"}).setResponseHeaders(header)
	}
}

// removeAWSChunkedEncoding drops the aws-chunked token from Content-Encoding
// and keeps any other encoding the client declared.
func removeAWSChunkedEncoding(h http.Header) {
	var kept []string
	for _, value := range h.Values("Content-Encoding") {
		for token := range strings.SplitSeq(value, ",") {
			if token = strings.TrimSpace(token); token != "" && !strings.EqualFold(token, "aws-chunked") {
				kept = append(kept, token)
			}
		}
	}
	h.Del("Content-Encoding")
	if len(kept) > 0 {
		h.Set("Content-Encoding", strings.Join(kept, ","))
	}
}

// forwardedQuery drops a presigned URL's signature parameters and keeps
// every other parameter as the client encoded it.
func forwardedQuery(rawQuery string) string {
	var kept []string
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		name, _, _ := strings.Cut(part, "=")
		if decoded, err := url.QueryUnescape(name); err == nil && presignParams[decoded] {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, "&")
}
