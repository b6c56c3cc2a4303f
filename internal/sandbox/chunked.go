package sandbox

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// aws-chunked bodies, written from S3's "Transferring Payload in Multiple
// Chunks" and "Signature calculations for trailing headers". A signed chunk
// is "<hex size>;chunk-signature=<sig>\r\n<data>\r\n"; an unsigned one is
// "<hex size>\r\n<data>\r\n". A chunk of size 0 ends the data, followed by
// trailing headers ("name:value\r\n", plus x-amz-trailer-signature when
// signed) when x-amz-trailer announced them, and a final "\r\n".

const (
	maxChunkLine     = 4096
	minChunkSize     = 8 * 1024 // S3's minimum for every signed chunk but the last
	trailerSignature = "x-amz-trailer-signature"
)

// chunkSigner holds what chunk signatures are computed from: the seed
// signature of the request and its signing key, date and scope.
type chunkSigner struct {
	key      []byte
	amzDate  string
	scope    string
	previous string
}

func (s *chunkSigner) chunkSignature(dataHash []byte) string {
	stringToSign := "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" + s.previous + "\n" +
		emptySHA256 + "\n" + hex.EncodeToString(dataHash)
	return hex.EncodeToString(hmacSHA256(s.key, []byte(stringToSign)))
}

func (s *chunkSigner) trailerSignature(canonicalTrailers []byte) string {
	sum := sha256.Sum256(canonicalTrailers)
	stringToSign := "AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" + s.previous + "\n" +
		hex.EncodeToString(sum[:])
	return hex.EncodeToString(hmacSHA256(s.key, []byte(stringToSign)))
}

// trailer is one trailing header, name in lowercase.
type trailer struct {
	name  string
	value string
}

// chunkedBody decodes an aws-chunked body as it streams, checking each
// chunk's signature when signer is set. The last byte of each chunk is held
// back until that chunk's signature has been checked, and the last byte of
// the whole body until the final chunk and the trailers have been checked.
// So whoever reads the decoded data never receives a complete body that
// failed a check: a forwarded upload is cut short instead, and S3 stores
// nothing for a cut-short upload.
type chunkedBody struct {
	r      *bufio.Reader
	signer *chunkSigner // nil for unsigned chunks

	decodedLength int64    // from x-amz-decoded-content-length; -1 when absent
	wantTrailers  []string // from x-amz-trailer, lowercase

	decoded       int64
	remaining     int64 // data bytes of the current chunk not yet read
	chunkSig      string
	chunkHash     hash.Hash
	lastChunkSize int64 // size of the previous data chunk; -1 before the first
	trailers      []trailer
	done          bool
	err           error
}

func newChunkedBody(body io.Reader, signer *chunkSigner, decodedLength int64, trailerNames []string) *chunkedBody {
	return &chunkedBody{
		r:             bufio.NewReaderSize(body, 64*1024),
		signer:        signer,
		decodedLength: decodedLength,
		wantTrailers:  trailerNames,
		chunkHash:     sha256.New(),
		lastChunkSize: -1,
	}
}

// Trailers returns the trailing headers once Read has returned io.EOF.
func (c *chunkedBody) Trailers() []trailer {
	return c.trailers
}

func (c *chunkedBody) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if len(p) == 0 {
		return 0, nil
	}

	for c.remaining == 0 && !c.done {
		if err := c.nextChunk(); err != nil {
			return 0, c.fail(err)
		}
	}
	if c.done {
		return 0, io.EOF
	}

	if c.remaining > 1 {
		n, err := c.r.Read(p[:min(int64(len(p)), c.remaining-1)])
		c.chunkHash.Write(p[:n])
		c.remaining -= int64(n)
		c.decoded += int64(n)
		if errors.Is(err, io.EOF) {
			return n, c.fail(errIncompleteBody())
		}
		if err != nil {
			return n, c.fail(err)
		}
		return n, nil
	}

	// The chunk's last byte: release it only after the checks.
	last, err := c.r.ReadByte()
	if errors.Is(err, io.EOF) {
		return 0, c.fail(errIncompleteBody())
	}
	if err != nil {
		return 0, c.fail(err)
	}
	c.chunkHash.Write([]byte{last})
	c.remaining = 0
	c.decoded++

	if err := c.endChunk(); err != nil {
		return 0, c.fail(err)
	}
	if err := c.nextChunk(); err != nil {
		return 0, c.fail(err)
	}
	p[0] = last
	return 1, nil
}

