#!/usr/bin/env bash
# Sync benchmark: countersign against Debian's AWS CLI v2 (`aws s3 sync`)
# and rclone (`rclone sync --checksum`), in one run, on the local sandbox.
# Prints wall time and peak RSS for a first sync of about 5,000 real files
# plus two 100 MiB files, and for a second sync after `touch` on every file,
# with countersign's ratio to each peer.
#
# BENCH_FILES (default 5000) and BENCH_BIG_MIB (default 100) size the tree.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/sandbox-lib.sh

files_wanted=${BENCH_FILES:-5000}
big_mib=${BENCH_BIG_MIB:-100}
for tool in /usr/bin/aws /usr/bin/rclone /usr/bin/time; do
  [ -x "$tool" ] || { echo "bench-sync: $tool is missing: run 'make peers' as root" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/countersign-bench.XXXXXX")
cleanup() {
  sandbox_stop
  rm -rf "$work"
}
trap cleanup EXIT

# The tree: real source files from the Go module cache, plus two large
# files of random bytes.
tree="$work/tree"
mkdir -p "$tree/src" "$tree/big"
modcache=$(go env GOMODCACHE)
(cd "$modcache" && find . -type f -size -1024k -not -path './cache/*' | sort | sed -n "1,${files_wanted}p") >"$work/list"
if [ "$(wc -l <"$work/list")" -lt "$files_wanted" ]; then
  echo "bench-sync: the module cache holds fewer than $files_wanted files; run 'go mod download' first" >&2
  exit 1
fi
(cd "$modcache" && tar -cf - -T "$work/list") | tar -xf - -C "$tree/src"
chmod -R u+w "$tree"
head -c "$((big_mib << 20))" /dev/urandom >"$tree/big/one.bin"
head -c "$((big_mib << 20))" /dev/urandom >"$tree/big/two.bin"
count=$(find "$tree" -type f | wc -l)
size=$(du -sh "$tree" | cut -f1)

sandbox_start "$work/sandbox"
export COUNTERSIGN_LOG_LEVEL=warn
endpoint=$AWS_ENDPOINT_URL_S3

# rclone reads its remote from the environment; no config file is written.
# The bucket has ACLs disabled (Object Ownership "bucket owner enforced"), so
# rclone must send bucket-owner-full-control instead of its default "private".
export RCLONE_CONFIG_SANDBOX_TYPE=s3 RCLONE_CONFIG_SANDBOX_PROVIDER=Other RCLONE_CONFIG_SANDBOX_ACL=bucket-owner-full-control
export RCLONE_CONFIG_SANDBOX_ENDPOINT=$endpoint RCLONE_CONFIG_SANDBOX_REGION=$AWS_REGION
export RCLONE_CONFIG_SANDBOX_ACCESS_KEY_ID=$AWS_ACCESS_KEY_ID RCLONE_CONFIG_SANDBOX_SECRET_ACCESS_KEY=$AWS_SECRET_ACCESS_KEY
export RCLONE_CONFIG_SANDBOX_SESSION_TOKEN=${AWS_SESSION_TOKEN:-} RCLONE_CONFIG=/dev/null

# measure NAME CMD...: runs CMD under GNU time and records "seconds rss_kib".
measure() {
  local name=$1
  shift
  # Write back what the previous run left dirty, so no run pays for
  # another's disk writes.
  sync
  if ! /usr/bin/time -f '%e %M' -o "$work/$name.time" "$@" >"$work/$name.log" 2>&1; then
    echo "bench-sync: $name failed; its output:" >&2
    tail -20 "$work/$name.log" >&2
    exit 1
  fi
}

run_all() {
  local phase=$1
  measure "countersign-$phase" ./bin/countersign sync "$tree" "s3://$COUNTERSIGN_BUCKET/bench/countersign" --bucket-owner "$COUNTERSIGN_BUCKET_OWNER" --progress none
  measure "aws-$phase" /usr/bin/aws s3 sync "$tree" "s3://$COUNTERSIGN_BUCKET/bench/aws" --endpoint-url "$endpoint" --only-show-errors
  measure "rclone-$phase" /usr/bin/rclone sync --checksum "$tree" "sandbox:$COUNTERSIGN_BUCKET/bench/rclone"
}

echo "tree: $count files, $size (two of ${big_mib} MiB); sandbox at $endpoint; $(nproc) cores"
run_all first
find "$tree" -type f -exec touch {} +
run_all touched

field() { cut -d' ' -f"$2" "$work/$1.time"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "-" }'; }

printf '\n%-12s %12s %12s %14s %12s\n' tool "first (s)" "RSS (MiB)" "touched (s)" "RSS (MiB)"
for tool in countersign aws rclone; do
  printf '%-12s %12s %12d %14s %12d\n' "$tool" "$(field "$tool-first" 1)" "$(($(field "$tool-first" 2) / 1024))" \
    "$(field "$tool-touched" 1)" "$(($(field "$tool-touched" 2) / 1024))"
done
cs1=$(field countersign-first 1)
cs2=$(field countersign-touched 1)
printf '\ncountersign is %s faster than aws s3 sync on the first sync and %s after touch\n' \
  "$(ratio "$cs1" "$(field aws-first 1)")" "$(ratio "$cs2" "$(field aws-touched 1)")"
printf 'countersign is %s faster than rclone sync --checksum on the first sync and %s after touch\n' \
  "$(ratio "$cs1" "$(field rclone-first 1)")" "$(ratio "$cs2" "$(field rclone-touched 1)")"
printf '(a ratio above 1.0x means countersign took less time)\n'
