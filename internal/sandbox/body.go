package sandbox

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"hash"
	"hash/crc32"
	"hash/crc64"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// requestChunkedBody returns a decoder for an aws-chunked request body, or
// nil when the payload is not aws-chunked.
func (q *s3Request) requestChunkedBody() (*chunkedBody, *s3Error) {
	switch q.payloadHash {
	case streamingSigned, streamingSignedTrailer, streamingUnsignedTrailer:
	default:
		return nil, nil
	}

	text := q.r.Header.Get("X-Amz-Decoded-Content-Length")
	if text == "" {
		return nil, &s3Error{Status: http.StatusLengthRequired, Code: "MissingContentLength",
			Message: "You must provide the x-amz-decoded-content-length HTTP header with an aws-chunked body."}
	}
	decodedLength, err := strconv.ParseInt(text, 10, 64)
	if err != nil || decodedLength < 0 {
		return nil, errInvalidArgument("x-amz-decoded-content-length", text, "x-amz-decoded-content-length must be a non-negative number of bytes.")
	}

	var trailerNames []string
	for name := range strings.SplitSeq(q.r.Header.Get("X-Amz-Trailer"), ",") {
		if name = strings.ToLower(strings.TrimSpace(name)); name != "" {
			trailerNames = append(trailerNames, name)
		}
	}
	withTrailer := q.payloadHash != streamingSigned
	if withTrailer != (len(trailerNames) > 0) {
		return nil, errInvalidRequest("x-amz-content-sha256 %s needs x-amz-trailer when, and only when, it ends with TRAILER.", q.payloadHash)
	}

	var signer *chunkSigner
	if q.payloadHash != streamingUnsignedTrailer {
		signer = &chunkSigner{
			key:      q.auth.signingKey(q.id.SecretAccessKey),
			amzDate:  q.auth.amzDate,
			scope:    q.auth.scope(),
			previous: q.auth.signature,
		}
	}
	return newChunkedBody(q.r.Body, signer, decodedLength, trailerNames), nil
}

// readBody reads a request body that the front handles itself, up to limit
// bytes plus one so the caller can tell an oversized body, and checks it
// against every hash and checksum the client sent.
func (q *s3Request) readBody(limit int64) ([]byte, *s3Error) {
	chunked, e := q.requestChunkedBody()
	if e != nil {
		return nil, e
	}
	var body io.Reader = q.r.Body
	if chunked != nil {
		body = chunked
	}

	data, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		var s3e *s3Error
		if errors.As(err, &s3e) {
			return nil, s3e
		}
		return nil, errIncompleteBody()
	}
	if int64(len(data)) > limit {
		return data, nil
	}

	if isHexSHA256(q.payloadHash) {
		sum := sha256.Sum256(data)
		if got := hex.EncodeToString(sum[:]); got != strings.ToLower(q.payloadHash) {
			return nil, (&s3Error{Status: http.StatusBadRequest, Code: "XAmzContentSHA256Mismatch",
				Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}).
				with("ClientComputedContentSHA256", q.payloadHash).with("S3ComputedContentSHA256", got)
		}
	}

	var trailers []trailer
	if chunked != nil {
		trailers = chunked.Trailers()
	}
	if e := verifyChecksums(q.r.Header, trailers, data); e != nil {
		return nil, e
	}
	return data, nil
}

// checksumAlgorithms are the x-amz-checksum-* algorithms S3 accepts, by the
// suffix of the header name.
var checksumAlgorithms = []struct {
	suffix string
	name   string // as S3 names it in error messages
	hash   func() hash.Hash
}{
	{"crc32", "CRC32", func() hash.Hash { return crc32.NewIEEE() }},
	{"crc32c", "CRC32C", func() hash.Hash { return crc32.New(crc32.MakeTable(crc32.Castagnoli)) }},
	{"crc64nvme", "CRC64NVME", func() hash.Hash { return crc64.New(crc64NVMETable) }},
	{"sha1", "SHA1", sha1.New},
	{"sha256", "SHA256", sha256.New},
}

// crc64NVMETable is the bit-reversed NVMe polynomial 0xAD93D23594C93659,
// the form hash/crc64 expects.
var crc64NVMETable = crc64.MakeTable(0x9a6c9329ac4bc9b5)

// verifyChecksums checks body against Content-MD5 and every x-amz-checksum-*
// value, from the headers or the trailers.
func verifyChecksums(h http.Header, trailers []trailer, body []byte) *s3Error {
	if value := h.Get("Content-Md5"); value != "" {
		want, err := base64.StdEncoding.DecodeString(value)
		if err != nil || len(want) != md5.Size {
			return &s3Error{Status: http.StatusBadRequest, Code: "InvalidDigest", Message: "The Content-MD5 you specified was invalid."}
		}
		if got := md5.Sum(body); !bytes.Equal(got[:], want) {
			return &s3Error{Status: http.StatusBadRequest, Code: "BadDigest", Message: "The Content-MD5 you specified did not match what we received."}
		}
	}

	for _, alg := range checksumAlgorithms {
		name := "x-amz-checksum-" + alg.suffix
		value := h.Get(name)
		for _, t := range trailers {
			if t.name == name {
				value = t.value
			}
		}
		if value == "" {
			continue
		}

		sum := alg.hash()
		sum.Write(body)
		if got := base64.StdEncoding.EncodeToString(sum.Sum(nil)); got != value {
			return &s3Error{Status: http.StatusBadRequest, Code: "BadDigest",
				Message: "The " + alg.name + " you specified did not match the calculated checksum."}
		}
	}
	return nil
}

// crc64NVME returns the CRC64NVME of data, big-endian as S3 encodes it.
func crc64NVME(data []byte) []byte {
	return binary.BigEndian.AppendUint64(nil, crc64.Checksum(data, crc64NVMETable))
}
