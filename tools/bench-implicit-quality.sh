#!/usr/bin/env bash
# Implicit-feedback quality benchmark (printed figures, not a test): the
# ranking metrics of dals-train --implicit against the popularity baseline
# on real dumps, as a user would run it.
#
#   tools/bench-implicit-quality.sh [--ml DIR] [--filmtrust DIR]
#
# Datasets (never committed; ../shared/data on the dev machines):
#   ml  MovieLens ml-latest-small: ratings >= 4 as events (their value the
#       count), users with at least 5 of them;
#   ft  filmtrust: every rating as one event of value 1 (duplicates summed).
# Each is split twice, 20% of the entries held out (--test-fraction 0.2),
# with split seeds 1 and 7. The grid (alpha, lambda, k; weighted and l2)
# runs on seed 1 only and picks each dump's best by precision@10 there;
# defaults, that best and popularity are then reported on seed 7, which no
# choice looked at: precision@10, recall@20, NDCG@100 (each user's training
# items excluded). Takes a few minutes on 2 cores; writes
# bench-data/implicit-quality/results.md.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ml="$DALS_ROOT/../shared/data/ml-latest-small"
ft="$DALS_ROOT/../shared/data/filmtrust"
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    --ml) ml="$2"; shift 2 ;;
    --filmtrust) ft="$2"; shift 2 ;;
    *) printf 'bench-implicit-quality.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
[ -f "$ml/ratings.csv" ] || dals_die "$ml/ratings.csv not found (give --ml DIR)"
[ -f "$ft/ratings.txt" ] || dals_die "$ft/ratings.txt not found (give --filmtrust DIR)"
dals_setup_env
out="$DALS_ROOT/bench-data/implicit-quality"
mkdir -p "$out"

dals_phase "partition (split seeds 1 and 7)"
for seed in 1 7; do
  "$DALS_BUILD/dals-partition" --input "$ml/ratings.csv" --header --output "$out/ml-$seed" --blocks 2 \
    --test-fraction 0.2 --seed "$seed" --min-rating 4 --min-user-ratings 5 --implicit --rating-column 3 --force >/dev/null
  "$DALS_BUILD/dals-partition" --input "$ft/ratings.txt" --output "$out/ft-$seed" --blocks 2 \
    --test-fraction 0.2 --seed "$seed" --min-user-ratings 5 --implicit --rating-column none --force >/dev/null
done

# metric DATA K OPTIONS...: "precision recall ndcg" at K after 10 iterations.
metric() {
  local data=$1 k=$2
  shift 2
  dals_mpirun -n 2 "$DALS_BUILD/dals-train" --data "$data" --output "$out/model" --force --threads 1 \
    --eval-k "$k" "$@" | sed -n "s/^iter 10 .*precision@$k \([0-9.]*\)  recall@$k \([0-9.]*\)  ndcg@$k \([0-9.]*\).*/\1 \2 \3/p"
}
# popularity DATA K: the baseline's "precision recall ndcg" at K (dals-train's header).
popularity() {
  dals_mpirun -n 2 "$DALS_BUILD/dals-train" --data "$1" --output "$out/model" --force --threads 1 --eval-k "$2" \
    --iterations 0 | sed -n "s/^popularity baseline.*precision@$2 \([0-9.]*\)  recall@$2 \([0-9.]*\)  ndcg@$2 \([0-9.]*\)/\1 \2 \3/p"
}

rows=()
for d in ml ft; do
  dals_phase "grid on $d, split seed 1"
  best="" best_p=0
  for reg in weighted l2; do
    if [ "$reg" = weighted ]; then lambdas="0.005 0.01 0.02 0.05"; else lambdas="3 10 30 100"; fi
    for alpha in 1 3 10; do
      for lambda in $lambdas; do
        for k in 32 64 128; do
          opts="--regularization $reg --alpha $alpha --lambda $lambda -k $k"
          # shellcheck disable=SC2086
          read -r p _ _ < <(metric "$out/$d-1" 10 $opts)
          printf '%s %s p@10 %s\n' "$d" "$opts" "$p"
          if awk -v a="$p" -v b="$best_p" 'BEGIN { exit !(a > b) }'; then best="$opts" best_p="$p"; fi
        done
      done
    done
  done
  dals_phase "$d, split seed 7: popularity, defaults, the grid's best ($best)"
  read -r pop_p _ _ < <(popularity "$out/$d-7" 10)
  read -r _ pop_r _ < <(popularity "$out/$d-7" 20)
  read -r _ _ pop_n < <(popularity "$out/$d-7" 100)
  read -r def_p _ _ < <(metric "$out/$d-7" 10 --implicit)
  read -r _ def_r _ < <(metric "$out/$d-7" 20 --implicit)
  read -r _ _ def_n < <(metric "$out/$d-7" 100 --implicit)
  # shellcheck disable=SC2086
  read -r best_p7 _ _ < <(metric "$out/$d-7" 10 $best)
  # shellcheck disable=SC2086
  read -r _ best_r _ < <(metric "$out/$d-7" 20 $best)
  # shellcheck disable=SC2086
  read -r _ _ best_n < <(metric "$out/$d-7" 100 $best)
  rows+=("| $d | popularity | $pop_p | $pop_r | $pop_n |")
  rows+=("| $d | defaults | $def_p | $def_r | $def_n |")
  rows+=("| $d | best of the grid on seed 1: $best | $best_p7 | $best_r | $best_n |")
  rows+=("| $d | defaults / popularity | $(awk -v a="$def_p" -v b="$pop_p" 'BEGIN { printf "%.2fx", a / b }') | $(awk -v a="$def_r" -v b="$pop_r" 'BEGIN { printf "%.2fx", a / b }') | $(awk -v a="$def_n" -v b="$pop_n" 'BEGIN { printf "%.2fx", a / b }') |")
done

{
  echo "# dals-train --implicit on real dumps (split seed 7; $(date -u +%Y-%m-%d), $(nproc) cores)"
  echo
  echo "| dump | model | precision@10 | recall@20 | NDCG@100 |"
  echo "| --- | --- | ---: | ---: | ---: |"
  printf '%s\n' "${rows[@]}"
} | tee "$out/results.md"
