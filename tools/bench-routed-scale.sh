#!/usr/bin/env bash
# A routed run too large to replicate, against its plan (printed figures, not
# a test). Generates a dataset of many users (default 50,000,000 users x
# 200,000 items, 300,000,000 ratings, 10% held out), plans it with dals-plan,
# trains it with --exchange auto (the users routed, the items replicated: the
# trainer's header says which) on --ranks ranks, and prints each iteration's
# seconds, bytes received per rank and test RMSE, then every rank's peak RSS
# (/usr/bin/time around each rank; max and median) against the plan's
# memory per rank, and what dals-plan says --exchange allgather would need
# (the defaults otherwise, as a user would run it). --memory-ranks: one
# more run per P of --memory-iterations, its peak RSS per rank (max and
# median) beside the plan's routed table (memory.user_factors) and total.
#
#   tools/bench-routed-scale.sh [--shape "USERS ITEMS RATINGS BLOCKS"] [--ranks 4] [--factors 32]
#       [--solver cholesky] [--iterations 10] [--buffer 1G]
#       [--memory-ranks "1 2 4 8"] [--memory-iterations 1] [--memory-buffer 256M]
#
# Oversubscribed ranks (P > cores) measure memory, not speed. Each run writes
# its model (U whole: 6.6 GB at the default shape, k = 32) and removes it.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

shape="50000000 200000 300000000 64" ranks=4 factors=32 solver=cholesky iterations=10 buffer=1G
memory_ranks="1 2 4 8" memory_iterations=1 memory_buffer=256M
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --shape) shape="$2"; shift 2 ;;
    --ranks) ranks="$2"; shift 2 ;;
    --factors) factors="$2"; shift 2 ;;
    --solver) solver="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    --buffer) buffer="$2"; shift 2 ;;
    --memory-ranks) memory_ranks="$2"; shift 2 ;;
    --memory-iterations) memory_iterations="$2"; shift 2 ;;
    --memory-buffer) memory_buffer="$2"; shift 2 ;;
    *) printf 'bench-routed-scale.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
read -r users items ratings blocks <<<"$shape"
dals_setup_env
for exe in dals-generate dals-train dals-plan; do
  [ -x "$DALS_BUILD/$exe" ] || dals_die "$DALS_BUILD/$exe: not built (run tools/test.sh or set DALS_BUILD)"
done
bench="${DALS_BENCH_DATA:-$DALS_ROOT/bench-data}"
mkdir -p "$bench"
data="$bench/data-${users}x${items}x${ratings}-b$blocks-test"
if [ ! -f "$data/manifest.json" ]; then
  dals_phase "generating ${users} x ${items}, ${ratings} ratings"
  /usr/bin/time -f "generate: %e s, peak %M KiB per rank" \
    mpirun --oversubscribe --bind-to none -n "$(nproc)" "$DALS_BUILD/dals-generate" --users "$users" --items "$items" \
    --ratings "$ratings" --blocks "$blocks" --test-fraction 0.1 --round --seed 1 --output "$data" --force
fi
du -sh "$data"

shared_options=(--factors "$factors" --solver "$solver")
train_options=("${shared_options[@]}" --exchange auto)

# plan P BUFFER EXCHANGE OUT.json
plan() {
  "$DALS_BUILD/dals-plan" "$data" --ranks "$1" "${shared_options[@]}" --exchange "$3" --exchange-buffer "$2" \
    --output "$4" --force >"$4.txt"
}
json_field() {  # json_field FILE max|median NAME
  /usr/bin/python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]][sys.argv[3]])' "$@"
}
mib() { awk -v b="$1" 'BEGIN { printf "%.0f", b / 1048576 }'; }

# train P BUFFER ITERATIONS NAME: every rank's peak RSS (KiB) into NAME.rss, one line each
train() {
  local model="$bench/routed-scale-$4"
  rm -rf "$model"
  dals_phase "dals-train on $1 rank(s), $3 iteration(s), --exchange-buffer $2"
  # Each rank's /usr/bin/time writes its own file (on a shared stderr the
  # ranks' lines interleave mid-line).
  rm -f "$model".rss.*
  mpirun --oversubscribe --bind-to none -n "$1" \
    bash -c 'exec /usr/bin/time -f "%M" -o "$0.rss.$OMPI_COMM_WORLD_RANK" "$@"' "$model" \
    "$DALS_BUILD/dals-train" --data "$data" --output "$model" "${train_options[@]}" --exchange-buffer "$2" \
    --iterations "$3" --threads 1 --force 2>&1 | tee "$model.log"
  cat "$model".rss.* >"$bench/routed-scale-$4.rss"
  rm -f "$model".rss.*
  cp "$model/metrics.jsonl" "$bench/routed-scale-$4.metrics.jsonl"
  rm -rf "$model"
}
rss_max() { sort -g "$1" | tail -1 | awk '{ printf "%.0f", $1 / 1024 }'; }
rss_median() { dals_median <"$1" | awk '{ printf "%.0f", $1 / 1024 }'; }

