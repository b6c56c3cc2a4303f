package explain

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/countersign/countersign/internal/exitcode"
)

const nightlyProject = "arn:aws:codebuild:eu-west-1:111111111111:project/countersign-nightly"

func defaultFlags(a *Assembly) []string {
	flags := []string{}
	for _, d := range a.Defaults {
		flags = append(flags, d.Flag)
	}

	return flags
}

// In cdk-good one CodeBuild project uses the build role. In cdk-two-roles
// CodeBuildRole has two projects and OtherBuildRole one with values that
// cannot be used, and a fourth project imports its ServiceRole.
func TestLoadCDKProjectDefaults(t *testing.T) {
	tests := []struct {
		name string
		dir  string
		opts CDKOptions

		wantPrefix   string
		wantProject  string
		wantBucket   string
		wantOwner    string
		wantDefaults []string
		wantNotes    []string
	}{
		{
			name: "projectSuppliesAll", dir: "cdk-good",
			wantPrefix: "app", wantProject: testProject, wantBucket: testBucket, wantOwner: testOwner,
			wantDefaults: []string{"--project-arn", "--prefix", "--bucket", "--bucket-owner"},
			wantNotes: []string{
				"prefix app from COUNTERSIGN_PREFIX of project countersign-deliver (stack CountersignTools); --prefix overrides it",
				"project ARN " + testProject + " built from the Name of project countersign-deliver (stack CountersignTools)",
			},
		},
		{
			name: "flagsWin", dir: "cdk-good",
			opts:       CDKOptions{Prefix: "other", ProjectARN: nightlyProject, BucketOwner: "999999999999"},
			wantPrefix: "other", wantProject: nightlyProject, wantBucket: testBucket, wantOwner: "999999999999",
			wantDefaults: []string{"--bucket"},
			wantNotes:    []string{"--project-arn " + nightlyProject + " is not the ARN of project countersign-deliver (stack CountersignTools)"},
		},
		{
			name: "severalProjects", dir: "cdk-two-roles",
			opts:       CDKOptions{Role: "CodeBuildRole"},
			wantBucket: testBucket, wantOwner: testOwner,
			wantDefaults: []string{},
			wantNotes: []string{
				"2 CodeBuild projects use the role: countersign-deliver (stack CountersignTools), countersign-nightly (stack CountersignTools)",
				"pass --project-arn and --prefix",
				`stack "CountersignTools": resource ImportedProject2B3C4D5E: Resources.ImportedProject2B3C4D5E.Properties.ServiceRole`,
			},
		},
		{
			name: "projectARNPicksOne", dir: "cdk-two-roles",
			opts:       CDKOptions{Role: "CodeBuildRole", Bucket: testBucket, ProjectARN: nightlyProject},
			wantPrefix: "nightly", wantProject: nightlyProject, wantBucket: testBucket, wantOwner: testOwner,
			wantDefaults: []string{"--prefix"},
			wantNotes:    []string{"prefix nightly from COUNTERSIGN_PREFIX of project countersign-nightly"},
		},
		{
			name: "unresolvedValues", dir: "cdk-two-roles",
			opts:       CDKOptions{Role: "OtherBuildRole"},
			wantBucket: testBucket, wantOwner: "333333333333",
			wantDefaults: []string{"--bucket-owner"},
			wantNotes: []string{
				`stack "CountersignTools": resource OtherProject9C8D7E6F: Resources.OtherProject9C8D7E6F.Properties.Name is not set`,
				"Resources.OtherProject9C8D7E6F.Properties.Environment.EnvironmentVariables[0].Value.Fn::ImportValue",
				"EnvironmentVariables[1].Type of COUNTERSIGN_BUCKET is PARAMETER_STORE",
				"stack CountersignDev deploys the bucket policy to account 222222222222",
			},
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := LoadCDK(filepath.Join("testdata", tt.dir), tt.opts)
			if err != nil {
				t.Fatalf("LoadCDK: %v", err)
			}

			if a.Prefix != tt.wantPrefix {
				t.Errorf("prefix: got %q, want %q", a.Prefix, tt.wantPrefix)
			}

			if a.ProjectARN != tt.wantProject {
				t.Errorf("project ARN: got %q, want %q", a.ProjectARN, tt.wantProject)
			}

			if a.BucketName != tt.wantBucket {
				t.Errorf("bucket: got %q, want %q", a.BucketName, tt.wantBucket)
			}

			if a.BucketOwner != tt.wantOwner {
				t.Errorf("bucket owner: got %q, want %q", a.BucketOwner, tt.wantOwner)
			}

			if got := defaultFlags(a); !slices.Equal(got, tt.wantDefaults) {
				t.Errorf("defaults: got %q, want %q", got, tt.wantDefaults)
			}

			notes := strings.Join(a.Notes, "\n")
			for _, want := range tt.wantNotes {
				if !strings.Contains(notes, want) {
					t.Errorf("notes do not contain %q:\n%s", want, notes)
				}
			}
		})
	}
}

