#!/usr/bin/env bash
# dals-partition out of core: a dump whose records take about 4x
# --memory-limit 16M is partitioned in memory and out of core (1 and 2
# ranks, and with every rank's ratings in one hash bucket, so that the
# buckets must be split again to be sorted); all give the same dataset,
# with a --test-fraction split whose cold items (rated once, held out)
# are found by a reduction over the ranks and dropped.
# The out-of-core runs spill to --tmp-dir, leave nothing there, and peak
# RSS stays under the limit plus the stated overhead: the peak RSS of the
# same command on a 3-line input (MPI, HDF5 and the program itself).
#
# Usage (as ctest runs it): bash partition_out_of_core.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
require_tools DALS_PARTITION
require_commands jq /usr/bin/time
# shellcheck disable=SC2034  # read by lib.sh's run_ranks and run_one
DALS_CLI_TIMEOUT=120
LIMIT_MIB=16

# 1.6M ratings (33 MB of text, 64 MB as records), string and integer ids,
# duplicates, timestamps; and 2,000 items rated once.
DUMP=$SCRATCH/dump.csv
awk 'BEGIN {
  print "user,item,rating,time"
  for (n = 0; n < 1600000; n++) {
    u = (n * 7919) % 40000; i = (n * 104729 + int(n / 40000)) % 3000
    printf "%s,%d,%d,%d\n", (u % 4 ? "u" u : u), i, 1 + (u + i) % 5, n
  }
  for (i = 10000; i < 12000; i++) printf "u%d,%d,%d,%d\n", (i * 13) % 40000, i, 1 + i % 5, i
}' >"$DUMP"
printf 'user,item,rating,time\n1,2,3,4\n2,3,4,5\n' >"$SCRATCH/tiny.csv"
TMP=$SCRATCH/tmp
mkdir -p "$TMP"

# partition CASE NP ARGS...: runs dals-partition (under /usr/bin/time for
# one process) and records its fingerprint.
declare -A FINGERPRINT
partition() {
  local case_name=$1 np=$2
  shift 2
  local out=$SCRATCH/out-$case_name
  if ((np == 1)); then
    run_one "$SCRATCH/$case_name" /usr/bin/time -f "peak-rss-kib %M" -o "$SCRATCH/$case_name.time" \
      "$DALS_PARTITION" --input "$DUMP" --header --time-column time --output "$out" --blocks 8 --quiet \
      --test-fraction 0.05 "$@"
  else
    run_ranks "$np" "$SCRATCH/$case_name" "$DALS_PARTITION" --input "$DUMP" --header --time-column time \
      --output "$out" --blocks 8 --quiet --test-fraction 0.05 "$@"
  fi
  expect_success "$case_name" "$SCRATCH/$case_name" && FINGERPRINT[$case_name]=$(json_field "$out/manifest.json" .fingerprint)
}
# spilled_mb CASE: the MB the summary of CASE says were spilled (a failure if it says nothing)
spilled_mb() { value_of "$1" "MB spilled" sed -n 's/.*MiB), \([0-9.]*\) MB spilled.*/\1/p' "$SCRATCH/$1.rank0.out"; }

partition in-memory 1 --memory-limit 4G
partition out-of-core 1 --memory-limit ${LIMIT_MIB}M --tmp-dir "$TMP"
partition out-of-core-np2 2 --memory-limit ${LIMIT_MIB}M --tmp-dir "$TMP"
partition one-bucket-np2 2 --memory-limit ${LIMIT_MIB}M --tmp-dir "$TMP" --buckets-per-rank 1
run_one "$SCRATCH/tiny" /usr/bin/time -f "peak-rss-kib %M" -o "$SCRATCH/tiny.time" \
  "$DALS_PARTITION" --input "$SCRATCH/tiny.csv" --header --output "$SCRATCH/out-tiny" --memory-limit ${LIMIT_MIB}M --quiet
expect_success tiny "$SCRATCH/tiny"

for name in out-of-core out-of-core-np2 one-bucket-np2; do
  check $name "same dataset as in memory" test "${FINGERPRINT[$name]:-none}" = "${FINGERPRINT[in-memory]:-missing}"
  check $name "spilled to --tmp-dir ($(spilled_mb $name) MB)" awk -v mb="$(spilled_mb $name)" 'BEGIN { exit !(mb > 32) }'
done
check in-memory "nothing spilled with room in memory" test "$(spilled_mb in-memory)" = 0.0
# cold_line CASE: the summary's count of cold-start ratings
cold_line() { value_of "$1" "cold-start count" grep -o 'test: [0-9,]* cold-start' "$SCRATCH/$1.rank0.out"; }
check in-memory "cold items' test ratings are dropped ($(cold_line in-memory))" \
  awk -v n="$(cold_line in-memory | tr -dc 0-9)" 'BEGIN { exit !(n > 50) }'
for name in out-of-core out-of-core-np2 one-bucket-np2; do
  check $name "the same cold-start count as in memory" test "$(cold_line $name)" = "$(cold_line in-memory)"
done
check tmp-dir "no temporary file left in --tmp-dir" test -z "$(ls -A "$TMP")"

# peak_rss_kib CASE: the peak RSS /usr/bin/time wrote for CASE (a failure if none)
peak_rss_kib() { value_of "$1" "peak RSS of $1" sed -n 's/^peak-rss-kib //p' "$SCRATCH/$1.time"; }
mib() { if [[ $1 =~ ^[0-9]+$ ]]; then echo $(($1 / 1024)); else echo "?"; fi; }  # KiB -> MiB
# compare A OP B: A and B are whole numbers (KiB) and `test A OP B` holds
compare() { [[ $1 =~ ^[0-9]+$ && $3 =~ ^[0-9]+$ ]] && test "$1" "$2" "$3"; }
base=$(peak_rss_kib tiny)
peak=$(peak_rss_kib out-of-core)
full=$(peak_rss_kib in-memory)
bound=none  # the limit plus the overhead, KiB
[[ $base =~ ^[0-9]+$ ]] && bound=$((base + LIMIT_MIB * 1024))
check out-of-core "peak RSS $(mib "$peak") MiB <= ${LIMIT_MIB} MiB + overhead $(mib "$base") MiB" \
  compare "$peak" -le "$bound"
check in-memory "the in-memory run needs more ($(mib "$full") MiB): the limit is what kept the other small" \
  compare "$full" -gt "$bound"

cli_finish
