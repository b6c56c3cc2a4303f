package sandbox

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
)

// maxSettingsBody bounds the XML body of the Put calls for bucket settings.
// S3 documents no limit, and these documents are a few hundred bytes.
const maxSettingsBody = 64 * 1024

// bucketSettingsOperations are the calls that the front serves from its
// settings store instead of forwarding them to versitygw.
var bucketSettingsOperations = map[string]bool{
	"GetBucketOwnershipControls":    true,
	"PutBucketOwnershipControls":    true,
	"DeleteBucketOwnershipControls": true,
	"GetBucketEncryption":           true,
	"PutBucketEncryption":           true,
	"DeleteBucketEncryption":        true,
	"GetPublicAccessBlock":          true,
	"PutPublicAccessBlock":          true,
	"DeletePublicAccessBlock":       true,
}

// serveBucketSettings serves the Object Ownership, default encryption and
// public access block calls in S3's wire format.
//
// NOTE: S3 lets a caller of another account use these calls when both
// sides' policies allow it, and so does the sandbox. Of the four settings,
// BlockPublicAcls (on ACLs) and BlockPublicPolicy (on PutBucketPolicy) are
// enforced. IgnorePublicAcls and RestrictPublicBuckets are stored but do
// not change how requests are authorized.
func (q *s3Request) serveBucketSettings() *s3Error {
	store := q.front.settings
	bucket := q.bucket.Name

	current, err := store.Get(bucket)
	if err != nil {
		return errInternal(err)
	}

	switch q.call.Operation {
	case "GetBucketOwnershipControls":
		if current.Ownership == "" {
			return errSettingNotFound("OwnershipControlsNotFoundError", "The bucket ownership controls were not found", bucket)
		}
		writeXML(q.w, q.r, q.requestID, http.StatusOK, ownershipControlsOutput{Rules: []ownershipRule{{ObjectOwnership: current.Ownership}}})
		return nil

	case "GetBucketEncryption":
		if current.Encryption == nil {
			return errSettingNotFound("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found", bucket)
		}
		writeXML(q.w, q.r, q.requestID, http.StatusOK, encryptionOutputFor(current.Encryption))
		return nil

	case "GetPublicAccessBlock":
		if current.PublicAccessBlock == nil {
			return errSettingNotFound("NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found", bucket)
		}
		writeXML(q.w, q.r, q.requestID, http.StatusOK, publicAccessBlockOutputFor(current.PublicAccessBlock))
		return nil
	}

	change, e := q.settingsChange()
	if e != nil {
		return e
	}
	if err := store.Update(bucket, change); err != nil {
		return errInternal(err)
	}

	status := http.StatusOK
	if q.r.Method == http.MethodDelete {
		status = http.StatusNoContent
	}
	setRequestIDHeaders(q.w, q.requestID)
	q.w.Header().Set("Content-Length", "0")
	q.w.WriteHeader(status)
	return nil
}

// settingsChange reads and checks the body of a Put call, or names what a
// Delete call removes, and returns the change to store.
func (q *s3Request) settingsChange() (func(*bucketSettings), *s3Error) {
	switch q.call.Operation {
	case "DeleteBucketOwnershipControls":
		return func(s *bucketSettings) { s.Ownership = "" }, nil
	case "DeleteBucketEncryption":
		return func(s *bucketSettings) { s.Encryption = nil }, nil
	case "DeletePublicAccessBlock":
		return func(s *bucketSettings) { s.PublicAccessBlock = nil }, nil
	}

	body, e := q.readBody(maxSettingsBody)
	if e != nil {
		return nil, e
	}
	if len(body) > maxSettingsBody {
		return nil, errMalformedXML()
	}

	switch q.call.Operation {
	case "PutBucketOwnershipControls":
		var in ownershipControlsInput
		if err := xml.Unmarshal(body, &in); err != nil || len(in.Rules) != 1 {
			return nil, errMalformedXML()
		}
		ownership := in.Rules[0].ObjectOwnership
		switch ownership {
		case ownershipEnforced, ownershipPreferred, ownershipWriter:
		default:
			return nil, errMalformedXML()
		}
		return func(s *bucketSettings) { s.Ownership = ownership }, nil

	case "PutBucketEncryption":
		enc, e := parseEncryptionInput(body)
		if e != nil {
			return nil, e
		}
		return func(s *bucketSettings) { s.Encryption = enc }, nil

	case "PutPublicAccessBlock":
		var in publicAccessBlockInput
		if err := xml.Unmarshal(body, &in); err != nil {
			return nil, errMalformedXML()
		}
		block := &PublicAccessBlock{
			BlockPublicACLs:       in.BlockPublicAcls,
			IgnorePublicACLs:      in.IgnorePublicAcls,
			BlockPublicPolicy:     in.BlockPublicPolicy,
			RestrictPublicBuckets: in.RestrictPublicBuckets,
		}
		return func(s *bucketSettings) { s.PublicAccessBlock = block }, nil
	}
	return nil, errInternal(fmt.Errorf("no settings handler for %s", q.call.Operation))
}

