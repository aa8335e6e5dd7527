#!/usr/bin/env bash
# Hostile HDF5 files: an attribute stored as an array where one number
# belongs, and an array declaring far more elements than the file holds, end
# in one clear error naming the file (dals-inspect and dals-train), never a
# crash or an allocation the file does not back; and the dataset is left as
# it was.
#
# Usage (as ctest runs it): bash hostile_hdf5.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_INSPECT=$(find_tool dals-inspect)
require_tools DALS_TRAIN DALS_IMPORT DALS_CORRUPT DALS_INSPECT

TRAIN_OPTS=(--iterations 2 --factors 4 --threads 1 --quiet)
GOOD=$SCRATCH/good  # 2 blocks per side
LOGS=$SCRATCH/logs
OUT=$SCRATCH/out
mkdir -p "$LOGS" "$OUT"
make_dataset "$GOOD" 2

# inspect_fails CASE PREFIX WANT: dals-inspect lists every problem it finds
# (the damage also unbalances the two orientations), so: exit 1, no crash,
# and its first error is WANT.
inspect_fails() {
  local case_name=$1 prefix=$2 want=$3 code first
  code=$(rank_code "$prefix" 0)
  check "$case_name" "exit 1 (got $code)" test "$code" = 1
  first=$(grep -m 1 'dals-inspect: error:' "$prefix.rank0.err")
  check "$case_name" "the first error names '$want': $first" grep -qF -- "$want" <<<"$first"
}

# hostile CASE WANT CORRUPT-ARGS...: a fresh copy of GOOD damaged by
# dals-test-corrupt (DATA in its arguments stands for the copy); dals-inspect
# and dals-train at 2 ranks must each fail naming WANT (dals-train with one
# error line), and the damaged copy must be left as it was.
hostile() {
  local case_name=$1 want=$2 data=$SCRATCH/$1
  shift 2
  fresh_copy "$GOOD" "$data"
  local args=("${@//DATA/$data}")
  if ! "$DALS_CORRUPT" "${args[@]}" >"$LOGS/$case_name.corrupt.log" 2>&1; then
    fail "$case_name" "dals-test-corrupt ${args[*]} failed: $(cat "$LOGS/$case_name.corrupt.log")"
    return 1
  fi
  local listing=$SCRATCH/$case_name.listing
  tree_listing "$data" >"$listing"
  run_one "$LOGS/$case_name.inspect" "$DALS_INSPECT" --quiet "$data"
  inspect_fails "$case_name-inspect" "$LOGS/$case_name.inspect" "$want"
  run_ranks 2 "$LOGS/$case_name.train" "$DALS_TRAIN" --data "$data" --output "$OUT/$case_name" "${TRAIN_OPTS[@]}"
  EXPECT_EXIT_CODE=1 expect_failure "$case_name-train" "$LOGS/$case_name.train" "$want"
  check "$case_name" "no model published" test ! -e "$OUT/$case_name"
  same_tree "$case_name" "$data" "$listing"
}

# A 4,096-element attribute where one number belongs: read blindly, 32 KB of
# the file's bytes over the stack.
hostile array-first-row "by-user/block-00000.h5: attribute 'first_row' holds 4096 elements" \
  array-attribute DATA/by-user/block-00000.h5 / first_row
hostile array-num-cols "by-item/block-00001.h5: attribute 'num_cols' holds 4096 elements" \
  array-attribute DATA/by-item/block-00001.h5 / num_cols
hostile array-checksum "by-user/block-00001.h5: dataset 'values': attribute 'checksum' holds 4096" \
  array-attribute DATA/by-user/block-00001.h5 values checksum

# 2^34 indices declared by a chunked dataset never written: the file stays
# small, and nothing may be allocated for it.
hostile huge-extent "by-user/block-00000.h5: block holds 17179869184 ratings but the manifest says" \
  huge-extent DATA/by-user/block-00000.h5 indices 17179869184

# A manifest claiming 2^40 more ratings in block 0 of each side (totals and
# fingerprint consistent): the trainer sizes its rating arrays from the
# manifest, so the block file must back the count before anything is
# reserved.
hostile manifest-huge-ratings "by-user/block-00000.h5: " manifest-huge-ratings DATA
check manifest-huge-ratings "dals-train names the count the file does not back" \
  grep -q "holds 1099511628021 ratings in 30 rows, more than its" "$LOGS/manifest-huge-ratings.train.rank0.err"

cli_finish
