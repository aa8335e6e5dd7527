#!/usr/bin/env bash
# The dataset's feedback kind, from every tool that writes one:
# dals-partition --implicit writes "feedback": "events" (without it,
# "ratings"), dals-import "ratings", dals-generate --implicit "events"; and
# dals-inspect prints it. With --implicit a count must be positive: 0 or a
# negative count is a bad line naming file and line, unless --min-rating
# drops it (counted) or --skip-bad-lines skips it (counted).
#
# Usage (as ctest runs it): bash partition_feedback.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
DALS_INSPECT=$(find_tool dals-inspect)
DALS_GENERATE=$(find_tool dals-generate)
require_tools DALS_PARTITION DALS_INSPECT DALS_IMPORT DALS_GENERATE
require_commands jq
S=$SCRATCH

# feedback_is CASE DIR KIND: manifest.json says KIND, and dals-inspect
# (which checks the whole dataset) prints it.
feedback_is() {
  local case_name=$1 dir=$2 kind=$3
  check "$case_name" "manifest.json says feedback $kind" \
    test "$(json_field "$dir/manifest.json" .feedback)" = "$kind"
  run_one "$S/$case_name-inspect" "$DALS_INSPECT" "$dir"
  expect_success "$case_name-inspect" "$S/$case_name-inspect"
  check "$case_name" "dals-inspect prints 'feedback: $kind'" grep -q "^  feedback: $kind " "$S/$case_name-inspect.rank0.out"
}

# ------------------------------------------------------- partition, both kinds
printf 'user,item\na,x\na,x\na,y\nb,x\nb,z\nc,y\n' >"$S/events.csv"
run_one "$S/events" "$DALS_PARTITION" --input "$S/events.csv" --header --implicit --output "$S/out-events" \
  --blocks 1 --quiet
expect_success events "$S/events"
feedback_is events "$S/out-events" events
check events "duplicates summed: a,x counts 2" grep -qx 'a,x,2' <("$DALS_INSPECT" "$S/out-events" --dump train)
check events "the summary speaks of events" grep -q "test events" "$S/events.rank0.out"

printf 'user,item,rating\na,x,4\na,y,2\nb,x,5\nb,z,1\nc,y,3\n' >"$S/ratings.csv"
run_one "$S/ratings" "$DALS_PARTITION" --input "$S/ratings.csv" --header --output "$S/out-ratings" --blocks 1 --quiet
expect_success ratings "$S/ratings"
feedback_is ratings "$S/out-ratings" ratings

make_dataset "$S/imported" 1
feedback_is imported "$S/imported" ratings

# ------------------------------------------------------- counts must be positive
# Line 4 (the header is line 1) has a count of 0, line 6 a negative one.
printf 'user,item,plays\na,x,3\na,y,1\nb,x,0\nb,z,2\nc,y,-1\nc,x,7\n' >"$S/counts.csv"
counts() {
  local case_name=$1
  shift
  run_one "$S/$case_name" "$DALS_PARTITION" --input "$S/counts.csv" --header --implicit --rating-column plays \
    --output "$S/out-$case_name" --blocks 1 --quiet "$@"
}
counts zero-count
expect_failure zero-count "$S/zero-count" "counts.csv:4:" "count 0 is not positive" "--min-rating"
check zero-count "nothing written" test ! -e "$S/out-zero-count"

printf 'user,item,plays\nc,y,-1\n' >"$S/negative.csv"
run_one "$S/negative" "$DALS_PARTITION" --input "$S/negative.csv" --header --implicit --rating-column 3 \
  --output "$S/out-negative" --blocks 1 --quiet
expect_failure negative-count "$S/negative" "negative.csv:2:" "count -1 is not positive"

counts min-rating --min-rating 1
expect_success min-rating "$S/min-rating"
feedback_is min-rating "$S/out-min-rating" events
check min-rating "the two non-positive counts dropped as out of range" \
  grep -q "dropped: 2 outside the rating range" "$S/min-rating.rank0.out"
check min-rating "the positive counts kept" \
  test "$(json_field "$S/out-min-rating/manifest.json" .ratings)" = 4

counts skipped --skip-bad-lines
expect_success skipped "$S/skipped"
check skipped "the two non-positive counts counted as bad lines" grep -q "0 blank, 2 bad)" "$S/skipped.rank0.out"

# ------------------------------------------------------- dals-generate --implicit
run_one "$S/generated" "$DALS_GENERATE" --implicit --users 60 --items 40 --ratings 900 --blocks 2 \
  --output "$S/out-generated" --text-output "$S/generated"
expect_success generated "$S/generated"
feedback_is generated "$S/out-generated" events
check generated "the text dump's header names counts" test "$(head -n 1 "$S/generated-train.csv")" = user,item,count
check generated "every count is a positive integer" \
  awk -F, 'NR > 1 && !($3 ~ /^[1-9][0-9]*$/) { bad = 1 } END { exit bad }' "$S/generated-train.csv"

cli_finish
