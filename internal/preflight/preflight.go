// Package preflight proves, before a build spends time, that its role can
// do what sync will do against the destination bucket. It checks the
// identity, the bucket's owner, listing, and a canary object's put, get and
// delete, and explains every denial.
package preflight

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/google/uuid"
	"github.com/rs/zerolog"

	"github.com/countersign/countersign/internal/delivery"
	"github.com/countersign/countersign/internal/denial"
	"github.com/countersign/countersign/internal/exitcode"
	"github.com/countersign/countersign/internal/identity"
	"github.com/countersign/countersign/internal/s3sync"
)

// S3Client is the subset of the S3 API that preflight calls.
type S3Client interface {
	HeadBucket(ctx context.Context, in *s3.HeadBucketInput, optFns ...func(*s3.Options)) (*s3.HeadBucketOutput, error)
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
	DeleteObject(ctx context.Context, in *s3.DeleteObjectInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectOutput, error)
}

// Options name the destination that sync will use.
type Options struct {
	Bucket      string
	Prefix      string
	BucketOwner string
	Identity    identity.Options
	// Headers are the upload headers sync sends, so the canary proves them too.
	Headers s3sync.ObjectHeaders
}

// Status is a step's outcome.
type Status string

// Step outcomes.
const (
	StatusOK       Status = "OK"
	StatusDenied   Status = "DENIED"
	StatusError    Status = "ERROR"
	StatusSkipped  Status = "SKIPPED"
	StatusMismatch Status = "MISMATCH" // the caller is not the expected role
)

// Step names, in the order they run.
const (
	StepWhoami       = "whoami"
	StepHeadBucket   = "head-bucket"
	StepList         = "list"
	StepPutCanary    = "put-canary"
	StepGetCanary    = "get-canary"
	StepDeleteCanary = "delete-canary"
)

// Step is one row of the preflight table.
type Step struct {
	Name      string            `json:"step"`
	Operation string            `json:"operation"`
	Status    Status            `json:"status"`
	Detail    string            `json:"detail"`
	Error     string            `json:"error,omitempty"`
	Diagnosis *denial.Diagnosis `json:"diagnosis,omitempty"`
	Duration  time.Duration     `json:"duration_ns"`
}

// Result is the whole preflight.
type Result struct {
	Bucket      string           `json:"bucket"`
	Prefix      string           `json:"prefix"`
	BucketOwner string           `json:"bucket_owner,omitempty"`
	Identity    *identity.Result `json:"identity,omitempty"`
	Steps       []Step           `json:"steps"`
	CanaryKey   string           `json:"canary_key,omitempty"`
	// CanaryLeft is true when the canary was written but could not be deleted.
	CanaryLeft bool `json:"canary_left_behind"`
	Passed     bool `json:"passed"`
}

// CanaryPrefix returns the reserved prefix under which preflight writes its
// canary; sync never uploads to or deletes from it.
func CanaryPrefix(prefix string) string {
	return path.Join(strings.Trim(prefix, "/"), ".countersign") + "/"
}

// Run performs the preflight. It returns the result with an error wrapping
// exitcode.ErrIdentityMismatch, exitcode.ErrAccessDenied, or a plain error
// for other failures, so the caller can print the table either way.
func Run(ctx context.Context, s3c S3Client, stsc identity.STSClient, opts Options) (*Result, error) {
	if opts.Bucket == "" {
		return nil, fmt.Errorf("missing bucket: pass --bucket or set COUNTERSIGN_BUCKET: %w", exitcode.ErrUsage)
	}
	if err := opts.Headers.Validate(); err != nil {
		return nil, err
	}
	if opts.BucketOwner != "" && !delivery.IsAccountID(opts.BucketOwner) {
		return nil, fmt.Errorf("invalid --bucket-owner %q: use the 12-digit id of the account that owns the bucket, such as 222222222222: %w", opts.BucketOwner, exitcode.ErrUsage)
	}

	r := &runner{s3: s3c, opts: opts, log: zerolog.Ctx(ctx)}
	r.res = &Result{Bucket: opts.Bucket, Prefix: strings.Trim(opts.Prefix, "/"), BucketOwner: opts.BucketOwner}

	if !r.whoami(ctx, stsc) {
		r.skip(StepHeadBucket, "HeadBucket", StepList, "ListObjectsV2", StepPutCanary, "PutObject", StepGetCanary, "GetObject", StepDeleteCanary, "DeleteObject")
		return r.finish()
	}

	if !r.headBucket(ctx) {
		r.skip(StepList, "ListObjectsV2", StepPutCanary, "PutObject", StepGetCanary, "GetObject", StepDeleteCanary, "DeleteObject")
		return r.finish()
	}
	r.list(ctx)
	r.canary(ctx)
	return r.finish()
}

