package sandbox

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// denyOutsidePrefix allows deleting keys under prefix only, and records the
// requests it decided.
type denyOutsidePrefix struct {
	prefix string

	mu       sync.Mutex
	requests []AuthzRequest
}

func (a *denyOutsidePrefix) Authorize(_ context.Context, req AuthzRequest) error {
	a.mu.Lock()
	a.requests = append(a.requests, req)
	a.mu.Unlock()

	if strings.HasPrefix(req.Action, "s3:DeleteObject") && !strings.HasPrefix(req.Key, a.prefix) {
		return &AccessDeniedError{}
	}
	return nil
}

func objectIDs(keys ...string) []s3types.ObjectIdentifier {
	ids := make([]s3types.ObjectIdentifier, len(keys))
	for i, k := range keys {
		ids[i] = s3types.ObjectIdentifier{Key: aws.String(k)}
	}
	return ids
}

// deleteOutcome lists a DeleteObjects result as "deleted KEY" and
// "CODE KEY" lines in response order.
func deleteOutcome(out *s3.DeleteObjectsOutput) []string {
	var lines []string
	for _, d := range out.Deleted {
		lines = append(lines, "deleted "+aws.ToString(d.Key))
	}
	for _, e := range out.Errors {
		lines = append(lines, aws.ToString(e.Code)+" "+aws.ToString(e.Key))
	}
	return lines
}

func TestDeleteObjectsPerKey(t *testing.T) {
	authorizer := &denyOutsidePrefix{prefix: "allowed/"}
	f := newFrontFixture(t, authorizer)

	out, err := f.s3As("build").DeleteObjects(context.Background(), &s3.DeleteObjectsInput{
		Bucket:              aws.String(testBucket),
		Delete:              &s3types.Delete{Objects: objectIDs("allowed/a", "denied/b", "allowed/c", "allowed/fail-d")},
		ExpectedBucketOwner: aws.String(testDevOwner),
	})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}

	got := strings.Join(deleteOutcome(out), ", ")
	if want := "deleted allowed/a, deleted allowed/c, AccessDenied denied/b, InternalError allowed/fail-d"; got != want {
		t.Errorf("outcome = %s, want %s", got, want)
	}

	// Each key was decided on its own, as s3:DeleteObject on that key.
	var decided []string
	for _, req := range authorizer.requests {
		decided = append(decided, req.Action+" "+req.Key)
	}
	wantDecided := "s3:DeleteObject allowed/a, s3:DeleteObject denied/b, s3:DeleteObject allowed/c, s3:DeleteObject allowed/fail-d"
	if strings.Join(decided, ", ") != wantDecided {
		t.Errorf("decided %v, want %s", decided, wantDecided)
	}

	forwarded := f.upstream.last(t)
	if forwarded.signature != nil {
		t.Errorf("the rewritten request is not signed with the root key: %v", forwarded.signature)
	}
	var body deleteRequest
	if err := xml.Unmarshal(forwarded.body, &body); err != nil {
		t.Fatalf("forwarded body %s: %v", forwarded.body, err)
	}
	var keys []string
	for _, o := range body.Objects {
		keys = append(keys, o.Key)
	}
	if got := strings.Join(keys, ","); got != "allowed/a,allowed/c,allowed/fail-d" {
		t.Errorf("forwarded keys %s, want only the allowed ones", got)
	}
	sum := md5.Sum(forwarded.body)
	if got := forwarded.header.Get("Content-Md5"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		t.Errorf("forwarded Content-MD5 %q does not match the rewritten body", got)
	}
	for name := range forwarded.header {
		if strings.HasPrefix(strings.ToLower(name), "x-amz-checksum-") || strings.EqualFold(name, "X-Amz-Sdk-Checksum-Algorithm") {
			t.Errorf("the client's checksum header %s was forwarded with the rewritten body", name)
		}
	}
}

func TestDeleteObjectsMergesInRequestOrder(t *testing.T) {
	f := newFrontFixture(t, &denyOutsidePrefix{prefix: "allowed/"})
	admin := f.dir.byName["dev-admin"]
	body := `<Delete xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` +
		`<Object><Key>denied/1</Key></Object><Object><Key>allowed/2</Key></Object>` +
		`<Object><Key>allowed/fail-3</Key></Object><Object><Key>denied/4</Key></Object></Delete>`

	status, text := f.postDelete(t, admin, body)

	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, text)
	}
	var result deleteResultInput
	if err := xml.Unmarshal([]byte(text), &result); err != nil {
		t.Fatalf("response %s: %v", text, err)
	}
	var got []string
	for _, e := range result.Entries {
		got = append(got, e.XMLName.Local+" "+e.Key+" "+e.Code)
	}
	want := "Error denied/1 AccessDenied, Deleted allowed/2 , Error allowed/fail-3 InternalError, Error denied/4 AccessDenied"
	if strings.Join(got, ", ") != want {
		t.Errorf("entries %q, want %q", strings.Join(got, ", "), want)
	}
	if !strings.Contains(text, `<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">`) {
		t.Errorf("response %s lacks S3's namespace", text)
	}
}

