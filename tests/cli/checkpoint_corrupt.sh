#!/usr/bin/env bash
# Damaged checkpoints: a flipped byte (in the factors or only in the biases),
# a truncated block, a missing block, a missing COMPLETE, a broken or edited
# state.json, one without its checksum (whatever format it claims), a
# checkpoint under another iteration's name, or a block copied from another
# checkpoint of the run (valid in itself) in the newest checkpoint makes
# `--resume auto` skip it with one warning naming it and fall back to the
# previous one, ending bit-identical to an uninterrupted run. With every
# checkpoint damaged, the run warns and starts fresh (the documented
# choice). Pruning afterwards leaves the damaged one and keeps the one
# resumed from. `--resume PATH` of a damaged or renamed checkpoint fails with
# one error naming the file. Nothing crashes or hangs.
#
# Usage (as ctest runs it): bash checkpoint_corrupt.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"
DALS_CORRUPT=$(find_tool dals-test-corrupt)
require_tools DALS_CORRUPT

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 900 500 40000 4
OPTS=(--data "$DATA" -k 10 --seed 3 --threads 1 --quiet)
GOOD=$SCRATCH/good  # iterations 2, 4 and 6

run_ranks 1 "$LOGS/reference" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/ref8"
expect_success reference "$LOGS/reference"
run_ranks 3 "$LOGS/setup" "$DALS_TRAIN" "${OPTS[@]}" --iterations 6 --output "$SCRATCH/m6" \
  --checkpoint-dir "$GOOD" --checkpoint-every 2 --keep-checkpoints 3
expect_success setup "$LOGS/setup"
check setup "three checkpoints to damage" test "$(cd "$GOOD" && ls | paste -sd ' ')" = \
  "iter-000002 iter-000004 iter-000006"

# damage CASE CKPT HOW: damages the checkpoint directory CKPT; a failure to
# damage it is a failure of the test (the case would prove nothing).
damage() {
  local case_name=$1 dir=$2 how=$3 ok=0
  case $how in
    flip) "$DALS_CORRUPT" flip-byte "$dir/items/block-00001.h5" factors >"$LOGS/$case_name.damage" 2>&1 && ok=1 ;;
    truncate) "$DALS_CORRUPT" truncate "$dir/users/block-00002.h5" >"$LOGS/$case_name.damage" 2>&1 && ok=1 ;;
    missing-block) rm "$dir/users/block-00003.h5" && ok=1 ;;
    no-complete) rm "$dir/COMPLETE" && ok=1 ;;
    bad-state) head -c 100 "$dir/state.json" >"$dir/state.json.cut" && mv "$dir/state.json.cut" "$dir/state.json" && ok=1 ;;
    # still valid JSON, one digit different: only the file's checksum can tell
    edited-state) sed -i 's/"iteration": 6,/"iteration": 8,/' "$dir/state.json" && grep -q '"iteration": 8,' "$dir/state.json" &&
      ok=1 ;;
    # the file's own checksum removed: no format is exempt inside a checkpoint directory
    no-checksum) sed -i '/^ "checksum": /d' "$dir/state.json" && ! grep -q '"checksum"' "$dir/state.json" && ok=1 ;;
    no-checksum-model) sed -i -e '/^ "checksum": /d' -e 's/"format": "dals-checkpoint"/"format": "dals-model"/' \
      "$dir/state.json" && grep -q '"format": "dals-model"' "$dir/state.json" && ok=1 ;;
    # a sound checkpoint of iteration 4 under the name of iteration 6
    renamed) rm -rf "$dir" && cp -a "$(dirname "$dir")/iter-000004" "$dir" && ok=1 ;;
    # a block of another checkpoint of the same run: its own checksums are valid
    copied-block) cp "$(dirname "$dir")/iter-000004/users/block-00001.h5" "$dir/users/block-00001.h5" && ok=1 ;;
    # only the biases' bytes: the factors' checksum stays valid
    flip-bias) "$DALS_CORRUPT" flip-byte "$dir/users/block-00000.h5" biases >"$LOGS/$case_name.damage" 2>&1 && ok=1 ;;
  esac
  ((ok)) || fail "$case_name" "could not damage $dir ($how): $(cat "$LOGS/$case_name.damage" 2>/dev/null)"
  return $((1 - ok))
}

# fallback CASE HOW WHAT...: damage the newest; resume must warn once naming
# each WHAT, resume from iter-000004, and match the reference.
fallback() {
  local case_name=$1 how=$2 ckpt=$SCRATCH/$1
  shift 2
  fresh_copy "$GOOD" "$ckpt"
  damage "$case_name" "$ckpt/iter-000006" "$how" || return 1
  resumes_past_damage "$case_name" "$ckpt" "$@"
}

fallback flipped-byte flip iter-000006/items/block-00001.h5 checksum
fallback truncated-block truncate iter-000006/users/block-00002.h5
fallback missing-block missing-block iter-000006/users/block-00003.h5
fallback no-complete no-complete iter-000006 "no COMPLETE"
fallback bad-state bad-state iter-000006/state.json malformed
fallback edited-state edited-state iter-000006/state.json checksum
fallback no-checksum no-checksum iter-000006/state.json "no checksum"
fallback no-checksum-model no-checksum-model iter-000006/state.json "not a checkpoint"
fallback renamed renamed iter-000006/state.json "records iteration 4" "named iter-000006"
fallback copied-block copied-block iter-000006/users/block-00001.h5 "block checksum mismatch"
fallback flipped-bias flip-bias iter-000006/users/block-00000.h5 "'biases': checksum mismatch"