type runner struct {
	s3     S3Client
	opts   Options
	log    *zerolog.Logger
	res    *Result
	caller string
	role   string
}

func (r *runner) whoami(ctx context.Context, stsc identity.STSClient) bool {
	start := time.Now()
	identityResult, err := identity.Whoami(ctx, stsc, r.opts.Identity)
	step := Step{Name: StepWhoami, Operation: "GetCallerIdentity", Duration: time.Since(start)}
	r.res.Identity = identityResult

	switch {
	case identityResult != nil && err == nil:
		step.Status = StatusOK
		step.Detail = describeCaller(identityResult)
	case identityResult != nil:
		// The problem names the caller and the expected role, so the row
		// shows it alone instead of repeating the caller's ARN.
		step.Status = StatusMismatch
		step.Error = identityResult.Problem
	default:
		step.Status = StatusError
		step.Error = err.Error()
		if denial.IsAccessDenied(err) {
			step.Status = StatusDenied
		}
	}
	if identityResult != nil {
		r.caller = identityResult.Caller.ARN
		r.role = identityResult.RoleARN
		if r.opts.Identity.ExpectRole != "" && identityResult.Matches {
			// The expected role keeps its IAM path, which the session ARN drops.
			r.role = r.opts.Identity.ExpectRole
		}
	}
	r.add(step, err)
	return step.Status == StatusOK
}

func describeCaller(result *identity.Result) string {
	c := result.Caller
	if c.Kind == identity.KindAssumedRole {
		return fmt.Sprintf("%s (role %s, account %s)", c.ARN, c.Name, c.Account)
	}
	return fmt.Sprintf("%s (%s, account %s)", c.ARN, c.Kind, c.Account)
}

// headBucket checks that the bucket exists and, with ExpectedBucketOwner,
// that it belongs to the dev account. It returns false when later steps
// cannot tell anything more.
func (r *runner) headBucket(ctx context.Context) bool {
	start := time.Now()
	_, err := r.s3.HeadBucket(ctx, &s3.HeadBucketInput{
		Bucket:              aws.String(r.opts.Bucket),
		ExpectedBucketOwner: r.owner(),
	})
	step := Step{Name: StepHeadBucket, Operation: "HeadBucket", Duration: time.Since(start)}

	if err == nil {
		step.Status = StatusOK
		step.Detail = fmt.Sprintf("bucket %s exists", r.opts.Bucket)
		if r.opts.BucketOwner != "" {
			step.Detail += fmt.Sprintf(" and is owned by account %s", r.opts.BucketOwner)
		} else {
			step.Detail += " (owner not checked: pass --bucket-owner)"
		}
		r.add(step, nil)
		return true
	}

	if statusCode(err) == http.StatusNotFound {
		step.Status = StatusError
		step.Error = fmt.Sprintf("bucket %s does not exist: check --bucket or COUNTERSIGN_BUCKET", r.opts.Bucket)
		r.add(step, err)
		return false
	}

	if denial.IsAccessDenied(err) && r.res.Prefix != "" && r.listProvesBucket(ctx) {
		// S3 authorizes HeadBucket as s3:ListBucket without an s3:prefix
		// key, so a grant limited to the prefix denies it. Sync only lists
		// under the prefix, so that least-privilege setup is a pass.
		step.Status = StatusOK
		step.Detail = fmt.Sprintf("HeadBucket denied, as it is when s3:ListBucket is limited by s3:prefix; listing under %s/ proved that bucket %s exists", r.res.Prefix, r.opts.Bucket)
		if r.opts.BucketOwner != "" {
			step.Detail += fmt.Sprintf(" and is owned by account %s", r.opts.BucketOwner)
		}
		r.add(step, nil)
		return true
	}

	req := r.denialRequest("HeadBucket", "", err)
	if denial.IsAccessDenied(err) && r.opts.BucketOwner != "" {
		req.OwnerProbe = r.probeOwner(ctx)
	}
	r.fail(&step, req, err)

	// Every later request carries the same wrong owner and would be denied
	// for the same reason, so they would only repeat this diagnosis.
	return req.OwnerProbe != denial.ProbeSucceeded
}

