#!/usr/bin/env bash
# Sync benchmark: countersign against Debian's AWS CLI v2 (`aws s3 sync`)
# and rclone (`rclone sync --checksum`), in one run, on the local sandbox.
# Prints wall time and peak RSS for a first sync of about 5,000 real files
# plus two 100 MiB files, and for a second sync after `touch` on every file,
# with countersign's ratio to each peer.
#
# BENCH_FILES (default 5000) and BENCH_BIG_MIB (default 100) size the tree.
# BENCH_RUNS (default 3) repeats the whole comparison, each time into new
# prefixes and with the tools in a rotated order; the table shows the median
# time and the largest RSS.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/sandbox-lib.sh

files_wanted=${BENCH_FILES:-5000}
big_mib=${BENCH_BIG_MIB:-100}
runs=${BENCH_RUNS:-3}
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

# command_for TOOL PREFIX: sets cmd to TOOL's command for one sync of the tree.
command_for() {
  case $1 in
  countersign) cmd=(./bin/countersign sync "$tree" "s3://$COUNTERSIGN_BUCKET/$2" --bucket-owner "$COUNTERSIGN_BUCKET_OWNER" --progress none) ;;
  aws) cmd=(/usr/bin/aws s3 sync "$tree" "s3://$COUNTERSIGN_BUCKET/$2" --endpoint-url "$endpoint" --only-show-errors) ;;
  rclone) cmd=(/usr/bin/rclone sync --checksum "$tree" "sandbox:$COUNTERSIGN_BUCKET/$2") ;;
  esac
}

tools=(countersign aws rclone)
echo "tree: $count files, $size (two of ${big_mib} MiB); sandbox at $endpoint; $(nproc) cores; $runs runs"

# A small untimed sync first, so no tool pays for the server's warm-up.
head -n 200 "$work/list" | sed 's|^\./||' >"$work/warm-list"
mkdir -p "$work/warm"
(cd "$tree/src" && tar -cf - -T "$work/warm-list") | tar -xf - -C "$work/warm"
./bin/countersign sync "$work/warm" "s3://$COUNTERSIGN_BUCKET/bench/warm-up" --progress none >/dev/null

for run in $(seq 1 "$runs"); do
  order=("${tools[@]:$(((run - 1) % 3))}" "${tools[@]:0:$(((run - 1) % 3))}")
  for tool in "${order[@]}"; do
    command_for "$tool" "bench/$tool-$run"
    measure "$tool-first-$run" "${cmd[@]}"
  done
  find "$tree" -type f -exec touch {} +
  for tool in "${order[@]}"; do
    command_for "$tool" "bench/$tool-$run"
    measure "$tool-touched-$run" "${cmd[@]}"
  done
done

# median PHASE TOOL: the median wall time of TOOL's runs of PHASE.
median() {
  for run in $(seq 1 "$runs"); do cut -d' ' -f1 "$work/$2-$1-$run.time"; done | sort -n |
    awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# peak PHASE TOOL: the largest RSS of TOOL's runs of PHASE, in MiB.
peak() {
  for run in $(seq 1 "$runs"); do cut -d' ' -f2 "$work/$2-$1-$run.time"; done | sort -n | tail -n 1 |
    awk '{ printf "%d\n", $1 / 1024 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.1fx", b / a; else print "-" }'; }

printf '\n%-12s %12s %12s %14s %12s\n' tool "first (s)" "RSS (MiB)" "touched (s)" "RSS (MiB)"
for tool in "${tools[@]}"; do
  printf '%-12s %12s %12s %14s %12s\n' "$tool" "$(median first "$tool")" "$(peak first "$tool")" \
    "$(median touched "$tool")" "$(peak touched "$tool")"
done
printf '\nper run (first / touched, seconds):\n'
for tool in "${tools[@]}"; do
  printf '  %-12s' "$tool"
  for run in $(seq 1 "$runs"); do
    printf ' %s/%s' "$(cut -d' ' -f1 "$work/$tool-first-$run.time")" "$(cut -d' ' -f1 "$work/$tool-touched-$run.time")"
  done
  printf '\n'
done

cs1=$(median first countersign)
cs2=$(median touched countersign)
printf '\ncountersign is %s faster than aws s3 sync on the first sync and %s after touch\n' \
  "$(ratio "$cs1" "$(median first aws)")" "$(ratio "$cs2" "$(median touched aws)")"
printf 'countersign is %s faster than rclone sync --checksum on the first sync and %s after touch\n' \
  "$(ratio "$cs1" "$(median first rclone)")" "$(ratio "$cs2" "$(median touched rclone)")"
printf '(medians of %s runs; a ratio above 1.0x means countersign took less time)\n' "$runs"
