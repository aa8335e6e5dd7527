#!/usr/bin/env bash
# dals-partition's cleaning and splits, each against an awk reference that
# computes the expected ratings from the dump directly: --dedup policies,
# the rating range, the count filters once and as a k-core, --test-per-user
# by timestamp and at random, --test-fraction (the same dataset as
# dals-import), separate test files with cold-start ratings dropped or kept,
# and implicit events. Each case runs on 2 ranks.
#
# Usage (as ctest runs it): bash partition_filters.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
DALS_INSPECT=$(find_tool dals-inspect)
require_tools DALS_PARTITION DALS_INSPECT DALS_IMPORT
require_commands jq
S=$SCRATCH

# user,item,rating,time: uneven degrees (a k-core peels several layers),
# every 10th pair repeated later with another rating and time.
DUMP=$S/dump.csv
awk 'BEGIN {
  print "user,item,rating,time"; seed = 7
  for (u = 1; u <= 300; u++)
    for (i = 1; i <= 90; i++) {
      seed = (seed * 1103515245 + 12345) % 2147483648
      if (seed % 1000 < 1500 / (1 + (u % 17) + (i % 11))) {
        t = seed % 100000
        printf "u%d,i%d,%d,%d\n", u, i, 1 + seed % 5, t
        if (seed % 10 == 0) printf "u%d,i%d,%d,%d\n", u, i, 1 + (seed / 7) % 5, t + (seed % 3) - 1
      }
    }
}' >"$DUMP"

# run_case CASE ARGS...: partitions DUMP (or what ARGS name) on 2 ranks.
run_case() {
  local case_name=$1
  shift
  run_ranks 2 "$S/$case_name" "$DALS_PARTITION" --header --output "$S/out-$case_name" --blocks "${BLOCKS:-3}" --quiet "$@"
  expect_success "$case_name" "$S/$case_name"
}
# same CASE SPLIT EXPECTED_FILE: the dataset's SPLIT ratings, sorted, equal the file's.
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
# dedup POLICY: the reference resolution of the repeated pairs of the
# ratings on stdin (user,item,rating,time), as user,item,rating,time.
dedup() {
  sort -t, -k1,1 -k2,2 -k4,4n -s | awk -F, -v policy="$1" '
    function out() { if (n) printf "%s,%s,%s,%s\n", key_u, key_i, policy == "mean" ? sum / n : policy == "max" ? max : last, t }
    { if ($1 != key_u || $2 != key_i) { out(); key_u = $1; key_i = $2; n = 0; sum = 0; max = -1e9 }
      n++; sum += $3; if ($3 > max) max = $3; last = $3; t = $4 }
    END { out() }'
}

# ------------------------------------------------------------------ duplicates
for policy in last mean max; do
  run_case dedup-$policy --input "$DUMP" --time-column time --dedup $policy
  tail -n +2 "$DUMP" | dedup $policy | cut -d, -f1-3 >"$S/expected-dedup-$policy"
  same dedup-$policy train "$S/expected-dedup-$policy"
done
tail -n +2 "$DUMP" | dedup last >"$S/clean.csv"  # the deduplicated ratings, the input of the references below

# ------------------------------------------------------------------ rating range
# Out-of-range lines go first, so a repeated pair keeps its last in-range rating.
run_case range --input "$DUMP" --time-column time --min-rating 2 --max-rating 4
awk -F, 'NR > 1 && $3 >= 2 && $3 <= 4' "$DUMP" >"$S/in-range.csv"
dedup last <"$S/in-range.csv" | cut -d, -f1-3 >"$S/expected-range"
same range train "$S/expected-range"

# ------------------------------------------------------------------ count filters
# Once: on the counts of the whole input.
run_case counts --input "$DUMP" --time-column time --min-user-ratings 9 --min-item-ratings 24
awk -F, 'NR == FNR { du[$1]++; di[$2]++; next } du[$1] >= 9 && di[$2] >= 24 { print $1 "," $2 "," $3 }' \
  "$S/clean.csv" "$S/clean.csv" >"$S/expected-counts"
same counts train "$S/expected-counts"
# k-core: peel until every user has >= 9 and every item >= 24 of the rest.
run_case kcore --input "$DUMP" --time-column time --min-user-ratings 9 --min-item-ratings 24 --k-core
awk -F, '{ u[NR] = $1; i[NR] = $2; r[NR] = $3; alive[NR] = 1; n = NR }
  END {
    do {
      changed = 0; delete du; delete di
      for (k = 1; k <= n; k++) if (alive[k]) { du[u[k]]++; di[i[k]]++ }
      for (k = 1; k <= n; k++) if (alive[k] && (du[u[k]] < 9 || di[i[k]] < 24)) { alive[k] = 0; changed = 1 }
    } while (changed)
    for (k = 1; k <= n; k++) if (alive[k]) print u[k] "," i[k] "," r[k]
  }' "$S/clean.csv" >"$S/expected-kcore"
