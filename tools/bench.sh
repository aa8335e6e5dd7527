#!/usr/bin/env bash
# Benchmark suite (printed figures, not a test). In one run it
#  1. measures this machine's ceilings (dals-bench-ceilings): sgemm/ssyrk
#     GFLOP/s per core at the shapes ALS uses, triad GB/s, MPI allgather GB/s;
#  2. generates, once, the datasets (cached in ./bench-data/);
#  3. trains each for a few iterations per factor rank, solver and layout;
#  4. prints a table: seconds per iteration, the Gram phase's rate against
#     sgemm at that k, solve time per row, gather bandwidth against the
#     triad, exchange share, peak RSS against the memory model, test RMSE;
#  5. times a full run per dataset (CG, 1 rank x all cores, loading
#     included) to the test RMSE it reaches;
#  6. writes it all to bench-data/results.md and bench-data/results.json.
#
#   tools/bench.sh [--datasets "ml20m netflix"] [--factors "32 64 128"]
#                  [--solvers "cholesky cg"] [--layouts "1x2 2x1"]
#                  [--iterations 4] [--lambda 0.03] [--full-iterations 3]
#                  [--quick]
#
# Datasets (dals-generate, power-law degrees, --round, 10% test):
#   small   20,000 x 5,000, 1M ratings, 8 blocks (seconds)
#   ml20m   MovieLens-20M's shape: 138,000 x 27,000, 20M ratings, 16 blocks
#   netflix Netflix's shape: 480,189 x 17,770, 100M ratings, 32 blocks
# Solvers: cholesky, cg (dals-train's default --cg-precision half) and
# cg-float (--solver cg --cg-precision float); implicit-cholesky and
# implicit-cg (--implicit: the same ratings read as counts). Layouts are RANKSxTHREADS. --quick = --datasets small --factors 64
# --iterations 3. --lambda 0.03 (weighted): the best of 0.02, 0.03, 0.05,
# 0.1, 0.3 and 1 on the Netflix shape (its planted rank-8 model, noise 0.5
# and rounding give test RMSE 0.5936, 0.5865, 0.5930, 0.6397, 0.8788 and
# 0.8959 after 6 CG iterations). The defaults (everything) take about 30 minutes on 2 cores.
# Set DALS_BUILD to benchmark a build other than ./build.
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

datasets="ml20m netflix" factors="32 64 128" solvers="cholesky cg" layouts="1x2 2x1" iterations=4
lambda=0.03 full_iterations=3
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --quick) datasets=small factors=64 iterations=3; shift ;;
    --datasets|--factors|--solvers|--layouts|--iterations|--lambda|--full-iterations)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      name="${1#--}"
      printf -v "${name//-/_}" '%s' "$2"
      shift 2
      ;;
    *) bad_usage "unknown argument '$1'" ;;
  esac
