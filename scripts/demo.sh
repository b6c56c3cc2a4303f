#!/usr/bin/env bash
# The main job, end to end on a local two-account sandbox: verify the
# build's identity, dry-run access to a bucket in another account, sync a
# real artifact tree, and sync again to show that nothing is re-sent.
# The second act breaks the dev side (its bucket policy names another role),
# shows the diagnosis and the fix, applies the fix and passes preflight.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/sandbox-lib.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/countersign-demo.XXXXXX")
cleanup() {
  sandbox_stop
  rm -rf "$work"
}
trap cleanup EXIT

if [ -t 1 ]; then
  step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
  step() { printf '\n== %s\n' "$*"; }
fi
run() { printf '$ %s\n' "$*"; "$@"; }

step "Starting the sandbox: tools account 111111111111 (role CodeBuildRole) and dev account 222222222222 (bucket dev-artifacts) on 127.0.0.1"
sandbox_start "$work/sandbox"
echo "S3 and STS at $AWS_ENDPOINT_URL_S3; credentials are the build role's session (fake keys)."
echo "COUNTERSIGN_BUCKET=$COUNTERSIGN_BUCKET COUNTERSIGN_BUCKET_OWNER=$COUNTERSIGN_BUCKET_OWNER"
echo "COUNTERSIGN_ROLE_ARN=$COUNTERSIGN_ROLE_ARN"
export COUNTERSIGN_PREFIX="app/build-42"
export COUNTERSIGN_LOG_LEVEL=warn COUNTERSIGN_LOG_FORMAT=console

step "1. whoami: which identity did the build assume, and is it the expected role?"
run ./bin/countersign whoami

step "2. preflight: the bucket's owner, listing, and a canary put, get and delete"
run ./bin/countersign preflight

step "3. Building the artifact tree: this project's binaries and the Go module sources the build downloaded"
tree="$work/artifacts"
mkdir -p "$tree/bin" "$tree/src"
cp bin/countersign bin/countersign-sandbox bin/versitygw "$tree/bin/"
modcache=$(go env GOMODCACHE)
for mod in "$modcache"/github.com/aws/aws-sdk-go-v2/service/s3@* "$modcache"/github.com/aws/smithy-go@* "$modcache"/github.com/rs/zerolog@*; do
  [ -d "$mod" ] && cp -R "$mod" "$tree/src/"
done
chmod -R u+w "$tree/src"
# A symlink, as build outputs often have: sync follows it.
ln -s bin/countersign "$tree/countersign-latest"
files=$(find -L "$tree" -type f | wc -l)
size=$(find -L "$tree" -type f -printf '%s\n' | awk '{ total += $1 } END { printf "%.1f MiB", total / 1048576 }')
largest=$(find -L "$tree" -type f -printf '%s %P\n' | sort -n | tail -1)
echo "$files files, $size; largest: ${largest#* } ($(( ${largest%% *} / 1048576 )) MiB)"

step "4. sync: the first run uploads everything (large files in parallel parts)"
run ./bin/countersign sync "$tree" "s3://$COUNTERSIGN_BUCKET/$COUNTERSIGN_PREFIX" --report "$work/report-1.json" --progress lines --progress-interval 1s --log-level info

step "5. sync again: content is unchanged, so nothing is re-sent"
run ./bin/countersign sync "$tree" "s3://$COUNTERSIGN_BUCKET/$COUNTERSIGN_PREFIX" --report "$work/report-2.json"

step "6. touch every file (as a fresh checkout does) and sync: mtimes do not matter, content does"
find "$tree" -type f -exec touch {} +
run ./bin/countersign sync "$tree" "s3://$COUNTERSIGN_BUCKET/$COUNTERSIGN_PREFIX" --report "$work/report-3.json"

echo "first act finished: identity verified, access proved, artifacts delivered, re-sync sent nothing"

