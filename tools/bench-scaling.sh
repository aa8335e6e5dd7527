#!/usr/bin/env bash
# Strong scaling (printed figures, not a test): trains one dataset at 1, 2,
# 4, 8, 16 ranks x 1 thread and at 1 rank x 16 threads, and prints seconds
# per iteration, strong-scaling efficiency T(1) / (P * T(P)), the exchange's
# share of the iteration and peak memory per rank.
#
#   tools/bench-scaling.sh [--dataset netflix|ml20m|small] [--ranks "1 2 4 8 16"]
#                          [--threads 16] [--factors 64] [--solver cholesky|cg]
#                          [--iterations 3]
#
# Meant for a machine with at least as many cores as the largest rank count
# (on fewer cores the ranks share cores and the efficiency says nothing).
# It uses an existing build (DALS_BUILD, default ./build) and installs
# nothing, so that it can run on a machine that only has the runtime
# libraries: on a machine without Boost.Program_options, copy
# libboost_program_options.so.* next to the binaries and set LD_LIBRARY_PATH.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dataset=netflix ranks_list="1 2 4 8 16" threads=16 factors=64 solver=cholesky iterations=3
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --dataset) dataset="$2"; shift 2 ;;
    --ranks) ranks_list="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --factors) factors="$2"; shift 2 ;;
    --solver) solver="$2"; shift 2 ;;
    --iterations) iterations="$2"; shift 2 ;;
    *) printf 'bench-scaling.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
case "$dataset" in
  small) shape=(20000 5000 1000000 16) ;;
  ml20m) shape=(138000 27000 20000000 16) ;;
  netflix) shape=(480189 17770 100000000 32) ;;
  *) printf 'bench-scaling.sh: error: unknown dataset %s\n' "$dataset" >&2; exit 2 ;;
esac
dals_setup_env
for exe in dals-generate dals-train; do
  [ -x "$DALS_BUILD/$exe" ] || dals_die "$DALS_BUILD/$exe: not built (run tools/test.sh or set DALS_BUILD)"
done
bench="${DALS_BENCH_DATA:-$DALS_ROOT/bench-data}"
mkdir -p "$bench"
data="$bench/data-${shape[0]}x${shape[1]}x${shape[2]}-b${shape[3]}"
if [ ! -f "$data/manifest.json" ]; then
  dals_phase "dataset $dataset: generating"
  dals_mpirun -n "$(nproc)" "$DALS_BUILD/dals-generate" --users "${shape[0]}" --items "${shape[1]}" \
    --ratings "${shape[2]}" --blocks "${shape[3]}" --test-fraction 0.1 --round --seed 1 --output "$data" --force
fi

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { awk -v key="$1" '{ if (match($0, "\"" key "\":[-+0-9.eE]+")) print substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3) }' "$2"; }

rows=() base=""
run() {  # run RANKS THREADS
  local model="$bench/scaling-$1x$2"
  dals_phase "$1 rank(s) x $2 thread(s)"
  OMP_NUM_THREADS="$2" dals_mpirun -n "$1" "$DALS_BUILD/dals-train" --data "$data" --output "$model" --factors "$factors" \
    --solver "$solver" --iterations "$iterations" --threads "$2" --force | tee "$model.log"
  tail -n +2 "$model/metrics.jsonl" >"$model/steady.jsonl"
  local iter exch peak
  iter="$(paste -d' ' <(field user_seconds "$model/steady.jsonl") <(field item_seconds "$model/steady.jsonl") \
    <(field exchange_seconds "$model/steady.jsonl") | awk '{ print $1 + $2 + $3 }' | median)"
  exch="$(field exchange_seconds "$model/steady.jsonl" | median)"
  peak="$(sed -n 's/^done:.*peak memory \([0-9.]*\) MiB per rank.*/\1/p' "$model.log")"
  [ -n "$base" ] || base="$iter"
  rows+=("$(awk -v p="$(($1 * $2))" -v r="$1" -v t="$2" -v it="$iter" -v b="$base" -v e="$exch" -v m="$peak" \
    'BEGIN { printf "| %d x %d | %.3f | %.2f | %.0f%% | %.1f%% | %s |", r, t, it, b / it, 100 * b / (p * it), 100 * e / it, m }')")
}
for r in $ranks_list; do run "$r" 1; done
run 1 "$threads"

dals_phase "strong scaling, $dataset, k = $factors, $solver, $(nproc) cores ($(lscpu | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1))"
echo "| ranks x threads | s / iteration | speed-up | efficiency | exchange | peak RSS MiB / rank |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
