#!/usr/bin/env bash
# Non-finite or absurd factors in a checkpoint (NaN, infinity, 3e38), with
# every checksum valid so that only the values can tell: `--resume auto`
# skips that checkpoint with one warning naming the file and falls back to
# the previous one, ending bit-identical to an uninterrupted run; `--resume
# PATH` of it fails with one error naming the file, leaving it as it was.
#
# Usage (as ctest runs it): bash checkpoint_factors.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"
require_tools DALS_CORRUPT

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 900 500 40000 4
OPTS=(--data "$DATA" -k 10 --seed 3 --threads 1 --quiet)
GOOD=$SCRATCH/good  # iterations 4 and 6

run_ranks 1 "$LOGS/reference" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/ref8"
expect_success reference "$LOGS/reference"
run_ranks 2 "$LOGS/setup" "$DALS_TRAIN" "${OPTS[@]}" --iterations 6 --output "$SCRATCH/m6" \
  --checkpoint-dir "$GOOD" --checkpoint-every 2 --keep-checkpoints 2
expect_success setup "$LOGS/setup"
check setup "two checkpoints to damage" test "$(cd "$GOOD" && ls | paste -sd ' ')" = "iter-000004 iter-000006"

# damage CASE CKPT FILE DATASET VALUE: element 0 of DATASET in CKPT/FILE
# becomes VALUE, its checksum updated; a failure to damage is a failure.
damage() {
  if ! "$DALS_CORRUPT" set-float "$2/$3" "$4" "$5" >"$LOGS/$1.damage" 2>&1; then
    fail "$1" "could not damage $2/$3: $(cat "$LOGS/$1.damage")"
    return 1
  fi
}

# fallback CASE FILE DATASET VALUE WANT: the newest checkpoint damaged;
# resume auto warns once naming FILE and WANT, resumes from iter-000004 and
# matches the reference.
fallback() {
  local case_name=$1 file=$2 dataset=$3 value=$4 want=$5 ckpt=$SCRATCH/$1
  fresh_copy "$GOOD" "$ckpt"
  damage "$case_name" "$ckpt/iter-000006" "$file" "$dataset" "$value" || return 1
  resumes_past_damage "$case_name" "$ckpt" "iter-000006/$file" "$want"
}

fallback nan-factor users/block-00000.h5 factors nan "non-finite"
fallback inf-bias items/block-00003.h5 biases inf "non-finite"
fallback huge-factor users/block-00002.h5 factors 3e38 "magnitude"

# explicit CASE FILE DATASET VALUE WANT: --resume PATH of the damaged
# checkpoint fails naming FILE and WANT; nothing published, nothing changed.
explicit() {
  local case_name=$1 file=$2 dataset=$3 value=$4 want=$5 ckpt=$SCRATCH/$1
  fresh_copy "$GOOD" "$ckpt"
  damage "$case_name" "$ckpt/iter-000006" "$file" "$dataset" "$value" || return 1
  local listing=$SCRATCH/$case_name.listing
  tree_listing "$ckpt" >"$listing"
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/$case_name.model" \
    --resume "$ckpt/iter-000006"
  EXPECT_EXIT_CODE=1 expect_failure "$case_name" "$LOGS/$case_name" "iter-000006/$file" "$want"
  check "$case_name" "no model published" test ! -e "$SCRATCH/$case_name.model" -a ! -e "$SCRATCH/$case_name.model.tmp"
  same_tree "$case_name" "$ckpt" "$listing"
}

explicit explicit-nan items/block-00001.h5 factors nan "non-finite"
explicit explicit-huge users/block-00003.h5 biases -3e38 "magnitude"

cli_finish
