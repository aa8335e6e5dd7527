#!/usr/bin/env bash
# Resume equivalence: 10 iterations in one go and 4 + resume to 10 give
# bit-identical models, whatever rank counts wrote and resumed (3 then 2,
# 4 then 1), with Cholesky and CG, from --resume auto, an explicit
# checkpoint or a model; the
# schedule and --keep-checkpoints leave the documented directories; a
# checkpoint of another dataset, another k or other options is refused with
# one clear error (and accepted, recorded, with --resume-override).
#
# Usage (as ctest runs it): bash checkpoint_resume.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"

DATA=$SCRATCH/data
OTHER=$SCRATCH/other  # same shape, other ratings
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 900 500 40000 4
make_synth "$OTHER" 900 500 40001 4
OPTS=(-k 10 --seed 3 --threads 1)

train reference 1 --output "$SCRATCH/ref10" --iterations 10 --quiet

# ---------------------------------------------------------------- 3 ranks write, 2 resume
C1=$SCRATCH/c1
train write-3 3 --output "$SCRATCH/m4" --iterations 4 --checkpoint-dir "$C1"
check write-3 "default --keep-checkpoints 2 keeps iter-000003 and iter-000004" \
  test "$(cd "$C1" && ls | paste -sd ' ')" = "iter-000003 iter-000004"
identical_models write-3 "$SCRATCH/m4" "$C1/iter-000004"
check write-3 "state.json says iteration 4" state_has "$C1/iter-000004" '"iteration": 4,'
check write-3 "state.json says the user half of 5 is not done" state_has "$C1/iter-000004" '"user_half_done": false'
check write-3 "state.json is a checkpoint's" state_has "$C1/iter-000004" '"format": "dals-checkpoint"'
check write-3 "progress lines name each checkpoint" grep -q "checkpoint $C1/iter-000002:" "$LOGS/write-3.rank0.out"
C1_LISTING=$SCRATCH/c1.listing
tree_listing "$C1" >"$C1_LISTING"

# Refusals first, while C1 holds iteration 4: nothing may change in C1.
train_fails other-dataset 2 --data "$OTHER" "${OPTS[@]}" --output "$SCRATCH/x1" --iterations 10 \
  --checkpoint-dir "$C1" --resume auto -- iter-000004/state.json "another dataset" fingerprint
train_fails other-lambda 2 --data "$DATA" "${OPTS[@]}" --lambda 0.2 --output "$SCRATCH/x2" --iterations 10 \
  --checkpoint-dir "$C1" --resume auto -- iter-000004/state.json lambda --resume-override
train_fails other-k 2 --data "$DATA" -k 12 --seed 3 --threads 1 --resume-override --output "$SCRATCH/x3" \
  --iterations 10 --checkpoint-dir "$C1" --resume auto -- iter-000004/state.json "k cannot change"
train_fails beyond 2 --data "$DATA" "${OPTS[@]}" --output "$SCRATCH/x4" --iterations 3 \
  --checkpoint-dir "$C1" --resume auto -- iter-000004/state.json "beyond --iterations 3"
same_tree refusals "$C1" "$C1_LISTING"
for x in x1 x2 x3 x4; do
  check refusals "no model $x published" test ! -e "$SCRATCH/$x" -a ! -e "$SCRATCH/$x.tmp"
done

train resume-2 2 --output "$SCRATCH/m10" --iterations 10 --checkpoint-dir "$C1" --resume auto
identical_models resume-2 "$SCRATCH/ref10" "$SCRATCH/m10"
check resume-2 "it said where it resumed" grep -q "resumed from $C1/iter-000004 at iteration 4" "$LOGS/resume-2.rank0.out"
check resume-2 "metrics.jsonl has all 10 iterations" test "$(grep -c '' "$SCRATCH/m10/metrics.jsonl")" = 10
check resume-2 "state.json records the resume at 2 ranks" state_has "$SCRATCH/m10" '"ranks": 2'
check resume-2 "state.json records where from" state_has "$SCRATCH/m10" "\"from\": \"$C1/iter-000004\""
check resume-2 "checkpoints iter-000009 and iter-000010 are left" \
  test "$(cd "$C1" && ls | paste -sd ' ')" = "iter-000009 iter-000010"

# ---------------------------------------------------------------- 4 ranks write, 1 resumes a named checkpoint
C2=$SCRATCH/c2
train write-4 4 --output "$SCRATCH/m4b" --iterations 4 --checkpoint-dir "$C2" --checkpoint-every 2 --keep-checkpoints 5 --quiet
check write-4 "every 2 iterations: iter-000002 and iter-000004" \
  test "$(cd "$C2" && ls | paste -sd ' ')" = "iter-000002 iter-000004"
