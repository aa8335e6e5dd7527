#!/usr/bin/env bash
# dals-recommend end to end: top-5 lists of an explicit and an implicit model
# are the same bytes at P = 1, 2, 3 (and 2 threads), and equal to the brute
# force of dals-test-recommend-ref (raw ids, ties, rated items excluded or
# kept); CSV is the same lines; --users lists only the known users and counts
# the unknown ones; string raw ids come out as they went in; users without
# training ratings get no list; a model of another dataset, a damaged model,
# an output that is not a dals-recommend output and bad flags are refused
# with one clear error.
#
# Usage (as ctest runs it): bash recommend.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_REF=$(find_tool dals-test-recommend-ref)
DALS_CLI=$(find_tool dals)
DALS_PARTITION=$(find_tool dals-partition)
require_tools DALS_TRAIN DALS_GENERATE DALS_PARTITION DALS_RECOMMEND DALS_REF DALS_CLI

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

# refused CASE NP SUBSTRING... -- ARGS...: DALS_RECOMMEND must fail with one error line.
refused() { refused_run "$DALS_RECOMMEND" "$@"; }

# parts DIR: the parts in rank order, concatenated.
parts() { cat "$1"/part-*."${2:-tsv}"; }

# Rounded counts 1-5: a valid explicit and implicit dataset alike.
DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 6000 --blocks 3 --seed 5 --round --output "$DATA"
run generate-other 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 6000 --blocks 3 --seed 6 --round \
  --output "$SCRATCH/other-data"
run train-explicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/explicit" -k 6 --iterations 3 --threads 1 --quiet
run train-implicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/implicit" -k 6 --iterations 3 --threads 1 \
  --quiet --implicit

for kind in explicit implicit; do
  M=$SCRATCH/$kind
  "$DALS_REF" "$M" "$DATA" 5 >"$SCRATCH/$kind.ref" 2>"$LOGS/$kind.ref.err"
  check "$kind-ref" "the brute-force reference ran" test -s "$SCRATCH/$kind.ref"
  for np in 1 2 3; do
    run "$kind-np$np" "$np" "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/$kind-out$np" --k 5
    check "$kind-np$np" "$np part(s), concatenated equal to the brute force" \
      cmp -s <(parts "$SCRATCH/$kind-out$np") "$SCRATCH/$kind.ref"
  done
  run "$kind-threads2" 1 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/$kind-t2" --k 5 --threads 2
  check "$kind-threads2" "2 threads: the same bytes" cmp -s "$SCRATCH/$kind-t2/part-00000.tsv" "$SCRATCH/$kind.ref"
done
check explicit-np3 "three part files" test -f "$SCRATCH/explicit-out3/part-00002.tsv"
check explicit-np3 "recommendations.json names its format and the dataset fingerprint" \
  grep -q '"format": "dals-recommendations"' "$SCRATCH/explicit-out3/recommendations.json"
check implicit-np1 "an implicit model scores by u . v alone" \
  grep -q '"score": "u . v"' "$SCRATCH/implicit-out1/recommendations.json"
check explicit-np1 "lists differ between the two models" \
  bash -c '! cmp -s "$1" "$2"' _ "$SCRATCH/explicit.ref" "$SCRATCH/implicit.ref"

# --include-rated: the rated items are ranked too.
"$DALS_REF" "$SCRATCH/explicit" "$DATA" 5 --include-rated >"$SCRATCH/rated.ref"
run include-rated 2 "$DALS_RECOMMEND" --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/rated" --k 5 \
  --include-rated
check include-rated "equal to the brute force with rated items kept" cmp -s <(parts "$SCRATCH/rated") "$SCRATCH/rated.ref"
check include-rated "which differs from the lists without them" \
  bash -c '! cmp -s "$1" "$2"' _ "$SCRATCH/rated.ref" "$SCRATCH/explicit.ref"

# CSV: the same fields (integer raw ids need no quoting).
run csv 3 "$DALS_RECOMMEND" --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/csv" --k 5 --format csv
check csv "the TSV lines with commas" cmp -s <(parts "$SCRATCH/csv" csv) <(tr '\t' , <"$SCRATCH/explicit.ref")

# --users: two known raw ids (the last and the first user), one unknown, one
# repeated, a blank line; lists in dense order, the unknown counted.
first=$(head -n 1 "$SCRATCH/explicit.ref" | cut -f 1)
last=$(tail -n 1 "$SCRATCH/explicit.ref" | cut -f 1)
printf '%s\nnot-a-user\n\n%s\n%s\n' "$last" "$first" "$last" >"$SCRATCH/users.txt"
run users 2 "$DALS_RECOMMEND" --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/some" --k 5 \
  --users "$SCRATCH/users.txt"
check users "only the given users' lists, as in the full output" cmp -s <(parts "$SCRATCH/some") \
  <(awk -F '\t' -v a="$first" -v b="$last" '$1 == a || $1 == b' "$SCRATCH/explicit.ref")
check users "the unknown id is counted in one warning" \
  grep -q "1 of 4 user ids are not in" "$LOGS/users.rank0.err"
check users "and in recommendations.json" grep -q '"user_ids_unknown": 1' "$SCRATCH/some/recommendations.json"

