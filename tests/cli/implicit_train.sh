#!/usr/bin/env bash
# Implicit feedback end to end: 6 iterations in one go and 3 + resume to 6
# give bit-identical models whatever rank counts wrote and resumed (3 then
# 2, 1 then 4), with Cholesky and CG, also after a stop signal mid-iteration
# and after a rank killed while checkpointing; a checkpoint of an explicit run is
# refused by an implicit one and the reverse, even with --resume-override;
# values that cannot be confidences are refused with one clear error.
#
# Usage (as ctest runs it): bash implicit_train.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
# Counts 1-5 (rounded planted ratings): every value a valid confidence.
rm -rf "$DATA"
if ! timeout 120 "$MPIRUN" --oversubscribe --bind-to none -n 2 "$DALS_GENERATE" --users 700 --items 400 \
  --ratings 20000 --blocks 4 --seed 11 --round --test-fraction 0.1 --output "$DATA" >"$DATA.log" 2>&1; then
  echo "FAIL: cannot generate test dataset $DATA:" >&2
  sed 's/^/    | /' "$DATA.log" >&2
  exit 1
fi
OPTS=(-k 8 --seed 3 --threads 1 --implicit --alpha 2)

for solver in cholesky cg; do
  train "$solver-reference" 1 --solver "$solver" --output "$SCRATCH/$solver-ref" --iterations 6 --quiet
  check "$solver-reference" "the progress lines report the loss, not an RMSE" \
    grep -q "loss" "$LOGS/$solver-reference.rank0.out"
  check "$solver-reference" "state.json records the implicit hyper-parameters" \
    state_has "$SCRATCH/$solver-ref" '"feedback": "implicit"'
  check "$solver-reference" "metrics.jsonl has a loss per iteration" \
    test "$(grep -c '"loss"' "$SCRATCH/$solver-ref/metrics.jsonl")" = 6

  C=$SCRATCH/$solver-ckpt
  train "$solver-write-3" 3 --solver "$solver" --output "$SCRATCH/$solver-m3" --iterations 3 --checkpoint-dir "$C"
  train "$solver-resume-2" 2 --solver "$solver" --output "$SCRATCH/$solver-m6" --iterations 6 --checkpoint-dir "$C" \
    --resume auto
  identical_models "$solver-resume-2" "$SCRATCH/$solver-ref" "$SCRATCH/$solver-m6"
done

# From a model on 1 rank to 4 ranks.
train model-1 1 --output "$SCRATCH/m3" --iterations 3 --quiet
train resume-model-4 4 --output "$SCRATCH/m6-from-model" --iterations 6 --resume "$SCRATCH/m3" --quiet
identical_models resume-model-4 "$SCRATCH/cholesky-ref" "$SCRATCH/m6-from-model"

# A stop signal in a user half (rank 1 signals itself as the user half of
# iteration 3 starts) checkpoints at iter-000002.5; 3 ranks resume it.
P=$SCRATCH/preempt
run_ranks 2 "$LOGS/preempt" env DALS_TEST_SIGNAL=user-half:1:3 "$DALS_TRAIN" --data "$DATA" "${OPTS[@]}" \
  --iterations 6 --checkpoint-dir "$P/ckpt" --output "$P/model"
if expect_preempted preempt "$LOGS/preempt"; then
  check preempt "the checkpoint is the half-iteration one" test "$(newest_checkpoint "$P/ckpt")" = iter-000002.5
  train preempt-resume-3 3 --iterations 6 --checkpoint-dir "$P/ckpt" --resume auto --quiet --output "$P/model"
  identical_models preempt-resume-3 "$SCRATCH/cholesky-ref" "$P/model"
fi

# Rank 0 dies while writing the second checkpoint (its blocks on disk, the
# directory not sealed): the first stays good and a rerun ends identical.
K=$SCRATCH/killed
run_ranks 2 "$LOGS/killed" env DALS_TEST_CRASH=blocks-written:0:2 "$DALS_TRAIN" --data "$DATA" "${OPTS[@]}" \
  --iterations 6 --checkpoint-dir "$K/ckpt" --output "$K/model"
