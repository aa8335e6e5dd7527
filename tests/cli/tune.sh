#!/usr/bin/env bash
# shellcheck disable=SC2034  # OPTS and EXIT are read by checkpoint_helpers.bash
# dals-train --tune: a grid searched in one job.
#  - every configuration's validation RMSE and best iteration are those of
#    the same options trained alone (--validation-fraction 0.1
#    --early-stopping 3), and the winner is the lowest of them;
#  - the published model is the winner trained on every training rating for
#    its best iteration count, bit-identical to that dals-train run;
#  - the same winner and model on 1 and 2 ranks;
#  - a bad grid is refused before anything is trained.
#
# Usage (as ctest runs it): bash tune.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"
require_commands jq

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 900 500 40000 4
OPTS=(--seed 3 --threads 1 --quiet --iterations 8 --regularization weighted)
GRID="lambda=0.02,0.1;factors=4,8"

train tune-1 1 --output "$SCRATCH/tuned1" --tune "$GRID" --tune-results "$SCRATCH/tune1.json"
R=$SCRATCH/tune1.json
check tune-1 "the results list 4 trials" test "$(jq '.trials | length' "$R")" = 4
check tune-1 "the results say what they are" test "$(jq -r .format "$R")" = dals-tune-results
check tune-1 "the winner has the lowest validation RMSE" \
  jq -e '.winner == ([.trials | to_entries[] | {i: .key, v: .value.validation_rmse}] | min_by(.v) | .i)' "$R"

# Each configuration alone, as a user would train it.
n=0
for lambda in 0.02 0.1; do
  for k in 4 8; do
    train "alone-$n" 1 --output "$SCRATCH/alone-$n" --lambda "$lambda" --factors "$k" --validation-fraction 0.1 \
      --early-stopping 3
    m=$SCRATCH/alone-$n/metrics.jsonl
    want_best=$(jq -s 'min_by(.validation_rmse) | .iteration' "$m")
    check "alone-$n" "trial $n: the options are --lambda $lambda --factors $k" \
      test "$(jq -r ".trials[$n].options" "$R")" = "--lambda $lambda --factors $k"
    check "alone-$n" "trial $n: best iteration $want_best as trained alone" \
      test "$(jq ".trials[$n].best_iteration" "$R")" = "$want_best"
    check "alone-$n" "trial $n: validation RMSE as trained alone" \
      jq -n -e --slurpfile m "$m" --argjson t "$(jq ".trials[$n].validation_rmse" "$R")" \
      '($m | map(.validation_rmse) | min) == $t'
    n=$((n + 1))
  done
done

winner=$(jq -r '.trials[.winner].options' "$R")
iterations=$(jq '.trials[.winner].best_iteration' "$R")
# shellcheck disable=SC2086  # the winner's options are words
run_ranks 1 "$LOGS/final" "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/final" --seed 3 --threads 1 --quiet \
  --regularization weighted $winner --iterations "$iterations"
expect_success final "$LOGS/final"
identical_models final "$SCRATCH/final" "$SCRATCH/tuned1"

train tune-2 2 --output "$SCRATCH/tuned2" --tune "$GRID" --tune-results "$SCRATCH/tune2.json"
check tune-2 "the same winner on 2 ranks" \
  test "$(jq -c '[.winner, .final]' "$SCRATCH/tune2.json")" = "$(jq -c '[.winner, .final]' "$R")"
identical_models tune-2 "$SCRATCH/tuned1" "$SCRATCH/tuned2"

EXIT=2  # usage errors, before any training
train_fails no-equals 1 --data "$DATA" --output "$SCRATCH/x1" --tune "lambda" -- "--tune" "is not OPTION=V1,V2"
train_fails unknown 1 --data "$DATA" --output "$SCRATCH/x2" --tune "lambada=1" -- "'lambada' is not a dals-train option"
train_fails not-searchable 1 --data "$DATA" --output "$SCRATCH/x3" --tune "data=a,b" -- "--data cannot be searched"
train_fails bad-value 1 --data "$DATA" --output "$SCRATCH/x4" --tune "lambda=0.1,-1" -- "--lambda -1" "--lambda"
unset EXIT
for x in x1 x2 x3 x4; do
  check refusals "no model $x published" test ! -e "$SCRATCH/$x" -a ! -e "$SCRATCH/$x.tmp"
done
cli_finish