func TestDeleteObjectsAllDenied(t *testing.T) {
	f := newFrontFixture(t, &denyOutsidePrefix{prefix: "allowed/"})

	out, err := f.s3As("build").DeleteObjects(context.Background(), &s3.DeleteObjectsInput{
		Bucket: aws.String(testBucket),
		Delete: &s3types.Delete{Objects: objectIDs("x", "y")},
	})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}

	if got := strings.Join(deleteOutcome(out), ", "); got != "AccessDenied x, AccessDenied y" {
		t.Errorf("outcome = %s, want both keys denied", got)
	}
	if n := len(f.upstream.all()); n != 0 {
		t.Errorf("%d requests reached versitygw, want none when every key is denied", n)
	}
}

func TestDeleteObjectsQuiet(t *testing.T) {
	f := newFrontFixture(t, &denyOutsidePrefix{prefix: "allowed/"})

	out, err := f.s3As("build").DeleteObjects(context.Background(), &s3.DeleteObjectsInput{
		Bucket: aws.String(testBucket),
		Delete: &s3types.Delete{Objects: objectIDs("allowed/a", "denied/b"), Quiet: aws.Bool(true)},
	})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}

	if got := strings.Join(deleteOutcome(out), ", "); got != "AccessDenied denied/b" {
		t.Errorf("quiet outcome = %s, want only the denied key", got)
	}
	var forwarded deleteRequest
	if err := xml.Unmarshal(f.upstream.last(t).body, &forwarded); err != nil {
		t.Fatal(err)
	}
	if !forwarded.Quiet {
		t.Error("the rewritten body lost Quiet")
	}
}

func TestDeleteObjectsVersionAction(t *testing.T) {
	authorizer := &denyOutsidePrefix{prefix: "allowed/"}
	f := newFrontFixture(t, authorizer)

	_, err := f.s3As("build").DeleteObjects(context.Background(), &s3.DeleteObjectsInput{
		Bucket: aws.String(testBucket),
		Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{{Key: aws.String("allowed/a"), VersionId: aws.String("v1")}}},
	})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}

	if len(authorizer.requests) != 1 || authorizer.requests[0].Action != "s3:DeleteObjectVersion" {
		t.Errorf("decided %+v, want one s3:DeleteObjectVersion", authorizer.requests)
	}
}

func TestDeleteObjectsMalformed(t *testing.T) {
	f := newFrontFixture(t, AllowAll{})
	admin := f.dir.byName["dev-admin"]
	var many strings.Builder
	many.WriteString("<Delete>")
	for i := range maxDeleteObjects + 1 {
		fmt.Fprintf(&many, "<Object><Key>k%d</Key></Object>", i)
	}
	many.WriteString("</Delete>")

	tests := []struct {
		name string
		body string
	}{
		{"NotXML", "delete everything"},
		{"NoObjects", "<Delete><Quiet>true</Quiet></Delete>"},
		{"TooManyObjects", many.String()},
		{"WrongRoot", "<Remove><Object><Key>k</Key></Object></Remove>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, text := f.postDelete(t, admin, tt.body)

			if status != http.StatusBadRequest || !strings.Contains(text, "<Code>MalformedXML</Code>") {
				t.Errorf("got %d %s, want MalformedXML 400", status, text)
			}
		})
	}
	if n := len(f.upstream.all()); n != 0 {
		t.Errorf("%d malformed batches reached versitygw", n)
	}
}

func TestDeleteObjectsPolicyPrefix(t *testing.T) {
	w, err := DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	w.Accounts[0].Roles[0].Policies["artifacts"] = json.RawMessage(`{"Version": "2012-10-17", "Statement": [
		{"Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject"], "Resource": "arn:aws:s3:::dev-artifacts/*"},
		{"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::dev-artifacts/app/*"}]}`)
	f := newFrontFixtureWorld(t, nil, w)

	out, err := f.s3As("build").DeleteObjects(context.Background(), &s3.DeleteObjectsInput{
		Bucket: aws.String(testBucket),
		Delete: &s3types.Delete{Objects: objectIDs("app/old.txt", "config/keep.txt")},
	})
	if err != nil {
		t.Fatalf("DeleteObjects: %v", err)
	}

	if got := strings.Join(deleteOutcome(out), ", "); got != "deleted app/old.txt, AccessDenied config/keep.txt" {
		t.Errorf("outcome = %s, want app/ deleted and config/ denied", got)
	}
	// The bucket is in another account, so the denial is bare.
	if msg := aws.ToString(out.Errors[0].Message); msg != "Access Denied" {
		t.Errorf("denial message %q, want the bare Access Denied", msg)
	}
}

// postDelete sends a DeleteObjects body signed by id and returns the
// status and body of the response.
func (f *frontFixture) postDelete(t *testing.T, id *Identity, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, f.server.URL+"/"+testBucket+"?delete", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	payload := hexSHA256(body)
	req.Header.Set("X-Amz-Content-Sha256", payload)
	sum := md5.Sum([]byte(body))
	req.Header.Set("Content-Md5", base64.StdEncoding.EncodeToString(sum[:]))
	creds := aws.Credentials{AccessKeyID: id.AccessKeyID, SecretAccessKey: id.SecretAccessKey, SessionToken: id.SessionToken}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, payload, "s3", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}

	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, readAll(t, resp)
}
