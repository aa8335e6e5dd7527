#!/usr/bin/env bash
# --output of every writer goes through one StagedDir (core/staged_dir.hpp):
#  - "DIR/" names DIR: it stages in the sibling DIR.tmp and publishes DIR
#    (dals-train and dals-import used to train or read to the end, then
#    fail at publish and leave an empty DIR/);
#  - one --force rule: it replaces only the tool's own kind of output (a
#    model for dals-train, a dataset for the dataset writers) or an empty
#    directory; a plain directory with a file in it is refused and left
#    untouched (dals-train and dals-import used to delete it);
#  - a read-only parent or a dangling symbolic link fails at startup, before
#    any data is read or any iteration is trained.
#
# Usage (as ctest runs it): bash output_paths.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_PARTITION=$(find_tool dals-partition)
DALS_MODEL_DIFF=$(find_tool dals-test-model-diff)
require_tools DALS_TRAIN DALS_IMPORT DALS_GENERATE DALS_PARTITION DALS_MODEL_DIFF

S=$SCRATCH
LOGS=$S/logs
mkdir -p "$LOGS"
make_ratings_csv "$S/ratings.csv"
DATA=$S/data
make_dataset "$DATA" 2 "$S/ratings.csv"
DATA_LISTING=$S/data.listing
tree_listing "$DATA" >"$DATA_LISTING"
TRAIN_OPTS=(--data "$DATA" --iterations 2 --factors 4 --threads 1)  # not --quiet: stdout shows how far a run got

# plain_dir CASE: $S/CASE becomes a directory of someone else's, with a
# file in it, and $S/CASE.listing its listing. Each case has its own, so a
# case that deletes it (the bug) does not change what the others test.
plain_dir() {
  mkdir -p "$S/$1"
  echo "years of work" >"$S/$1/thesis.tex"
  tree_listing "$S/$1" >"$S/$1.listing"
}

# nothing_beside CASE DIR: neither DIR.tmp nor DIR/.tmp nor DIR.old exists.
nothing_beside() {
  check "$1" "no $2.tmp, $2/.tmp or $2.old" test ! -e "$2.tmp" -a ! -e "$2/.tmp" -a ! -e "$2.old"
}

# refused_early CASE PREFIX: rank 0 printed nothing on stdout, so the run
# stopped before it loaded the data (the header line comes after loading).
refused_early() {
  check "$1" "refused before loading or training (no output on stdout)" test ! -s "$2.rank0.out"
}

# ---------------------------------------------------------------- dals-train

case_name=train-trailing-slash
run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${TRAIN_OPTS[@]}" --output "$S/model/"
expect_success $case_name "$LOGS/$case_name"
check $case_name "model/COMPLETE written" test -f "$S/model/COMPLETE"
check $case_name "the model reads back" "$DALS_MODEL_DIFF" "$S/model" "$S/model"
nothing_beside $case_name "$S/model"

case_name=train-force-replaces-a-model
run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${TRAIN_OPTS[@]}" --seed 7 --output "$S/model/" --force
expect_success $case_name "$LOGS/$case_name"
check $case_name "the model was replaced (seed 7)" grep -q '"seed": 7' "$S/model/state.json"
nothing_beside $case_name "$S/model"

case_name=train-force-plain-dir
plain_dir $case_name
run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${TRAIN_OPTS[@]}" --output "$S/$case_name" --force
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/$case_name: exists and is not a dals model" \
  "refusing to replace it"
same_tree $case_name "$S/$case_name" "$S/$case_name.listing"
nothing_beside $case_name "$S/$case_name"
refused_early $case_name "$LOGS/$case_name"

case_name=train-force-plain-dir-slash
plain_dir $case_name
run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${TRAIN_OPTS[@]}" --output "$S/$case_name/" --force
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/$case_name: exists and is not a dals model"
same_tree $case_name "$S/$case_name" "$S/$case_name.listing"

case_name=train-force-dataset
fresh_copy "$DATA" "$S/$case_name"
run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${TRAIN_OPTS[@]}" --output "$S/$case_name" --force
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/$case_name: exists and is not a dals model"
same_tree $case_name "$S/$case_name" "$DATA_LISTING"
refused_early $case_name "$LOGS/$case_name"

case_name=train-dangling-link
ln -s "$S/nowhere" "$S/dangling"
run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${TRAIN_OPTS[@]}" --output "$S/dangling"
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/dangling: is a symbolic link" "does not exist"
refused_early $case_name "$LOGS/$case_name"
check $case_name "nothing created where the link points" test ! -e "$S/nowhere"

# The dataset every case trained on is as it was.
same_tree dataset-untouched "$DATA" "$DATA_LISTING"

# ---------------------------------------------------------------- dals-import

