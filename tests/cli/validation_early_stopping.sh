#!/usr/bin/env bash
# shellcheck disable=SC2034  # OPTS and EXIT are read by checkpoint_helpers.bash
# The validation split and early stopping (--validation-fraction,
# --early-stopping), and the regularizer's exponent and bias lambda:
#  - the early-stopped model is bit-identical to the run that stops at its
#    best iteration by --iterations, for P = 1 and 3, all-gathered and
#    routed, and so is one resumed past the best (its checkpoint kept from
#    pruning and read back);
#  - the validation RMSE is the same for any P;
#  - --lambda-exponent 1 is weighted's model; --bias-lambda equal to lambda
#    is the default's; other values change the model;
#  - bad combinations are refused with one line.
#
# Usage (as ctest runs it): bash validation_early_stopping.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"
require_commands jq

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 900 500 40000 4
# lambda 0.02 overfits this data after about 10 iterations: the validation
# RMSE turns up, so patience 2 stops the run before --iterations 20.
OPTS=(-k 10 --seed 3 --threads 1 --regularization weighted --lambda 0.02 --validation-fraction 0.2 --validation-seed 5 --quiet)

train early-1 1 --output "$SCRATCH/early1" --iterations 20 --early-stopping 2
best=$(jq -s 'min_by(.validation_rmse) | .iteration' "$SCRATCH/early1/metrics.jsonl")
ran=$(grep -c '' "$SCRATCH/early1/metrics.jsonl")
check early-1 "it stopped early ($ran iterations run, the best $best), 2 after the best" \
  test "$ran" -lt 20 -a "$ran" = $((best + 2))
check early-1 "state.json records the best iteration" state_has "$SCRATCH/early1" "\"iteration\": $best,"
check early-1 "every record has validation_rmse and validation_mae" \
  test "$(jq -s 'map(select(.validation_rmse > 0 and .validation_mae > 0)) | length' \
    "$SCRATCH/early1/metrics.jsonl")" = "$ran"

train stop-at-best 1 --output "$SCRATCH/at-best" --iterations "$best" --early-stopping 2
identical_models by-iterations "$SCRATCH/at-best" "$SCRATCH/early1"
train no-early 1 --output "$SCRATCH/to-20" --iterations "$best"
identical_models without-early-stopping "$SCRATCH/at-best" "$SCRATCH/to-20"

train early-3 3 --output "$SCRATCH/early3" --iterations 20 --early-stopping 2
identical_models three-ranks "$SCRATCH/early1" "$SCRATCH/early3"
# (To rounding: the ranks' sums are added in rank order.)
same_rmse() {  # same_rmse CASE A B
  check "$1" "validation RMSE per iteration as on 1 rank, to 1e-12" \
    jq -n --slurpfile a "$2/metrics.jsonl" --slurpfile b "$3/metrics.jsonl" -e \
    '($a | length) == ($b | length) and ([range(0; $a | length)] |
      all(($a[.].validation_rmse - $b[.].validation_rmse) | fabs < 1e-12))'
}
same_rmse three-ranks "$SCRATCH/early1" "$SCRATCH/early3"
train routed-3 3 --output "$SCRATCH/routed3" --iterations 20 --early-stopping 2 --exchange routed \
  --exchange-buffer 40K
identical_models routed "$SCRATCH/early1" "$SCRATCH/routed3"
same_rmse routed "$SCRATCH/early1" "$SCRATCH/routed3"

# Resumed one iteration past the best, with one checkpoint kept: the best's
# checkpoint must stay, and the resumed run must publish it.
C=$SCRATCH/ckpt
train part-1 2 --output "$SCRATCH/part" --iterations $((best + 1)) --early-stopping 2 --checkpoint-dir "$C" \
  --keep-checkpoints 1
check part-1 "the best iteration's checkpoint is kept besides the newest" \
  test "$(cd "$C" && ls | paste -sd ' ')" = "$(printf 'iter-%06d iter-%06d' "$best" $((best + 1)))"
train resumed 3 --output "$SCRATCH/resumed" --iterations 20 --early-stopping 2 --checkpoint-dir "$C" \
  --keep-checkpoints 1 --resume auto
identical_models resumed "$SCRATCH/early1" "$SCRATCH/resumed"

# The regularizer: its ends are l2 and weighted, a bias lambda of lambda is no change.
OPTS=(-k 10 --seed 3 --threads 1 --quiet --iterations 3)
train weighted 1 --output "$SCRATCH/weighted" --regularization weighted --lambda 0.1
train exponent-1 1 --output "$SCRATCH/exp1" --lambda-exponent 1 --lambda 0.1
identical_models exponent-1 "$SCRATCH/weighted" "$SCRATCH/exp1"
train bias-same 1 --output "$SCRATCH/bias-same" --regularization weighted --lambda 0.1 --bias-lambda 0.1
identical_models bias-lambda "$SCRATCH/weighted" "$SCRATCH/bias-same"
train default 1 --output "$SCRATCH/default"
train exponent-half 1 --output "$SCRATCH/exp-half" --regularization power --lambda-exponent 0.5 --lambda 1
identical_models "default is power 0.5, lambda 1" "$SCRATCH/default" "$SCRATCH/exp-half"
train l2 1 --output "$SCRATCH/l2" --regularization l2 --lambda 2
train exponent-0 1 --output "$SCRATCH/exp0" --lambda-exponent 0 --lambda 2
identical_models exponent-0 "$SCRATCH/l2" "$SCRATCH/exp0"
train power 1 --output "$SCRATCH/power" --lambda-exponent 0.3 --lambda 0.5 --bias-lambda 1
check power "state.json records regularization power, the exponent and the bias lambda" \
  test "$(jq -c '.hyperparameters | [.regularization, .lambda_exponent, .bias_lambda]' "$SCRATCH/power/state.json")" \
  = '["power",0.3,1]'
check power "the model differs from weighted's" \
  bash -c '! "$0" "$1" "$2" >/dev/null 2>&1' "$DALS_DIFF" "$SCRATCH/weighted" "$SCRATCH/power"

EXIT=2  # usage errors
train_fails no-validation 1 --data "$DATA" --output "$SCRATCH/x1" --early-stopping 3 -- \
  "--early-stopping needs --validation-fraction"
train_fails exponent-range 1 --data "$DATA" --output "$SCRATCH/x2" --lambda-exponent 1.5 -- \
  "--lambda-exponent must be in [0, 1]"
train_fails contradiction 1 --data "$DATA" --output "$SCRATCH/x3" --lambda-exponent 1 --regularization l2 -- \
  "contradicts --regularization l2"
train_fails fraction-range 1 --data "$DATA" --output "$SCRATCH/x4" --validation-fraction 1 -- \
  "--validation-fraction must be in [0, 1)"
unset EXIT
for x in x1 x2 x3 x4; do
  check refusals "no model $x published" test ! -e "$SCRATCH/$x" -a ! -e "$SCRATCH/$x.tmp"
done
cli_finish