func (c *chunkedBody) fail(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = errIncompleteBody()
	}
	c.err = err
	return err
}

// nextChunk reads a chunk header. For the final chunk it also reads and
// checks the trailers and the end of the body.
func (c *chunkedBody) nextChunk() error {
	line, err := c.readLine()
	if err != nil {
		return err
	}

	sizeText, extension, hasExtension := strings.Cut(line, ";")
	size, err := strconv.ParseInt(sizeText, 16, 64)
	if err != nil || size < 0 || len(sizeText) > 16 {
		return errMalformedChunk("chunk size %q is not a hexadecimal number", sizeText)
	}

	switch {
	case c.signer != nil:
		sig, ok := strings.CutPrefix(extension, "chunk-signature=")
		if !hasExtension || !ok || !isHexSHA256(sig) {
			return errMalformedChunk("chunk header %q has no chunk-signature", line)
		}
		c.chunkSig = sig
	case hasExtension:
		return errMalformedChunk("unsigned chunk header %q has an extension", line)
	}

	if c.decodedLength >= 0 && c.decoded+size > c.decodedLength {
		return errIncompleteBody()
	}

	if size == 0 {
		return c.finalChunk()
	}

	// Every signed chunk but the last carries at least 8 KiB.
	if c.signer != nil && c.lastChunkSize >= 0 && c.lastChunkSize < minChunkSize {
		return &s3Error{Status: http.StatusBadRequest, Code: "InvalidChunkSizeError",
			Message: "Only the last chunk is allowed to have a size less than 8192 bytes"}
	}
	c.lastChunkSize = size
	c.remaining = size
	c.chunkHash.Reset()
	return nil
}

// endChunk reads the CRLF after a chunk's data and checks its signature.
func (c *chunkedBody) endChunk() error {
	var crlf [2]byte
	if _, err := io.ReadFull(c.r, crlf[:]); err != nil {
		return errIncompleteBody()
	}
	if crlf != [2]byte{'\r', '\n'} {
		return errMalformedChunk("chunk data is not followed by CRLF")
	}
	return c.checkChunkSignature(c.chunkHash.Sum(nil))
}

func (c *chunkedBody) checkChunkSignature(dataHash []byte) error {
	if c.signer == nil {
		return nil
	}
	want := c.signer.chunkSignature(dataHash)
	if !hmac.Equal([]byte(want), []byte(c.chunkSig)) {
		return &s3Error{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch",
			Message: "The chunk signature we calculated does not match the signature you provided. Check your key and signing method."}
	}
	c.signer.previous = c.chunkSig
	return nil
}

func (c *chunkedBody) finalChunk() error {
	if err := c.checkChunkSignature(emptyHash()); err != nil {
		return err
	}

	if len(c.wantTrailers) > 0 {
		if err := c.readTrailers(); err != nil {
			return err
		}
	} else {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if line != "" {
			return errMalformedChunk("the final chunk is followed by %q, not CRLF", line)
		}
	}

	if _, err := c.r.Peek(1); !errors.Is(err, io.EOF) {
		return errMalformedChunk("data follows the final chunk")
	}
	if c.decodedLength >= 0 && c.decoded != c.decodedLength {
		return errIncompleteBody()
	}
	c.done = true
	return nil
}

