#!/usr/bin/env bash
# Damaged checkpoints: a flipped byte, a truncated block, a missing block, a
# missing COMPLETE or a broken state.json in the newest checkpoint makes
# `--resume auto` skip it with one warning naming it and fall back to the
# previous one, ending bit-identical to an uninterrupted run. With every
# checkpoint damaged, the run warns and starts fresh (the documented
# choice). `--resume PATH` of a damaged checkpoint fails with one error
# naming the file. Nothing crashes or hangs.
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
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/$case_name.model" \
    --checkpoint-dir "$ckpt" --resume auto
  expect_success "$case_name" "$LOGS/$case_name" || return 1
  local warning
  warning=$(all_stderr "$LOGS/$case_name")
  check "$case_name" "exactly one warning line: $warning" test "$(grep -c '' <<<"$warning")" = 1
  check "$case_name" "it is a warning" grep -q "dals-train: warning:" <<<"$warning"
  local want
  for want in "$@" "skipping checkpoint $ckpt/iter-000006"; do
    check "$case_name" "the warning names '$want'" grep -qF -- "$want" <<<"$warning"
  done
  check "$case_name" "it resumed from iter-000004" \
    state_has "$SCRATCH/$case_name.model" "\"from\": \"$ckpt/iter-000004\""
  identical_models "$case_name" "$SCRATCH/ref8" "$SCRATCH/$case_name.model"
}

fallback flipped-byte flip iter-000006/items/block-00001.h5 checksum
fallback truncated-block truncate iter-000006/users/block-00002.h5
fallback missing-block missing-block iter-000006/users/block-00003.h5
fallback no-complete no-complete iter-000006 "no COMPLETE"
fallback bad-state bad-state iter-000006/state.json malformed
fallback edited-state edited-state iter-000006/state.json checksum

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