done
for d in $datasets; do case "$d" in small|ml20m|netflix) ;; *) bad_usage "unknown dataset '$d'" ;; esac; done
for s in $solvers; do case "$s" in cholesky|cg|cg-float|implicit-cholesky|implicit-cg) ;; *) bad_usage "unknown solver '$s'" ;; esac; done
for l in $layouts; do [[ "$l" =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || bad_usage "layout '$l' is not RANKSxTHREADS"; done
for k in $factors; do [[ "$k" =~ ^[1-9][0-9]*$ ]] || bad_usage "factor rank '$k' is not a positive integer"; done
[[ "$iterations" =~ ^[1-9][0-9]*$ ]] || bad_usage "--iterations must be a positive integer"
[[ "$full_iterations" =~ ^[0-9]+$ ]] || bad_usage "--full-iterations must be a number (0: no full runs)"
[[ "$lambda" =~ ^[0-9]*\.?[0-9]+$ ]] || bad_usage "--lambda must be a non-negative number"

cd "$DALS_ROOT"
dals_setup_env
dals_install_deps
dals_build dals-generate dals-train dals-bench-ceilings
bench="$DALS_ROOT/bench-data"
mkdir -p "$bench"

dals_phase "ceilings of this machine"
OMP_NUM_THREADS="$(nproc)" dals_mpirun -n 2 "$DALS_BUILD/dals-bench-ceilings" | tee "$bench/ceilings.json"
ceiling() {  # ceiling KEY [K]: a number from ceilings.json
  if [ $# -eq 2 ]; then
    sed -n "s/.*\"k$2\": {\"sgemm_gflops\": \([0-9.]*\), \"ssyrk_gflops\": \([0-9.]*\)}.*/\1 \2/p" "$bench/ceilings.json" |
      awk -v which="$1" '{ print which == "sgemm" ? $1 : $2 }'
  else
    sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p" "$bench/ceilings.json"
  fi
}
triad="$(ceiling triad_gbs_1_thread)"

dataset_dir() {  # dataset_dir NAME: generates it once
  local users items ratings blocks
  case "$1" in
    small) users=20000 items=5000 ratings=1000000 blocks=8 ;;
    ml20m) users=138000 items=27000 ratings=20000000 blocks=16 ;;
    netflix) users=480189 items=17770 ratings=100000000 blocks=32 ;;
  esac
  local dir="$bench/data-${users}x${items}x${ratings}-b${blocks}"
  if [ ! -f "$dir/manifest.json" ]; then
    dals_phase "dataset $1: generating $users x $items, ~$ratings ratings, $blocks blocks" >&2
    dals_mpirun -n 2 "$DALS_BUILD/dals-generate" --users "$users" --items "$items" --ratings "$ratings" \
      --blocks "$blocks" --test-fraction 0.1 --round --seed 1 --output "$dir" --force >&2
  fi
  echo "$dir"
}

median() {  # of the numbers on stdin
  sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
field() {  # field KEY FILE: the key's value in each flat JSON line
  awk -v key="$1" '{ if (match($0, "\"" key "\":[-+0-9.eE]+"))
    print substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3) }' "$2"
}

