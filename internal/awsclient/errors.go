package awsclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/credentials/endpointcreds"
	"github.com/aws/smithy-go/middleware"

	"github.com/countersign/countersign/internal/denial"
	"github.com/countersign/countersign/internal/exitcode"
)

// setCredentialsHint is the advice every credential error ends with.
const setCredentialsHint = "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary keys), " +
	"choose a profile with AWS_PROFILE or --profile, or, in CodeBuild, attach a service role to the project and export no static keys"

// checkEndpoints rejects an endpoint URL without an http:// or https://
// scheme and a host. The SDK would accept it here and fail each request
// with "Failed to parse uri".
func checkEndpoints(flagValue string) error {
	if flagValue != "" {
		return checkEndpoint("--endpoint-url", flagValue)
	}
	if os.Getenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") == "true" {
		return nil
	}

	// NOTE: an endpoint_url in the shared config file is not checked here,
	// so a malformed one still fails at the first request.
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_STS"} {
		if value := os.Getenv(name); value != "" {
			if err := checkEndpoint(name, value); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkEndpoint(source, value string) error {
	u, err := url.Parse(value)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	return fmt.Errorf("invalid endpoint URL %q in %s: use a URL with http:// or https:// and a host, such as http://127.0.0.1:9000: %w", value, source, exitcode.ErrUsage)
}

// explainLoadError turns the SDK's error for a missing shared config
// profile into a usage error that names the profile and the files read.
func explainLoadError(err error, flagProfile string) error {
	var missing config.SharedConfigProfileNotExistError
	if !errors.As(err, &missing) {
		return fmt.Errorf("load aws config: %w", err)
	}

	source := "AWS_PROFILE"
	if flagProfile != "" {
		source = "--profile"
	}
	files := "the shared config and credentials files"
	if len(missing.Filename) > 0 {
		files = strings.Join(missing.Filename, ", ")
	}
	return fmt.Errorf("profile %q (from %s) not found in %s: pass an existing profile with --profile or AWS_PROFILE, or unset both to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY or the CodeBuild role: %w",
		missing.Profile, source, files, exitcode.ErrUsage)
}

// MissingCredentialsError means the SDK's chain found no credentials: none
// in the environment, the shared files or the container endpoint, and the
// EC2 instance metadata service gave none either.
type MissingCredentialsError struct {
	Err error
}

func (e *MissingCredentialsError) Error() string {
	return "no AWS credentials found: " + setCredentialsHint + " (last attempt, the EC2 instance metadata service: " + e.Err.Error() + ")"
}

func (e *MissingCredentialsError) Unwrap() error { return e.Err }

// retrieveCredentials loads the credentials once, so a missing set fails
// before any command starts its work. The cache keeps them for the clients.
func retrieveCredentials(ctx context.Context, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return &MissingCredentialsError{Err: errors.New("no credentials provider")}
	}
	_, err := cfg.Credentials.Retrieve(ctx)
	if err == nil {
		return nil
	}

	// The chain falls back to the EC2 role provider only when every other
	// source is empty, so its failure means that no credentials are set.
	if aws.IsCredentialsProvider(cfg.Credentials, &ec2rolecreds.Provider{}) {
		return &MissingCredentialsError{Err: err}
	}
	return fmt.Errorf("load aws credentials: %w: check the credential settings of the profile or the environment, or %s", err, setCredentialsHint)
}

// RejectedCredentialsError means AWS rejected the credentials before it
// evaluated any policy (InvalidAccessKeyId, SignatureDoesNotMatch,
// ExpiredToken and the like). It names the access key id and where it came
// from, never the secret key or the session token.
type RejectedCredentialsError struct {
	Code        string
	Message     string
	AccessKeyID string
	Source      string
	Err         error
}

func (e *RejectedCredentialsError) Error() string {
	key := "the access key"
	if e.AccessKeyID != "" {
		key = "access key " + e.AccessKeyID
	}
	if e.Source != "" {
		key += " (from " + e.Source + ")"
	}

	var reason string
	switch strings.ToLower(e.Code) {
	case "signaturedoesnotmatch":
		reason = "the secret key does not belong to " + key + ", or a proxy changed the request after signing: check AWS_SECRET_ACCESS_KEY, or aws_secret_access_key in the profile (AWS_PROFILE or --profile)"
	case "expiredtoken", "expiredtokenexception", "tokenrefreshrequired":
		reason = "the session token of " + key + " expired: a fixed AWS_SESSION_TOKEN does not refresh, so unset it and let the SDK load fresh credentials, or " + setCredentialsHint
	case "requesttimetooskewed":
		reason = "this host's clock is more than 15 minutes off AWS's, so AWS rejected the signature of " + key + ": sync the clock with NTP"
	default:
		reason = "AWS does not recognise " + key + " or its session token: " + setCredentialsHint
	}
	return fmt.Sprintf("AWS rejected the credentials (%s: %s): %s", e.Code, e.Message, reason)
}

func (e *RejectedCredentialsError) Unwrap() error { return e.Err }

// credentialHint is an Initialize middleware, so it receives each
// operation's final error after the retries. It replaces a credential
// rejection with a RejectedCredentialsError that still unwraps to the
// SDK's error.
func credentialHint(creds aws.CredentialsProvider) func(*middleware.Stack) error {
	return func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("CountersignCredentialHint",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleInitialize(ctx, in)
				if err == nil || !denial.IsCredentialError(err) {
					return out, md, err
				}

				code, message, _, _ := denial.FromError(err)
				rejected := &RejectedCredentialsError{Code: code, Message: message, Err: err}
				if creds != nil {
					// The cache returns the credentials the request was
					// signed with, and fetches new ones only once they expire.
					if value, retrieveErr := creds.Retrieve(ctx); retrieveErr == nil {
						rejected.AccessKeyID = value.AccessKeyID
						rejected.Source = describeSource(value.Source)
					}
				}
				return out, md, rejected
			}), middleware.Before)
	}
}

// describeSource turns the provider's Source name into the place a user
// sets the credentials.
func describeSource(source string) string {
	switch {
	case source == "":
		return ""
	case source == config.CredentialsSourceName:
		return "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	case strings.HasPrefix(source, "SharedConfigCredentials: "):
		return "the shared file " + strings.TrimPrefix(source, "SharedConfigCredentials: ")
	case source == ec2rolecreds.ProviderName:
		return "the EC2 instance role"
	case source == endpointcreds.ProviderName:
		return "the container credentials endpoint, such as CodeBuild's service role"
	default:
		return source
	}
}
