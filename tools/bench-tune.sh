#!/usr/bin/env bash
# dals-train --tune against the same grid run as separate jobs (printed
# figures, not a test): wall seconds of one `mpirun -n 2 dals-train --tune`
# over a 5 x 4 grid (lambda x k) on ml-latest-small, and of the 20
# `mpirun -n 2 dals-train` jobs a user would otherwise start, each with
# the same validation split and early stopping. Repeated --runs times
# (default 3); the medians and their ratio are printed.
#
#   tools/bench-tune.sh [--ml DIR] [--runs N]
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ml="$DALS_ROOT/../shared/data/ml-latest-small"
runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    --ml) ml="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    *) printf 'bench-tune.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
[ -f "$ml/ratings.csv" ] || dals_die "$ml/ratings.csv not found (give --ml DIR)"
dals_setup_env
out="$DALS_ROOT/bench-data/tune"
mkdir -p "$out"
"$DALS_BUILD/dals-partition" --input "$ml/ratings.csv" --header --output "$out/ml" --blocks 2 \
  --test-fraction 0.2 --seed 1 --force >/dev/null
lambdas="0.3 0.5 1 2 4" ks="16 32 64 128"
train() { dals_mpirun -n 2 "$DALS_BUILD/dals-train" --data "$out/ml" --threads 1 --quiet --force "$@" >/dev/null; }
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
one=() separate=()
for ((r = 1; r <= runs; r++)); do
  t0=$(now)
  train --output "$out/tuned" --tune "lambda=${lambdas// /,};factors=${ks// /,}"
  t1=$(now)
  for l in $lambdas; do
    for k in $ks; do
      train --output "$out/alone" --lambda "$l" --factors "$k" --validation-fraction 0.1 --early-stopping 3
    done
  done
  t2=$(now)
  one+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')") separate+=("$(awk -v a="$t1" -v b="$t2" 'BEGIN { print b - a }')")
  printf 'run %d: --tune %.2fs (with the final training), 20 separate jobs %.2fs\n' "$r" "${one[-1]}" "${separate[-1]}"
done
a=$(printf '%s\n' "${one[@]}" | median) b=$(printf '%s\n' "${separate[@]}" | median)
printf 'median of %d: --tune %.2fs, separate jobs %.2fs: %.1fx\n' "$runs" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')"
