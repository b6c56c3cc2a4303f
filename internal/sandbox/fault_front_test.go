package sandbox

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// faultFront is a Front with a fault injector, served on loopback, in front
// of a recording upstream in place of versitygw.
type faultFront struct {
	faults   *Faults
	upstream *recordingUpstream
	server   *httptest.Server
	dir      *Directory
}

func newFaultFront(t *testing.T, config FaultConfig) *faultFront {
	t.Helper()
	world, err := DefaultWorld()
	if err != nil {
		t.Fatal(err)
	}
	dir, err := NewDirectory(world)
	if err != nil {
		t.Fatal(err)
	}
	upstream := newRecordingUpstream(t)

	front, err := NewFront(FrontConfig{
		Directory:   dir,
		PolicyDir:   t.TempDir(),
		SettingsDir: t.TempDir(),
		Authorizer:  AllowAll{},
		UpstreamURL: upstream.URL,
		RootAccess:  testRootAccess,
		RootSecret:  testRootSecret,
	})
	if err != nil {
		t.Fatal(err)
	}
	front.faults = newTestFaults(t, config)

	server := httptest.NewServer(front)
	t.Cleanup(server.Close)
	return &faultFront{faults: front.faults, upstream: upstream, server: server, dir: dir}
}

func (f *faultFront) s3As(name string) *s3.Client {
	id := f.dir.byName[name]
	return s3.New(s3.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(f.server.URL),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(id.AccessKeyID, id.SecretAccessKey, id.SessionToken),
		RetryMaxAttempts: 1,
	})
}

func putTestObject(client *s3.Client) error {
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String("dev-artifacts"),
		Key:    aws.String("faults/object.txt"),
		Body:   strings.NewReader("object body"),
	})
	return err
}

func TestFrontSlowDownNotForwarded(t *testing.T) {
	f := newFaultFront(t, FaultConfig{SlowDown: 1})

	err := putTestObject(f.s3As("build"))

	code, status := apiError(t, err)
	if code != "SlowDown" {
		t.Errorf("error code = %q, want SlowDown", code)
	}
	if status != http.StatusServiceUnavailable {
		t.Errorf("status = %d, want 503", status)
	}
	if got := len(f.upstream.all()); got != 0 {
		t.Errorf("%d requests reached the upstream, want 0", got)
	}
}

func TestFrontDropNotForwarded(t *testing.T) {
	f := newFaultFront(t, FaultConfig{Drop: 1})

	err := putTestObject(f.s3As("build"))

	if err == nil {
		t.Fatal("PutObject succeeded, want a closed connection")
	}
	if got := len(f.upstream.all()); got != 0 {
		t.Errorf("%d requests reached the upstream, want 0", got)
	}
	if got := f.faults.Counts().Drop; got != 1 {
		t.Errorf("drop count = %d, want 1", got)
	}
}

func TestFrontSTSWithoutFaults(t *testing.T) {
	f := newFaultFront(t, FaultConfig{SlowDown: 0.5, Drop: 0.5})
	build := f.dir.byName["build"]
	client := sts.New(sts.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(f.server.URL),
		Credentials:      credentials.NewStaticCredentialsProvider(build.AccessKeyID, build.SecretAccessKey, build.SessionToken),
		RetryMaxAttempts: 1,
	})

	for i := range 20 {
		if _, err := client.GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{}); err != nil {
			t.Fatalf("GetCallerIdentity %d: %v", i, err)
		}
	}
	if got := f.faults.Counts(); got != (FaultCounts{}) {
		t.Errorf("counts = %+v, want none for STS", got)
	}
}

func TestFrontAdminTurnsFaultsOff(t *testing.T) {
	f := newFaultFront(t, FaultConfig{SlowDown: 1})
	client := f.s3As("build")
	if err := putTestObject(client); err == nil {
		t.Fatal("PutObject succeeded with slowdown 1, want SlowDown")
	}

	response, err := http.Post(f.server.URL+faultAdminPath, "application/json", strings.NewReader(`{"slowdown":0}`))
	if err != nil {
		t.Fatalf("POST %s: %v", faultAdminPath, err)
	}
	response.Body.Close()
	if response.StatusCode != http.StatusOK {
		t.Fatalf("POST %s: status %d, want 200", faultAdminPath, response.StatusCode)
	}

	if err := putTestObject(client); err != nil {
		t.Fatalf("PutObject after turning faults off: %v", err)
	}
	if got := len(f.upstream.all()); got != 1 {
		t.Errorf("%d requests reached the upstream, want 1", got)
	}
	if got := f.faults.Counts().SlowDown; got != 1 {
		t.Errorf("SlowDown count = %d, want 1", got)
	}
}
