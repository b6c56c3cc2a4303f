package sandbox

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// AWS's published chunked upload example ("Signature Calculations for the
// Authorization Header: Transferring Payload in Multiple Chunks"): 66,560
// bytes of 'a' sent as a 64 KiB chunk, a 1 KiB chunk and the final chunk.
const (
	awsExampleSecret     = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	awsExampleSeed       = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
	awsExampleChunk1     = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
	awsExampleChunk2     = "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
	awsExampleFinalChunk = "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
	awsExampleDate       = "20130524T000000Z"
	awsExampleScope      = "20130524/us-east-1/s3/aws4_request"
)

func awsExampleBody(corruptSecondChunk bool) []byte {
	var body bytes.Buffer
	for _, chunk := range []struct {
		size      int
		signature string
	}{
		{65536, awsExampleChunk1},
		{1024, awsExampleChunk2},
		{0, awsExampleFinalChunk},
	} {
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", chunk.size, chunk.signature)
		data := bytes.Repeat([]byte("a"), chunk.size)
		if corruptSecondChunk && chunk.size == 1024 {
			data[100] = 'b'
		}
		body.Write(data)
		body.WriteString("\r\n")
	}
	return body.Bytes()
}

func awsStreamingExampleRequest(body []byte) *http.Request {
	r := httptest.NewRequest(http.MethodPut, "http://s3.amazonaws.com/examplebucket/chunkObject.txt", bytes.NewReader(body))
	r.Host = "s3.amazonaws.com"
	r.Header.Set("X-Amz-Date", awsExampleDate)
	r.Header.Set("X-Amz-Storage-Class", "REDUCED_REDUNDANCY")
	r.Header.Set("X-Amz-Content-Sha256", streamingSigned)
	r.Header.Set("Content-Encoding", "aws-chunked")
	r.Header.Set("X-Amz-Decoded-Content-Length", "66560")
	r.Header.Set("Content-Length", "66824")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/"+awsExampleScope+
		",SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class,Signature="+awsExampleSeed)
	return r
}

func awsExampleSigner() *chunkSigner {
	a := &sigV4Request{scopeDate: "20130524", region: "us-east-1", service: "s3"}
	return &chunkSigner{key: a.signingKey(awsExampleSecret), amzDate: awsExampleDate, scope: awsExampleScope, previous: awsExampleSeed}
}

func TestChunkedBodyAWSExample(t *testing.T) {
	body := awsExampleBody(false)
	if len(body) != 66824 {
		t.Fatalf("example body is %d bytes, AWS's Content-Length is 66824", len(body))
	}

	got, err := io.ReadAll(newChunkedBody(bytes.NewReader(body), awsExampleSigner(), 66560, nil))

	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !bytes.Equal(got, bytes.Repeat([]byte("a"), 66560)) {
		t.Errorf("decoded %d bytes, want 66560 bytes of 'a'", len(got))
	}
}

func TestChunkedBodyCorruptChunk(t *testing.T) {
	decoder := newChunkedBody(bytes.NewReader(awsExampleBody(true)), awsExampleSigner(), 66560, nil)

	got, err := io.ReadAll(decoder)

	var e *s3Error
	if !errors.As(err, &e) || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("err = %v, want SignatureDoesNotMatch", err)
	}
	// The corrupt chunk's last byte is held back, so a reader never has the
	// whole body.
	if len(got) >= 66560 {
		t.Errorf("released %d bytes of a body that failed its check", len(got))
	}
}

func TestChunkedBodyFramingErrors(t *testing.T) {
	good := awsExampleBody(false)
	tests := []struct {
		name          string
		body          []byte
		decodedLength int64
		wantCode      string
	}{
		{"Truncated", good[:40000], 66560, "IncompleteBody"},
		{"NoFinalChunk", good[:65536+2+87+1024+2+86], 66560, "IncompleteBody"},
		{"DecodedLengthShort", good, 66000, "IncompleteBody"},
		{"DecodedLengthLong", good, 70000, "IncompleteBody"},
		{"TrailingGarbage", append(bytes.Clone(good), "x"...), 66560, "InvalidRequest"},
		{"NotHex", []byte("zz;chunk-signature=" + awsExampleChunk1 + "\r\n"), 66560, "InvalidRequest"},
		{"NoSignature", []byte("10000\r\n"), 66560, "InvalidRequest"},
		{"LongLine", []byte(strings.Repeat("1", 5000) + "\r\n"), 66560, "InvalidRequest"},
		{"BareLF", []byte("10000;chunk-signature=" + awsExampleChunk1 + "\n"), 66560, "InvalidRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := io.ReadAll(newChunkedBody(bytes.NewReader(tt.body), awsExampleSigner(), tt.decodedLength, nil))

			var e *s3Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Errorf("err = %v, want code %s", err, tt.wantCode)
			}
		})
	}
}

// signedChunks encodes data as signed aws-chunked chunks of chunkSize with
// optional trailers, computing the signatures with signer.
func signedChunks(signer chunkSigner, data []byte, chunkSize int, trailers []trailer) []byte {
	var body bytes.Buffer
	for {
		n := min(chunkSize, len(data))
		sig := signer.chunkSignature(sha256Sum(data[:n]))
		signer.previous = sig
		fmt.Fprintf(&body, "%x;chunk-signature=%s\r\n", n, sig)
		body.Write(data[:n])
		if n == 0 {
			break
		}
		body.WriteString("\r\n")
		data = data[n:]
	}

	if len(trailers) == 0 {
		body.WriteString("\r\n")
		return body.Bytes()
	}
	var canonical bytes.Buffer
	for _, t := range trailers {
		fmt.Fprintf(&body, "%s:%s\r\n", t.name, t.value)
		fmt.Fprintf(&canonical, "%s:%s\n", t.name, t.value)
	}
	fmt.Fprintf(&body, "%s:%s\r\n\r\n", trailerSignature, signer.trailerSignature(canonical.Bytes()))
	return body.Bytes()
}

