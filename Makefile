# Countersign build, test and demo targets. Every target that starts the
# sandbox talks only to 127.0.0.1 with fake credentials.

GO      ?= go
BIN     := bin
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

.PHONY: all build lambda synth test test-cdk test-unit test-e2e conformance demo bench-sync peers vet clean

all: build

build: $(BIN)/countersign $(BIN)/countersign-sandbox $(BIN)/versitygw $(BIN)/aws-lambda-rie

$(BIN)/countersign: FORCE
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./agent

$(BIN)/countersign-sandbox: FORCE
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $@ ./sandbox

# versitygw is the S3 server behind the sandbox. It is pinned in its own
# module under tools/ so its dependencies stay out of the main module.
$(BIN)/versitygw: tools/go.mod tools/go.sum
	cd tools && $(GO) build -trimpath -o ../$(BIN)/versitygw github.com/versity/versitygw/cmd/versitygw

# The Lambda runtime interface emulator runs the audit Lambda's bootstrap
# in the end-to-end tests. It is pinned in tools/go.mod like versitygw.
$(BIN)/aws-lambda-rie: tools/go.mod tools/go.sum
	cd tools && $(GO) build -trimpath -o ../$(BIN)/aws-lambda-rie github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

# The audit Lambda for the provided.al2023 runtime on arm64 (Graviton):
# a static bootstrap without the RPC entry point, zipped at the root of
# the deployment package.
LAMBDA_DIR := dist/lambda

lambda: $(LAMBDA_DIR)/countersign-audit.zip

$(LAMBDA_DIR)/bootstrap: FORCE
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags '-s -w' -o $@ ./lambda

$(LAMBDA_DIR)/countersign-audit.zip: $(LAMBDA_DIR)/bootstrap
	$(GO) run ./lambda/mkzip -o $@ $<

FORCE:

# The CDK app in cdk/, its own Go module. jsii runs it on Node: the
# variables silence jsii's end-of-life banner for Node 20 and keep the CDK
# CLI from checking for a newer version or sending telemetry. Synthesis
# makes no lookup, so it needs no network and no AWS credentials.
CDK_ENV := JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_VERSION_CHECK=true CDK_DISABLE_CLI_TELEMETRY=true AWS_EC2_METADATA_DISABLED=true

# Writes the cloud assembly to cdk/cdk.out; the audit Lambda's zip is one
# of its assets.
synth: lambda
	rm -rf cdk/cdk.out
	cd cdk && $(CDK_ENV) $(GO) run .

# The CDK app's tests: the templates, cdk-nag, countersign explain on the
# synthesized app and a rehearsal on the sandbox, which needs bin/versitygw.
# The package is named, not ./..., because cdk/node_modules holds the CDK
# CLI's Go templates.
test-cdk: build lambda
	cd cdk && $(CDK_ENV) $(GO) vet .
	cd cdk && $(CDK_ENV) $(GO) test -count=1 -timeout 10m .

# Unit and end-to-end tests. End-to-end tests run the built binaries
# against the sandbox and compare with Debian's AWS CLI v2 (/usr/bin/aws).
test: build test-cdk
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 20m ./...

test-unit:
	$(GO) test -count=1 -short ./...

# Differential check of policy.Evaluate against @cloud-copilot/iam-simulate,
# an independent evaluator that npm installs into conformance/ from the
# lock file. The run reaches only the npm registry, during npm ci.
conformance:
	cd conformance && npm ci --no-audit --no-fund
	cd conformance && $(GO) run .

demo: build
	./scripts/demo.sh

bench-sync: build
	./scripts/bench-sync.sh

# Debian's command-line peers used by the tests and the benchmark.
peers:
	./scripts/install-peers.sh

clean:
	rm -rf $(BIN) dist cdk/cdk.out