train resume-1 1 --output "$SCRATCH/m10b" --iterations 10 --resume "$C2/iter-000002" --quiet
identical_models resume-1 "$SCRATCH/ref10" "$SCRATCH/m10b"
check resume-1 "without --checkpoint-dir, no checkpoint is written" \
  test "$(cd "$C2" && ls | paste -sd ' ')" = "iter-000002 iter-000004"

# A model has the shape of a checkpoint: it resumes too.
train from-model 3 --output "$SCRATCH/m10c" --iterations 10 --resume "$SCRATCH/m4" --quiet
identical_models from-model "$SCRATCH/ref10" "$SCRATCH/m10c"
# Resumed from a model at its last iteration: nothing to train, but the
# checkpoint directory gets the final state all the same.
train model-at-end 2 --output "$SCRATCH/m4c" --iterations 4 --resume "$SCRATCH/m4" --checkpoint-dir "$SCRATCH/c6" --quiet
identical_models model-at-end "$SCRATCH/m4" "$SCRATCH/c6/iter-000004"

# CG warm-starts every row from its current value: the checkpoint must
# carry that state too (it is the factors), across rank counts.
train cg-reference 1 --output "$SCRATCH/ref10-cg" --iterations 10 --solver cg --quiet
train cg-write-3 3 --output "$SCRATCH/m4-cg" --iterations 4 --solver cg --checkpoint-dir "$SCRATCH/c-cg" --quiet
train cg-resume-2 2 --output "$SCRATCH/m10-cg" --iterations 10 --solver cg --checkpoint-dir "$SCRATCH/c-cg" \
  --resume auto --quiet
identical_models cg-resume-2 "$SCRATCH/ref10-cg" "$SCRATCH/m10-cg"
# How CG reads the fixed side is one of its options: changing it needs the override.
train_fails cg-other-precision 2 --data "$DATA" "${OPTS[@]}" --solver cg --cg-precision float \
  --output "$SCRATCH/x10" --iterations 12 --checkpoint-dir "$SCRATCH/c-cg" --resume auto \
  -- state.json cg_precision --resume-override

# ---------------------------------------------------------------- schedule, keep, fresh start
C3=$SCRATCH/c3
train keep-3 2 --output "$SCRATCH/m10d" --iterations 10 --checkpoint-dir "$C3" --resume auto \
  --checkpoint-every 2 --keep-checkpoints 3
check keep-3 "an empty checkpoint directory starts fresh, and says so" \
  grep -q "no checkpoint in $C3 yet" "$LOGS/keep-3.rank0.out"
identical_models keep-3 "$SCRATCH/ref10" "$SCRATCH/m10d"
check keep-3 "--checkpoint-every 2 --keep-checkpoints 3 leaves iterations 6, 8, 10" \
  test "$(cd "$C3" && ls | paste -sd ' ')" = "iter-000006 iter-000008 iter-000010"
C4=$SCRATCH/c4
train every-0 2 --output "$SCRATCH/m3" --iterations 3 --checkpoint-dir "$C4" --checkpoint-every 0 --quiet
check every-0 "--checkpoint-every 0 writes only the last" test "$(cd "$C4" && ls | paste -sd ' ')" = "iter-000003"

# ---------------------------------------------------------------- override
train override 2 --output "$SCRATCH/m10e" --iterations 10 --checkpoint-dir "$SCRATCH/c1" \
  --resume "$SCRATCH/m4" --lambda 0.2 --resume-override --quiet
check override "state.json records the changed lambda" state_has "$SCRATCH/m10e" '"lambda": \{'
check override "and the new lambda is what trained on" state_has "$SCRATCH/m10e" '"lambda": 0.2'
CLI_CHECKS=$((CLI_CHECKS + 1))
if "$DALS_DIFF" "$SCRATCH/ref10" "$SCRATCH/m10e" >/dev/null 2>&1; then
  fail override "a changed lambda gave the same model: the comparison proves nothing"
else
  pass override "a changed lambda gives another model"
fi

# ---------------------------------------------------------------- usage
EXIT=2 train_fails auto-needs-dir 2 --data "$DATA" --output "$SCRATCH/x5" --resume auto -- --resume --checkpoint-dir
EXIT=2 train_fails keep-0 2 --data "$DATA" --output "$SCRATCH/x6" --checkpoint-dir "$SCRATCH/c5" \
  --keep-checkpoints 0 -- --keep-checkpoints
EXIT=2 train_fails checkpoints-in-output 2 --data "$DATA" --output "$SCRATCH/x9" --checkpoint-dir "$SCRATCH/x9/ckpt" \
  -- --checkpoint-dir "must not contain each other"
EXIT=2 train_fails time-limit-needs-dir 2 --data "$DATA" --output "$SCRATCH/x7" --time-limit 60 -- --time-limit
EXIT=1 train_fails missing-checkpoint 2 --data "$DATA" "${OPTS[@]}" --output "$SCRATCH/x8" \
  --resume "$SCRATCH/no-such-checkpoint" -- no-such-checkpoint

cli_finish
