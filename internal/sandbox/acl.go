package sandbox

import (
	"encoding/xml"
	"net/http"
	"slices"
	"strings"
)

// bucketOwnerFullControl is the only canned ACL that a bucket with Object
// Ownership "bucket owner enforced" accepts on writes.
const bucketOwnerFullControl = "bucket-owner-full-control"

// cannedObjectACLs are the canned ACLs S3 accepts on objects. Buckets also
// accept log-delivery-write.
var (
	cannedObjectACLs = []string{
		"private", "public-read", "public-read-write", "authenticated-read",
		"aws-exec-read", "bucket-owner-read", bucketOwnerFullControl,
	}
	cannedBucketACLs = append(slices.Clone(cannedObjectACLs), "log-delivery-write")
)

// publicCannedACLs grant access to everyone or to every AWS account, which
// BlockPublicAcls rejects.
var publicCannedACLs = map[string]bool{
	"public-read":        true,
	"public-read-write":  true,
	"authenticated-read": true,
}

// publicGroupURIs name the grantee groups that make a grant public, in
// lowercase for comparison.
var publicGroupURIs = []string{
	"http://acs.amazonaws.com/groups/global/allusers",
	"http://acs.amazonaws.com/groups/global/authenticatedusers",
}

// maxACLBody bounds an AccessControlPolicy body. S3 documents no size limit,
// but an ACL has at most 100 grants, which fit well within it.
const maxACLBody = 64 * 1024

func errACLNotSupported() *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "AccessControlListNotSupported", Message: "The bucket does not allow ACLs"}
}

// checkACLHeaders applies the bucket's Object Ownership and public access
// block to the ACL headers of a request. With "bucket owner enforced" ACLs
// are disabled, and only no ACL or bucket-owner-full-control is accepted.
// Otherwise any canned ACL in allowed and any grant header is accepted,
// unless BlockPublicAcls rejects a public one.
func checkACLHeaders(h http.Header, settings bucketSettings, allowed []string) *s3Error {
	if !settings.aclsEnabled() {
		return checkCannedACL(h, bucketOwnerFullControl)
	}

	acl := h.Get("X-Amz-Acl")
	if acl != "" && !slices.Contains(allowed, acl) {
		return errInvalidArgument("x-amz-acl", acl, "%s is not a canned ACL; use one of %s", acl, strings.Join(allowed, ", "))
	}

	block := settings.PublicAccessBlock
	if block != nil && block.BlockPublicACLs && (publicCannedACLs[acl] || publicGrantHeader(h)) {
		return errAccessDenied()
	}
	return nil
}

// checkCannedACL accepts no ACL or one of the allowed canned ACLs, and no
// grant headers, as S3 does when ACLs are disabled.
func checkCannedACL(h http.Header, allowed ...string) *s3Error {
	if acl := h.Get("X-Amz-Acl"); acl != "" && !slices.Contains(allowed, acl) {
		return errACLNotSupported()
	}
	if hasGrantHeader(h) {
		return errACLNotSupported()
	}
	return nil
}

func hasGrantHeader(h http.Header) bool {
	for name := range h {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-grant-") {
			return true
		}
	}
	return false
}

// publicGrantHeader reports whether an x-amz-grant-* header names the
// AllUsers or AuthenticatedUsers group.
func publicGrantHeader(h http.Header) bool {
	for name, values := range h {
		if !strings.HasPrefix(strings.ToLower(name), "x-amz-grant-") {
			continue
		}
		for _, v := range values {
			if namesPublicGroup(v) {
				return true
			}
		}
	}
	return false
}

func namesPublicGroup(text string) bool {
	lower := strings.ToLower(text)
	for _, uri := range publicGroupURIs {
		if strings.Contains(lower, uri) {
			return true
		}
	}
	return false
}

