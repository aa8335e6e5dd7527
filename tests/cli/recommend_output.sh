#!/usr/bin/env bash
# dals-recommend's output options and candidate filter: --format hdf5 parts
# read back (with H5File alone, by dals-test-recommend-ref --print-h5) equal
# the TSV lines and name the raw ids their dense ids map to, for integer and
# string ids, and empty parts; --merge writes one recommendations.tsv|h5
# that is the same bytes for P = 1 and 3 (the parts removed), the TSV one
# equal to the parts concatenated, and with --fold-in one factors.tsv too; --min-item-ratings N lists exactly the items with at least N
# training ratings (the brute force with the same N), its default is 20 for
# an explicit model and 0 for an implicit one, and dals-eval's option of the
# same name changes the model's figures; bad values are refused.
#
# Usage (as ctest runs it): bash recommend_output.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_EVAL=$(find_tool dals-eval)
DALS_REF=$(find_tool dals-test-recommend-ref)
DALS_PARTITION=$(find_tool dals-partition)
DALS_CLI_INSPECT=$(find_tool dals-inspect)
require_tools DALS_TRAIN DALS_GENERATE DALS_PARTITION DALS_RECOMMEND DALS_EVAL DALS_REF DALS_CLI_INSPECT

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

# refused CASE NP SUBSTRING... -- ARGS...: DALS_RECOMMEND must fail with one error line.
refused() { refused_run "$DALS_RECOMMEND" "$@"; }

