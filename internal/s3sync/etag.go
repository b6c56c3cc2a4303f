package s3sync

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// PartSizeFor returns the part size used to upload a file of size bytes:
// the configured size, grown to a whole number of MiB when the file would
// otherwise need more than MaxParts parts.
func PartSizeFor(size, configured int64) int64 {
	if configured <= 0 {
		configured = DefaultPartSize
	}
	if ceilDiv(size, configured) <= MaxParts {
		return configured
	}
	return roundUpMiB(ceilDiv(size, MaxParts))
}

// PartCount returns the number of parts of size partSize that hold size
// bytes. An empty file still takes one part.
func PartCount(size, partSize int64) int64 {
	return max(ceilDiv(size, partSize), 1)
}

func ceilDiv(a, b int64) int64 {
	return (a + b - 1) / b
}

func roundUpMiB(n int64) int64 {
	return ceilDiv(n, MiB) * MiB
}

// parsedETag is a listed ETag, without quotes and in lower case.
type parsedETag struct {
	digest string // hex MD5, or the hex MD5 of the part MD5s when parts > 0
	parts  int64  // 0 for a single-part ETag
}

// parseETag splits "d41d8cd98f00b204e9800998ecf8427e" or "<hex>-3".
func parseETag(etag string) parsedETag {
	etag = strings.ToLower(strings.Trim(etag, `"`))
	digest, count, ok := strings.Cut(etag, "-")
	if !ok {
		return parsedETag{digest: etag}
	}
	n, err := strconv.ParseInt(count, 10, 64)
	if err != nil || n < 1 {
		// An ETag that is neither form can never equal a local hash.
		return parsedETag{digest: etag, parts: -1}
	}
	return parsedETag{digest: digest, parts: n}
}

// candidatePartSizes lists the part sizes that give a file of size bytes
// exactly parts parts: ours first, then the defaults of common tools (5 MiB
// for s3cmd and older SDKs, 8 MiB for the AWS CLI, 16 and 64 MiB for rclone
// and others), then the size divided by the part count, rounded up to a MiB.
func candidatePartSizes(size, parts, ours int64) []int64 {
	all := []int64{ours, 5 * MiB, 8 * MiB, 16 * MiB, 64 * MiB, roundUpMiB(ceilDiv(size, parts))}
	var out []int64
	for _, ps := range all {
		if ps <= 0 || PartCount(size, ps) != parts || slices.Contains(out, ps) {
			continue
		}
		out = append(out, ps)
	}
	return out
}

// multipartETag returns the S3 ETag of a multipart upload with these part
// MD5s: the MD5 of the concatenated digests, then "-" and the part count.
func multipartETag(partMD5s [][]byte) string {
	h := md5.New()
	for _, d := range partMD5s {
		h.Write(d)
	}
	return hex.EncodeToString(h.Sum(nil)) + "-" + strconv.Itoa(len(partMD5s))
}

// fileHashes are the digests of one local file.
type fileHashes struct {
	md5 []byte // whole-file MD5

	// partMD5s maps a part size to that layout's part MD5s.
	partMD5s map[int64][][]byte
}

// partLayout hashes one part layout while the file streams past.
type partLayout struct {
	size    int64
	current hash.Hash
	filled  int64
	digests [][]byte
}

// errSizeChanged reports a file whose size differs from the size seen when
// the source was walked.
var errSizeChanged = errors.New("file changed size while being read")

// hashBuffers recycles read buffers, so hashing thousands of small files
// does not allocate a buffer for each. At most one buffer is in use per
// concurrent hash.
var hashBuffers = sync.Pool{New: func() any {
	b := make([]byte, 256<<10)
	return &b
}}

// hashFile streams the file once and returns its MD5 and the part MD5s for
// each of partSizes. It reads in fixed chunks, so memory does not grow with
// the file.
func hashFile(path string, wantSize int64, partSizes []int64, whole bool) (*fileHashes, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	var wholeHash hash.Hash
	if whole {
		wholeHash = md5.New()
	}
	layouts := make([]*partLayout, len(partSizes))
	for i, ps := range partSizes {
		layouts[i] = &partLayout{size: ps, current: md5.New()}
	}

	bufp := hashBuffers.Get().(*[]byte)
	defer hashBuffers.Put(bufp)
	buf := *bufp
	var total int64
	for {
		n, err := f.Read(buf)
		if n > 0 {
			chunk := buf[:n]
			total += int64(n)
			if wholeHash != nil {
				wholeHash.Write(chunk)
			}
			for _, l := range layouts {
				l.write(chunk)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
	}
	if total != wantSize {
		return nil, fmt.Errorf("%s: %w (expected %d bytes, read %d)", path, errSizeChanged, wantSize, total)
	}

	out := &fileHashes{partMD5s: make(map[int64][][]byte, len(layouts))}
	if wholeHash != nil {
		out.md5 = wholeHash.Sum(nil)
	}
	for _, l := range layouts {
		if l.filled > 0 || len(l.digests) == 0 {
			l.digests = append(l.digests, l.current.Sum(nil))
		}
		out.partMD5s[l.size] = l.digests
	}
	return out, nil
}

// write feeds a chunk, closing a part each time one is full.
func (l *partLayout) write(chunk []byte) {
	for len(chunk) > 0 {
		room := l.size - l.filled
		n := min(int64(len(chunk)), room)
		l.current.Write(chunk[:n])
		l.filled += n
		chunk = chunk[n:]
		if l.filled == l.size {
			l.digests = append(l.digests, l.current.Sum(nil))
			l.current.Reset()
			l.filled = 0
		}
	}
}