# String raw ids (dals-partition's string id maps): the lists name them, in
# TSV and CSV alike, and --users finds them.
make_ratings_csv "$SCRATCH/ints.csv" 60 40
awk -F , 'NR == 1 { print; next } { print "user-" $1 ",item " $2 "," $3 }' "$SCRATCH/ints.csv" >"$SCRATCH/names.csv"
NAMES=$SCRATCH/names
run partition-names 2 "$DALS_PARTITION" --input "$SCRATCH/names.csv" --header --blocks 2 --output "$NAMES" --quiet
run train-names 1 "$DALS_TRAIN" --data "$NAMES" --output "$SCRATCH/names-model" -k 4 --iterations 2 --threads 1 --quiet
# (--min-item-ratings 0: a tiny dataset's items have few ratings each.)
run names 2 "$DALS_RECOMMEND" --model "$SCRATCH/names-model" --data "$NAMES" --output "$SCRATCH/names-out" --k 3 \
  --format csv --min-item-ratings 0
"$DALS_REF" "$SCRATCH/names-model" "$NAMES" 3 --min-item-ratings 0 >"$SCRATCH/names.ref"
check names "string ids in the lists, equal to the brute force" \
  cmp -s <(parts "$SCRATCH/names-out" csv) <(tr '\t' , <"$SCRATCH/names.ref")
check names "the ids are the raw strings" grep -q '^user-1001,item 5' "$SCRATCH/names-out/part-00000.csv"
printf 'user-1001\n1001\n' >"$SCRATCH/names.txt"
run names-users 2 "$DALS_RECOMMEND" --model "$SCRATCH/names-model" --data "$NAMES" --output "$SCRATCH/names-some" \
  --k 3 --users "$SCRATCH/names.txt" --min-item-ratings 0
check names-users "a string id is found, the bare number is not" \
  cmp -s <(parts "$SCRATCH/names-some") <(grep "^user-1001"$'\t' "$SCRATCH/names.ref")

# Users with no training ratings (all of theirs held out) keep their random
# initial factors: they get no list, and are counted.
SPARSE=$SCRATCH/sparse
run generate-sparse 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 3000 --blocks 3 --seed 5 --round \
  --min-degree 1 --user-skew 2 --test-fraction 0.5 --output "$SPARSE"
run train-sparse 1 "$DALS_TRAIN" --data "$SPARSE" --output "$SCRATCH/sparse-model" -k 4 --iterations 2 --threads 1 \
  --quiet
run sparse 3 "$DALS_RECOMMEND" --model "$SCRATCH/sparse-model" --data "$SPARSE" --output "$SCRATCH/sparse-out" --k 5
check sparse "equal to the brute force, which skips users without training ratings" \
  cmp -s <(parts "$SCRATCH/sparse-out") <("$DALS_REF" "$SCRATCH/sparse-model" "$SPARSE" 5)
check sparse "such users are counted" \
  grep -qE '"users_without_training_ratings": [1-9]' "$SCRATCH/sparse-out/recommendations.json"

# Refusals: a model of another dataset, outputs that must not be replaced, bad flags.
refused other-dataset 2 "state.json" "fingerprint" "another dataset" -- --model "$SCRATCH/explicit" \
  --data "$SCRATCH/other-data" --output "$SCRATCH/x" --k 5
check other-dataset "nothing published" test ! -e "$SCRATCH/x"
refused exists 1 "already exists" -- --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/csv"
mkdir -p "$SCRATCH/precious" && echo keep >"$SCRATCH/precious/notes.txt"
refused force-foreign 1 "recommendations.json" -- --model "$SCRATCH/explicit" --data "$DATA" \
  --output "$SCRATCH/precious" --force
check force-foreign "the directory is untouched" test -f "$SCRATCH/precious/notes.txt"
refused force-model 1 "recommendations.json" -- --model "$SCRATCH/explicit" --data "$DATA" \
  --output "$SCRATCH/implicit" --force
run force-own 1 "$DALS_RECOMMEND" --model "$SCRATCH/implicit" --data "$DATA" --output "$SCRATCH/csv" --k 5 --force
check force-own "an earlier output is replaced" cmp -s "$SCRATCH/csv/part-00000.tsv" "$SCRATCH/implicit.ref"
cp -r "$SCRATCH/explicit" "$SCRATCH/damaged"
truncate -s 200 "$SCRATCH/damaged/items/block-00001.h5"
refused damaged-model 2 "damaged/items/block-00001.h5" -- --model "$SCRATCH/damaged" --data "$DATA" \
  --output "$SCRATCH/x"
refused no-model 1 "--model is required" -- --data "$DATA" --output "$SCRATCH/x"
refused not-a-model 1 "not a complete model" -- --model "$DATA" --data "$DATA" --output "$SCRATCH/x"
EXPECT_EXIT_CODE=2 refused k-zero 2 "--k must be in" -- --model "$SCRATCH/explicit" --data "$DATA" --output \
  "$SCRATCH/x" --k 0
EXPECT_EXIT_CODE=2 refused bad-format 1 "--format must be tsv, csv or hdf5" -- --model "$SCRATCH/explicit" --data "$DATA" \
  --output "$SCRATCH/x" --format xml
EXPECT_EXIT_CODE=2 refused unknown-flag 1 "bogus" -- --bogus
refused no-users-file 1 "$SCRATCH/none.txt" -- --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/x" \
  --users "$SCRATCH/none.txt"
refused too-many-ranks 4 "4 ranks" -- --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/x"
check refusals "nothing published by any refused run, no staging left" test ! -e "$SCRATCH/x" -a ! -e "$SCRATCH/x.tmp"

"$DALS_CLI" recommend --help >"$LOGS/help.out" 2>&1
check front-end "dals recommend --help shows the usage" grep -q "Usage: mpirun -n P dals-recommend" "$LOGS/help.out"

cli_finish
