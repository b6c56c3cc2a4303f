package sandbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
)

// maxBucketPolicySize is S3's limit on a bucket policy document.
const maxBucketPolicySize = 20 * 1024

// ValidatePolicy checks that doc has the shape of an IAM policy document: a
// JSON object whose Statement is an object or a non-empty array of objects,
// each with Effect Allow or Deny, and whose Version, when present, is one
// that IAM knows.
//
// TODO: use the policy package's parser once it exists, so that actions,
// principals, resources and conditions are checked as AWS checks them.
func ValidatePolicy(doc []byte) error {
	trimmed := bytes.TrimSpace(doc)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return errors.New("policies must be valid JSON and the first byte must be '{'")
	}

	var top map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &top); err != nil {
		return fmt.Errorf("policies must be valid JSON: %w", err)
	}

	if raw, ok := top["Version"]; ok {
		var version string
		if err := json.Unmarshal(raw, &version); err != nil || (version != "2012-10-17" && version != "2008-10-17") {
			return fmt.Errorf("invalid Version %s: use \"2012-10-17\"", raw)
		}
	}

	raw, ok := top["Statement"]
	if !ok {
		return errors.New("missing required field Statement")
	}

	var statements []map[string]json.RawMessage
	switch bytes.TrimSpace(raw)[0] {
	case '{':
		var one map[string]json.RawMessage
		if err := json.Unmarshal(raw, &one); err != nil {
			return fmt.Errorf("invalid Statement: %w", err)
		}
		statements = append(statements, one)
	case '[':
		if err := json.Unmarshal(raw, &statements); err != nil {
			return errors.New("invalid Statement: each statement must be a JSON object")
		}
		if len(statements) == 0 {
			return errors.New("invalid Statement: the policy has no statements")
		}
	default:
		return errors.New("invalid Statement: must be an object or an array of objects")
	}

	for i, st := range statements {
		if st == nil {
			return fmt.Errorf("statement %d: must be a JSON object", i)
		}
		effect, ok := st["Effect"]
		if !ok {
			return fmt.Errorf("statement %d: missing required field Effect", i)
		}
		var value string
		if err := json.Unmarshal(effect, &value); err != nil || (value != "Allow" && value != "Deny") {
			return fmt.Errorf("statement %d: invalid Effect %s: use \"Allow\" or \"Deny\"", i, effect)
		}
	}
	return nil
}

// policyStore keeps bucket policies as the exact bytes that were put, one
// file per bucket under the data directory. versitygw rejects policies that
// name IAM principals, so the front stores them itself.
type policyStore struct {
	dir string
	mu  sync.Mutex
}

func newPolicyStore(dir string) (*policyStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create policy directory: %w", err)
	}
	return &policyStore{dir: dir}, nil
}

func (s *policyStore) path(bucket string) string {
	return filepath.Join(s.dir, bucket+".json")
}

// Get returns the stored policy, or ok false when the bucket has none.
func (s *policyStore) Get(bucket string) (doc []byte, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	doc, err = os.ReadFile(s.path(bucket))
	if errors.Is(err, os.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("read policy of bucket %s: %w", bucket, err)
	}
	return doc, true, nil
}

func (s *policyStore) Put(bucket string, doc []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	return writeFileAtomic(s.path(bucket), doc, 0o600)
}

func (s *policyStore) Delete(bucket string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	err := os.Remove(s.path(bucket))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("delete policy of bucket %s: %w", bucket, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file in the same directory and
// renames it over path, so readers see the old or the new file, never part.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed

	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
