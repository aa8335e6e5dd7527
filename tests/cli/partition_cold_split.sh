#!/usr/bin/env bash
# dals-partition's --cold-start with the splits (--test-per-user and
# --test-fraction), on a dump built to have cold starts: items rated once or
# twice, and users with one or two ratings. After the split a test rating
# whose user or item has no training rating left is a cold-start rating:
# dropped by default, kept with --cold-start keep. Each case is checked
# against a reference computed without dals-partition: the per-user split in
# awk, the fraction split by dals-import (the same hash rule, which keeps
# every held-out rating), and the cold-start ratings by awk over the
# reference's training ratings. Counts in the summary, the training and test
# ratings, the users and items (a cold item dropped with its only ratings
# gets no dense id), and the same dataset on 1 and 3 ranks.
#
# Usage (as ctest runs it): bash partition_cold_split.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
DALS_INSPECT=$(find_tool dals-inspect)
require_tools DALS_PARTITION DALS_INSPECT DALS_IMPORT
require_commands jq
S=$SCRATCH

# user,item,rating,time (distinct pairs, integer ids): users 1-60 rate some
# of the popular items 1-12; every third user rates only one or two items;
# items 100-189 are rated by one user (two for every fifth).
DUMP=$S/dump.csv
awk 'BEGIN {
  print "user,item,rating,time"; seed = 11
  for (u = 1; u <= 60; u++)
    for (i = 1; i <= 12; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      if (u % 3 == 0 ? i <= 1 + u % 2 : seed % 100 < 45) printf "%d,%d,%d,%d\n", u, i, 1 + seed % 5, seed % 100000
    }
  for (i = 100; i < 190; i++)
    for (k = 0; k < (i % 5 == 0 ? 2 : 1); k++) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      printf "%d,%d,%d,%d\n", 1 + (i * 7 + k * 13) % 60, i, 1 + seed % 5, seed % 100000
    }
}' >"$DUMP"
tail -n +2 "$DUMP" >"$S/ratings.csv"

# run_case CASE NP ARGS...: partitions DUMP on NP ranks.
run_case() {
  local case_name=$1 np=$2
  shift 2
  run_ranks "$np" "$S/$case_name" "$DALS_PARTITION" --input "$DUMP" --header --time-column time --blocks 2 \
    --output "$S/out-$case_name" --quiet "$@"
  expect_success "$case_name" "$S/$case_name"
}
# same CASE SPLIT EXPECTED_FILE: the dataset's SPLIT ratings (user,item,rating), sorted, equal the file's.
same() {
  local case_name=$1 split=$2 expected=$3
  "$DALS_INSPECT" "$S/out-$case_name" --dump "$split" | sort >"$S/$case_name.$split.got"
  sort -o "$expected" "$expected"
  if cmp -s "$expected" "$S/$case_name.$split.got"; then
    pass "$case_name" "$split: exactly the $(wc -l <"$expected") expected ratings"
  else
    fail "$case_name" "$split ratings differ from the reference (< expected, > dataset):"
    diff "$expected" "$S/$case_name.$split.got" | head -n 6 | sed 's/^/    | /' >&2
  fi
}
# cold_of TRAIN TEST: the lines of TEST whose user or item is in no line of TRAIN.
cold_of() { awk -F, 'NR == FNR { u[$1]; i[$2]; next } !($1 in u) || !($2 in i)' "$1" "$2"; }
# distinct FIELD FILE...: how many distinct values field FIELD takes in the files.
distinct() {
  local field=$1
  shift
  cut -d, -f"$field" "$@" | sort -u | grep -c ''
}