rows=() json=()
run() {  # run DATASET K SOLVER LAYOUT
  local name="$1" k="$2" solver="$3" layout="$4"
  local ranks="${layout%x*}" threads="${layout#*x}" data model log
  data="$(dataset_dir "$name")"
  model="$bench/model-$name-k$k-$solver-$layout"
  log="$model.log"
  # Bytes per gathered factor: CG reads a half-precision copy unless told otherwise.
  local solver_args=(--solver "$solver") value_bytes=4
  case "$solver" in
    cg) solver_args=(--solver cg --cg-precision half) value_bytes=2 ;;
    cg-float) solver_args=(--solver cg --cg-precision float) ;;
    # Implicit feedback on the same ratings, read as counts (the gathers are float).
    implicit-cholesky) solver_args=(--implicit --solver cholesky) ;;
    implicit-cg) solver_args=(--implicit --solver cg) ;;
  esac
  dals_phase "train $name k=$k $solver $ranks rank(s) x $threads thread(s)"
  OMP_NUM_THREADS="$threads" dals_mpirun -n "$ranks" "$DALS_BUILD/dals-train" --data "$data" --output "$model" \
    --factors "$k" --regularization weighted --lambda-units absolute --lambda "$lambda" "${solver_args[@]}" --iterations "$iterations" --threads "$threads" --force |
    tee "$log"
  local metrics="$model/metrics.jsonl" steady="$model/steady.jsonl"
  if [ "$iterations" -gt 1 ]; then tail -n +2 "$metrics" >"$steady"; else cp "$metrics" "$steady"; fi
  # "138000 users x 27000 items, 18001144 ratings (1998907 test), 16 blocks; ..."
  local m n nnz
  read -r m n nnz < <(sed -n 's/^dals-train [^:]*: \([0-9]*\) users x \([0-9]*\) items, \([0-9]*\) ratings.*/\1 \2 \3/p' "$log")
  paste -d' ' <(field user_seconds "$steady") <(field item_seconds "$steady") <(field exchange_seconds "$steady") \
    <(field gram_seconds "$steady") <(field factor_seconds "$steady") <(field gather_seconds "$steady") >"$model/cols"
  local peak model_mem rmse
  peak="$(sed -n 's/^done:.*peak memory \([0-9.]*\) MiB per rank.*/\1/p' "$log")"
  model_mem="$(sed -n 's/.*model memory \([0-9.]*\) MiB per rank.*/\1/p' "$log")"
  rmse="$(field test_rmse "$metrics" | tail -n 1)"
  [ -n "$rmse" ] || rmse=null  # implicit runs have no RMSE
  local t=$((ranks * threads)) sgemm
  sgemm="$(ceiling sgemm "$k")"
  # Medians over the steady iterations; thread-seconds = per-thread seconds x threads.
  local iter exch gram factor gather
  iter="$(awk '{ print $1 + $2 + $3 }' "$model/cols" | median)"
  exch="$(awk '{ print $3 }' "$model/cols" | median)"
  gram="$(awk '{ print $4 }' "$model/cols" | median)"
  factor="$(awk '{ print $5 }' "$model/cols" | median)"
  gather="$(awk '{ print $6 }' "$model/cols" | median)"
  local line
  line="$(awk -v m="$m" -v n="$n" -v nnz="$nnz" -v k="$k" -v t="$t" -v iter="$iter" -v exch="$exch" \
    -v gram="$gram" -v factor="$factor" -v gather="$gather" -v sgemm="$sgemm" -v triad="$triad" \
    -v peak="$peak" -v mem="$model_mem" -v bytes="$value_bytes" 'BEGIN {
      gram_rate = gram > 0 ? 2 * nnz * k * k / (gram * t) / 1e9 : -1   # 2 nnz k^2 per iteration (both halves)
      row_us = factor * t / (m + n) * 1e6
      gather_gbs = 2 * nnz * k * bytes / (gather * t) / 1e9            # nnz k 4 (or 2) bytes per half
      printf "%.3f %s %s %.2f %.2f %.0f%% %.1f%% %.2f", iter,
        gram_rate < 0 ? "-" : sprintf("%.1f", gram_rate), gram_rate < 0 ? "-" : sprintf("%.0f%%", 100 * gram_rate / sgemm),
        row_us, gather_gbs, 100 * gather_gbs / triad, 100 * exch / iter, peak / mem }')"
  local s_iter grate gfrac rowus gbw gfrac2 share ratio
  read -r s_iter grate gfrac rowus gbw gfrac2 share ratio <<<"$line"
  rows+=("| $name | $k | $solver | $ranks x $threads | $s_iter | $grate | $gfrac | $rowus | $gbw | $gfrac2 | $share | $peak | $model_mem | $ratio | $([ "$rmse" = null ] && echo - || printf '%.4f' "$rmse") |")
  json+=("{\"dataset\": \"$name\", \"k\": $k, \"solver\": \"$solver\", \"ranks\": $ranks, \"threads\": $threads, \"seconds_per_iteration\": $s_iter, \"gram_gflops_per_core\": \"${grate}\", \"gram_fraction_of_sgemm\": \"$gfrac\", \"solve_us_per_row\": $rowus, \"gather_gbs_per_core\": $gbw, \"gather_fraction_of_triad\": \"$gfrac2\", \"exchange_share\": \"$share\", \"peak_rss_mib\": $peak, \"model_mib\": $model_mem, \"rss_over_model\": $ratio, \"test_rmse\": $rmse}")
  rm -f "$steady" "$model/cols"
}

for name in $datasets; do
  for k in $factors; do
    for solver in $solvers; do
      for layout in $layouts; do run "$name" "$k" "$solver" "$layout"; done
    done
  done
done

