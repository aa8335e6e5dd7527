#!/usr/bin/env bash
# Hostile input files: a manifest field of the wrong type or range, a named
# pipe where a file should be, a manifest whose mean is not the data's.
# Each ends with one error line naming the file and what is wrong, a nonzero
# exit on every rank, and no hang (expect_failure fails on a hang).
#
# Usage (as ctest runs it): bash hostile_inputs.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
# A hang is what some of these cases guard against: judge it sooner than the default.
: "${DALS_CLI_TIMEOUT:=30}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_INSPECT=$(find_tool dals-inspect)
DALS_PARTITION=$(find_tool dals-partition)
require_tools DALS_TRAIN DALS_IMPORT DALS_INSPECT DALS_PARTITION DALS_CORRUPT
require_commands mkfifo

GOOD=$SCRATCH/good  # 4 blocks per side
LOGS=$SCRATCH/logs
OUT=$SCRATCH/out      # models of runs that must fail
mkdir -p "$LOGS" "$OUT"
make_dataset "$GOOD" 4
TRAIN_OPTS=(--iterations 2 --factors 4 --threads 1 --quiet)

# train_fails CASE NP SUBSTRING... -- ARGS...: dals-train with ARGS at NP ranks
# must fail cleanly naming each SUBSTRING, and publish no model.
train_fails() {
  local case_name=$1 np=$2 want=()
  shift 2
  while (($#)) && [[ $1 != -- ]]; do
    want+=("$1")
    shift
  done
  shift
  run_ranks "$np" "$LOGS/$case_name" "$DALS_TRAIN" --output "$OUT/$case_name" "${TRAIN_OPTS[@]}" "$@"
  EXPECT_EXIT_CODE=1 expect_failure "$case_name" "$LOGS/$case_name" "${want[@]}"
  check "$case_name" "no model published" test ! -e "$OUT/$case_name"
}

# inspect_fails CASE DIR SUBSTRING...: dals-inspect DIR fails cleanly naming each SUBSTRING.
inspect_fails() {
  local case_name=$1 dir=$2
  shift 2
  run_one "$LOGS/$case_name" "$DALS_INSPECT" "$dir"
  EXPECT_EXIT_CODE=1 expect_failure "$case_name" "$LOGS/$case_name" "$@"
}

# inspect_reports CASE DIR SUBSTRING...: dals-inspect DIR exits 1 (no hang) and
# its report, one line per problem found, names each SUBSTRING on one line.
inspect_reports() {
  local case_name=$1 dir=$2
  shift 2
  run_one "$LOGS/$case_name" "$DALS_INSPECT" --quiet "$dir"
  check "$case_name" "exit 1" test "$(rank_code "$LOGS/$case_name" 0)" = 1
  local lines want
  lines=$(cat "$LOGS/$case_name.rank0.err")
  for want in "$@"; do
    lines=$(grep -F -- "$want" <<<"$lines")
  done
  check "$case_name" "a stderr line names $*" test -n "$lines"
}

# with_fifo DIR FILE: FILE inside a fresh copy DIR of the good dataset becomes a named pipe.
with_fifo() {
  fresh_copy "$GOOD" "$1"
  rm -f "$1/$2"
  mkfifo "$1/$2"
}

# ---------------------------------------------------------------- JSON types and ranges

# 2^32 + 4: read into an int it would be 4, the true count, and the
# fingerprint would still match.
case_name=manifest-blocks-2p32
fresh_copy "$GOOD" "$SCRATCH/$case_name"
sed -i 's/"blocks": 4,/"blocks": 4294967300,/' "$SCRATCH/$case_name/manifest.json"
check $case_name "the manifest was edited" grep -q '"blocks": 4294967300,' "$SCRATCH/$case_name/manifest.json"
inspect_fails $case_name "$SCRATCH/$case_name" "$case_name/manifest.json" blocks 4294967300

# ---------------------------------------------------------------- named pipes

# Opening a FIFO for reading blocks until a writer comes: every reader must
# refuse it from its type, without opening it.
with_fifo "$SCRATCH/fifo-manifest" manifest.json
inspect_fails inspect-fifo-manifest "$SCRATCH/fifo-manifest" fifo-manifest/manifest.json "not a regular file"
train_fails train-fifo-manifest 2 fifo-manifest/manifest.json "not a regular file" -- --data "$SCRATCH/fifo-manifest"

with_fifo "$SCRATCH/fifo-block" by-user/block-00000.h5
inspect_reports inspect-fifo-block "$SCRATCH/fifo-block" fifo-block/by-user/block-00000.h5 "not a regular file"
train_fails train-fifo-block 2 fifo-block/by-user/block-00000.h5 "not a regular file" -- --data "$SCRATCH/fifo-block"

CKPT=$SCRATCH/ckpt
run_ranks 2 "$LOGS/checkpointed" "$DALS_TRAIN" --data "$GOOD" --output "$SCRATCH/checkpointed" "${TRAIN_OPTS[@]}" \
  --checkpoint-dir "$CKPT"
expect_success checkpointed "$LOGS/checkpointed"
newest=$(find "$CKPT" -mindepth 1 -maxdepth 1 -name 'iter-*' | sort | tail -n 1)
if check resume-fifo-state "the run left a checkpoint" test -n "$newest" -a -f "$newest/state.json"; then
  rm -f "$newest/state.json"
  mkfifo "$newest/state.json"
  train_fails resume-fifo-state 2 "$(basename "$newest")/state.json" "not a regular file" -- --data "$GOOD" \
    --checkpoint-dir "$CKPT" --resume "$newest"
fi

# ---------------------------------------------------------------- the manifest's mean

# The mean moves by 0.01 and the fingerprint is recomputed: only comparing
# the mean with the ratings dals-train loads can catch it.
case_name=manifest-mean
fresh_copy "$GOOD" "$SCRATCH/$case_name"
if "$DALS_CORRUPT" manifest-mean "$SCRATCH/$case_name" >"$LOGS/$case_name.corrupt.log" 2>&1; then
  train_fails $case_name 2 "$case_name/manifest.json" mean -- --data "$SCRATCH/$case_name"
else
  fail $case_name "dals-test-corrupt manifest-mean failed: $(cat "$LOGS/$case_name.corrupt.log")"
fi

# ---------------------------------------------------------------- control bytes in messages

# partition_says CASE FILE EXPECTED: dals-partition on FILE fails with exactly
# the one stderr line "dals-partition: error: EXPECTED".
partition_says() {
  local case_name=$1 file=$2 expected=$3
  run_one "$LOGS/$case_name" "$DALS_PARTITION" --input "$file" --header --output "$OUT/$case_name" --quiet
  EXPECT_EXIT_CODE=1 expect_failure "$case_name" "$LOGS/$case_name" || return 1
  local line
  line=$(all_stderr "$LOGS/$case_name")
  check "$case_name" "the line is '$expected'" test "$line" = "dals-partition: error: $expected"
}

# An escape sequence in a bad line must not reach the terminal raw.
printf 'user,item,rating\n1,5,3\n\033[2J\033[31mbob,5,x\n' >"$SCRATCH/escape.csv"
partition_says line-with-escape "$SCRATCH/escape.csv" \
  "$SCRATCH/escape.csv:3: user id contains a control character: \\x1b[2J\\x1b[31mbob,5,x"

# A newline in a file name must not split the one-line error.
newline_name=$SCRATCH/new$'\n'line.csv
printf 'user,item,rating\n1,5,3\n2,5,x\n' >"$newline_name"
partition_says name-with-newline "$newline_name" "$SCRATCH/new\\nline.csv:3: rating is not a number: 2,5,x"

# ---------------------------------------------------------------- option conflicts

# An option that picks a column another role already has: the error names both.
printf 'user,item,rating\n1,5,3\n2,5,4\n' >"$SCRATCH/plain.csv"
run_one "$LOGS/rating-is-user" "$DALS_PARTITION" --input "$SCRATCH/plain.csv" --header --rating-column user \
  --output "$OUT/rating-is-user" --quiet
EXPECT_EXIT_CODE=1 expect_failure rating-is-user "$LOGS/rating-is-user" "--rating-column user" "user column"

cli_finish