// listProvesBucket lists under the prefix with ExpectedBucketOwner. Success
// proves what HeadBucket would have: the bucket exists, the caller may list
// where sync lists, and the owner is the expected one.
func (r *runner) listProvesBucket(ctx context.Context) bool {
	_, err := r.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:              aws.String(r.opts.Bucket),
		Prefix:              aws.String(r.res.Prefix + "/"),
		MaxKeys:             aws.Int32(1),
		ExpectedBucketOwner: r.owner(),
	})
	return err == nil
}

// probeOwner repeats HeadBucket without ExpectedBucketOwner. If that
// succeeds, the bucket exists and the caller may list it, so the 403 came
// from the owner check. HEAD only reads, so the probe is safe.
func (r *runner) probeOwner(ctx context.Context) denial.Probe {
	_, err := r.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(r.opts.Bucket)})
	switch {
	case err == nil:
		return denial.ProbeSucceeded
	case denial.IsAccessDenied(err):
		return denial.ProbeDenied
	default:
		return denial.ProbeUnknown
	}
}

func (r *runner) list(ctx context.Context) {
	start := time.Now()
	prefix := ""
	if r.res.Prefix != "" {
		prefix = r.res.Prefix + "/"
	}
	out, err := r.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{
		Bucket:              aws.String(r.opts.Bucket),
		Prefix:              aws.String(prefix),
		MaxKeys:             aws.Int32(1),
		ExpectedBucketOwner: r.owner(),
	})
	step := Step{Name: StepList, Operation: "ListObjectsV2", Duration: time.Since(start)}
	if err != nil {
		req := r.denialRequest("ListObjectsV2", "", err)
		req.Prefix = prefix
		r.fail(&step, req, err)
		return
	}

	step.Status = StatusOK
	step.Detail = fmt.Sprintf("listed s3://%s/%s", r.opts.Bucket, prefix)
	if len(out.Contents) == 0 {
		step.Detail += " (empty)"
	}
	r.add(step, nil)
}

// canary writes, reads back and deletes one small object with the headers
// sync sends.
func (r *runner) canary(ctx context.Context) {
	key := CanaryPrefix(r.res.Prefix) + "preflight-" + time.Now().UTC().Format("20060102T150405Z") + "-" + uuid.NewString()[:8]
	body := []byte(fmt.Sprintf("countersign preflight canary\ncaller: %s\ntime: %s\n", r.caller, time.Now().UTC().Format(time.RFC3339)))
	r.res.CanaryKey = key

	if !r.putCanary(ctx, key, body) {
		r.skip(StepGetCanary, "GetObject", StepDeleteCanary, "DeleteObject")
		return
	}
	r.getCanary(ctx, key, body)
	r.deleteCanary(ctx, key)
}

