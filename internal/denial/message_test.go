package denial

import (
	"strings"
	"testing"
)

func TestParseMessage(t *testing.T) {
	tests := []struct {
		name      string
		message   string
		caller    string
		action    string
		resource  string
		explicit  bool
		hasReason bool
		policy    PolicyType
		policyARN string
	}{
		{
			name:    "IAMDocumentedForm",
			message: "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:CreateInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/my-instance-profile because no identity-based policy allows the iam:CreateInstanceProfile action",
			caller:  "arn:aws:iam::123456789012:user/janedoe", action: "iam:CreateInstanceProfile",
			resource: "arn:aws:iam::123456789012:instance-profile/my-instance-profile", hasReason: true, policy: PolicyIdentity,
		},
		{
			name:    "EnhancedWithPolicyARNAndLink",
			message: "User: arn:aws:iam::123456789012:user/janedoe is not authorized to perform: iam:CreateInstanceProfile on resource: arn:aws:iam::123456789012:instance-profile/p with an explicit deny in an identity-based policy: arn:aws:iam::123456789012:policy/ExampleDenyPolicy. Go to https://us-east-1.console.aws.amazon.com/iam/home#/authorization-details/EXAMPLE",
			caller:  "arn:aws:iam::123456789012:user/janedoe", action: "iam:CreateInstanceProfile",
			resource: "arn:aws:iam::123456789012:instance-profile/p", explicit: true, hasReason: true, policy: PolicyIdentity,
			policyARN: "arn:aws:iam::123456789012:policy/ExampleDenyPolicy",
		},
		{
			name:    "S3QuotedResource",
			message: `User: arn:aws:sts::111111111111:assumed-role/R/s is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/my key.txt" because no VPC endpoint policy allows the s3:GetObject action`,
			caller:  "arn:aws:sts::111111111111:assumed-role/R/s", action: "s3:GetObject",
			resource: "arn:aws:s3:::b/my key.txt", hasReason: true, policy: PolicyVPCEndpoint,
		},
		{
			name:    "NoColonsLowerCase",
			message: "user arn:aws:iam::1:user/x is not authorized to perform s3:PutObject on resource arn:aws:s3:::b/k with an explicit deny in a Permissions Boundary",
			caller:  "arn:aws:iam::1:user/x", action: "s3:PutObject", resource: "arn:aws:s3:::b/k",
			explicit: true, hasReason: true, policy: PolicyPermissionsBoundary,
		},
		{
			name:    "SpreadOverLines",
			message: "User: arn:aws:iam::1:user/x\n  is not authorized to perform:\ts3:PutObject\n on resource: arn:aws:s3:::b/k\n because no session policy allows the s3:PutObject action.",
			caller:  "arn:aws:iam::1:user/x", action: "s3:PutObject", resource: "arn:aws:s3:::b/k",
			hasReason: true, policy: PolicySession,
		},
		{
			name:    "ExplicitWithTrailingNote",
			message: `User: arn:aws:iam::1:user/x is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::b/k" with an explicit deny in a resource control policy. Note that access was evaluated in the bucket owner's organization.`,
			caller:  "arn:aws:iam::1:user/x", action: "s3:PutObject", resource: "arn:aws:s3:::b/k",
			explicit: true, hasReason: true, policy: PolicyRCP,
		},
		{
			name:    "ImplicitSCP",
			message: "User: arn:aws:iam::1:user/x is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no service control policy allows the s3:PutObject action",
			caller:  "arn:aws:iam::1:user/x", action: "s3:PutObject", resource: "arn:aws:s3:::b/k",
			hasReason: true, policy: PolicySCP,
		},
		{
			name:    "AssumeRoleWithoutReason",
			message: "User: arn:aws:sts::1:assumed-role/A/b is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::2:role/C",
			caller:  "arn:aws:sts::1:assumed-role/A/b", action: "sts:AssumeRole", resource: "arn:aws:iam::2:role/C",
			policy: PolicyUnknown,
		},
		{
			name:    "ServiceCaller",
			message: "CodeBuild is not authorized to perform: sts:AssumeRole on arn:aws:iam::1:role/service-role/R",
			caller:  "CodeBuild", action: "sts:AssumeRole", resource: "arn:aws:iam::1:role/service-role/R",
			policy: PolicyUnknown,
		},
		{
			name:    "WithoutResource",
			message: "User: arn:aws:iam::1:user/x is not authorized to perform: s3:ListAllMyBuckets",
			caller:  "arn:aws:iam::1:user/x", action: "s3:ListAllMyBuckets",
			policy: PolicyUnknown,
		},
		{
			name:    "UnknownPolicyType",
			message: "User: arn:aws:iam::1:user/x is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::b/k because no frobnication policy allows the s3:PutObject action",
			caller:  "arn:aws:iam::1:user/x", action: "s3:PutObject", resource: "arn:aws:s3:::b/k",
			hasReason: true, policy: PolicyUnknown,
		},
		{
			name:    "BareAccessDenied",
			message: "Access Denied",
			policy:  PolicyUnknown,
		},
		{
			name:    "Empty",
			message: "",
			policy:  PolicyUnknown,
		},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseMessage(tt.message)

			if got.Caller != tt.caller {
				t.Errorf("Caller = %q, want %q", got.Caller, tt.caller)
			}
			if got.Action != tt.action {
				t.Errorf("Action = %q, want %q", got.Action, tt.action)
			}
			if got.Resource != tt.resource {
				t.Errorf("Resource = %q, want %q", got.Resource, tt.resource)
			}
			if got.Explicit != tt.explicit {
				t.Errorf("Explicit = %v, want %v", got.Explicit, tt.explicit)
			}
			if got.HasReason != tt.hasReason {
				t.Errorf("HasReason = %v, want %v", got.HasReason, tt.hasReason)
			}
			if got.PolicyType != tt.policy {
				t.Errorf("PolicyType = %q, want %q", got.PolicyType, tt.policy)
			}
			if got.PolicyARN != tt.policyARN {
				t.Errorf("PolicyARN = %q, want %q", got.PolicyARN, tt.policyARN)
			}
		})
	}
}

