package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/countersign/countersign/policy"
)

// maxBucketPolicySize is S3's limit on a bucket policy document.
const maxBucketPolicySize = 20 * 1024

// ValidatePolicy checks doc with the policy package's parser, which rejects
// what IAM rejects: JSON that is not a policy, unknown elements, a bad
// Effect, actions without a service prefix, unknown condition operators.
// S3 answers MalformedPolicy for those.
//
// NOTE: S3 also rejects principals that do not exist, which the sandbox
// checks only against its own world when it authorizes requests.
func ValidatePolicy(doc []byte) error {
	if _, err := policy.Parse(doc); err != nil {
		return err
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