dals_phase "dals-plan at $ranks ranks: routed (auto) and allgather"
plan "$ranks" "$buffer" auto "$bench/routed-scale-plan.json"
plan "$ranks" "$buffer" allgather "$bench/routed-scale-plan-allgather.json"
cat "$bench/routed-scale-plan.json.txt"

train "$ranks" "$buffer" "$iterations" main
grep -E "exchange:|routed|replicated|all-gathered" "$bench/routed-scale-main.log" | head -4 || true
m="$bench/routed-scale-main.metrics.jsonl"
dals_phase "the run: $users x $items, $ratings ratings, k = $factors, $solver, $ranks ranks x 1 thread, buffer $buffer, $(nproc) cores"
echo "| iteration | s | exchange s | MB received / rank (max) | test RMSE |"
echo "| ---: | ---: | ---: | ---: | ---: |"
paste -d' ' <(dals_field iteration "$m") <(dals_field user_seconds "$m") <(dals_field item_seconds "$m") <(dals_field exchange_seconds "$m") \
  <(dals_field exchange_bytes_received "$m") <(dals_field test_rmse "$m") |
  awk '{ printf "| %d | %.2f | %.2f | %.0f | %.4f |\n", $1, $2 + $3 + $4, $4, $5 / 1e6, $6 }'
p="$bench/routed-scale-plan.json" a="$bench/routed-scale-plan-allgather.json"
echo
echo "| per rank | measured max | measured median | plan max | plan median | measured / plan (max) |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
awk -v mm="$(rss_max "$bench/routed-scale-main.rss")" -v md="$(rss_median "$bench/routed-scale-main.rss")" \
  -v pm="$(mib "$(json_field "$p" max memory.total)")" -v pd="$(mib "$(json_field "$p" median memory.total)")" \
  'BEGIN { printf "| peak RSS MiB (plan: memory.total) | %d | %d | %d | %d | %.3f |\n", mm, md, pm, pd, mm / pm }'
echo "| plan: routed U rows held (memory.user_factors) MiB | | | $(mib "$(json_field "$p" max memory.user_factors)") | $(mib "$(json_field "$p" median memory.user_factors)") | |"
echo "| plan: exchange buffer MiB | | | $(mib "$(json_field "$p" max memory.exchange_buffer)") | | |"
echo "| plan: --exchange allgather, memory.total MiB | | | $(mib "$(json_field "$a" max memory.total)") | | |"
echo "| plan: item half MB received | | | $(json_field "$p" max item_half.bytes_received | awk '{ printf "%.0f", $1 / 1e6 }') | $(json_field "$p" median item_half.bytes_received | awk '{ printf "%.0f", $1 / 1e6 }') | |"

rows=()
for r in $memory_ranks; do
  plan "$r" "$memory_buffer" auto "$bench/routed-scale-plan-$r.json"
  train "$r" "$memory_buffer" "$memory_iterations" "p$r"
  q="$bench/routed-scale-plan-$r.json"
  rows+=("| $r | $(rss_max "$bench/routed-scale-p$r.rss") | $(rss_median "$bench/routed-scale-p$r.rss") | $(mib "$(json_field "$q" max memory.total)") | $(mib "$(json_field "$q" max memory.user_factors)") | $(mib "$(json_field "$q" max memory.ratings_by_user)") + $(mib "$(json_field "$q" max memory.ratings_by_item)") | $(mib "$(json_field "$q" max memory.exchange_buffer)") |")
done
if [ ${#rows[@]} -gt 0 ]; then
  dals_phase "memory per rank by P ($users x $items, $ratings ratings, k = $factors, buffer $memory_buffer)"
  echo "| P | peak RSS MiB max | peak RSS MiB median | plan total MiB (max) | plan U rows MiB (max) | plan ratings MiB (by user + by item) | plan buffer MiB |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
fi