case_name=import-trailing-slash
run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$S/ratings.csv" --output "$S/imported/" --blocks 2
expect_success $case_name "$LOGS/$case_name"
check $case_name "imported/manifest.json written" test -f "$S/imported/manifest.json"
nothing_beside $case_name "$S/imported"

case_name=import-force-replaces-a-dataset
run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$S/ratings.csv" --output "$S/imported" --blocks 3 --force
expect_success $case_name "$LOGS/$case_name"
check $case_name "the dataset was replaced (3 blocks)" grep -q '"blocks": 3' "$S/imported/manifest.json"
nothing_beside $case_name "$S/imported"

case_name=import-force-plain-dir
plain_dir $case_name
run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$S/ratings.csv" --output "$S/$case_name" --blocks 2 --force
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/$case_name: exists and is not a dals dataset"
same_tree $case_name "$S/$case_name" "$S/$case_name.listing"
nothing_beside $case_name "$S/$case_name"

case_name=import-force-plain-dir-slash
plain_dir $case_name
run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$S/ratings.csv" --output "$S/$case_name/" --blocks 2 --force
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/$case_name: exists and is not a dals dataset"
same_tree $case_name "$S/$case_name" "$S/$case_name.listing"

case_name=import-force-model
if [[ -f "$S/model/COMPLETE" ]]; then
  fresh_copy "$S/model" "$S/$case_name"
  tree_listing "$S/$case_name" >"$S/$case_name.listing"
  run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$S/ratings.csv" --output "$S/$case_name" --blocks 2 --force
  EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/$case_name: exists and is not a dals dataset"
  same_tree $case_name "$S/$case_name" "$S/$case_name.listing"
else
  fail $case_name "skipped: train-trailing-slash left no model to protect"
fi

# ---------------------------------------------------------------- dals-generate, dals-partition: the same rule

GEN_OPTS=(--users 200 --items 100 --ratings 3000 --blocks 2 --seed 1)
case_name=generate-trailing-slash
run_ranks 2 "$LOGS/$case_name" "$DALS_GENERATE" "${GEN_OPTS[@]}" --output "$S/generated/"
expect_success $case_name "$LOGS/$case_name"
check $case_name "generated/manifest.json written" test -f "$S/generated/manifest.json"
nothing_beside $case_name "$S/generated"

case_name=generate-force-plain-dir
plain_dir $case_name
run_ranks 2 "$LOGS/$case_name" "$DALS_GENERATE" "${GEN_OPTS[@]}" --output "$S/$case_name" --force
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/$case_name: exists and is not a dals dataset"
same_tree $case_name "$S/$case_name" "$S/$case_name.listing"

case_name=partition-trailing-slash
run_ranks 2 "$LOGS/$case_name" "$DALS_PARTITION" --input "$S/ratings.csv" --header --blocks 2 --quiet \
  --output "$S/partitioned/"
expect_success $case_name "$LOGS/$case_name"
check $case_name "partitioned/manifest.json written" test -f "$S/partitioned/manifest.json"
nothing_beside $case_name "$S/partitioned"

case_name=partition-force-plain-dir
plain_dir $case_name
run_ranks 2 "$LOGS/$case_name" "$DALS_PARTITION" --input "$S/ratings.csv" --header --blocks 2 --quiet \
  --output "$S/$case_name" --force
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$S/$case_name: exists and is not a dals dataset"
same_tree $case_name "$S/$case_name" "$S/$case_name.listing"

# ---------------------------------------------------------------- a read-only parent

# Root ignores permission bits, so as root the parent is a read-only tmpfs;
# otherwise a directory without write permission.
RO=$S/ro
mkdir -p "$RO"
ro_why=""
if ((EUID == 0)); then
  if mount -t tmpfs -o size=1m,ro tmpfs "$RO" 2>"$LOGS/mount.err"; then
    trap 'umount "$RO" 2>/dev/null || umount -l "$RO" 2>/dev/null || true' EXIT
    ro_why="Read-only file system"
  fi
else
  chmod 555 "$RO" && ro_why="Permission denied"
fi
if [[ -n "$ro_why" ]]; then
  case_name=train-read-only-parent
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${TRAIN_OPTS[@]}" --output "$RO/model"
  EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$RO/model: cannot create $RO/model.tmp: $ro_why"
  refused_early $case_name "$LOGS/$case_name"

  case_name=import-read-only-parent
  run_one "$LOGS/$case_name" "$DALS_IMPORT" --input "$S/ratings.csv" --output "$RO/imported" --blocks 2
  EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$RO/imported: cannot create $RO/imported.tmp: $ro_why"
  check $case_name "nothing written" test -z "$(ls -A "$RO")"
else
  echo "skip [read-only-parent] running as root and cannot mount a tmpfs: $(cat "$LOGS/mount.err" 2>/dev/null)"
fi

cli_finish
