#!/usr/bin/env bash
# dals-partition on bad input: each case must fail with one exact line on
# stderr ("dals-partition: error: FILE:LINE: what is wrong: the line"), the
# same nonzero exit code on every rank (1 for input, 2 for the command
# line), no hang, no dataset and no temporary file left behind, and an
# existing dataset untouched. --skip-bad-lines and --max-bad-lines count
# and report instead.
#
# Usage (as ctest runs it): bash partition_bad_input.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
require_tools DALS_PARTITION
require_commands jq gzip dd

S=$SCRATCH
LOGS=$S/logs
TMPDIR_FOR_RUNS=$S/tmp  # every run puts its temporary files here: it must end empty
mkdir -p "$LOGS" "$TMPDIR_FOR_RUNS"
GOOD=$S/good.csv
printf 'user,item,rating\n1,5,3\n2,5,4\n2,6,5\n3,6,1\n' >"$GOOD"

# fails CASE NP CODE EXPECTED_LINE ARGS...: dals-partition ARGS (to a fresh
# --output) fails on NP ranks with exit CODE and exactly the stderr line
# "dals-partition: error: EXPECTED_LINE"; nothing is left behind.
fails() {
  local case_name=$1 np=$2 code=$3 expected=$4
  shift 4
  local out=$S/out-$case_name
  run_ranks "$np" "$LOGS/$case_name" "$DALS_PARTITION" --output "$out" --tmp-dir "$TMPDIR_FOR_RUNS" --quiet "$@"
  EXPECT_EXIT_CODE=$code expect_failure "$case_name" "$LOGS/$case_name" || return 1
  local line
  line=$(all_stderr "$LOGS/$case_name")
  if [[ "$line" == "dals-partition: error: $expected" ]]; then
    pass "$case_name" "exact message"
  else
    fail "$case_name" "message differs: want 'dals-partition: error: $expected'"
  fi
  check "$case_name" "no dataset and no $out.tmp" test ! -e "$out" -a ! -e "$out.tmp"
  check "$case_name" "no temporary files left" test -z "$(ls -A "$TMPDIR_FOR_RUNS")"
}

# ------------------------------------------------------------------ files
fails missing-file 1 1 "$S/no-such.csv: cannot open: No such file or directory" --input "$S/no-such.csv"
fails glob-matches-nothing 1 1 "$S/nothing-*.csv: no file matches this pattern" --input "$S/nothing-*.csv"
mkdir -p "$S/a-directory"
fails directory 1 1 "$S/a-directory: is a directory, not a rating file" --input "$S/a-directory"
: >"$S/empty.csv"
fails empty-file 2 1 "$S/empty.csv: empty input: no lines to read" --input "$S/empty.csv"
printf 'user,item,rating\n\n' >"$S/header-only.csv"
fails header-only 1 1 \
  "$S/header-only.csv: no ratings in the input (2 lines: 1 header, 1 blank, 0 bad, 0 out of the rating range)" \
  --input "$S/header-only.csv" --header

# ------------------------------------------------------------------ lines
bad_file() {  # bad_file NAME LINE: the good file with LINE as its line 3
  { printf 'user,item,rating\n1,5,3\n'; printf '%s\n' "$2"; printf '3,6,1\n'; } >"$S/$1"
}
bad_file short.csv '2,5'
fails too-few-fields 1 1 "$S/short.csv:3: expected at least 3 fields separated by ',', found 2: 2,5" --input "$S/short.csv" --header
bad_file nan.csv '2,5,nan'
fails rating-nan 1 1 "$S/nan.csv:3: rating is not finite: 2,5,nan" --input "$S/nan.csv" --header
bad_file word.csv '2,5,good'
fails rating-not-a-number 1 1 "$S/word.csv:3: rating is not a number: 2,5,good" --input "$S/word.csv" --header
bad_file no-user.csv ',5,3'
fails empty-user-id 1 1 "$S/no-user.csv:3: empty user id: ,5,3" --input "$S/no-user.csv" --header
bad_file no-item.csv '2,"",3'
fails empty-item-id 1 1 "$S/no-item.csv:3: empty item id: 2,\"\",3" --input "$S/no-item.csv" --header
long=$(printf 'x%.0s' {1..300})
bad_file long-id.csv "$long,5,3"
fails id-too-long 1 1 "$S/long-id.csv:3: user id is longer than 256 bytes: ${long:0:80}..." --input "$S/long-id.csv" --header
bad_file latin1.csv $'caf\xe9,5,3'
# The byte that is not UTF-8 is printed escaped: a raw one could be a terminal control (0x9b is CSI).
fails not-utf8 1 1 "$S/latin1.csv:3: user id is not valid UTF-8: caf\\xe9,5,3" --input "$S/latin1.csv" --header
bad_file alice.csv 'alice,5,3'
fails int64-ids 1 1 "$S/alice.csv:3: user id is not a 64-bit integer (see --id-type): alice,5,3" \
  --input "$S/alice.csv" --header --id-type int64
