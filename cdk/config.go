package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// Context keys of cdk.json that configure the app. A value given with
// `cdk synth -c KEY=VALUE` takes precedence over cdk.json.
const (
	keyToolsAccount      = "toolsAccount"
	keyDevAccount        = "devAccount"
	keyRegion            = "region"
	keyBucketName        = "bucketName"
	keyRoleName          = "roleName"
	keyProjectName       = "projectName"
	keyPrefix            = "prefix"
	keyAuditSchedule     = "auditSchedule"
	keyAuditMode         = "auditMode"
	keyAuditFunctionName = "auditFunctionName"
	keyAlarmSeverity     = "alarmSeverity"
	keyKMSKey            = "kmsKey"
	keyLambdaZip         = "lambdaZip"
	keyBuildspec         = "buildspec"
	keySourceType        = "sourceType"
	keySourceLocation    = "sourceLocation"
	keySourceVersion     = "sourceVersion"
)

// Values of the kmsKey context key besides a key ARN.
const (
	kmsNone   = ""
	kmsCreate = "create"
)

// Source types of the CodeBuild project, as CodeBuild names them.
const (
	sourceNone       = "NO_SOURCE"
	sourceGitHub     = "GITHUB"
	sourceCodeCommit = "CODECOMMIT"
	sourceS3         = "S3"
)

// severities are the audit's finding severities, from the most serious,
// as the audit Lambda writes them in the Severity dimension.
var severities = []string{"critical", "high", "medium", "low", "info"}

// Config is the validated configuration of both stacks.
type Config struct {
	ToolsAccount string
	DevAccount   string
	Region       string

	BucketName  string
	RoleName    string
	ProjectName string

	// Prefix is the key prefix that builds deliver under, without leading
	// or trailing slashes.
	Prefix string

	AuditSchedule     string
	AuditMode         string
	AuditFunctionName string

	// AlarmSeverity is the least serious finding severity that the drift
	// alarm counts.
	AlarmSeverity string

	// KMSKey is "" for SSE-S3, "create" for a customer managed key that the
	// dev stack creates, or the ARN of an existing key in the dev account.
	KMSKey string

	// LambdaZip is the audit Lambda's deployment package (make lambda).
	LambdaZip string

	// Buildspec is the buildspec file inlined into a NO_SOURCE project.
	Buildspec string

	SourceType     string
	SourceLocation string
	SourceVersion  string
}

// defaults are the values of the optional context keys.
var defaults = map[string]string{
	keyAuditSchedule:     "rate(1 hour)",
	keyAuditMode:         "report",
	keyAuditFunctionName: "countersign-audit",
	keyAlarmSeverity:     "high",
	keyKMSKey:            kmsNone,
	keyLambdaZip:         "../dist/lambda/countersign-audit.zip",
	keyBuildspec:         "../buildspec.yml",
	keySourceType:        sourceNone,
}

// knownKeys lists every context key the app reads. Other keys, such as
// CDK's feature flags, pass through untouched.
var knownKeys = []string{
	keyToolsAccount, keyDevAccount, keyRegion, keyBucketName, keyRoleName,
	keyProjectName, keyPrefix, keyAuditSchedule, keyAuditMode,
	keyAuditFunctionName, keyAlarmSeverity, keyKMSKey, keyLambdaZip,
	keyBuildspec, keySourceType, keySourceLocation, keySourceVersion,
}

