#!/usr/bin/env bash
# Explicit-rating quality benchmark (printed figures, not a test): test RMSE
# of the bias-only model, of the defaults, and of the best configuration of
# a search, on real dumps and two kinds of split, as a user would run them.
#
#   tools/bench-quality.sh [--ml DIR] [--filmtrust DIR] [--seeds "1 7"]
#
# Datasets (never committed; ../shared/data on the dev machines):
#   ml  MovieLens ml-latest-small (0.5-5 stars);
#   ft  filmtrust (0.5-4 stars, duplicates resolved as dals-partition does).
# Splits: `random` (--test-fraction 0.2) and `per-user` (--test-per-user 5
# for ml, 3 for ft, --test-pick random), each with every split seed.
# Every choice is made on a validation split of the training ratings
# (--validation-fraction 0.1, seed 1), never on the test split: the
# search's best and the bias-only model's bias lambda are the configuration
# of lowest validation RMSE, then trained on all the training ratings and
# reported on the test split. Takes 10-20 minutes on 2 cores; writes
# bench-data/quality/results.md.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ml="$DALS_ROOT/../shared/data/ml-latest-small"
ft="$DALS_ROOT/../shared/data/filmtrust"
seeds="1 7"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help)
      sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    --ml) ml="$2"; shift 2 ;;
    --filmtrust) ft="$2"; shift 2 ;;
    --seeds) seeds="$2"; shift 2 ;;
    *) printf 'bench-quality.sh: error: unknown argument %s (see --help)\n' "$1" >&2; exit 2 ;;
  esac
done
[ -f "$ml/ratings.csv" ] || dals_die "$ml/ratings.csv not found (give --ml DIR)"
[ -f "$ft/ratings.txt" ] || dals_die "$ft/ratings.txt not found (give --filmtrust DIR)"
dals_setup_env
out="$DALS_ROOT/bench-data/quality"
mkdir -p "$out"

dals_phase "partition"
for seed in $seeds; do
  "$DALS_BUILD/dals-partition" --input "$ml/ratings.csv" --header --output "$out/ml-random-$seed" --blocks 2 \
    --test-fraction 0.2 --seed "$seed" --force >/dev/null
  "$DALS_BUILD/dals-partition" --input "$ml/ratings.csv" --header --output "$out/ml-per-user-$seed" --blocks 2 \
    --test-per-user 5 --test-pick random --seed "$seed" --force >/dev/null
  "$DALS_BUILD/dals-partition" --input "$ft/ratings.txt" --output "$out/ft-random-$seed" --blocks 2 \
    --test-fraction 0.2 --seed "$seed" --force >/dev/null
  "$DALS_BUILD/dals-partition" --input "$ft/ratings.txt" --output "$out/ft-per-user-$seed" --blocks 2 \
    --test-per-user 3 --test-pick random --seed "$seed" --force >/dev/null
done

# rmse DATA WHICH OPTIONS...: the last iteration's validation_rmse or test_rmse.
rmse() {
  local data=$1 which=$2
  shift 2
  "$DALS_BUILD/dals-train" --data "$data" --output "$out/model" --force --threads 2 --quiet "$@" >/dev/null
  jq -s -r "last | .$which" "$out/model/metrics.jsonl"
}
validation() { rmse "$1" validation_rmse --validation-fraction 0.1 --validation-seed 1 "${@:2}"; }
test_rmse() { rmse "$1" test_rmse "${@:2}"; }

# The search: l2 (nu 0), nu 0.5 and weighted (nu 1), each with lambdas
# around its scale; biases regularized as the factors or more strongly; k.
grid=()
for k in 16 64; do
  for l in 3 10 30; do grid+=("-k $k --lambda-exponent 0 --lambda $l"); done
  for l in 0.3 1 3; do grid+=("-k $k --lambda-exponent 0.5 --lambda $l"); done
  for l in 0.05 0.1 0.2; do grid+=("-k $k --lambda-exponent 1 --lambda $l"); done
  grid+=("-k $k --lambda-exponent 0.5 --lambda 1 --bias-lambda 3")
  grid+=("-k $k --lambda-exponent 0 --lambda 10 --bias-lambda 3")
done

smaller() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
rows=()
for d in ml ft; do
  for split in random per-user; do
    for seed in $seeds; do
      data="$out/$d-$split-$seed"
      dals_phase "$d $split seed $seed"
      best="" best_v=9
      for opts in "${grid[@]}"; do
        # shellcheck disable=SC2086
        v=$(validation "$data" $opts)
        printf '%s %s validation %s\n' "$d-$split-$seed" "$opts" "$v"
        if smaller "$v" "$best_v"; then best="$opts" best_v="$v"; fi
      done
      bias="" bias_v=9
      for l in 1 3 10 30; do
        v=$(validation "$data" -k 0 --lambda-exponent 0 --lambda "$l")
        if smaller "$v" "$bias_v"; then bias="$l" bias_v="$v"; fi
      done
      # shellcheck disable=SC2086
      best_t=$(test_rmse "$data" $best)
      bias_t=$(test_rmse "$data" -k 0 --lambda-exponent 0 --lambda "$bias")
      default_t=$(test_rmse "$data")
      row="| $d | $split | $seed | $(printf %.4f "$bias_t") (lambda $bias) | $(printf %.4f "$default_t") | $(printf %.4f "$best_t") | $best |"
      echo "$row"
      rows+=("$row")
    done
  done
done
{
  echo "| dump | split | seed | bias-only (l2) | defaults | best of the search | its options |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | --- |"
  printf '%s\n' "${rows[@]}"
} | tee "$out/results.md"