bad_file quote.csv '"alice,5,3'
fails unterminated-quote 1 1 "$S/quote.csv:3: unterminated quoted field: \"alice,5,3" --input "$S/quote.csv" --header
printf 'user,item,rating,time\n1,5,3,1000\n2,5,3,someday\n' >"$S/time.csv"
fails bad-timestamp 1 1 "$S/time.csv:3: timestamp is not a number or a date: 2,5,3,someday" \
  --input "$S/time.csv" --header --time-column 4
{ printf 'user,item,rating\n1,5,3\n'; head -c 600000 /dev/zero | tr '\0' 'y'; printf ',5,3\n'; } >"$S/huge-line.csv"
fails line-too-long 1 1 "$S/huge-line.csv:3: line is longer than the read buffer (524288 bytes): $(printf 'y%.0s' {1..80})" \
  --input "$S/huge-line.csv" --header --memory-limit 16M

# ------------------------------------------------------------------ gzip
awk 'BEGIN { print "user,item,rating"; for (i = 0; i < 20000; i++) print i % 97 "," i % 89 "," 1 + i % 5 }' >"$S/big.csv"
gzip -c "$S/big.csv" >"$S/whole.csv.gz"
head -c 20000 "$S/whole.csv.gz" >"$S/truncated.csv.gz"
fails truncated-gzip 1 1 "$S/truncated.csv.gz: truncated gzip data: the file ends inside the compressed stream" \
  --input "$S/truncated.csv.gz" --header
cp "$S/whole.csv.gz" "$S/damaged.csv.gz"
printf '\xff\xff\xff\xff\xff\xff\xff\xff' | dd of="$S/damaged.csv.gz" bs=1 seek=3000 conv=notrunc 2>/dev/null
run_ranks 1 "$LOGS/damaged-gzip" "$DALS_PARTITION" --input "$S/damaged.csv.gz" --header --output "$S/out-damaged" \
  --tmp-dir "$TMPDIR_FOR_RUNS" --quiet
EXPECT_EXIT_CODE=1 expect_failure damaged-gzip "$LOGS/damaged-gzip" "$S/damaged.csv.gz: damaged gzip data at compressed byte"
check damaged-gzip "no dataset" test ! -e "$S/out-damaged" -a ! -e "$S/out-damaged.tmp"

# ------------------------------------------------------------------ content
printf 'user,item,rating\n1,5,3\n2,5,4\n2,6,5\n1,5,4\n' >"$S/dup.csv"
fails duplicate-pair 2 1 "$S/dup.csv:5: repeats the user and item of $S/dup.csv:2 (--dedup error): 1,5,4" \
  --input "$S/dup.csv" --header --dedup error
printf 'x,y,z\n4,5,3\n' >"$S/other-header.csv"
fails header-mismatch 1 1 "$S/other-header.csv:1: header differs from the header of $GOOD: x,y,z" \
  --input "$GOOD" --input "$S/other-header.csv" --header
fails unknown-column 1 1 "$GOOD:1: --rating-column 'score': no such column in the header (columns: user, item, rating)" \
  --input "$GOOD" --header --rating-column score
fails too-many-blocks 1 1 "--blocks 50 is more than the 3 users or 2 items of the dataset" --input "$GOOD" --header --blocks 50