# The second act reads and puts the bucket policy with Debian's AWS CLI v2,
# which this script calls by its path because a pyenv AWS CLI v1 may come
# first on PATH. That CLI ignores AWS_ENDPOINT_URL_S3, so every call passes
# --endpoint-url.
cli=/usr/bin/aws
python=/usr/bin/python3
if [ ! -x "$cli" ] || [ ! -x "$python" ]; then
  step "Stopping the sandbox"
  sandbox_stop
  echo "skipping the second act: it needs Debian's AWS CLI v2 at $cli (make peers installs it)"
  exit 0
fi
broken=examples/worlds/other-role.json
description=$(sed -n 's/^  "description": "\(.*\)",$/\1/p' "$broken")

step "Second act: restarting the sandbox with $broken"
sandbox_stop
echo "$description"
sandbox_start "$work/broken" --world "$broken"
export COUNTERSIGN_PREFIX="app/build-43"

step "7. preflight: S3 answers a bare 403, so countersign lists the likely causes, the dev account's bucket policy first, and the fix"
printf '$ %s\n' "./bin/countersign preflight"
set +e
./bin/countersign preflight >"$work/preflight.txt" 2>"$work/preflight.err"
code=$?
set -e
# The first denied step shows the diagnosis, and the others repeat it.
awk '/^  list /{exit} {print}' "$work/preflight.txt"
echo "  (list and put-canary are DENIED the same way, so get-canary and delete-canary are skipped)"
tail -n 1 "$work/preflight.txt"
echo "preflight exit code: $code (4 means access denied)"
if [ "$code" -ne 4 ]; then
  echo "demo: preflight against $broken exited $code, want 4" >&2
  exit 1
fi

# dev_admin CMD...: runs a command with the dev account administrator's keys.
dev_admin() {
  (
    eval "$(./bin/countersign-sandbox env --data "$work/broken/data" --as dev-admin)"
    "$@"
  )
}

step "8. explain, offline: the dev admin exports the bucket policy, the tools account its role policy, and explain names the side that denies"
printf '$ %s\n' "dev_admin $cli --endpoint-url $AWS_ENDPOINT_URL_S3 s3api get-bucket-policy --bucket $COUNTERSIGN_BUCKET --query Policy --output text > bucket-policy.json"
dev_admin "$cli" --endpoint-url "$AWS_ENDPOINT_URL_S3" s3api get-bucket-policy --bucket "$COUNTERSIGN_BUCKET" \
  --query Policy --output text >"$work/bucket-policy.json"
# The sandbox has no IAM API, so the role policy comes from the world file,
# as `aws iam get-role-policy` would return it in the tools account.
"$python" -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))["accounts"][0]["roles"][0]["policies"]["artifacts"], open(sys.argv[2], "w"), indent=2)' \
  "$broken" "$work/role-policy.json"
set +e
run ./bin/countersign explain --role-arn "$COUNTERSIGN_ROLE_ARN" --role-policy "$work/role-policy.json" \
  --bucket-policy "$work/bucket-policy.json" --bucket "$COUNTERSIGN_BUCKET" --bucket-owner "$COUNTERSIGN_BUCKET_OWNER" \
  --prefix "$COUNTERSIGN_PREFIX" --action s3:PutObject
code=$?
set -e
echo "explain exit code: $code (4 means a policy denies)"

step "9. The dev admin puts the corrected bucket policy, which names CodeBuildRole"
"$python" -c 'import json, sys; json.dump(json.load(open(sys.argv[1]))["buckets"][0]["policy"], open(sys.argv[2], "w"), indent=2)' \
  examples/worlds/default.json "$work/fixed-policy.json"
echo "principals in the corrected policy:"
grep '"AWS"' "$work/fixed-policy.json" | sort -u | sed 's/^ */  /'
run dev_admin "$cli" --endpoint-url "$AWS_ENDPOINT_URL_S3" s3api put-bucket-policy --bucket "$COUNTERSIGN_BUCKET" \
  --expected-bucket-owner "$COUNTERSIGN_BUCKET_OWNER" --policy "file://$work/fixed-policy.json"

step "10. preflight again: the bucket policy is read at each request, so the fix applies at once"
run ./bin/countersign preflight

step "Stopping the sandbox"
sandbox_stop
echo "demo finished: both acts ran; the broken dev side was diagnosed, fixed and passed preflight"
