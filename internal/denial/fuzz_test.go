package denial

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzDiagnose(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("testdata", "messages", "*.txt"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no seed fixtures: %v", err)
	}
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatalf("read %s: %v", path, err)
		}
		f.Add(string(data), "AccessDenied", "PutObject", 403, testSession)
	}
	f.Add("", "", "HeadBucket", 403, "")
	f.Add("\x00\xff\xfe is not authorized to perform: :", "KMS.", "AssumeRole", 400, "arn:aws:sts::1:assumed-role/")
	f.Add(strings.Repeat("with an explicit deny in a ", 2000), "Forbidden", "", 0, "arn:::::")
	f.Add("User: arn:aws:iam::1:role/ is not authorized to perform: s3:x on resource: \"", "ExpiredToken", "ListObjectsV2", -1, "arn:aws:iam::1:role/")

	f.Fuzz(func(t *testing.T, message, code, operation string, status int, caller string) {
		req := Request{
			Operation:           operation,
			Bucket:              testBucket,
			Key:                 testKey,
			Prefix:              "releases/app",
			ExpectedBucketOwner: testDev,
			CallerARN:           caller,
			StatusCode:          status,
			ErrorCode:           code,
			Message:             message,
		}

		d := Diagnose(req)

		if d.Kind == "" || d.PolicyType == "" || d.Side == "" {
			t.Fatalf("empty classification: %+v", d)
		}
		if d.Summary == "" {
			t.Fatal("empty summary")
		}
		for i, fix := range d.Fixes {
			if len(fix.Statement) > 0 && !json.Valid(fix.Statement) {
				t.Fatalf("Fixes[%d] statement is not valid JSON:\n%s", i, fix.Statement)
			}
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("marshal diagnosis: %v", err)
		}
		if d.String() == "" {
			t.Fatal("empty text rendering")
		}
	})
}