func TestParseMessageHuge(t *testing.T) {
	message := strings.Repeat("Access Denied ", 1<<20) +
		"User: arn:aws:iam::1:user/x is not authorized to perform: s3:PutObject"

	got := parseMessage(message)

	// The sentence sits past maxMessageBytes, so the parser must not see it.
	if got.Authorized {
		t.Errorf("Authorized = true, want false for text beyond %d bytes", maxMessageBytes)
	}
}

func TestIsBareMessage(t *testing.T) {
	tests := []struct {
		name    string
		message string
		want    bool
	}{
		{name: "AccessDenied", message: "Access Denied", want: true},
		{name: "TrailingPeriod", message: "Access Denied.", want: true},
		{name: "Forbidden", message: "Forbidden", want: true},
		{name: "Empty", message: "  ", want: true},
		{name: "Detailed", message: "User: arn:aws:iam::1:user/x is not authorized to perform: s3:PutObject", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isBareMessage(tt.message); got != tt.want {
				t.Errorf("isBareMessage(%q) = %v, want %v", tt.message, got, tt.want)
			}
		})
	}
}

func TestPrincipalFromARN(t *testing.T) {
	tests := []struct {
		name      string
		arn       string
		want      string
		pathKnown bool
		ok        bool
	}{
		{name: "Session", arn: "arn:aws:sts::111111111111:assumed-role/CodeBuildRole/AWSCodeBuild-4f6c",
			want: "arn:aws:iam::111111111111:role/CodeBuildRole", ok: true},
		{name: "RoleWithPath", arn: "arn:aws:iam::111111111111:role/service-role/CodeBuildRole",
			want: "arn:aws:iam::111111111111:role/service-role/CodeBuildRole", pathKnown: true, ok: true},
		{name: "ChinaSession", arn: "arn:aws-cn:sts::111111111111:assumed-role/R/s",
			want: "arn:aws-cn:iam::111111111111:role/R", ok: true},
		{name: "User", arn: "arn:aws:iam::111111111111:user/ci", want: "arn:aws:iam::111111111111:user/ci", pathKnown: true, ok: true},
		{name: "SessionWithoutName", arn: "arn:aws:sts::111111111111:assumed-role/", ok: false},
		{name: "NotAnARN", arn: "CodeBuild", ok: false},
		{name: "OtherScheme", arn: "urn:aws:iam::1:role/x", ok: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := principalFromARN(tt.arn)

			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if got.ARN != tt.want {
				t.Errorf("ARN = %q, want %q", got.ARN, tt.want)
			}
			if got.PathKnown != tt.pathKnown {
				t.Errorf("PathKnown = %v, want %v", got.PathKnown, tt.pathKnown)
			}
		})
	}
}

func TestProjectFromBuildARN(t *testing.T) {
	got, ok := projectFromBuildARN("arn:aws:codebuild:eu-west-1:111111111111:build/deliver:0b6c-44")

	if !ok {
		t.Fatal("ok = false, want true")
	}
	if want := "arn:aws:codebuild:eu-west-1:111111111111:project/deliver"; got != want {
		t.Errorf("project = %q, want %q", got, want)
	}
	if _, ok := projectFromBuildARN("arn:aws:codebuild:eu-west-1:111111111111:project/deliver"); ok {
		t.Error("ok = true for a project ARN, want false")
	}
}