# check_split NAME REF_TRAIN REF_TEST ARGS...: the split ARGS, drop and keep,
# on 1 and 3 ranks, against the reference split REF_TRAIN / REF_TEST. Sets
# USER_COLD: the reference's test ratings whose user has no training rating.
check_split() {
  local name=$1 train=$2 test=$3
  shift 3
  cold_of "$train" "$test" >"$S/$name.cold"
  local cold item_cold
  cold=$(grep -c '' "$S/$name.cold")
  USER_COLD=$(awk -F, 'NR == FNR { u[$1]; next } !($1 in u)' "$train" "$test" | grep -c '')
  item_cold=$(awk -F, 'NR == FNR { i[$2]; next } !($2 in i)' "$train" "$test" | grep -c '')
  check "$name" "the reference has cold items ($item_cold) among its $(grep -c '' "$test") test ratings" \
    test "$item_cold" -gt 2
  grep -vxF -f "$S/$name.cold" "$test" >"$S/$name.warm"
  for mode in drop keep; do
    local c=$name-$mode kept=0 expected=$S/$name.warm
    [[ $mode == keep ]] && kept=$cold expected=$test
    run_case "$c" 1 "$@" --cold-start "$mode"
    run_case "$c-p3" 3 "$@" --cold-start "$mode" --buckets-per-rank 3
    check "$c" "the summary counts $cold cold-start ratings, $kept kept" grep -qF \
      "test: $cold cold-start ratings (user or item without training ratings after the split), $kept kept" \
      "$S/$c.rank0.out"
    same "$c" train "$train"
    same "$c" test "$expected"
    check "$c" "users: those with a rating left" \
      test "$(json_field "$S/out-$c/manifest.json" .users)" = "$(distinct 1 "$train" "$expected")"
    check "$c" "items: those with a rating left (a dropped cold item has no id)" \
      test "$(json_field "$S/out-$c/manifest.json" .items)" = "$(distinct 2 "$train" "$expected")"
    check "$c" "the same dataset on 1 and 3 ranks" test "$(json_field "$S/out-$c/manifest.json" .fingerprint)" = \
      "$(json_field "$S/out-$c-p3/manifest.json" .fingerprint)"
  done
}

# ------------------------------------------------------------------ per user
# The last 2 of each user by time (then input order), never all of a user's:
# no user is cold, the items rated only in those are.
sort -t, -k1,1 -k4,4n -s "$S/ratings.csv" | awk -F, '
  function flush() { for (k = 1; k <= n; k++) print line[k] "," (k > n - (n > 2 ? 2 : n - 1) ? "test" : "train") }
  $1 != user { flush(); user = $1; n = 0 } { line[++n] = $1 "," $2 "," $3 } END { flush() }' >"$S/per-user.split"
grep ',train$' "$S/per-user.split" | cut -d, -f1-3 >"$S/per-user.train"
grep ',test$' "$S/per-user.split" | cut -d, -f1-3 >"$S/per-user.test"
check_split per-user "$S/per-user.train" "$S/per-user.test" --test-per-user 2
check per-user "no user is cold with --test-per-user" test "$USER_COLD" = 0
# Events: the same split (it does not look at the values), counted as events.
run_case per-user-events 2 --test-per-user 2 --implicit
check per-user-events "the summary counts the same $(grep -c '' "$S/per-user.cold") cold-start events" grep -qF \
  "test: $(grep -c '' "$S/per-user.cold") cold-start events (user or item without training ratings after the split), 0 kept" \
  "$S/per-user-events.rank0.out"

# ------------------------------------------------------------------ fraction
# dals-import's split with the same seed (the rule dals-partition follows)
# is the reference; it keeps the cold-start ratings, as --cold-start keep.
run_one "$S/import" "$DALS_IMPORT" --input "$DUMP" --output "$S/out-import" --blocks 2 --test-fraction 0.5 --seed 3
expect_success import "$S/import"
"$DALS_INSPECT" "$S/out-import" --dump train >"$S/fraction.train"
"$DALS_INSPECT" "$S/out-import" --dump test >"$S/fraction.test"
check_split fraction "$S/fraction.train" "$S/fraction.test" --test-fraction 0.5 --seed 3
check fraction "some users are cold too ($USER_COLD test ratings)" test "$USER_COLD" -gt 0
check fraction-keep "keep: the same dataset as dals-import" \
  test "$(json_field "$S/out-fraction-keep/manifest.json" .fingerprint)" = \
  "$(json_field "$S/out-import/manifest.json" .fingerprint)"

cli_finish
