package sandbox

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

const denyWithoutTLS = `{"Version":"2012-10-17","Statement":[
{"Sid":"AllowBuild","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:role/CodeBuildRole"},"Action":["s3:ListBucket","s3:PutObject"],"Resource":["arn:aws:s3:::dev-artifacts","arn:aws:s3:::dev-artifacts/*"]},
{"Sid":"DenyBuildDelete","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::111111111111:role/CodeBuildRole"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::dev-artifacts/*"},
{"Sid":"DenyAdminDelete","Effect":"Deny","Principal":{"AWS":"arn:aws:iam::222222222222:root"},"Action":"s3:DeleteObject","Resource":"arn:aws:s3:::dev-artifacts/locked/*"},
{"Sid":"DenyPolicyRead","Effect":"Deny","Principal":"*","Action":"s3:GetBucketPolicy","Resource":"arn:aws:s3:::dev-artifacts"},
{"Sid":"DenyPlainHTTP","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::dev-artifacts/*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`

func testAuthorizer(t *testing.T, bucketPolicy string, secure *bool) (*PolicyAuthorizer, *Directory) {
	t.Helper()

	w, err := DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	w.SecureTransport = secure
	dir, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}
	source := func(string) ([]byte, bool, error) {
		if bucketPolicy == "" {
			return nil, false, nil
		}
		return []byte(bucketPolicy), true, nil
	}
	a, err := NewPolicyAuthorizer(dir, source)
	if err != nil {
		t.Fatal(err)
	}
	return a, dir
}

func authzRequest(t *testing.T, dir *Directory, principal, op, action, key string) AuthzRequest {
	t.Helper()

	var id *Identity
	for _, candidate := range dir.Identities {
		if candidate.Name == principal {
			id = candidate
		}
	}
	if id == nil {
		t.Fatalf("no principal %q in the world", principal)
	}
	return AuthzRequest{
		PrincipalName: id.Name,
		PrincipalARN:  id.ARN,
		Account:       id.Account,
		RoleARN:       id.RoleARN,
		Operation:     op,
		Action:        action,
		Bucket:        "dev-artifacts",
		Key:           key,
		BucketOwner:   "222222222222",
		Query:         url.Values{},
		Header:        http.Header{},
		SourceIP:      "127.0.0.1",
	}
}

func TestPolicyAuthorizer(t *testing.T) {
	insecure := false
	tests := []struct {
		name      string
		policy    string
		secure    *bool
		principal string
		op        string
		action    string
		key       string
		copyFrom  string // source key in dev-artifacts
		want      string // "" allows; otherwise a substring of the denial message
		wantBare  bool
	}{
		{name: "DefaultWorldPut", principal: "build", op: "PutObject", action: "s3:PutObject", key: "app/a.txt"},
		{name: "NoBucketPolicyCrossAccount", policy: "-", principal: "build", op: "PutObject", action: "s3:PutObject", key: "app/a.txt", wantBare: true},
		{name: "NoIdentityPolicyForListAllMyBuckets", principal: "build", op: "ListBuckets", action: "s3:ListAllMyBuckets",
			want: `is not authorized to perform: s3:ListAllMyBuckets on resource: "*" because no identity-based policy allows the s3:ListAllMyBuckets action`},
		{name: "ExplicitDenyCrossAccountIsBare", policy: denyWithoutTLS, principal: "build", op: "DeleteObject", action: "s3:DeleteObject", key: "app/a.txt", wantBare: true},
		{name: "ExplicitDenySameAccount", policy: denyWithoutTLS, principal: "dev-admin", op: "DeleteObject", action: "s3:DeleteObject", key: "locked/a.txt",
			want: `User: arn:aws:iam::222222222222:root is not authorized to perform: s3:DeleteObject on resource: "arn:aws:s3:::dev-artifacts/locked/a.txt" with an explicit deny in a resource-based policy`},
		{name: "RootKeepsPolicyAccess", policy: denyWithoutTLS, principal: "dev-admin", op: "GetBucketPolicy", action: "s3:GetBucketPolicy"},
		{name: "SecureTransportByDefault", policy: denyWithoutTLS, principal: "dev-admin", op: "GetObject", action: "s3:GetObject", key: "app/a.txt"},
		{name: "SecureTransportOff", policy: denyWithoutTLS, secure: &insecure, principal: "dev-admin", op: "GetObject", action: "s3:GetObject", key: "app/a.txt",
			want: "with an explicit deny in a resource-based policy"},
		{name: "CopySourceReadDenied", policy: denyWithoutTLS, principal: "build", op: "CopyObject", action: "s3:PutObject", key: "app/b.txt", copyFrom: "app/a.txt", wantBare: true},
		{name: "CopySourceReadAllowed", principal: "build", op: "CopyObject", action: "s3:PutObject", key: "app/b.txt", copyFrom: "app/a.txt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bucketPolicy := tt.policy
			if bucketPolicy == "" {
				bucketPolicy = string(mustBucketPolicy(t))
			}
			if bucketPolicy == "-" {
				bucketPolicy = ""
			}
			a, dir := testAuthorizer(t, bucketPolicy, tt.secure)
			req := authzRequest(t, dir, tt.principal, tt.op, tt.action, tt.key)
			if tt.op == "ListBuckets" {
				req.Bucket, req.BucketOwner = "", ""
			}
			if tt.copyFrom != "" {
				req.CopySourceBucket, req.CopySourceKey = "dev-artifacts", tt.copyFrom
			}

			err := a.Authorize(context.Background(), req)

			var denied *AccessDeniedError
			switch {
			case tt.want == "" && !tt.wantBare:
				if err != nil {
					t.Fatalf("got %v, want allowed", err)
				}
			case !errors.As(err, &denied):
				t.Fatalf("got %v, want an access denied error", err)
			case tt.wantBare && denied.Message != "":
				t.Errorf("got message %q, want the bare Access Denied", denied.Message)
			case !tt.wantBare && !strings.Contains(denied.Message, tt.want):
				t.Errorf("got message %q, want it to contain %q", denied.Message, tt.want)
			}
		})
	}
}