var (
	accountPattern  = regexp.MustCompile(`^\d{12}$`)
	regionPattern   = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$`)
	bucketPattern   = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
	roleNamePattern = regexp.MustCompile(`^[\w+=,.@-]{1,64}$`)
	projectPattern  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$`)
	functionPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,59}$`)
	kmsKeyPattern   = regexp.MustCompile(`^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):key/[A-Za-z0-9-]+$`)
	// A prefix segment holds the characters that S3 keys can carry without
	// encoding and that IAM policies treat literally (no *, ?, $ or {).
	prefixPattern = regexp.MustCompile(`^[A-Za-z0-9!_.'()-]+(/[A-Za-z0-9!_.'()-]+)*$`)
	// EventBridge schedule expressions: rate(N unit) or cron(six fields).
	ratePattern = regexp.MustCompile(`^rate\(([1-9]\d*) (minute|minutes|hour|hours|day|days)\)$`)
	cronPattern = regexp.MustCompile(`^cron\(\S+( \S+){5}\)$`)
	// GitHub owner/repository.
	gitHubPattern = regexp.MustCompile(`^[A-Za-z0-9-]+/[A-Za-z0-9._-]+$`)
	// CodeCommit repository names.
	codeCommitPattern = regexp.MustCompile(`^[\w.-]{1,100}$`)
)

// ConfigError is an invalid or missing context value.
type ConfigError struct {
	Key    string
	Value  string
	Reason string
}

func (e *ConfigError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("context key %q: %s", e.Key, e.Reason)
	}
	return fmt.Sprintf("context key %q = %q: %s", e.Key, e.Value, e.Reason)
}

// ReadContextFile returns the "context" object of a cdk.json file, so that
// the app finds its configuration when it runs without the CDK CLI (make
// synth, go test). A missing file gives an empty map.
func ReadContextFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}

	var file struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("parse %s: %w; fix the JSON", path, err)
	}
	if file.Context == nil {
		return map[string]any{}, nil
	}
	return file.Context, nil
}

// ConfigFromContext builds and validates the configuration. lookup returns
// a context value and whether it is set. Relative file paths are taken
// from dir, the folder of cdk.json. Every invalid key is reported, each
// naming the key and the fix.
func ConfigFromContext(lookup func(key string) (any, bool), dir string) (Config, error) {
	values := map[string]string{}
	var errs []error
	for _, key := range knownKeys {
		raw, ok := lookup(key)
		if !ok || raw == nil {
			values[key] = defaults[key]
			continue
		}
		s, ok := raw.(string)
		if !ok {
			errs = append(errs, &ConfigError{Key: key, Value: fmt.Sprint(raw), Reason: "must be a JSON string; quote the value in cdk.json"})
			continue
		}
		values[key] = strings.TrimSpace(s)
	}
	if len(errs) > 0 {
		return Config{}, errors.Join(errs...)
	}

	cfg := Config{
		ToolsAccount:      values[keyToolsAccount],
		DevAccount:        values[keyDevAccount],
		Region:            values[keyRegion],
		BucketName:        values[keyBucketName],
		RoleName:          values[keyRoleName],
		ProjectName:       values[keyProjectName],
		Prefix:            values[keyPrefix],
		AuditSchedule:     values[keyAuditSchedule],
		AuditMode:         values[keyAuditMode],
		AuditFunctionName: values[keyAuditFunctionName],
		AlarmSeverity:     values[keyAlarmSeverity],
		KMSKey:            values[keyKMSKey],
		LambdaZip:         resolvePath(dir, values[keyLambdaZip]),
		Buildspec:         resolvePath(dir, values[keyBuildspec]),
		SourceType:        strings.ToUpper(values[keySourceType]),
		SourceLocation:    values[keySourceLocation],
		SourceVersion:     values[keySourceVersion],
	}
	if err := cfg.Validate(); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

func resolvePath(dir, path string) string {
	if path == "" || filepath.IsAbs(path) {
		return path
	}
	return filepath.Join(dir, path)
}

// Validate checks every field and returns one error per invalid key.
func (c Config) Validate() error {
	var errs []error
	check := func(key, value string, ok bool, reason string) {
		if !ok {
			errs = append(errs, &ConfigError{Key: key, Value: value, Reason: reason})
		}
	}
	required := func(key, value string) bool {
		if value == "" {
			errs = append(errs, &ConfigError{Key: key, Reason: "is missing; set it in the context object of cdk.json or with -c " + key + "=VALUE"})
			return false
		}
		return true
	}

	if required(keyToolsAccount, c.ToolsAccount) {
		check(keyToolsAccount, c.ToolsAccount, accountPattern.MatchString(c.ToolsAccount), "must be a 12-digit AWS account id")
	}
	if required(keyDevAccount, c.DevAccount) {
		check(keyDevAccount, c.DevAccount, accountPattern.MatchString(c.DevAccount), "must be a 12-digit AWS account id")
	}
	if required(keyRegion, c.Region) {
		check(keyRegion, c.Region, regionPattern.MatchString(c.Region), "must be an AWS region code such as eu-west-1")
	}
	if required(keyBucketName, c.BucketName) {
		check(keyBucketName, c.BucketName, validBucketName(c.BucketName), "must be an S3 bucket name: 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, not an IP address")
	}
	if required(keyRoleName, c.RoleName) {
		check(keyRoleName, c.RoleName, roleNamePattern.MatchString(c.RoleName), "must be an IAM role name: 1 to 64 letters, digits and +=,.@_-")
	}
	if required(keyProjectName, c.ProjectName) {
		check(keyProjectName, c.ProjectName, projectPattern.MatchString(c.ProjectName), "must be a CodeBuild project name: 2 to 255 letters, digits, hyphens and underscores, starting with a letter or digit")
	}
	if required(keyPrefix, c.Prefix) {
		check(keyPrefix, c.Prefix, prefixPattern.MatchString(c.Prefix), "must be a key prefix such as app or teams/app: letters, digits and !_.'()- in segments separated by single slashes, with no leading or trailing slash and no wildcard")
	}

	check(keyAuditSchedule, c.AuditSchedule, ratePattern.MatchString(c.AuditSchedule) || cronPattern.MatchString(c.AuditSchedule), "must be an EventBridge schedule expression such as rate(1 hour) or cron(0 6 * * ? *)")
	check(keyAuditMode, c.AuditMode, c.AuditMode == "report" || c.AuditMode == "enforce", "must be report or enforce")
	check(keyAuditFunctionName, c.AuditFunctionName, functionPattern.MatchString(c.AuditFunctionName), "must be a Lambda function name of 1 to 59 letters, digits, hyphens and underscores (the role name adds 5 characters)")
	check(keyAlarmSeverity, c.AlarmSeverity, slices.Contains(severities, c.AlarmSeverity), "must be one of "+strings.Join(severities, ", "))
	errs = append(errs, c.validateKMSKey()...)
	errs = append(errs, c.validateFiles()...)
	errs = append(errs, c.validateSource()...)

	return errors.Join(errs...)
}

func validBucketName(name string) bool {
	if !bucketPattern.MatchString(name) || strings.Contains(name, "..") || net.ParseIP(name) != nil {
		return false
	}
	// S3 reserves these prefixes and suffixes for access points and
	// directory buckets.
	for _, prefix := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, prefix) {
			return false
		}
	}
	for _, suffix := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, suffix) {
			return false
		}
	}
	return true
}

func (c Config) validateKMSKey() []error {
	switch c.KMSKey {
	case kmsNone, kmsCreate:
		return nil
	}

	m := kmsKeyPattern.FindStringSubmatch(c.KMSKey)
	switch {
	case m == nil:
		return []error{&ConfigError{Key: keyKMSKey, Value: c.KMSKey, Reason: `must be empty (SSE-S3), "create" (a key in the dev stack) or a key ARN such as arn:aws:kms:REGION:ACCOUNT:key/ID; an alias does not work across accounts`}}
	case m[1] != c.Region || m[2] != c.DevAccount:
		return []error{&ConfigError{Key: keyKMSKey, Value: c.KMSKey, Reason: fmt.Sprintf("the key must be in the dev account %s and region %s, where the bucket is", c.DevAccount, c.Region)}}
	}
	return nil
}

func (c Config) validateFiles() []error {
	var errs []error
	if info, err := os.Stat(c.LambdaZip); err != nil || info.IsDir() {
		errs = append(errs, &ConfigError{Key: keyLambdaZip, Value: c.LambdaZip, Reason: "the audit Lambda's deployment package is missing; run make lambda at the repository root, or point lambdaZip at the zip"})
	}
	if c.SourceType == sourceNone {
		if info, err := os.Stat(c.Buildspec); err != nil || info.IsDir() {
			errs = append(errs, &ConfigError{Key: keyBuildspec, Value: c.Buildspec, Reason: "a NO_SOURCE project inlines this buildspec file, which is missing; point buildspec at the repository's buildspec.yml"})
		}
	}
	return errs
}

func (c Config) validateSource() []error {
	var ok bool
	var reason string
	switch c.SourceType {
	case sourceNone:
		if c.SourceLocation != "" {
			return []error{&ConfigError{Key: keySourceLocation, Value: c.SourceLocation, Reason: "is set, but sourceType is NO_SOURCE; set sourceType too, or remove sourceLocation"}}
		}
		return nil
	case sourceGitHub:
		ok, reason = gitHubPattern.MatchString(c.SourceLocation), "must be OWNER/REPOSITORY for a GITHUB source"
	case sourceCodeCommit:
		ok, reason = codeCommitPattern.MatchString(c.SourceLocation), "must be the name of a CodeCommit repository in the tools account for a CODECOMMIT source"
	case sourceS3:
		bucket, key, found := strings.Cut(c.SourceLocation, "/")
		ok, reason = found && validBucketName(bucket) && key != "" && !strings.ContainsAny(key, "*?"), "must be BUCKET/KEY of a zip in the tools account for an S3 source"
	default:
		return []error{&ConfigError{Key: keySourceType, Value: c.SourceType, Reason: "must be NO_SOURCE, GITHUB, CODECOMMIT or S3"}}
	}
	if !ok {
		return []error{&ConfigError{Key: keySourceLocation, Value: c.SourceLocation, Reason: reason}}
	}
	return nil
}

// RoleARN returns the build role's ARN in the given partition.
func (c Config) RoleARN(partition string) string {
	return "arn:" + partition + ":iam::" + c.ToolsAccount + ":role/" + c.RoleName
}

// ProjectARN returns the CodeBuild project's ARN in the given partition.
func (c Config) ProjectARN(partition string) string {
	return "arn:" + partition + ":codebuild:" + c.Region + ":" + c.ToolsAccount + ":project/" + c.ProjectName
}

// CanaryPrefix returns the prefix under which countersign preflight writes
// its canary objects.
func (c Config) CanaryPrefix() string {
	return c.Prefix + "/.countersign/"
}

// AuditRoleName is the audit Lambda's role name. It is a physical name so
// that countersign explain can resolve every role of the dev stack.
func (c Config) AuditRoleName() string {
	return c.AuditFunctionName + "-role"
}

// KMSAlias is the alias of the key that the dev stack creates. The tools
// stack cannot know the key's ARN before the dev stack is deployed, so the
// build role finds the key by this alias.
func (c Config) KMSAlias() string {
	return "alias/countersign/" + strings.ReplaceAll(c.BucketName, ".", "-")
}
