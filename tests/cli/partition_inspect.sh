#!/usr/bin/env bash
# dals-inspect: exit 0 on good datasets (partitioned with string ids, or
# imported), exit 1 with a line naming the file for each kind of damage:
# a flipped byte in a rating block and in a string id map, a missing block,
# by-user and by-item blocks that disagree although every checksum matches,
# an id map copied over another block's; exit 2 for a bad command line.
#
# Usage (as ctest runs it): bash partition_inspect.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
DALS_INSPECT=$(find_tool dals-inspect)
require_tools DALS_PARTITION DALS_INSPECT DALS_IMPORT DALS_CORRUPT
S=$SCRATCH

awk 'BEGIN { print "user,item,rating"
  for (u = 1; u <= 200; u++) for (i = 1; i <= 30; i++) if ((u + i * 7) % 3 == 0) print "user " u ",item-" i "," 1 + (u * i) % 5 }' \
  >"$S/strings.csv"
run_one "$S/make" "$DALS_PARTITION" --input "$S/strings.csv" --header --output "$S/good" --blocks 4 --test-fraction 0.2 --quiet
expect_success make "$S/make" || cli_finish
make_dataset "$S/imported" 3  # dals-import, integer ids, no id index

# inspect_ok CASE DIR / inspect_fails CASE DIR SUBSTRING...
inspect_ok() {
  run_one "$S/$1" "$DALS_INSPECT" "$2"
  expect_success "$1" "$S/$1"
  check "$1" "says all is well" grep -q "all is well" "$S/$1.rank0.out"
}
inspect_fails() {
  local case_name=$1 dir=$2
  shift 2
  run_one "$S/$case_name" "$DALS_INSPECT" --quiet "$dir"
  check "$case_name" "exit 1" test "$(rank_code "$S/$case_name" 0)" = 1
  local want
  for want in "$@"; do
    check "$case_name" "stderr names '$want'" grep -qF -- "$want" "$S/$case_name.rank0.err"
  done
}

inspect_ok good "$S/good"
check good "summary: shape, string ids, index" grep -q "users ids: string, indexed" "$S/good.rank0.out"
inspect_ok imported "$S/imported"
check imported "an imported dataset has no index" grep -q "users ids: int64, no index" "$S/imported.rank0.out"

fresh_copy "$S/good" "$S/flipped"
"$DALS_CORRUPT" flip-byte "$S/flipped/test/by-item/block-00002.h5" values >/dev/null
inspect_fails flipped-rating-block "$S/flipped" "test/by-item/block-00002.h5" checksum

fresh_copy "$S/good" "$S/flipped-ids"
"$DALS_CORRUPT" flip-byte "$S/flipped-ids/ids/users/block-00001.h5" raw_bytes >/dev/null
inspect_fails flipped-id-map "$S/flipped-ids" "ids/users/block-00001.h5" checksum

fresh_copy "$S/good" "$S/missing"
rm "$S/missing/by-user/block-00003.h5"
inspect_fails missing-block "$S/missing" "by-user/block-00003.h5"

fresh_copy "$S/good" "$S/disagree"
"$DALS_CORRUPT" change-value "$S/disagree" >/dev/null
inspect_fails orientations-disagree "$S/disagree" "by-user and by-item blocks do not hold the same ratings"

# Another block's id map: a valid file in the wrong place.
fresh_copy "$S/good" "$S/swapped-ids"
cp "$S/good/ids/items/block-00000.h5" "$S/swapped-ids/ids/items/block-00001.h5"
inspect_fails id-map-out-of-place "$S/swapped-ids" "ids/items/block-00001.h5"

inspect_fails not-a-dataset "$S" "cannot read the dataset manifest"
run_one "$S/usage" "$DALS_INSPECT" "$S/good" --dump nonsense
EXPECT_EXIT_CODE=2 expect_failure usage "$S/usage" "--dump must be train or test"

cli_finish