same kcore train "$S/expected-kcore"
check kcore "the k-core took several rounds" grep -q "(k-core: [2-9][0-9]* rounds)" "$S/kcore.rank0.out"
check kcore "the reference keeps some, and less than the one-pass filters (so the cases differ)" \
  test "$(wc -l <"$S/expected-kcore")" -gt 100 -a "$(wc -l <"$S/expected-kcore")" -lt "$(wc -l <"$S/expected-counts")"

# ------------------------------------------------------------------ per-user splits
# The last 2 of each user by time (then input order), never a user's only one.
run_case last-2 --input "$DUMP" --time-column time --test-per-user 2
sort -t, -k1,1 -k4,4n -s "$S/clean.csv" | awk -F, '
  function flush() { for (k = 1; k <= n; k++) print line[k] "," (k > n - (n > 2 ? 2 : n - 1) ? "test" : "train") }
  $1 != user { flush(); user = $1; n = 0 } { line[++n] = $1 "," $2 "," $3 } END { flush() }' >"$S/split-last-2"
grep ',test$' "$S/split-last-2" | cut -d, -f1-3 >"$S/expected-last-2-test"
grep ',train$' "$S/split-last-2" | cut -d, -f1-3 >"$S/expected-last-2-train"
same last-2 test "$S/expected-last-2-test"
same last-2 train "$S/expected-last-2-train"
# Random 3 per user: min(3, degree - 1) each, and nothing lost.
run_case random-3 --input "$DUMP" --time-column time --test-per-user 3 --test-pick random
"$DALS_INSPECT" "$S/out-random-3" --dump test | cut -d, -f1 | sort | uniq -c | awk '{ print $2 "," $1 }' >"$S/random-3.got"
cut -d, -f1 "$S/clean.csv" | sort | uniq -c | awk '{ k = $1 - 1; if (k > 3) k = 3; if (k > 0) print $2 "," k }' \
  >"$S/random-3.want"
check random-3 "each user holds out min(3, its ratings - 1)" cmp -s <(sort "$S/random-3.want") <(sort "$S/random-3.got")
cut -d, -f1-3 "$S/clean.csv" >"$S/expected-all"
{ "$DALS_INSPECT" "$S/out-random-3" --dump train; "$DALS_INSPECT" "$S/out-random-3" --dump test; } >"$S/random-3.all"
check random-3 "train + test is the whole input" cmp -s <(sort "$S/expected-all") <(sort "$S/random-3.all")

# ------------------------------------------------------------------ fraction: the rule of dals-import
awk -F, 'NR > 1 { sub(/^u/, "", $1); sub(/^i/, "", $2); print $1 "," $2 "," $3 }' "$S/clean.csv" |
  sed '1i user,item,rating' >"$S/ints.csv"
run_case fraction --input "$S/ints.csv" --test-fraction 0.2 --seed 4
run_one "$S/import" "$DALS_IMPORT" --input "$S/ints.csv" --output "$S/out-import" --blocks 3 --test-fraction 0.2 --seed 4
expect_success import "$S/import"
check fraction "the same dataset as dals-import with the same seed" \
  test "$(json_field "$S/out-fraction/manifest.json" .fingerprint)" = "$(json_field "$S/out-import/manifest.json" .fingerprint)"

# ------------------------------------------------------------------ test files and cold start
grep -v '^u1,' "$S/clean.csv" | grep -v ',i1,' | cut -d, -f1-3 | sed '1i user,item,rating' >"$S/train.csv"
# 3 cold-start ratings, and one pair that is also a training rating (dropped)
overlap=$(grep -v '^user,' "$S/train.csv" | head -n 1 | cut -d, -f1-2)
printf 'user,item,rating\nu2,i2,5\nu1,i2,4\nu2,i1,3\nnewcomer,i3,2\n%s,1\n' "$overlap" >"$S/test.csv"
for cold in drop keep; do
  run_case cold-$cold --input "$S/train.csv" --test-input "$S/test.csv" --cold-start $cold
  check cold-$cold "3 cold-start ratings counted" grep -q "test: 3 cold-start ratings" "$S/cold-$cold.rank0.out"
  check cold-$cold "the test rating of a training pair is dropped" \
    grep -q "; 1 dropped as pairs also in the training input" "$S/cold-$cold.rank0.out"
  grep -v '^user,' "$S/test.csv" | grep -v "^$overlap," | { [[ $cold == drop ]] && grep '^u2,i2,' || cat; } \
    >"$S/expected-cold-$cold"
  same cold-$cold test "$S/expected-cold-$cold"
done
check cold-keep "kept cold users are in the dataset" \
  test "$(json_field "$S/out-cold-keep/manifest.json" .users)" = "$(json_field "$S/out-cold-drop/manifest.json" '.users + 2')"

# ------------------------------------------------------------------ implicit events
printf 'u,i\na,x\na,x\na,y\nb,x\na,x\n' >"$S/events.csv"
BLOCKS=1 run_case implicit --input "$S/events.csv" --implicit
printf 'a,x,3\na,y,1\nb,x,1\n' >"$S/expected-implicit"
same implicit train "$S/expected-implicit"

cli_finish