func (c *chunkedBody) readTrailers() error {
	var canonical bytes.Buffer
	var signature string
	for {
		line, err := c.readLine()
		if err != nil {
			return err
		}
		if line == "" {
			break
		}

		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		value = strings.TrimSpace(value)
		if !ok || name == "" {
			return errMalformedTrailer()
		}
		if name == trailerSignature {
			signature = value
			continue
		}
		if !slices.Contains(c.wantTrailers, name) || slices.ContainsFunc(c.trailers, func(t trailer) bool { return t.name == name }) {
			return errMalformedTrailer()
		}
		c.trailers = append(c.trailers, trailer{name, value})
		canonical.WriteString(name + ":" + value + "\n")
	}

	if len(c.trailers) != len(c.wantTrailers) {
		return errMalformedTrailer()
	}
	if c.signer == nil {
		if signature != "" {
			return errMalformedTrailer()
		}
		return nil
	}

	want := c.signer.trailerSignature(canonical.Bytes())
	if !hmac.Equal([]byte(want), []byte(signature)) {
		return &s3Error{Status: http.StatusForbidden, Code: "SignatureDoesNotMatch",
			Message: "The trailer signature we calculated does not match the signature you provided. Check your key and signing method."}
	}
	return nil
}

// readLine reads up to CRLF and returns the line without it.
func (c *chunkedBody) readLine() (string, error) {
	line, err := c.r.ReadSlice('\n')
	switch {
	case errors.Is(err, bufio.ErrBufferFull) || len(line) > maxChunkLine:
		return "", errMalformedChunk("a chunk header line is longer than %d bytes", maxChunkLine)
	case errors.Is(err, io.EOF):
		return "", errIncompleteBody()
	case err != nil:
		return "", err
	}
	if len(line) < 2 || line[len(line)-2] != '\r' {
		return "", errMalformedChunk("a chunk header line does not end with CRLF")
	}
	return string(line[:len(line)-2]), nil
}

func emptyHash() []byte {
	sum := sha256.Sum256(nil)
	return sum[:]
}

func errIncompleteBody() *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "IncompleteBody",
		Message: "The request body is shorter or longer than x-amz-decoded-content-length, or it ends before its final chunk."}
}

func errMalformedChunk(format string, args ...any) *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "InvalidRequest",
		Message: "Malformed aws-chunked body: " + fmt.Sprintf(format, args...)}
}

func errMalformedTrailer() *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "MalformedTrailerError",
		Message: "The request contained trailing data that was not well-formed or did not conform to our published schema."}
}

// unsignedChunkEncoder re-encodes decoded data as unsigned aws-chunked data
// followed by the decoder's trailers, the framing of
// STREAMING-UNSIGNED-PAYLOAD-TRAILER. Chunks are 64 KiB except the last,
// because S3 servers may reject smaller ones.
type unsignedChunkEncoder struct {
	src     *chunkedBody
	out     bytes.Buffer
	scratch []byte
	done    bool
}

func newUnsignedChunkEncoder(src *chunkedBody) *unsignedChunkEncoder {
	return &unsignedChunkEncoder{src: src, scratch: make([]byte, 64*1024)}
}

func (e *unsignedChunkEncoder) Read(p []byte) (int, error) {
	for e.out.Len() == 0 {
		if e.done {
			return 0, io.EOF
		}

		n, err := io.ReadFull(e.src, e.scratch)
		if n > 0 {
			fmt.Fprintf(&e.out, "%x\r\n", n)
			e.out.Write(e.scratch[:n])
			e.out.WriteString("\r\n")
		}
		switch {
		case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
			e.out.WriteString("0\r\n")
			for _, t := range e.src.Trailers() {
				e.out.WriteString(t.name + ":" + t.value + "\r\n")
			}
			e.out.WriteString("\r\n")
			e.done = true
		case err != nil:
			return 0, err
		}
	}
	return e.out.Read(p)
}
