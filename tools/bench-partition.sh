#!/usr/bin/env bash
# Benchmark (printed figures, not a test): dals-partition on a Netflix-shaped
# text dump, at 1 and 2 ranks, next to what merely reading the file costs.
#
#   tools/bench-partition.sh [--users M] [--items N] [--ratings R] [--ranks "1 2"]
#                            [--memory-limit SIZE] [--keep]
#
# Defaults: 480000 users, 17770 items, 100M ratings (the Netflix prize's
# shape; ~2.2 GB of "user,item,rating" text, written once by
# dals-generate --text-output into ./bench-data/partition-*/ and reused).
# Each run writes ./bench-data/partition-*/out-P (removed at the end unless
# --keep). The table goes to stdout and to ./bench-data/partition-*/results.md.
#
# Columns: wall seconds of the whole run (mpirun to exit, writing included);
# million ratings per second, and per core (P ranks = P cores); peak RSS per
# rank as dals-partition reports it (getrusage); and the same file's costs
# just to read it: `cat FILE > /dev/null` and `wc -l FILE` (page cache warm:
# each is run after the file was read once).
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command_line="$(printf '%q ' "$0" "$@")"
command_line="${command_line% }"

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
bad_usage() {
  printf 'bench-partition.sh: error: %s (see --help)\n' "$*" >&2
  exit 2
}

users=480000 items=17770 ratings=100000000 ranks="1 2" memory_limit="" keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --users|--items|--ratings)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      [[ "$2" =~ ^[1-9][0-9]*$ ]] || bad_usage "$1 must be a positive integer, got '$2'"
      printf -v "${1#--}" '%s' "$2"
      shift 2 ;;
    --ranks) [ $# -ge 2 ] || bad_usage "--ranks needs a value"; ranks="$2"; shift 2 ;;
    --memory-limit) [ $# -ge 2 ] || bad_usage "--memory-limit needs a value"; memory_limit="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    *) bad_usage "unknown argument '$1'" ;;
  esac
done

cd "$DALS_ROOT"
dals_setup_env
dals_install_deps
dals_build dals-generate dals-partition

bench="$DALS_ROOT/bench-data/partition-${users}x${items}x${ratings}"
text="$bench/text-train.csv"
mkdir -p "$bench"
if [ ! -s "$text" ]; then
  dals_phase "generating the text dump ($users x $items, ~$ratings ratings)"
  # The generator also writes a dataset; only its text is used here.
  dals_mpirun -n 2 "$DALS_BUILD/dals-generate" --users "$users" --items "$items" --ratings "$ratings" \
    --test-fraction 0 --round --blocks 64 --seed 1 --output "$bench/generated" --text-output "$bench/text" --force
  rm -rf "$bench/generated"
fi
bytes=$(stat -c %s "$text")
lines=$(($(wc -l <"$text") - 1))

elapsed=0
timed() {  # timed COMMAND...: runs it; its wall seconds go to $elapsed
  local start end
  start=$(date +%s.%N)
  "$@"
  end=$(date +%s.%N)
  elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')
}
dals_phase "reading the file"
cat "$text" >/dev/null  # warm the page cache
timed sh -c "cat '$text' >/dev/null"
cat_s=$elapsed
timed sh -c "wc -l '$text' >/dev/null"
wc_s=$elapsed
echo "cat: $cat_s s, wc -l: $wc_s s for $bytes bytes"

rows=()
load=$(cut -d' ' -f1-3 /proc/loadavg)  # other work on the machine skews the figures: say so
for p in $ranks; do
  out="$bench/out-$p"
  log="$bench/partition-$p.log"
  dals_phase "dals-partition on $p rank(s)"
  timed dals_mpirun -n "$p" "$DALS_BUILD/dals-partition" --input "$text" --header --output "$out" --force --quiet \
    ${memory_limit:+--memory-limit "$memory_limit"} >"$log"
  wall=$elapsed
  cat "$log"
  peak=$(sed -n 's/.*peak memory \([0-9.]*\) MiB per rank.*/\1/p' "$log")
  phases=$(sed -n 's/^  time: \(.*\), total.*/\1/p' "$log")
  rows+=("$(awk -v p="$p" -v w="$wall" -v n="$lines" -v peak="$peak" -v phases="$phases" 'BEGIN {
    printf "| %d | %.1f | %.2f | %.2f | %.0f | %s |", p, w, n / w / 1e6, n / w / 1e6 / p, peak, phases }')")
  [ "$keep" = 1 ] || rm -rf "$out"
done

{
  echo "Command: \`$command_line\` on $(nproc) cores, $(date -u +%Y-%m-%d); load average before: $load."
  echo "Input: $text, $(awk -v b="$bytes" 'BEGIN { printf "%.2f GB", b / 1e9 }'), $lines ratings."
  echo "Reading it (page cache warm): cat $cat_s s ($(awk -v b="$bytes" -v s="$cat_s" 'BEGIN { printf "%.1f", b / s / 1e9 }') GB/s), wc -l $wc_s s."
  echo
  echo "| ranks | wall s | M ratings/s | M ratings/s per core | peak MiB per rank | phases (rank 0) |"
  echo "| ---: | ---: | ---: | ---: | ---: | --- |"
  printf '%s\n' "${rows[@]}"
} | tee "$bench/results.md"
