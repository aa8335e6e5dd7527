#!/usr/bin/env bash
# What 64-bit column ids cost (printed figures, not a test): the same
# ratings generated twice, with 32-bit ids and with dals-generate
# --wide-ids (int64, as a side of 2^31 rows or more is stored), each
# trained --exchange routed; checks that the two models are bit-identical
# and prints the load time, the model memory and peak RSS per rank, and
# seconds per iteration (median of the iterations after the first). A
# routed run reads 64-bit ids compacted (docs/memory.md): the load holds
# 16 bytes more per rating of those blocks for a moment; the iterations
# run on the same 32-bit positions.
#
#   tools/bench-wide-ids.sh [--shape "USERS ITEMS RATINGS BLOCKS"] [--ranks 2]
#                           [--factors 64] [--solver cholesky|cg] [--iterations 3]
#
# The default shape is the Netflix prize's (480,189 x 17,770, 100 M
# ratings); its 32-bit dataset is bench-exchange.sh's (same path, reused).
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

shape="480189 17770 100000000 64" ranks=2 factors=64 solver=cholesky iterations=3
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --shape) shape="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --factors) factors="$2"; shift 2 ;;
    --solver) solver="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    *) printf 'bench-wide-ids.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
read -r users items ratings blocks <<<"$shape"
dals_setup_env
for exe in dals-generate dals-train tests/dals-test-model-diff; do
  [ -x "$DALS_BUILD/$exe" ] || dals_die "$DALS_BUILD/$exe: not built (run tools/test.sh or set DALS_BUILD)"
done
bench="${DALS_BENCH_DATA:-$DALS_ROOT/bench-data}"
mkdir -p "$bench"

rows=()
for width in 32 64; do
  data="$bench/data-${users}x${items}x${ratings}-b$blocks"
  wide=()
  [ "$width" = 64 ] && data="$data-wide" && wide=(--wide-ids)
  if [ ! -f "$data/manifest.json" ]; then
    dals_phase "generating ${users} x ${items}, ${ratings} ratings, $width-bit ids"
    dals_mpirun -n "$(nproc)" "$DALS_BUILD/dals-generate" --users "$users" --items "$items" --ratings "$ratings" \
      --blocks "$blocks" --test-fraction 0.1 --round --seed 1 --output "$data" --force "${wide[@]}"
  fi
  model="$bench/wide-ids-$width"
  dals_phase "$ranks rank(s), --exchange routed, $width-bit ids"
  dals_mpirun -n "$ranks" "$DALS_BUILD/dals-train" --data "$data" --output "$model" --factors "$factors" \
    --solver "$solver" --iterations "$iterations" --threads 1 --exchange routed \
    --regularization weighted --lambda-units absolute --lambda 0.03 --force | tee "$model.log"
  tail -n +2 "$model/metrics.jsonl" >"$model/steady.jsonl"
  iter="$(paste -d' ' <(dals_field user_seconds "$model/steady.jsonl") <(dals_field item_seconds "$model/steady.jsonl") \
    <(dals_field exchange_seconds "$model/steady.jsonl") | awk '{ print $1 + $2 + $3 }' | dals_median)"
  load="$(sed -n 's/.*loaded in \([0-9.]*\)s.*/\1/p' "$model.log")"
  memory="$(sed -n 's/.*model memory \([0-9.]*\) MiB per rank.*/\1/p' "$model.log")"
  peak="$(sed -n 's/^done:.*peak memory \([0-9.]*\) MiB per rank.*/\1/p' "$model.log")"
  bytes="$(du -sb "$data/by-item" "$data/by-user" | awk '{ s += $1 } END { print s }')"
  rows+=("$(awk -v w="$width" -v b="$bytes" -v l="$load" -v m="$memory" -v p="$peak" -v it="$iter" \
    'BEGIN { printf "| %d | %.0f | %.2f | %s | %s | %.3f |", w, b / 1048576, l, m, p, it }')")
done
"$DALS_BUILD/tests/dals-test-model-diff" "$bench/wide-ids-32" "$bench/wide-ids-64" ||
  dals_die "the model from 64-bit ids differs from the one from 32-bit ids"

dals_phase "32- and 64-bit ids, ${users} x ${items}, ${ratings} ratings, k = $factors, $solver, $ranks rank(s), $(nproc) cores"
echo "| ids | rating files MiB | load s | model memory MiB / rank | peak RSS MiB / rank | s / iteration |"
echo "| ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