check killed "the killed run did not exit 0" test "$(rank_code "$LOGS/killed" 0)" != 0
check killed "iter-000001 is the newest checkpoint" test "$(newest_checkpoint "$K/ckpt")" = iter-000001
train killed-resume-2 2 --iterations 6 --checkpoint-dir "$K/ckpt" --resume auto --quiet --output "$K/model"
identical_models killed-resume-2 "$SCRATCH/cholesky-ref" "$K/model"

# Explicit and implicit checkpoints never continue each other.
run_ranks 1 "$LOGS/explicit-write" "$DALS_TRAIN" --data "$DATA" -k 8 --seed 3 --threads 1 \
  --output "$SCRATCH/explicit3" --iterations 3 --checkpoint-dir "$SCRATCH/explicit-ckpt"
expect_success explicit-write "$LOGS/explicit-write"
train_fails explicit-to-implicit 2 --data "$DATA" "${OPTS[@]}" --output "$SCRATCH/x1" --iterations 6 \
  --checkpoint-dir "$SCRATCH/explicit-ckpt" --resume auto --resume-override -- \
  "iter-000003/state.json" "explicit ratings" "cannot continue"
train_fails implicit-to-explicit 2 --data "$DATA" -k 8 --seed 3 --threads 1 --output "$SCRATCH/x2" --iterations 6 \
  --resume "$SCRATCH/cholesky-ref" --resume-override -- "state.json" "implicit feedback" "cannot continue"

# Values that are no confidence: a planted explicit dataset around 0.
rm -rf "$SCRATCH/signed"
timeout 120 "$MPIRUN" --oversubscribe --bind-to none -n 1 "$DALS_GENERATE" --users 300 --items 200 \
  --ratings 4000 --blocks 2 --seed 4 --mean 0 --output "$SCRATCH/signed" >"$SCRATCH/signed.log" 2>&1 ||
  { echo "FAIL: cannot generate $SCRATCH/signed" >&2; exit 1; }
train_fails non-positive 2 --data "$SCRATCH/signed" "${OPTS[@]}" --output "$SCRATCH/x3" --iterations 2 -- \
  "$SCRATCH/signed" "implicit feedback needs positive values"

# A dataset of events (dals-partition --implicit) trains implicitly by
# itself, saying so: never as ratings that are all 1.
DALS_PARTITION=$(find_tool dals-partition)
make_ratings_csv "$SCRATCH/events.csv" 80 50
run_ranks 1 "$LOGS/partition-events" "$DALS_PARTITION" --input "$SCRATCH/events.csv" --header --implicit \
  --rating-column none --output "$SCRATCH/events" --blocks 2 --test-fraction 0.2 --seed 1
expect_success partition-events "$LOGS/partition-events"
run_ranks 2 "$LOGS/events" "$DALS_TRAIN" --data "$SCRATCH/events" -k 4 --iterations 3 --output "$SCRATCH/events-model"
expect_success events "$LOGS/events"
check events "dals-train says the dataset holds events" grep -q "holds events (implicit feedback)" "$LOGS/events.rank0.out"
check events "it trained implicitly" state_has "$SCRATCH/events-model" '"feedback": "implicit"'
check events "the popularity baseline and the ranking metrics are printed" \
  grep -q "popularity baseline on the test split" "$LOGS/events.rank0.out"
check events "the last iteration reports precision@10" grep -q "^iter 3 .*precision@10 " "$LOGS/events.rank0.out"

# Option values out of range name the option.
EXIT=2 train_fails bad-weight 1 --data "$DATA" "${OPTS[@]}" --unobserved-weight 1.5 --output "$SCRATCH/x4" -- \
  "--unobserved-weight must be in (0, 1]"
EXIT=2 train_fails bad-alpha 1 --data "$DATA" --implicit --alpha 0 --output "$SCRATCH/x5" -- "--alpha must be > 0"

cli_finish