# h5_lines DIR DATA: every .h5 list file of DIR in name order, as TSV lines.
h5_lines() {
  local f
  for f in "$1"/*.h5; do "$DALS_REF" --print-h5 "$f" "$2" || echo "<print-h5 $f failed>"; done
}

# Item popularity skewed so that the filter has items on both sides of N.
DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 6000 --blocks 3 --seed 5 --round \
  --output "$DATA"
run train-explicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/explicit" -k 6 --iterations 3 --threads 1 --quiet
run train-implicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/implicit" -k 6 --iterations 3 --threads 1 \
  --quiet --implicit
M=$SCRATCH/explicit

# --format hdf5 beside TSV, at P = 1 and 3; --merge of each.
for np in 1 3; do
  run "tsv-np$np" "$np" "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/tsv$np" --k 5
  run "h5-np$np" "$np" "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/h5-$np" --k 5 --format hdf5
  h5_parts=("$SCRATCH/h5-$np"/part-*.h5)
  check "h5-np$np" "$np part-RRRRR.h5 file(s)" test "${#h5_parts[@]}" -eq "$np"
  check "h5-np$np" "read back, the TSV lines (raw ids from the dense ones)" \
    cmp -s <(h5_lines "$SCRATCH/h5-$np" "$DATA") <(cat "$SCRATCH/tsv$np"/part-*.tsv)
  run "merge-tsv-np$np" "$np" "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/mt$np" --k 5 --merge
  check "merge-tsv-np$np" "one recommendations.tsv, the parts concatenated, no part left" \
    bash -c 'cmp -s "$1/recommendations.tsv" <(cat "$2"/part-*.tsv) && ! ls "$1"/part-* >/dev/null 2>&1' _ \
    "$SCRATCH/mt$np" "$SCRATCH/tsv$np"
  run "merge-h5-np$np" "$np" "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/mh$np" --k 5 \
    --format hdf5 --merge --threads 2
  check "merge-h5-np$np" "one recommendations.h5 equal to the TSV lines, no part left" \
    bash -c 'cmp -s <("$1" --print-h5 "$2/recommendations.h5" "$3") <(cat "$4"/part-*.tsv) &&
      ! ls "$2"/part-* >/dev/null 2>&1' _ "$DALS_REF" "$SCRATCH/mh$np" "$DATA" "$SCRATCH/tsv$np"
done
check merge "recommendations.h5: the same bytes for P = 1 and 3 (and 2 threads)" \
  cmp -s "$SCRATCH/mh1/recommendations.h5" "$SCRATCH/mh3/recommendations.h5"
check merge "recommendations.tsv: the same bytes for P = 1 and 3" \
  cmp -s "$SCRATCH/mt1/recommendations.tsv" "$SCRATCH/mt3/recommendations.tsv"
check merge "recommendations.json says merged, one part" \
  grep -q '"merged": true' "$SCRATCH/mh3/recommendations.json"

# String raw ids in HDF5: offsets and bytes, read back as the CSV's fields.
make_ratings_csv "$SCRATCH/ints.csv" 60 40
awk -F , 'NR == 1 { print; next } { print "user-" $1 ",item " $2 "," $3 }' "$SCRATCH/ints.csv" >"$SCRATCH/names.csv"
NAMES=$SCRATCH/names
run partition-names 2 "$DALS_PARTITION" --input "$SCRATCH/names.csv" --header --blocks 2 --output "$NAMES" --quiet
run train-names 1 "$DALS_TRAIN" --data "$NAMES" --output "$SCRATCH/names-model" -k 4 --iterations 2 --threads 1 --quiet
run names-h5 2 "$DALS_RECOMMEND" --model "$SCRATCH/names-model" --data "$NAMES" --output "$SCRATCH/names-h5" --k 3 \
  --format hdf5 --merge --min-item-ratings 0
check names-h5 "string ids read back equal to the brute force" \
  cmp -s <("$DALS_REF" --print-h5 "$SCRATCH/names-h5/recommendations.h5" "$NAMES") \
  <("$DALS_REF" "$SCRATCH/names-model" "$NAMES" 3 --min-item-ratings 0)
check names-h5 "the ids are the raw strings" \
  grep -q $'^user-1001\titem 5' <("$DALS_REF" --print-h5 "$SCRATCH/names-h5/recommendations.h5" "$NAMES")

# --min-item-ratings: exactly the items with at least N training ratings.
for kind in explicit implicit; do
  for n in 0 15 40; do
    run "min-$kind-$n" 3 "$DALS_RECOMMEND" --model "$SCRATCH/$kind" --data "$DATA" --output "$SCRATCH/min-$kind-$n" \
      --k 5 --min-item-ratings "$n"
    check "min-$kind-$n" "equal to the brute force with N = $n" \
      cmp -s <(cat "$SCRATCH/min-$kind-$n"/part-*.tsv) <("$DALS_REF" "$SCRATCH/$kind" "$DATA" 5 --min-item-ratings "$n")
  done
  check "min-$kind" "N = 40 lists fewer distinct items than N = 0" test \
    "$(cut -f 2 "$SCRATCH/min-$kind-40"/part-*.tsv | sort -u | wc -l)" -lt \
    "$(cut -f 2 "$SCRATCH/min-$kind-0"/part-*.tsv | sort -u | wc -l)"
done
# Independently of the reference: every item listed with N = 40 has at least
# 40 training ratings (dals-inspect --dump train counts them).
"$DALS_CLI_INSPECT" "$DATA" --dump train 2>/dev/null | awk -F '[\t, ]+' '{ n[$2]++ } END { for (i in n) print i "\t" n[i] }' \
  >"$SCRATCH/degrees.tsv"
check min-count "every item listed with N = 40 has >= 40 training ratings, and one with fewer exists" \
  awk -F '\t' 'NR == FNR { n[$1] = $2; if ($2 < 40) few = 1; next } n[$2] < 40 { bad = 1 } END { exit bad || !few }' \
  "$SCRATCH/degrees.tsv" "$SCRATCH/min-explicit-40/part-00000.tsv" "$SCRATCH/min-explicit-40/part-00001.tsv" \
  "$SCRATCH/min-explicit-40/part-00002.tsv"
check min-default "an explicit model's default is 20" \
  cmp -s <(cat "$SCRATCH/tsv3"/part-*.tsv) <("$DALS_REF" "$M" "$DATA" 5 --min-item-ratings 20)
check min-default "recommendations.json records it" grep -q '"min_item_ratings": 20' "$SCRATCH/tsv3/recommendations.json"
check min-default "an implicit model's default is 0" \
  cmp -s <(cat "$SCRATCH/min-implicit-0"/part-*.tsv) <("$DALS_REF" "$SCRATCH/implicit" "$DATA" 5)

# dals-eval --min-item-ratings: the model's figures change, candidates shrink.
run eval0 2 "$DALS_EVAL" --model "$M" --data "$DATA" --k 5 --no-auc --output "$SCRATCH/eval0.json" --quiet
run eval40 2 "$DALS_EVAL" --model "$M" --data "$DATA" --k 5 --no-auc --min-item-ratings 40 \
  --output "$SCRATCH/eval40.json" --quiet
check eval-min "fewer candidate items, recorded in the JSON" \
  bash -c 'grep -q "\"min_item_ratings\": 40" "$2" &&
    test "$(jq .ranking.candidate_items "$2")" -lt "$(jq .ranking.candidate_items "$1")"' _ \
  "$SCRATCH/eval0.json" "$SCRATCH/eval40.json"
check eval-min "the model's precision changes" \
  bash -c 'test "$(jq .ranking.model.at[0].precision "$1")" != "$(jq .ranking.model.at[0].precision "$2")"' _ \
  "$SCRATCH/eval0.json" "$SCRATCH/eval40.json"

# One user on 3 ranks: two parts hold no line (empty arrays), the merge is
# that user's lines alone.
first=$(head -n 1 "$SCRATCH/mt1/recommendations.tsv" | cut -f 1)
echo "$first" >"$SCRATCH/one.txt"
run one-user 3 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/one" --k 5 --format hdf5 \
  --users "$SCRATCH/one.txt"
check one-user "empty parts read back, the user's lines in the others" \
  cmp -s <(h5_lines "$SCRATCH/one" "$DATA") <(grep "^$first"$'\t' "$SCRATCH/mt1/recommendations.tsv")
run one-user-merge 3 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/one-m" --k 5 --format hdf5 \
  --users "$SCRATCH/one.txt" --merge
check one-user-merge "merged: the same lines" \
  cmp -s <(h5_lines "$SCRATCH/one-m" "$DATA") <(grep "^$first"$'\t' "$SCRATCH/mt1/recommendations.tsv")

# Fold-in with --merge: one recommendations.csv and one factors.tsv, the
# parts of a run without it concatenated.
"$DALS_CLI_INSPECT" "$DATA" --dump train 2>/dev/null | head -n 200 >"$SCRATCH/history.csv"
for merge in "" --merge; do
  run "fold$merge" 3 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/fold$merge" --k 5 \
    --fold-in "$SCRATCH/history.csv" --fold-in-factors --format csv $merge
done
check fold-merge "recommendations.csv and factors.tsv are the parts in rank order; no part left" \
  bash -c 'cmp -s "$1/recommendations.csv" <(cat "$2"/part-*.csv) && cmp -s "$1/factors.tsv" <(cat "$2"/factors-*.tsv) &&
    ! ls "$1"/part-* "$1"/factors-* >/dev/null 2>&1' _ "$SCRATCH/fold--merge" "$SCRATCH/fold"

# Refusals.
EXPECT_EXIT_CODE=2 refused bad-min 1 "--min-item-ratings must be auto or an integer" -- --model "$M" --data "$DATA" \
  --output "$SCRATCH/x" --min-item-ratings -3
EXPECT_EXIT_CODE=2 refused similar-min 1 "--min-item-ratings restricts users' lists" -- --model "$M" --data "$DATA" \
  --output "$SCRATCH/x" --similar-items --min-item-ratings 5
EXPECT_EXIT_CODE=2 refused similar-h5 1 "--format hdf5 writes users' top-K lists" -- --model "$M" --data "$DATA" \
  --output "$SCRATCH/x" --similar-items --format hdf5
check refusals "nothing published" test ! -e "$SCRATCH/x" -a ! -e "$SCRATCH/x.tmp"

cli_finish
