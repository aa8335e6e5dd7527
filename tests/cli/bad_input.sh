#!/usr/bin/env bash
# Bad input: every damaged file, inconsistent manifest, impossible rank count,
# missing directory or bad option ends with one error line naming the file or
# option, a nonzero exit on every rank and no hang; and no bad run damages an
# earlier good output. Exit codes as the README documents them: 1 for bad
# input or an existing output, 2 for a bad command line.
#
# Usage (as ctest runs it): bash bad_input.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
require_tools DALS_TRAIN DALS_IMPORT DALS_CORRUPT

# Small and fast: each run is dominated by mpirun's start-up.
TRAIN_OPTS=(--iterations 2 --factors 4 --threads 1 --quiet)
GOOD=$SCRATCH/good    # 4 blocks per side, trained at 2 ranks
GOOD2=$SCRATCH/good2  # 2 blocks per side, for P > B at 3 ranks
LOGS=$SCRATCH/logs
OUT=$SCRATCH/out      # model directories of runs that must fail
mkdir -p "$LOGS" "$OUT"

make_ratings_csv "$SCRATCH/ratings.csv"
make_dataset "$GOOD" 4 "$SCRATCH/ratings.csv"
make_dataset "$GOOD2" 2 "$SCRATCH/ratings.csv"
GOOD_LISTING=$SCRATCH/good.listing
tree_listing "$GOOD" >"$GOOD_LISTING"

# corrupt CASE MODE ARGS...: runs dals-test-corrupt; a failure to damage the
# copy is a failure of the test itself (the case would prove nothing).
corrupt() {
  local case_name=$1
  shift
  if ! "$DALS_CORRUPT" "$@" >"$LOGS/$case_name.corrupt.log" 2>&1; then
    fail "$case_name" "dals-test-corrupt $* failed: $(cat "$LOGS/$case_name.corrupt.log")"
    return 1
  fi
}

# train_fails CASE NP DATA SUBSTRING...: dals-train on DATA at NP ranks must
# fail cleanly naming each SUBSTRING, and must not publish a model.
train_fails() {
  local case_name=$1 np=$2 data=$3
  shift 3
  run_ranks "$np" "$LOGS/$case_name" "$DALS_TRAIN" --data "$data" --output "$OUT/$case_name" "${TRAIN_OPTS[@]}"
  EXPECT_EXIT_CODE=1 expect_failure "$case_name" "$LOGS/$case_name" "$@"
  check "$case_name" "no model published" test ! -e "$OUT/$case_name"
}

# usage_fails CASE SUBSTRING ARGS...: dals-train with ARGS (on the good
# dataset) must fail with exit 2, naming SUBSTRING, on both ranks.
usage_fails() {
  local case_name=$1 want=$2
  shift 2
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "$@"
  EXPECT_EXIT_CODE=2 expect_failure "$case_name" "$LOGS/$case_name" "$want"
}

# ---------------------------------------------------------------- control

# The good dataset trains: proves the failures below come from the damage.
MODEL=$SCRATCH/model
run_ranks 2 "$LOGS/control" "$DALS_TRAIN" --data "$GOOD" --output "$MODEL" "${TRAIN_OPTS[@]}"
expect_success control "$LOGS/control"
check control "model has COMPLETE" test -f "$MODEL/COMPLETE"

# ---------------------------------------------------------------- damaged blocks

case_name=truncated-block
fresh_copy "$GOOD" "$SCRATCH/$case_name"
corrupt $case_name truncate "$SCRATCH/$case_name/by-user/block-00000.h5" &&
  train_fails $case_name 2 "$SCRATCH/$case_name" by-user/block-00000.h5

# by-item block 3 is read by rank 1 at P = 2: the error of a rank other
# than 0 must reach stderr too, and rank 0 must not wait forever.
case_name=flipped-byte
fresh_copy "$GOOD" "$SCRATCH/$case_name"
corrupt $case_name flip-byte "$SCRATCH/$case_name/by-item/block-00003.h5" values &&
  train_fails $case_name 2 "$SCRATCH/$case_name" by-item/block-00003.h5 checksum

# The held-out split is read and checked like the training split.
case_name=flipped-test-block
fresh_copy "$GOOD" "$SCRATCH/$case_name"
corrupt $case_name flip-byte "$SCRATCH/$case_name/test/by-user/block-00002.h5" indices &&
  train_fails $case_name 2 "$SCRATCH/$case_name" test/by-user/block-00002.h5 checksum

case_name=index-out-of-range
fresh_copy "$GOOD" "$SCRATCH/$case_name"
corrupt $case_name index-out-of-range "$SCRATCH/$case_name" &&
  train_fails $case_name 2 "$SCRATCH/$case_name" by-user/block-00000.h5 "out of range"