func sha256Sum(data []byte) []byte {
	sum := sha256.Sum256(data)
	return sum[:]
}

func base64Checksum(data []byte) string {
	h := crc32.NewIEEE()
	h.Write(data)
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func TestChunkedBodySignedTrailer(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789"), 2000)
	checksum := base64Checksum(data)
	body := signedChunks(*awsExampleSigner(), data, 8192, []trailer{{"x-amz-checksum-crc32", checksum}})

	decoder := newChunkedBody(bytes.NewReader(body), awsExampleSigner(), int64(len(data)), []string{"x-amz-checksum-crc32"})
	got, err := io.ReadAll(decoder)

	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("decoded %d bytes, want %d", len(got), len(data))
	}
	if tr := decoder.Trailers(); len(tr) != 1 || tr[0].value != checksum {
		t.Errorf("trailers = %v, want the crc32 %s", tr, checksum)
	}
}

func TestChunkedBodyTamperedTrailer(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 10000)
	body := signedChunks(*awsExampleSigner(), data, 8192, []trailer{{"x-amz-checksum-crc32", base64Checksum(data)}})
	body = bytes.Replace(body, []byte(base64Checksum(data)), []byte("AAAAAA=="), 1)

	got, err := io.ReadAll(newChunkedBody(bytes.NewReader(body), awsExampleSigner(), int64(len(data)), []string{"x-amz-checksum-crc32"}))

	var e *s3Error
	if !errors.As(err, &e) || e.Code != "SignatureDoesNotMatch" {
		t.Fatalf("err = %v, want SignatureDoesNotMatch", err)
	}
	if len(got) >= len(data) {
		t.Errorf("released all %d bytes before the trailer check", len(got))
	}
}

func TestChunkedBodySmallChunk(t *testing.T) {
	data := bytes.Repeat([]byte("x"), 10000)
	body := signedChunks(*awsExampleSigner(), data, 4096, nil)

	_, err := io.ReadAll(newChunkedBody(bytes.NewReader(body), awsExampleSigner(), int64(len(data)), nil))

	var e *s3Error
	if !errors.As(err, &e) || e.Code != "InvalidChunkSizeError" {
		t.Errorf("err = %v, want InvalidChunkSizeError", err)
	}
}

func TestChunkedBodyOneByteReads(t *testing.T) {
	data := bytes.Repeat([]byte("abc"), 7000)
	body := signedChunks(*awsExampleSigner(), data, 8192, nil)
	decoder := newChunkedBody(bytes.NewReader(body), awsExampleSigner(), int64(len(data)), nil)

	var got bytes.Buffer
	buf := make([]byte, 1)
	for {
		n, err := decoder.Read(buf)
		got.Write(buf[:n])
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("read: %v", err)
		}
	}

	if !bytes.Equal(got.Bytes(), data) {
		t.Errorf("decoded %d bytes, want %d", got.Len(), len(data))
	}
}

func TestChunkedBodyUnsignedTrailer(t *testing.T) {
	data := []byte("hello")
	body := "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + base64Checksum(data) + "\r\n\r\n"

	decoder := newChunkedBody(strings.NewReader(body), nil, 5, []string{"x-amz-checksum-crc32"})
	got, err := io.ReadAll(decoder)

	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	if string(got) != "hello" {
		t.Errorf("decoded %q, want hello", got)
	}
	if tr := decoder.Trailers(); len(tr) != 1 || tr[0].name != "x-amz-checksum-crc32" {
		t.Errorf("trailers = %v", tr)
	}
}

func TestChunkedBodyUnexpectedTrailer(t *testing.T) {
	body := "5\r\nhello\r\n0\r\nx-amz-checksum-sha256:abc\r\n\r\n"

	_, err := io.ReadAll(newChunkedBody(strings.NewReader(body), nil, 5, []string{"x-amz-checksum-crc32"}))

	var e *s3Error
	if !errors.As(err, &e) || e.Code != "MalformedTrailerError" {
		t.Errorf("err = %v, want MalformedTrailerError", err)
	}
}

func TestUnsignedChunkEncoderRoundTrip(t *testing.T) {
	data := bytes.Repeat([]byte("round trip "), 20000) // 220,000 bytes: four chunks
	checksum := base64Checksum(data)
	signed := signedChunks(*awsExampleSigner(), data, 65536, []trailer{{"x-amz-checksum-crc32", checksum}})
	source := newChunkedBody(bytes.NewReader(signed), awsExampleSigner(), int64(len(data)), []string{"x-amz-checksum-crc32"})

	reframed, err := io.ReadAll(newUnsignedChunkEncoder(source))
	if err != nil {
		t.Fatalf("re-encode: %v", err)
	}
	decoder := newChunkedBody(bytes.NewReader(reframed), nil, int64(len(data)), []string{"x-amz-checksum-crc32"})
	got, err := io.ReadAll(decoder)

	if err != nil {
		t.Fatalf("decode the re-encoded body: %v", err)
	}
	if !bytes.Equal(got, data) {
		t.Errorf("round trip gave %d bytes, want %d", len(got), len(data))
	}
	if tr := decoder.Trailers(); len(tr) != 1 || tr[0].value != checksum {
		t.Errorf("trailers = %v, want the crc32 %s", tr, checksum)
	}
	if !strings.HasPrefix(string(reframed), strconv.FormatInt(65536, 16)+"\r\n") {
		t.Errorf("first chunk header %q, want 64 KiB chunks", reframed[:10])
	}
}