func parseEncryptionInput(body []byte) (*DefaultEncryption, *s3Error) {
	var in encryptionInput
	if err := xml.Unmarshal(body, &in); err != nil || len(in.Rules) != 1 || in.Rules[0].Default == nil {
		return nil, errMalformedXML()
	}
	rule := in.Rules[0]

	enc := &DefaultEncryption{
		SSEAlgorithm: rule.Default.SSEAlgorithm,
		KMSKeyID:     rule.Default.KMSMasterKeyID,
	}
	if rule.BucketKeyEnabled != "" {
		enabled, err := strconv.ParseBool(rule.BucketKeyEnabled)
		if err != nil {
			return nil, errMalformedXML()
		}
		enc.BucketKeyEnabled = enabled
	}

	switch enc.SSEAlgorithm {
	case sseS3, sseKMS, sseKMSDSSE:
	default:
		return nil, errMalformedXML()
	}
	if enc.SSEAlgorithm == sseS3 && enc.KMSKeyID != "" {
		return nil, errInvalidArgument("ApplyServerSideEncryptionByDefault", "",
			"a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
	}
	return enc, nil
}

func errSettingNotFound(code, message, bucket string) *s3Error {
	return (&s3Error{Status: http.StatusNotFound, Code: code, Message: message}).with("BucketName", bucket)
}

func errMalformedXML() *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "MalformedXML",
		Message: "The XML you provided was not well-formed or did not validate against our published schema"}
}

// The Output types carry S3's namespace. The Input types match elements by
// local name only, so a body is accepted with or without the namespace.

type ownershipControlsOutput struct {
	XMLName struct{}        `xml:"http://s3.amazonaws.com/doc/2006-03-01/ OwnershipControls"`
	Rules   []ownershipRule `xml:"Rule"`
}

type ownershipControlsInput struct {
	XMLName struct{}        `xml:"OwnershipControls"`
	Rules   []ownershipRule `xml:"Rule"`
}

type ownershipRule struct {
	ObjectOwnership string `xml:"ObjectOwnership"`
}

type encryptionOutput struct {
	XMLName struct{}         `xml:"http://s3.amazonaws.com/doc/2006-03-01/ ServerSideEncryptionConfiguration"`
	Rules   []encryptionRule `xml:"Rule"`
}

type encryptionInput struct {
	XMLName struct{}         `xml:"ServerSideEncryptionConfiguration"`
	Rules   []encryptionRule `xml:"Rule"`
}

type encryptionRule struct {
	Default          *encryptionByDefault `xml:"ApplyServerSideEncryptionByDefault"`
	BucketKeyEnabled string               `xml:"BucketKeyEnabled,omitempty"`
}

type encryptionByDefault struct {
	SSEAlgorithm   string `xml:"SSEAlgorithm"`
	KMSMasterKeyID string `xml:"KMSMasterKeyID,omitempty"`
}

func encryptionOutputFor(e *DefaultEncryption) encryptionOutput {
	return encryptionOutput{Rules: []encryptionRule{{
		Default:          &encryptionByDefault{SSEAlgorithm: e.SSEAlgorithm, KMSMasterKeyID: e.KMSKeyID},
		BucketKeyEnabled: strconv.FormatBool(e.BucketKeyEnabled),
	}}}
}

type publicAccessBlockOutput struct {
	XMLName               struct{} `xml:"http://s3.amazonaws.com/doc/2006-03-01/ PublicAccessBlockConfiguration"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

type publicAccessBlockInput struct {
	XMLName               struct{} `xml:"PublicAccessBlockConfiguration"`
	BlockPublicAcls       bool     `xml:"BlockPublicAcls"`
	IgnorePublicAcls      bool     `xml:"IgnorePublicAcls"`
	BlockPublicPolicy     bool     `xml:"BlockPublicPolicy"`
	RestrictPublicBuckets bool     `xml:"RestrictPublicBuckets"`
}

func publicAccessBlockOutputFor(p *PublicAccessBlock) publicAccessBlockOutput {
	return publicAccessBlockOutput{
		BlockPublicAcls:       p.BlockPublicACLs,
		IgnorePublicAcls:      p.IgnorePublicACLs,
		BlockPublicPolicy:     p.BlockPublicPolicy,
		RestrictPublicBuckets: p.RestrictPublicBuckets,
	}
}
