#!/usr/bin/env bash
# Routed against all-gathered exchange (printed figures, not a test): trains
# one dataset with --exchange allgather and --exchange routed at each rank
# count, checks that the two models are bit-identical, and prints seconds
# per iteration, exchange seconds, megabytes received per rank and
# iteration (all, and the item half's), and peak memory per rank (medians
# of the steady iterations). --heavy-rows: each run again per setting
# (heavy_rows.hpp; the models compared within a setting).
#
#   tools/bench-exchange.sh [--shape "USERS ITEMS RATINGS BLOCKS"] [--ranks "1 2 4"]
#                           [--factors 64] [--solver cg|cholesky] [--iterations 3]
#                           [--buffer 1G] [--heavy-rows "auto off"]
#
# The default shape (2,000,000 users x 20,000 items, 20,000,000 ratings) has
# many users per rating, as the dumps routing is for: U is 520 MB at k = 64,
# held whole by every all-gathered rank, in 1/P shares when routed.
# Oversubscribed ranks (P > cores) measure memory, not speed.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

shape="2000000 20000 20000000 16" ranks_list="1 2 4" factors=64 solver=cg iterations=3 buffer=1G heavy_list=auto
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --shape) shape="$2"; shift 2 ;;
    --ranks) ranks_list="$2"; shift 2 ;;
    --factors) factors="$2"; shift 2 ;;
    --solver) solver="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --buffer) buffer="$2"; shift 2 ;;
    --heavy-rows) heavy_list="$2"; shift 2 ;;
    *) printf 'bench-exchange.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
read -r users items ratings blocks <<<"$shape"
dals_setup_env
for exe in dals-generate dals-train tests/dals-test-model-diff; do
  [ -x "$DALS_BUILD/$exe" ] || dals_die "$DALS_BUILD/$exe: not built (run tools/test.sh or set DALS_BUILD)"
done
bench="${DALS_BENCH_DATA:-$DALS_ROOT/bench-data}"
mkdir -p "$bench"
data="$bench/data-${users}x${items}x${ratings}-b$blocks"
if [ ! -f "$data/manifest.json" ]; then
  dals_phase "generating ${users} x ${items}, ${ratings} ratings"
  dals_mpirun -n "$(nproc)" "$DALS_BUILD/dals-generate" --users "$users" --items "$items" --ratings "$ratings" \
    --blocks "$blocks" --test-fraction 0.1 --round --seed 1 --output "$data" --force
fi


rows=()
run() {  # run RANKS MODE HEAVY
  local model="$bench/exchange-$1-$2-$3"
  dals_phase "$1 rank(s), --exchange $2, --heavy-rows $3"
  dals_mpirun -n "$1" "$DALS_BUILD/dals-train" --data "$data" --output "$model" --factors "$factors" --solver "$solver" \
    --iterations "$iterations" --threads 1 --exchange "$2" --exchange-buffer "$buffer" --heavy-rows "$3" \
    --regularization weighted --lambda-units absolute --lambda 0.03 --force | tee "$model.log"
  tail -n +2 "$model/metrics.jsonl" >"$model/steady.jsonl"
  local iter exch mb item_mb peak
  iter="$(paste -d' ' <(dals_field user_seconds "$model/steady.jsonl") <(dals_field item_seconds "$model/steady.jsonl") \
    <(dals_field exchange_seconds "$model/steady.jsonl") | awk '{ print $1 + $2 + $3 }' | dals_median)"
  exch="$(dals_field exchange_seconds "$model/steady.jsonl" | dals_median)"
  mb="$(dals_field exchange_bytes_received "$model/steady.jsonl" | dals_median)"
  item_mb="$(dals_field item_half_bytes_received "$model/steady.jsonl" | dals_median)"
  peak="$(sed -n 's/^done:.*peak memory \([0-9.]*\) MiB per rank.*/\1/p' "$model.log")"
  rows+=("$(awk -v r="$1" -v m="$2" -v h="$3" -v it="$iter" -v e="$exch" -v b="$mb" -v ib="$item_mb" -v p="$peak" \
    'BEGIN { printf "| %d | %s | %s | %.3f | %.3f | %.1f | %.1f | %s |", r, m, h, it, e, b / 1e6, ib / 1e6, p }')")
}
for r in $ranks_list; do
  for h in $heavy_list; do
    run "$r" allgather "$h"
    run "$r" routed "$h"
    "$DALS_BUILD/tests/dals-test-model-diff" "$bench/exchange-$r-allgather-$h" "$bench/exchange-$r-routed-$h" ||
      dals_die "the routed model differs from the all-gathered one at $r rank(s), --heavy-rows $h"
  done
done

dals_phase "exchange modes, ${users} x ${items}, ${ratings} ratings, k = $factors, $solver, buffer $buffer, $(nproc) cores"
echo "| ranks | exchange | heavy rows | s / iteration | exchange s | MB received / rank | item half MB / rank | peak RSS MiB / rank |"
echo "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