case_name=indptr-not-monotone
fresh_copy "$GOOD" "$SCRATCH/$case_name"
corrupt $case_name indptr-not-monotone "$SCRATCH/$case_name" &&
  train_fails $case_name 2 "$SCRATCH/$case_name" by-user/block-00000.h5 monotone

case_name=manifest-nnz
fresh_copy "$GOOD" "$SCRATCH/$case_name"
corrupt $case_name manifest-nnz "$SCRATCH/$case_name" &&
  train_fails $case_name 2 "$SCRATCH/$case_name" by-user/block-00000.h5 manifest

# ---------------------------------------------------------------- dataset level

case_name=p-greater-than-b
train_fails $case_name 3 "$GOOD2" "$GOOD2" "2 blocks"

case_name=missing-data-dir
train_fails $case_name 2 "$SCRATCH/no-such-dataset" no-such-dataset

case_name=corrupt-manifest
fresh_copy "$GOOD" "$SCRATCH/$case_name"
head -c 200 "$GOOD/manifest.json" >"$SCRATCH/$case_name/manifest.json"
train_fails $case_name 2 "$SCRATCH/$case_name" "$case_name/manifest.json"

# ---------------------------------------------------------------- options

usage_fails unknown-option --no-such-option \
  --data "$GOOD" --output "$OUT/unknown-option" "${TRAIN_OPTS[@]}" --no-such-option
usage_fails negative-lambda --lambda --data "$GOOD" --output "$OUT/negative-lambda" "${TRAIN_OPTS[@]}" --lambda -1
usage_fails negative-factors --factors --data "$GOOD" --output "$OUT/negative-factors" --iterations 2 --quiet --factors -1
usage_fails no-data-option --data --output "$OUT/no-data-option" "${TRAIN_OPTS[@]}"
for case_name in unknown-option negative-lambda negative-factors no-data-option; do
  check $case_name "nothing written for a rejected command line" test ! -e "$OUT/$case_name" -a ! -e "$OUT/$case_name.tmp"
done

# ---------------------------------------------------------------- earlier output is safe

if [[ -f "$MODEL/COMPLETE" ]]; then
  MODEL_LISTING=$SCRATCH/model.listing
  tree_listing "$MODEL" >"$MODEL_LISTING"

  case_name=existing-output
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" --data "$GOOD" --output "$MODEL" "${TRAIN_OPTS[@]}"
  EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$MODEL" --force
  same_tree $case_name "$MODEL" "$MODEL_LISTING"

  # --force with a damaged dataset: the run fails before it has anything to
  # publish, so the old model must survive it whole.
  case_name=force-bad-data
  if [[ -d "$SCRATCH/truncated-block" ]]; then
    run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" --data "$SCRATCH/truncated-block" --output "$MODEL" --force \
      "${TRAIN_OPTS[@]}"
    EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" by-user/block-00000.h5
    same_tree $case_name "$MODEL" "$MODEL_LISTING"
  fi
else
  fail existing-output "skipped: the control run left no model to protect"
fi

# A run that failed on its input should leave nothing behind next to its
# --output: no model, and no half-built staging directory either.
debris=$(cd "$OUT" && find . -mindepth 1 -maxdepth 1 | sort | paste -sd ' ')
check no-debris "failed runs left nothing in $OUT${debris:+ (found: $debris)}" test -z "$debris"
check no-debris "failed --force run left no staging directory next to the model" test ! -e "$MODEL.tmp"

# The good dataset was never touched (every case damaged its own copy).
same_tree good-dataset "$GOOD" "$GOOD_LISTING"

# ---------------------------------------------------------------- dals-import

case_name=import-missing-input
run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$SCRATCH/no-such.csv" --output "$OUT/$case_name" --blocks 2
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" no-such.csv
check $case_name "no dataset written" test ! -e "$OUT/$case_name"

case_name=import-malformed-line
BAD_CSV=$SCRATCH/malformed.csv
printf 'user,item,rating\n1,1,3\n1,2,4\n2,1,5\n2,x,1\n3,3,2\n' >"$BAD_CSV"
run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$BAD_CSV" --output "$OUT/$case_name" --blocks 2
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" malformed.csv:5:
check $case_name "no dataset written" test ! -e "$OUT/$case_name"

case_name=import-unknown-option
run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$SCRATCH/ratings.csv" --output "$OUT/$case_name" --no-such-option
EXPECT_EXIT_CODE=2 expect_failure $case_name "$LOGS/$case_name" --no-such-option
check $case_name "no dataset written" test ! -e "$OUT/$case_name"

case_name=import-existing-output
run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$SCRATCH/ratings.csv" --output "$GOOD" --blocks 2
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$GOOD"
same_tree $case_name "$GOOD" "$GOOD_LISTING"

cli_finish