# A bad line in rank 1's share: printed once, with its line number in the
# whole file; rank 0 waits for nobody.
awk 'BEGIN { print "user,item,rating"; for (i = 1; i < 30000; i++) print i % 500 "," i % 300 "," 1 + i % 5 }' >"$S/late.csv"
sed -i '29000s/.*/17,18,oops/' "$S/late.csv"
fails bad-line-on-rank-1 2 1 "$S/late.csv:29000: rating is not a number: 17,18,oops" --input "$S/late.csv" --header
# One bad line in each share: the first in the file is the one reported.
cp "$S/late.csv" "$S/two-bad.csv"
sed -i '100s/.*/,1,1/' "$S/two-bad.csv"
fails first-bad-line-wins 2 1 "$S/two-bad.csv:100: empty user id: ,1,1" --input "$S/two-bad.csv" --header

# ------------------------------------------------------------------ skipping
case_name=skip-bad-lines
run_ranks 2 "$LOGS/$case_name" "$DALS_PARTITION" --input "$S/two-bad.csv" --header --skip-bad-lines \
  --output "$S/out-$case_name" --tmp-dir "$TMPDIR_FOR_RUNS" --quiet
expect_success $case_name "$LOGS/$case_name"
check $case_name "summary counts 2 bad lines" grep -q "0 blank, 2 bad)" "$LOGS/$case_name.rank0.out"
check $case_name "the skipped lines are reported" \
  test "$(grep -c 'warning: skipped .*two-bad.csv:\(100\|29000\):' "$LOGS/$case_name.rank0.err")" = 2
fails max-bad-lines 2 1 \
  "more than 1 bad lines (--max-bad-lines); the first: $S/two-bad.csv:100: empty user id: ,1,1" \
  --input "$S/two-bad.csv" --header --max-bad-lines 1

# ------------------------------------------------------------------ command line (exit 2)
fails unknown-option 2 2 "unrecognised option '--no-such-option' (see --help)" --input "$GOOD" --no-such-option
fails two-splits 1 2 "choose one of --test-fraction, --test-per-user and --test-input" \
  --input "$GOOD" --test-fraction 0.1 --test-input "$GOOD"
fails tiny-memory 1 2 "--memory-limit must be at least 16M" --input "$GOOD" --memory-limit 1M
fails bad-dedup 1 2 "--dedup must be one of last, mean, max, sum, error, got 'first' (see --help)" --input "$GOOD" --dedup first

# ------------------------------------------------------------------ an existing dataset is safe
EXISTING=$S/existing
run_ranks 1 "$LOGS/make-existing" "$DALS_PARTITION" --input "$GOOD" --header --output "$EXISTING" --quiet
expect_success make-existing "$LOGS/make-existing"
tree_listing "$EXISTING" >"$S/existing.listing"
case_name=existing-output
run_ranks 2 "$LOGS/$case_name" "$DALS_PARTITION" --input "$GOOD" --header --output "$EXISTING" --quiet
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$EXISTING: already exists (pass --force to replace it)"
same_tree $case_name "$EXISTING" "$S/existing.listing"
case_name=force-with-bad-input
run_ranks 2 "$LOGS/$case_name" "$DALS_PARTITION" --input "$S/two-bad.csv" --header --output "$EXISTING" --force \
  --tmp-dir "$TMPDIR_FOR_RUNS" --quiet
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "two-bad.csv:100"
same_tree $case_name "$EXISTING" "$S/existing.listing"
check $case_name "no $EXISTING.tmp" test ! -e "$EXISTING.tmp"
case_name=force-replaces
run_ranks 1 "$LOGS/$case_name" "$DALS_PARTITION" --input "$S/late.csv" --header --skip-bad-lines --output "$EXISTING" \
  --force --quiet
expect_success $case_name "$LOGS/$case_name"
check $case_name "the dataset was replaced" test "$(json_field "$EXISTING/manifest.json" .users)" = 500
check $case_name "no .tmp or .old left" test ! -e "$EXISTING.tmp" -a ! -e "$EXISTING.old"

cli_finish
