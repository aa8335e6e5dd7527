#!/usr/bin/env bash
# Benchmark (printed figures, not a test): trains one synthetic dataset as
# (a) 1 rank x C threads and (b) C ranks x 1 thread, and prints a markdown
# table of time per iteration, GFLOP/s, exchange cost, test RMSE and memory.
#
#   tools/bench.sh [--shape ml20m|small] [--users M] [--items N] [--ratings R]
#                  [--blocks B] [--factors K] [--iterations I] [--cores C]
#
# --shape ml20m (default): MovieLens-20M's shape, 138000 x 27000, 20M ratings
# --shape small:           20000 x 5000, 1M ratings, for a quick try
# Explicit --users/--items/--ratings/--blocks override the shape's values.
# Defaults: 16 blocks, test fraction 0.1, k = 64, 5 iterations, C = 2.
#
# The dataset is generated once and cached in ./bench-data/ (keyed by its
# shape; delete it to regenerate); models go to ./bench-data/model-*; the
# table is also written to ./bench-data/results.md.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command_line="$(printf '%q ' "$0" "$@")"
command_line="${command_line% }"

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
bad_usage() {
  printf 'bench.sh: error: %s (see --help)\n' "$*" >&2
  exit 2
}

shape=ml20m users="" items="" ratings="" blocks="" factors=64 iterations=5 cores=2
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --shape|--users|--items|--ratings|--blocks|--factors|--iterations|--cores)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      name="${1#--}"
      value="$2"
      shift 2
      if [ "$name" = shape ]; then
        case "$value" in ml20m|small) shape="$value" ;; *) bad_usage "--shape must be ml20m or small, got '$value'" ;; esac
      else
        [[ "$value" =~ ^[1-9][0-9]*$ ]] || bad_usage "--$name must be a positive integer, got '$value'"
        printf -v "$name" '%s' "$value"
      fi
      ;;
    *) bad_usage "unknown argument '$1'" ;;
  esac
done

case "$shape" in
  ml20m) : "${users:=138000}" "${items:=27000}" "${ratings:=20000000}" ;;
  small) : "${users:=20000}" "${items:=5000}" "${ratings:=1000000}" ;;
esac
: "${blocks:=16}"
[ "$blocks" -ge "$cores" ] || bad_usage "--blocks ($blocks) must be >= --cores ($cores): each rank needs a block"

cd "$DALS_ROOT"
dals_setup_env
dals_install_deps
dals_build dals-generate dals-train

bench="$DALS_ROOT/bench-data"
data="$bench/data-${users}x${items}x${ratings}-b${blocks}"
mkdir -p "$bench"

if [ -f "$data/manifest.json" ]; then
  dals_phase "dataset: reusing $data"
else
  dals_phase "dataset: generating $users users x $items items, ~$ratings ratings, $blocks blocks -> $data"
  dals_mpirun -n "$cores" "$DALS_BUILD/dals-generate" --users "$users" --items "$items" --ratings "$ratings" \
    --blocks "$blocks" --test-fraction 0.1 --round --seed 1 --output "$data" --force
fi

# Median of the numbers on stdin ("-" if none).
median() {
  sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "-"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Value of a numeric key in each flat JSON line of metrics.jsonl, one per line
# (nothing for null).
json_field() {
  awk -v key="$1" '{
    if (match($0, "\"" key "\":[-+0-9.eE]+")) print substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3)
  }' "$2"
}

# "1 rank", "2 ranks"
plural() {
  if [ "$1" -eq 1 ]; then echo "$1 $2"; else echo "$1 $2s"; fi
}

rows=()
run_layout() {
  local ranks="$1" threads="$2" layout
  layout="$(plural "$ranks" rank) x $(plural "$threads" thread)"
  local model="$bench/model-${ranks}x${threads}"
  local log="$bench/train-${ranks}x${threads}.log"
  dals_phase "train: $layout (OMP_NUM_THREADS=$threads)"
  echo "mpirun --oversubscribe --bind-to none -n $ranks $DALS_BUILD/dals-train --data $data --output $model" \
       "--factors $factors --iterations $iterations --threads $threads --force"
  OMP_NUM_THREADS="$threads" dals_mpirun -n "$ranks" "$DALS_BUILD/dals-train" --data "$data" --output "$model" \
    --factors "$factors" --iterations "$iterations" --threads "$threads" --force | tee "$log"

  local metrics="$model/metrics.jsonl"
  [ -s "$metrics" ] || dals_die "$metrics: missing or empty"
  # Iterations after the first (the first pays for page faults and warm-up),
  # unless there is only one.
  local steady="$bench/steady.jsonl"
  if [ "$(wc -l <"$metrics")" -gt 1 ]; then tail -n +2 "$metrics" >"$steady"; else cp "$metrics" "$steady"; fi

  local seconds gflops exchange share rmse peak model_mem
  seconds="$(paste -d' ' <(json_field user_seconds "$steady") <(json_field item_seconds "$steady") \
               <(json_field exchange_seconds "$steady") | awk '{ print $1 + $2 + $3 }' | median)"
  gflops="$(json_field gflops "$steady" | median)"
  exchange="$(json_field exchange_seconds "$steady" | median)"
  share="$(paste -d' ' <(json_field user_seconds "$steady") <(json_field item_seconds "$steady") \
             <(json_field exchange_seconds "$steady") |
           awk '{ e += $3; t += $1 + $2 + $3 } END { if (t > 0) printf "%.1f%%", 100 * e / t; else print "-" }')"
  rmse="$(json_field test_rmse "$metrics" | tail -n 1)"
  peak="$(sed -n 's/^done:.*peak memory \([0-9.]*\) MiB per rank.*/\1/p' "$log")"
  model_mem="$(sed -n 's/.*model memory \([0-9.]*\) MiB per rank.*/\1/p' "$log")"
  rm -f "$steady"
  rows+=("$(printf '| %s | %s | %.3f | %.1f | %.3f | %s | %s | %s | %s |' "$layout" "$factors" "$seconds" "$gflops" \
            "$exchange" "$share" "$(printf '%.4f' "${rmse:-nan}")" "${peak:--}" "${model_mem:--}")")
}

run_layout 1 "$cores"
run_layout "$cores" 1

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
# "20000 users x 5000 items, 900326 ratings (99686 test), 16 blocks", as dals-train reported it.
dataset="$(sed -n 's/^dals-train [^:]*: \(.*\); [0-9]* ranks* x .*/\1/p' "$bench/train-1x${cores}.log" | head -n 1)"
report="$bench/results.md"
{
  echo "Command: \`$command_line\`"
  echo
  echo "Machine: $(nproc) cores ($cpu), $(date -u +%Y-%m-%d)"
  echo
  echo "Dataset: $dataset (generated: $users x $items, target $ratings ratings, test fraction 0.1);" \
       "k = $factors, $iterations iterations"
  echo
  echo "| layout | k | s / iteration | GFLOP/s | exchange s | exchange share | test RMSE | peak RSS MiB / rank | model MiB / rank |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  if [ "$iterations" -gt 1 ]; then over="iterations 2..$iterations"; else over="the only iteration"; fi
  echo "Seconds, GFLOP/s and exchange are medians over $over (user + item solves + exchange);"
  echo "exchange share is the exchange's part of those iterations' time; test RMSE after the last iteration."
} >"$report"

dals_phase "results (also in $report)"
cat "$report"
