package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sync"
)

// Object Ownership settings, as S3 spells them.
const (
	ownershipEnforced  = "BucketOwnerEnforced"
	ownershipPreferred = "BucketOwnerPreferred"
	ownershipWriter    = "ObjectWriter"
)

// Default encryption algorithms that PutBucketEncryption accepts.
const (
	sseS3      = "AES256"
	sseKMS     = "aws:kms"
	sseKMSDSSE = "aws:kms:dsse"
)

// DefaultEncryption is a bucket's default encryption configuration.
type DefaultEncryption struct {
	// SSEAlgorithm is AES256, aws:kms or aws:kms:dsse.
	SSEAlgorithm string `json:"sse_algorithm"`

	// KMSKeyID is the KMS key ARN for aws:kms and aws:kms:dsse. Empty
	// means the AWS managed key aws/s3.
	KMSKeyID string `json:"kms_key_id,omitempty"`

	BucketKeyEnabled bool `json:"bucket_key_enabled,omitempty"`
}

// PublicAccessBlock is a bucket's public access block configuration. A
// field left out of a world file is false, as in PutPublicAccessBlock.
type PublicAccessBlock struct {
	BlockPublicACLs       bool `json:"block_public_acls"`
	IgnorePublicACLs      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

// kmsKeyARNPattern matches a KMS key ARN, the only key form a world file
// takes, so that the bucket's configuration shows the key's account.
var kmsKeyARNPattern = regexp.MustCompile(`^arn:aws:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$`)

func validateBucketSettings(field string, b *Bucket, fail func(string, ...any)) {
	switch b.OwnershipControls {
	case "", ownershipEnforced, ownershipPreferred, ownershipWriter:
	default:
		fail("%s.ownership_controls %q: use BucketOwnerEnforced, BucketOwnerPreferred or ObjectWriter", field, b.OwnershipControls)
	}

	if e := b.DefaultEncryption; e != nil {
		if err := e.validate(); err != nil {
			fail("%s.default_encryption: %w", field, err)
		}
		if e.KMSKeyID != "" && !kmsKeyARNPattern.MatchString(e.KMSKeyID) {
			fail("%s.default_encryption.kms_key_id %q: use a key ARN, arn:aws:kms:REGION:ACCOUNT:key/ID", field, e.KMSKeyID)
		}
	}
}

// validate checks the algorithm and key as PutBucketEncryption does.
func (e *DefaultEncryption) validate() error {
	switch e.SSEAlgorithm {
	case sseS3:
		if e.KMSKeyID != "" {
			return fmt.Errorf("sse_algorithm AES256 takes no KMS key, but kms_key_id is %q: remove it or use aws:kms", e.KMSKeyID)
		}
	case sseKMS, sseKMSDSSE:
	case "":
		return errors.New("sse_algorithm: missing, use AES256, aws:kms or aws:kms:dsse")
	default:
		return fmt.Errorf("sse_algorithm %q: use AES256, aws:kms or aws:kms:dsse", e.SSEAlgorithm)
	}
	return nil
}

// bucketSettings are the bucket configurations that the front serves from
// its own state, because versitygw does not keep them.
type bucketSettings struct {
	// Ownership is empty once DeleteBucketOwnershipControls has removed
	// the setting, and S3 then treats the bucket as ObjectWriter.
	Ownership         string             `json:"ownership,omitempty"`
	Encryption        *DefaultEncryption `json:"encryption,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block,omitempty"`
}

// worldSettings returns a bucket's settings as the world file defines them.
func worldSettings(b *Bucket) bucketSettings {
	s := bucketSettings{Ownership: b.OwnershipControls}
	if s.Ownership == "" {
		s.Ownership = ownershipEnforced
	}
	if b.DefaultEncryption != nil {
		e := *b.DefaultEncryption
		s.Encryption = &e
	}
	if b.PublicAccessBlock != nil {
		p := *b.PublicAccessBlock
		s.PublicAccessBlock = &p
	}
	return s
}

// aclsEnabled reports whether the bucket accepts ACLs other than
// bucket-owner-full-control, which Object Ownership decides.
func (s bucketSettings) aclsEnabled() bool {
	return s.Ownership != ownershipEnforced
}

// settingsStore keeps the settings of each bucket, one JSON file per bucket
// under the data directory so that a restart keeps changes that clients
// made. A bucket without a file has the settings of the world.
type settingsStore struct {
	dir   string
	world func(bucket string) (*Bucket, bool)

	mu    sync.Mutex
	cache map[string]bucketSettings
}

func newSettingsStore(dir string, world func(string) (*Bucket, bool)) (*settingsStore, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create bucket settings directory: %w", err)
	}
	return &settingsStore{dir: dir, world: world, cache: make(map[string]bucketSettings)}, nil
}

func (s *settingsStore) path(bucket string) string {
	return filepath.Join(s.dir, bucket+".json")
}

// Get returns the bucket's current settings.
func (s *settingsStore) Get(bucket string) (bucketSettings, error) {
	s.mu.Lock()
	defer s.mu.Unlock()

	return s.getLocked(bucket)
}

func (s *settingsStore) getLocked(bucket string) (bucketSettings, error) {
	if cached, ok := s.cache[bucket]; ok {
		return cached, nil
	}

	data, err := os.ReadFile(s.path(bucket))
	switch {
	case errors.Is(err, os.ErrNotExist):
		b, ok := s.world(bucket)
		if !ok {
			return bucketSettings{}, fmt.Errorf("bucket %s is not in the world", bucket)
		}
		settings := worldSettings(b)
		s.cache[bucket] = settings
		return settings, nil
	case err != nil:
		return bucketSettings{}, fmt.Errorf("read settings of bucket %s: %w", bucket, err)
	}

	var settings bucketSettings
	if err := json.Unmarshal(data, &settings); err != nil {
		return bucketSettings{}, fmt.Errorf("settings of bucket %s in %s: %w: remove the file to return to the world's settings", bucket, s.path(bucket), err)
	}
	s.cache[bucket] = settings
	return settings, nil
}

// Update applies change to the bucket's settings and stores the result.
func (s *settingsStore) Update(bucket string, change func(*bucketSettings)) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	current, err := s.getLocked(bucket)
	if err != nil {
		return err
	}
	change(&current)

	data, err := json.MarshalIndent(current, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(s.path(bucket), data, 0o600); err != nil {
		return err
	}
	s.cache[bucket] = current
	return nil
}

// Reset drops the stored settings, so the bucket has the world's again.
func (s *settingsStore) Reset(bucket string) error {
	s.mu.Lock()
	defer s.mu.Unlock()

	delete(s.cache, bucket)
	err := os.Remove(s.path(bucket))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reset settings of bucket %s: %w", bucket, err)
	}
	return nil
}