func (r *runner) putCanary(ctx context.Context, key string, body []byte) bool {
	in := &s3.PutObjectInput{
		Bucket:              aws.String(r.opts.Bucket),
		Key:                 aws.String(key),
		Body:                bytes.NewReader(body),
		ContentLength:       aws.Int64(int64(len(body))),
		ContentType:         aws.String("text/plain; charset=utf-8"),
		ChecksumAlgorithm:   types.ChecksumAlgorithmCrc32c,
		ExpectedBucketOwner: r.owner(),
	}
	r.opts.Headers.ApplyPut(in)

	start := time.Now()
	_, err := r.s3.PutObject(ctx, in)
	step := Step{Name: StepPutCanary, Operation: "PutObject", Duration: time.Since(start)}
	if err != nil {
		r.fail(&step, r.denialRequest("PutObject", key, err), err)
		return false
	}
	step.Status = StatusOK
	step.Detail = fmt.Sprintf("wrote s3://%s/%s (%d bytes%s)", r.opts.Bucket, key, len(body), describeHeaders(r.opts.Headers))
	r.add(step, nil)
	return true
}

func describeHeaders(h s3sync.ObjectHeaders) string {
	var parts []string
	if h.ACL != "" {
		parts = append(parts, "ACL "+h.ACL)
	}
	if h.SSE != "" {
		parts = append(parts, "SSE "+h.SSE)
	}
	if h.SSEKMSKeyID != "" {
		parts = append(parts, "KMS key "+h.SSEKMSKeyID)
	}
	parts = append(parts, "CRC32C checksum")
	return ", " + strings.Join(parts, ", ")
}

func (r *runner) getCanary(ctx context.Context, key string, want []byte) {
	start := time.Now()
	out, err := r.s3.GetObject(ctx, &s3.GetObjectInput{
		Bucket:              aws.String(r.opts.Bucket),
		Key:                 aws.String(key),
		ExpectedBucketOwner: r.owner(),
	})
	var got []byte
	if err == nil {
		got, err = io.ReadAll(io.LimitReader(out.Body, int64(len(want))+1024))
		out.Body.Close()
		if err != nil {
			err = fmt.Errorf("read canary body: %w", err)
		}
	}
	step := Step{Name: StepGetCanary, Operation: "GetObject", Duration: time.Since(start)}

	switch {
	case err != nil:
		r.fail(&step, r.denialRequest("GetObject", key, err), err)
	case !bytes.Equal(got, want):
		step.Status = StatusError
		step.Error = fmt.Sprintf("read back %d bytes that differ from the %d bytes written: something between the build and the bucket changes objects", len(got), len(want))
		r.add(step, errors.New(step.Error))
	default:
		step.Status = StatusOK
		step.Detail = fmt.Sprintf("read back %d bytes, identical", len(got))
		r.add(step, nil)
	}
}

func (r *runner) deleteCanary(ctx context.Context, key string) {
	start := time.Now()
	_, err := r.s3.DeleteObject(ctx, &s3.DeleteObjectInput{
		Bucket:              aws.String(r.opts.Bucket),
		Key:                 aws.String(key),
		ExpectedBucketOwner: r.owner(),
	})
	step := Step{Name: StepDeleteCanary, Operation: "DeleteObject", Duration: time.Since(start)}
	if err != nil {
		r.res.CanaryLeft = true
		r.fail(&step, r.denialRequest("DeleteObject", key, err), err)
		r.res.Steps[len(r.res.Steps)-1].Detail = fmt.Sprintf("canary left behind: s3://%s/%s (a lifecycle rule on %s can expire it)", r.opts.Bucket, key, CanaryPrefix(r.res.Prefix))
		return
	}
	step.Status = StatusOK
	step.Detail = fmt.Sprintf("deleted s3://%s/%s", r.opts.Bucket, key)
	r.add(step, nil)
}

func (r *runner) owner() *string {
	if r.opts.BucketOwner == "" {
		return nil
	}
	return aws.String(r.opts.BucketOwner)
}