// putACL serves PutBucketAcl and PutObjectAcl. Under "bucket owner
// enforced" it accepts only the ACLs that a bucket with ACLs disabled
// accepts. Otherwise it checks the canned ACL, grant headers or
// AccessControlPolicy body against the bucket's public access block.
//
// NOTE: the front stores no ACL, so GetBucketAcl and GetObjectAcl never
// show a grant that was put, and PutObjectAcl does not check that the
// object exists.
func (q *s3Request) putACL() *s3Error {
	h := q.r.Header
	settings, err := q.front.settings.Get(q.bucket.Name)
	if err != nil {
		return errInternal(err)
	}

	if !settings.aclsEnabled() {
		if e := checkCannedACL(h, bucketOwnerFullControl, "private"); e != nil {
			return e
		}
		if h.Get("X-Amz-Acl") == "" || q.r.ContentLength != 0 {
			// An AccessControlPolicy body sets grants.
			return errACLNotSupported()
		}
		return q.aclAccepted()
	}

	allowed := cannedObjectACLs
	if q.call.Operation == "PutBucketAcl" {
		allowed = cannedBucketACLs
	}
	if e := checkACLHeaders(h, settings, allowed); e != nil {
		return e
	}

	body, e := q.readBody(maxACLBody)
	if e != nil {
		return e
	}
	headerACL := h.Get("X-Amz-Acl") != "" || hasGrantHeader(h)
	switch {
	case len(body) > maxACLBody:
		return errMalformedACL()
	case headerACL && len(body) > 0:
		return &s3Error{Status: http.StatusBadRequest, Code: "UnexpectedContent", Message: "This request does not support content"}
	case !headerACL && len(body) == 0:
		return (&s3Error{Status: http.StatusBadRequest, Code: "MissingSecurityHeader", Message: "Your request was missing a required header"}).
			with("MissingHeaderName", "x-amz-acl")
	case len(body) > 0:
		var policy accessControlPolicyInput
		if err := xml.Unmarshal(body, &policy); err != nil {
			return errMalformedACL()
		}
		block := settings.PublicAccessBlock
		for _, g := range policy.Grants {
			if block != nil && block.BlockPublicACLs && namesPublicGroup(g.Grantee.URI) {
				return errAccessDenied()
			}
		}
	}
	return q.aclAccepted()
}

func (q *s3Request) aclAccepted() *s3Error {
	setRequestIDHeaders(q.w, q.requestID)
	q.w.WriteHeader(http.StatusOK)
	return nil
}

func errMalformedACL() *s3Error {
	return &s3Error{Status: http.StatusBadRequest, Code: "MalformedACLError",
		Message: "The XML you provided was not well-formed or did not validate against our published schema"}
}

type accessControlPolicyInput struct {
	XMLName struct{} `xml:"AccessControlPolicy"`
	Grants  []struct {
		Grantee struct {
			URI string `xml:"URI"`
		} `xml:"Grantee"`
	} `xml:"AccessControlList>Grant"`
}

// getBucketACL returns full control for the owner's account. That is the
// only ACL a bucket with ACLs disabled has, and the front stores no other
// grant. versitygw would name its root user.
func (q *s3Request) getBucketACL() *s3Error {
	account, _ := q.front.dir.Account(q.bucket.Owner)
	owner := xmlOwner{ID: account.Canonical(), DisplayName: displayName(account)}
	result := accessControlPolicy{
		Owner: owner,
		Grants: []xmlGrant{{
			Grantee:    xmlGrantee{XMLNSXSI: "http://www.w3.org/2001/XMLSchema-instance", Type: "CanonicalUser", ID: owner.ID, DisplayName: owner.DisplayName},
			Permission: "FULL_CONTROL",
		}},
	}
	writeXML(q.w, q.r, q.requestID, http.StatusOK, result)
	return nil
}

type accessControlPolicy struct {
	XMLName struct{}   `xml:"http://s3.amazonaws.com/doc/2006-03-01/ AccessControlPolicy"`
	Owner   xmlOwner   `xml:"Owner"`
	Grants  []xmlGrant `xml:"AccessControlList>Grant"`
}

type xmlGrant struct {
	Grantee    xmlGrantee `xml:"Grantee"`
	Permission string     `xml:"Permission"`
}

type xmlGrantee struct {
	XMLNSXSI    string `xml:"xmlns:xsi,attr"`
	Type        string `xml:"xsi:type,attr"`
	ID          string `xml:"ID"`
	DisplayName string `xml:"DisplayName,omitempty"`
}