func TestPolicyAuthorizerListPrefix(t *testing.T) {
	const prefixOnly = `{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:ListBucket","Resource":"arn:aws:s3:::dev-artifacts","Condition":{"StringNotLike":{"s3:prefix":"app/*"}}}]}`
	a, dir := testAuthorizer(t, prefixOnly, nil)

	tests := []struct {
		name    string
		prefix  string
		allowed bool
	}{
		{name: "InsidePrefix", prefix: "app/x", allowed: true},
		{name: "OutsidePrefix", prefix: "other/", allowed: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := authzRequest(t, dir, "dev-admin", "ListObjectsV2", "s3:ListBucket", "")
			req.Query.Set("prefix", tt.prefix)

			err := a.Authorize(context.Background(), req)

			if got := err == nil; got != tt.allowed {
				t.Errorf("got allowed %v (%v), want %v", got, err, tt.allowed)
			}
		})
	}
}

func TestPolicyAuthorizerBrokenStoredPolicy(t *testing.T) {
	a, dir := testAuthorizer(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe"}]}`, nil)

	err := a.Authorize(context.Background(), authzRequest(t, dir, "build", "PutObject", "s3:PutObject", "app/a.txt"))

	var denied *AccessDeniedError
	if err == nil || errors.As(err, &denied) {
		t.Fatalf("got %v, want an evaluation error", err)
	}
}

func mustBucketPolicy(t *testing.T) []byte {
	t.Helper()

	w, err := DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	return w.Buckets[0].Policy
}

func TestPolicyAuthorizerUser(t *testing.T) {
	w, err := LoadWorld("testdata/worlds/users-and-services.json")
	if err != nil {
		t.Fatal(err)
	}
	dir, err := NewDirectory(w)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewPolicyAuthorizer(dir, func(string) ([]byte, bool, error) { return nil, false, nil })
	if err != nil {
		t.Fatal(err)
	}
	user := dir.byName["publisher"]
	request := func(action string) AuthzRequest {
		return AuthzRequest{
			PrincipalName: user.Name, PrincipalARN: user.ARN, Account: user.Account, UserARN: user.UserARN,
			Operation: "GetObject", Action: action, Bucket: "shared-artifacts", Key: "a.txt", BucketOwner: "222222222222",
			Query: url.Values{}, Header: http.Header{},
		}
	}

	if err := a.Authorize(context.Background(), request("s3:GetObject")); err != nil {
		t.Errorf("GetObject, which the user's policy allows: %v", err)
	}

	err = a.Authorize(context.Background(), request("s3:PutObject"))
	var denied *AccessDeniedError
	if !errors.As(err, &denied) {
		t.Fatalf("PutObject: got %v, want access denied", err)
	}
	if want := "User: arn:aws:iam::222222222222:user/ci/publisher is not authorized to perform: s3:PutObject"; !strings.Contains(denied.Message, want) {
		t.Errorf("message %q, want it to contain %q", denied.Message, want)
	}
}

func TestPolicyAuthorizerServiceSourceKeys(t *testing.T) {
	const sourceScoped = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::dev-artifacts/*",
"Condition":{"StringEquals":{"aws:SourceAccount":"111111111111"},"ArnLike":{"aws:SourceArn":"arn:aws:codebuild:us-east-1:111111111111:project/countersign-build"}}}]}`
	a, _ := testAuthorizer(t, sourceScoped, nil)

	tests := []struct {
		name      string
		sourceARN string
		allowed   bool
	}{
		{"ScopedProject", "arn:aws:codebuild:us-east-1:111111111111:project/countersign-build", true},
		{"OtherProject", "arn:aws:codebuild:us-east-1:111111111111:project/other", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := AuthzRequest{
				PrincipalName: "codebuild", PrincipalARN: "codebuild.amazonaws.com", SourceAccount: "111111111111", SourceARN: tt.sourceARN,
				Operation: "GetObject", Action: "s3:GetObject", Bucket: "dev-artifacts", Key: "a.txt", BucketOwner: "222222222222",
				Query: url.Values{}, Header: http.Header{},
			}

			err := a.Authorize(context.Background(), req)

			if got := err == nil; got != tt.allowed {
				t.Errorf("allowed = %v (%v), want %v", got, err, tt.allowed)
			}
		})
	}
}