// denialRequest describes a failed call for the diagnosis.
func (r *runner) denialRequest(operation, key string, err error) denial.Request {
	code, message, status, _ := denial.FromError(err)
	return denial.Request{
		Operation:           operation,
		Bucket:              r.opts.Bucket,
		Key:                 key,
		Prefix:              r.res.Prefix,
		ExpectedBucketOwner: r.opts.BucketOwner,
		CallerARN:           r.caller,
		RoleARN:             r.role,
		StatusCode:          status,
		ErrorCode:           code,
		Message:             message,
		BuildARN:            r.opts.Identity.CodeBuildBuildARN,
		ACL:                 r.opts.Headers.ACL,
		SSE:                 r.opts.Headers.SSE,
		SSEKMSKeyID:         r.opts.Headers.SSEKMSKeyID,
	}
}

// fail records a failed step, with a diagnosis when AWS denied it.
func (r *runner) fail(step *Step, req denial.Request, err error) {
	step.Status = StatusError
	step.Error = err.Error()
	if denial.IsRefusal(err) {
		step.Status = StatusDenied
		d := denial.Diagnose(req)
		if r.res.Prefix == "" && (step.Name == StepHeadBucket || step.Name == StepList) {
			d.Notes = append(d.Notes, noPrefixNote)
		}
		step.Diagnosis = &d
		step.Error = deniedLabel(req)
	}
	r.add(*step, err)
}

// noPrefixNote warns against the whole-bucket fix when listing was denied
// without a prefix: grants are often limited by an s3:prefix condition,
// and the build's prefix then passes where the bucket root does not.
const noPrefixNote = "no prefix was given, so the whole bucket was listed: if the grants limit s3:ListBucket with an s3:prefix condition, pass --prefix or set COUNTERSIGN_PREFIX to the build's prefix rather than widening them"

// deniedLabel is the short text of a DENIED row; the diagnosis under the
// row gives the details.
func deniedLabel(req denial.Request) string {
	code := req.ErrorCode
	if code == "" || code == "Forbidden" {
		code = fmt.Sprintf("bodiless %d", req.StatusCode)
	}
	return fmt.Sprintf("%s (%s): diagnosis below", req.Operation, code)
}

func (r *runner) add(step Step, err error) {
	ev := r.log.Info()
	if step.Status != StatusOK {
		ev = r.log.Warn().AnErr("error", err)
	}
	ev.Str("step", step.Name).Str("status", string(step.Status)).Str("bucket", r.opts.Bucket).Msg("preflight step")
	r.res.Steps = append(r.res.Steps, step)
}

func (r *runner) skip(pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		r.res.Steps = append(r.res.Steps, Step{Name: pairs[i], Operation: pairs[i+1], Status: StatusSkipped, Detail: "skipped: an earlier step failed"})
	}
}

// finish sets the verdict and picks the error class: identity first, then
// denial, then any other failure.
func (r *runner) finish() (*Result, error) {
	var denied, failed []string
	for _, s := range r.res.Steps {
		switch s.Status {
		case StatusDenied:
			denied = append(denied, s.Name)
		case StatusError, StatusMismatch:
			failed = append(failed, s.Name)
		}
	}
	r.res.Passed = len(denied) == 0 && len(failed) == 0

	switch {
	case r.res.Identity != nil && !r.res.Identity.Matches:
		return r.res, fmt.Errorf("preflight failed at whoami: %s: %w", r.res.Identity.Problem, exitcode.ErrIdentityMismatch)
	case len(denied) > 0:
		return r.res, fmt.Errorf("preflight denied at %s: %w", strings.Join(denied, ", "), exitcode.ErrAccessDenied)
	case len(failed) > 0:
		return r.res, fmt.Errorf("preflight failed at %s", strings.Join(failed, ", "))
	}
	return r.res, nil
}

func statusCode(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}