# A full run as a user runs it: one rank on every core, loading included.
full_rows=() full_json=()
full_run() {  # full_run DATASET
  local name="$1" data model log start end wall load rmse threads
  threads="$(nproc)"
  data="$(dataset_dir "$name")"
  model="$bench/model-$name-full"
  log="$model.log"
  dals_phase "full run $name: CG, k=64, $full_iterations iterations, 1 rank x $threads threads"
  start="$(date +%s.%N)"
  OMP_NUM_THREADS="$threads" dals_mpirun -n 1 "$DALS_BUILD/dals-train" --data "$data" --output "$model" \
    --factors 64 --regularization weighted --lambda-units absolute --lambda "$lambda" --solver cg --iterations "$full_iterations" --threads "$threads" --force | tee "$log"
  end="$(date +%s.%N)"
  wall="$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')"
  load="$(sed -n 's/.*loaded in \([0-9.]*\)s.*/\1/p' "$log")"
  rmse="$(field test_rmse "$model/metrics.jsonl" | tail -n 1)"
  full_rows+=("| $name | cg | 64 | $full_iterations | 1 x $threads | $wall | $load | $(printf '%.4f' "$rmse") |")
  full_json+=("{\"dataset\": \"$name\", \"solver\": \"cg\", \"k\": 64, \"iterations\": $full_iterations, \"threads\": $threads, \"wall_seconds\": $wall, \"load_seconds\": $load, \"test_rmse\": $rmse}")
}
if [ "$full_iterations" -gt 0 ]; then
  for name in $datasets; do full_run "$name"; done
fi

cpu="$(lscpu 2>/dev/null | sed -n 's/^Model name:[[:space:]]*//p' | head -n 1)"
{
  echo "Command: \`$command_line\` ($iterations iterations; medians over iterations 2..$iterations)"
  echo
  echo "Machine: $(nproc) cores ($cpu), $(date -u +%Y-%m-%d). Ceilings per core: sgemm at k = 32/64/128:" \
       "$(ceiling sgemm 32)/$(ceiling sgemm 64)/$(ceiling sgemm 128) GFLOP/s; triad $triad GB/s" \
       "(all cores: $(sed -n 's/.*"triad_gbs_[0-9]*_threads": \([0-9.]*\).*/\1/p' "$bench/ceilings.json") GB/s);" \
       "allgather $(ceiling allgather_gbs) GB/s between 2 ranks"
  echo
  echo "| data | k | solver | ranks x threads | s / iter | Gram GFLOP/s / core | of sgemm | solve µs / row | gather GB/s / core | of triad | exchange | peak RSS MiB / rank | model MiB / rank | RSS / model | test RMSE |"
  echo "| --- | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
  echo
  echo "Gram rate: 2 nnz k^2 flops per iteration (the Gram matrices' count, both halves) over the"
  echo "thread-seconds of the Gram kernel (V^T V, V^T 1, V^T t), per core, against sgemm at that k. Solve: Cholesky (or CG)"
  echo "thread-seconds per row. Gather: nnz k 4 bytes per half (cg: 2, its half-precision copy) over the gather"
  echo "thread-seconds. Model memory: ratings twice + test ratings + replicated factors (+ cg: a half-precision copy"
  echo "of the larger side) (README, Memory)."
  if [ "${#full_rows[@]}" -gt 0 ]; then
    echo
    echo "Full runs (dals-train as a user runs it; wall time from start to exit, loading and writing the model included):"
    echo
    echo "| data | solver | k | iterations | ranks x threads | wall s | load s | test RMSE |"
    echo "| --- | --- | ---: | ---: | --- | ---: | ---: | ---: |"
    printf '%s\n' "${full_rows[@]}"
  fi
} >"$bench/results.md"
{
  echo "{\"runs\": ["
  for i in "${!json[@]}"; do
    if [ "$i" -lt $((${#json[@]} - 1)) ]; then echo "  ${json[$i]},"; else echo "  ${json[$i]}"; fi
  done
  echo "],"
  echo "\"full_runs\": ["
  for i in "${!full_json[@]}"; do
    if [ "$i" -lt $((${#full_json[@]} - 1)) ]; then echo "  ${full_json[$i]},"; else echo "  ${full_json[$i]}"; fi
  done
  echo "]}"
} >"$bench/results.json"
dals_phase "results (also in $bench/results.md and results.json)"
cat "$bench/results.md"