func TestLoadCDKDefaultRecordsSource(t *testing.T) {
	a, err := LoadCDK(filepath.Join("testdata", "cdk-good"), CDKOptions{})
	if err != nil {
		t.Fatalf("LoadCDK: %v", err)
	}

	d := a.defaultFor("--prefix")
	if d == nil {
		t.Fatalf("no default for --prefix in %+v", a.Defaults)
	}

	want := Default{Flag: "--prefix", Value: "app", Source: VarPrefix, Project: "countersign-deliver", Stack: "CountersignTools", LogicalID: "ProjectC78D97AD"}
	if *d != want {
		t.Errorf("got %+v, want %+v", *d, want)
	}
}

func TestLoadCDKProjectBucketWithoutPolicy(t *testing.T) {
	_, err := LoadCDK(filepath.Join("testdata", "cdk-two-roles"), CDKOptions{Role: "CodeBuildRole", ProjectARN: nightlyProject})
	if err == nil {
		t.Fatal("got no error, want one for a bucket without a bucket policy")
	}

	if !errors.Is(err, exitcode.ErrUsage) {
		t.Errorf("got %v, want a usage error", err)
	}

	for _, want := range []string{"COUNTERSIGN_BUCKET of project countersign-nightly (stack CountersignTools)", `"countersign-nightly-artifacts"`, "--bucket"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}

// TestCheckNeedsProjectDefaults shows that the bucket policy of cdk-good
// limits listing to the prefix and the trust policy to the project, so the
// check passes only with both values the project supplies.
func TestCheckNeedsProjectDefaults(t *testing.T) {
	a, err := LoadCDK(filepath.Join("testdata", "cdk-good"), CDKOptions{})
	if err != nil {
		t.Fatalf("LoadCDK: %v", err)
	}

	tests := []struct {
		name       string
		prefix     string
		projectARN string
		wantDenied []string
	}{
		{"projectDefaults", a.Prefix, a.ProjectARN, nil},
		{"withoutPrefix", "", a.ProjectARN, []string{"s3:ListBucket"}},
		{"withoutProjectARN", a.Prefix, "", []string{"sts:AssumeRole"}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, err := Check(Input{
				RoleARN: a.RoleARN, Identity: a.Identity, Bucket: a.Bucket, Trust: a.Trust,
				BucketName: a.BucketName, BucketOwner: a.BucketOwner,
				Prefix: tt.prefix, ProjectARN: tt.projectARN,
			})
			if err != nil {
				t.Fatalf("Check: %v", err)
			}

			var denied []string

			for _, res := range rep.Results {
				if res.Decision != DecisionAllowed {
					denied = append(denied, res.Action)
				}
			}

			if !slices.Equal(denied, tt.wantDenied) {
				t.Errorf("denied: got %q, want %q", denied, tt.wantDenied)
			}
		})
	}
}

func TestCheckReportsDefaults(t *testing.T) {
	a, err := LoadCDK(filepath.Join("testdata", "cdk-good"), CDKOptions{})
	if err != nil {
		t.Fatalf("LoadCDK: %v", err)
	}

	rep, err := Check(Input{
		RoleARN: a.RoleARN, Identity: a.Identity, Bucket: a.Bucket, Trust: a.Trust,
		BucketName: a.BucketName, BucketOwner: a.BucketOwner,
		Prefix: a.Prefix, ProjectARN: a.ProjectARN, Defaults: a.Defaults, Notes: a.Notes,
	})
	if err != nil {
		t.Fatalf("Check: %v", err)
	}

	if rep.Prefix != "app" {
		t.Errorf("report prefix: got %q, want app", rep.Prefix)
	}

	if rep.ProjectARN != testProject {
		t.Errorf("report project ARN: got %q, want %s", rep.ProjectARN, testProject)
	}

	if len(rep.Defaults) != len(a.Defaults) {
		t.Errorf("report defaults: got %d, want %d", len(rep.Defaults), len(a.Defaults))
	}

	var text strings.Builder
	if err := WriteText(&text, rep); err != nil {
		t.Fatalf("WriteText: %v", err)
	}

	for _, want := range []string{"project:   " + testProject, "prefix app from COUNTERSIGN_PREFIX of project countersign-deliver (stack CountersignTools)"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("text output does not contain %q:\n%s", want, text.String())
		}
	}
}