# ---------------------------------------------------------------- a model's biases
# Only the bias array damaged: reading the model fails on that array's own
# checksum, naming the block file.
case_name=model-bias
fresh_copy "$SCRATCH/m6" "$SCRATCH/$case_name"
"$DALS_CORRUPT" flip-byte "$SCRATCH/$case_name/items/block-00002.h5" biases >"$LOGS/$case_name.damage" 2>&1
check $case_name "dals-test-model-diff refuses it, naming the array" \
  grep -qF "$SCRATCH/$case_name/items/block-00002.h5: dataset 'biases': checksum mismatch" \
  <("$DALS_DIFF" "$SCRATCH/$case_name" "$SCRATCH/m6" 2>&1)

# ---------------------------------------------------------------- pruning after a fallback
# The tampered newest checkpoint is skipped, the run resumes from iter-000004
# and writes iter-000005; pruning (keep 2) deletes iter-000002 only: never
# the tampered one, newer than the state resumed from, and it does not count
# as one of the two kept, so iter-000004 stays.
case_name=prune-after-tamper
ckpt=$SCRATCH/$case_name
fresh_copy "$GOOD" "$ckpt"
if damage $case_name "$ckpt/iter-000006" no-checksum-model; then
  LISTING=$SCRATCH/$case_name.listing
  tree_listing "$ckpt/iter-000006" >"$LISTING"
  run_ranks 1 "$LOGS/$case_name.ref" "$DALS_TRAIN" "${OPTS[@]}" --iterations 5 --output "$SCRATCH/ref5"
  expect_success $case_name "$LOGS/$case_name.ref"
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${OPTS[@]}" --iterations 5 --output "$SCRATCH/$case_name.model" \
    --checkpoint-dir "$ckpt" --checkpoint-every 1 --keep-checkpoints 2 --resume auto
  expect_success $case_name "$LOGS/$case_name"
  check $case_name "one warning, naming the tampered checkpoint" \
    test "$(all_stderr "$LOGS/$case_name" | grep -c "warning:.*skipping checkpoint $ckpt/iter-000006")" = 1
  check $case_name "it resumed from iter-000004" \
    state_has "$SCRATCH/$case_name.model" "\"from\": \"$ckpt/iter-000004\""
  check $case_name "iter-000004 and iter-000005 kept, iter-000002 pruned, the tampered iter-000006 left" \
    test "$(cd "$ckpt" && ls | paste -sd ' ')" = "iter-000004 iter-000005 iter-000006"
  same_tree $case_name "$ckpt/iter-000006" "$LISTING"
  identical_models $case_name "$SCRATCH/ref5" "$SCRATCH/$case_name.model"
fi

# ---------------------------------------------------------------- explicit path, renamed
case_name=explicit-renamed
ckpt=$SCRATCH/$case_name
fresh_copy "$GOOD" "$ckpt"
mv "$ckpt/iter-000004" "$ckpt/iter-000003"
run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/$case_name.model" \
  --resume "$ckpt/iter-000003"
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" iter-000003/state.json "records iteration 4" \
  "named iter-000003"
check $case_name "no model published" test ! -e "$SCRATCH/$case_name.model"

# ---------------------------------------------------------------- none left
case_name=all-damaged
ckpt=$SCRATCH/$case_name
fresh_copy "$GOOD" "$ckpt"
damage $case_name "$ckpt/iter-000006" flip && damage $case_name "$ckpt/iter-000004" no-complete &&
  damage $case_name "$ckpt/iter-000002" truncate
run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/$case_name.model" \
  --checkpoint-dir "$ckpt" --resume auto
expect_success $case_name "$LOGS/$case_name"
check $case_name "one warning per damaged checkpoint, and one for the fresh start" \
  test "$(all_stderr "$LOGS/$case_name" | grep -c 'warning:')" = 4
check $case_name "the last warning says it starts fresh" \
  grep -q "no usable checkpoint in $ckpt (3 skipped): starting from iteration 0" <(all_stderr "$LOGS/$case_name")
identical_models $case_name "$SCRATCH/ref8" "$SCRATCH/$case_name.model"

# ---------------------------------------------------------------- explicit path
case_name=explicit-damaged
ckpt=$SCRATCH/$case_name
fresh_copy "$GOOD" "$ckpt"
if damage $case_name "$ckpt/iter-000006" flip; then
  LISTING=$SCRATCH/$case_name.listing
  tree_listing "$ckpt" >"$LISTING"
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/$case_name.model" \
    --resume "$ckpt/iter-000006"
  EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" iter-000006/items/block-00001.h5 checksum
  check $case_name "no model published" test ! -e "$SCRATCH/$case_name.model" -a ! -e "$SCRATCH/$case_name.model.tmp"
  same_tree $case_name "$ckpt" "$LISTING"
fi

cli_finish
