#!/usr/bin/env bash
# dals-recommend --exclude-items FILE and --candidate-items FILE: users'
# top-K lists, --similar-items and --fold-in never list an excluded item and
# list only candidate items; equal to the brute force of
# dals-test-recommend-ref, the same bytes for 1 and 3 ranks and 2 threads;
# unknown ids are counted; an unreadable or empty file or a malformed line
# is refused with one error naming the file (and line) on every rank, with
# nothing published.
#
# Usage (as ctest runs it): bash item_lists.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_REF=$(find_tool dals-test-recommend-ref)
require_tools DALS_TRAIN DALS_GENERATE DALS_RECOMMEND DALS_REF

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
refused() { refused_run "$DALS_RECOMMEND" "$@"; }
parts() { cat "$1"/part-*.tsv; }

DATA=$SCRATCH/data
M=$SCRATCH/model
run generate 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 6000 --blocks 3 --seed 5 --round --output "$DATA"
run train 1 "$DALS_TRAIN" --data "$DATA" --output "$M" -k 6 --iterations 3 --threads 1 --quiet
"$DALS_REF" "$M" "$DATA" 5 >"$SCRATCH/plain.ref"

# Excluded: the five items listed most often (so the lists change), an
# unknown id, a blank line, one repeated. Candidates: every third listed item.
cut -f 2 "$SCRATCH/plain.ref" | sort | uniq -c | sort -k1,1nr -k2,2 | awk 'NR <= 5 { print $2 }' >"$SCRATCH/top5"
{ cat "$SCRATCH/top5"; printf '999998\n\n'; head -n 1 "$SCRATCH/top5"; } >"$SCRATCH/exclude.txt"
{ cut -f 2 "$SCRATCH/plain.ref" | sort -u | awk 'NR % 3 == 0'; echo 999999; } >"$SCRATCH/candidates.txt"

# same CASE REF-ARGS -- RECOMMEND-ARGS: 1 and 3 ranks and 2 threads equal the brute force.
same() {
  local case_name=$1 ref=() np
  shift
  while [[ $1 != -- ]]; do ref+=("$1"); shift; done
  shift
  "$DALS_REF" "$M" "$DATA" 5 "${ref[@]}" >"$SCRATCH/$case_name.ref"
  check "$case_name" "the brute force differs from the unfiltered lists" \
    bash -c '! cmp -s "$1" "$2"' _ "$SCRATCH/$case_name.ref" "$SCRATCH/plain.ref"
  for np in 1 3; do
    run "$case_name-np$np" "$np" "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/$case_name-$np" \
      --k 5 "$@"
    check "$case_name-np$np" "equal to the brute force" cmp -s <(parts "$SCRATCH/$case_name-$np") \
      "$SCRATCH/$case_name.ref"
  done
  run "$case_name-threads2" 1 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/$case_name-t2" \
    --k 5 --threads 2 "$@"
  check "$case_name-threads2" "2 threads: the same bytes" cmp -s <(parts "$SCRATCH/$case_name-t2") \
    "$SCRATCH/$case_name.ref"
}
same exclude --exclude "$SCRATCH/exclude.txt" -- --exclude-items "$SCRATCH/exclude.txt"
same candidates --candidates "$SCRATCH/candidates.txt" -- --candidate-items "$SCRATCH/candidates.txt"
same both --exclude "$SCRATCH/exclude.txt" --candidates "$SCRATCH/candidates.txt" -- \
  --exclude-items "$SCRATCH/exclude.txt" --candidate-items "$SCRATCH/candidates.txt"
check exclude "no excluded item is listed" bash -c '! cut -f 2 "$1" | grep -qxFf "$2"' _ \
  "$SCRATCH/exclude.ref" "$SCRATCH/top5"
check exclude "the unknown id is counted in recommendations.json" \
  grep -qzE '"exclude_items": \{[^}]*"unknown": 1' "$SCRATCH/exclude-3/recommendations.json"
check exclude "and said on stdout" grep -q "exclude.txt: 1 of 7 item ids are not in" "$LOGS/exclude-np3.rank0.out"

# --similar-items: the similar items are filtered alike (which items get a
# list is --items' choice).
"$DALS_REF" --similar items "$M" "$DATA" 3 --exclude "$SCRATCH/exclude.txt" --candidates "$SCRATCH/candidates.txt" \
  >"$SCRATCH/similar.ref"
run similar 2 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/similar" --k 3 --similar-items \
  --exclude-items "$SCRATCH/exclude.txt" --candidate-items "$SCRATCH/candidates.txt"
check similar "equal to the brute force" cmp -s <(parts "$SCRATCH/similar") "$SCRATCH/similar.ref"

# --fold-in: a user of two listed items; no excluded item in its list, nor
# in the popularity fallback of a user without a known item.
read -r item_a item_b < <(cut -f 2 "$SCRATCH/plain.ref" | sort -u | awk 'NR == 1 { a = $1 } NR == 2 { print a, $1 }')
printf 'new,%s,5\nnew,%s,4\nnobody,no-such-item,3\n' "$item_a" "$item_b" >"$SCRATCH/fold.csv"
run fold 2 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --output "$SCRATCH/fold" --k 10 --fold-in \
  "$SCRATCH/fold.csv" --exclude-items "$SCRATCH/exclude.txt" --min-item-ratings 1
check fold "lists for both users" test "$(cut -f 1 <(parts "$SCRATCH/fold") | sort -u | wc -l)" = 2
check fold "no excluded item listed" bash -c '! cut -f 2 <(cat "$1"/part-*.tsv) | grep -qxFf "$2"' _ \
  "$SCRATCH/fold" "$SCRATCH/top5"

# Bad files: one error naming the file (and line), on every rank; nothing published.
printf '' >"$SCRATCH/empty.txt"
printf '\n  \n' >"$SCRATCH/blank.txt"
printf '%s\n%s\t7\n' "$item_a" "$item_b" >"$SCRATCH/tab.txt"
printf '%s\nitem-x\n' "$item_a" >"$SCRATCH/word.txt"
refused missing 2 "missing.txt" -- --model "$M" --data "$DATA" --output "$SCRATCH/x" \
  --exclude-items "$SCRATCH/missing.txt"
refused empty 2 "empty.txt: no item ids" -- --model "$M" --data "$DATA" --output "$SCRATCH/x" \
  --candidate-items "$SCRATCH/empty.txt"
refused blank 2 "blank.txt: no item ids" -- --model "$M" --data "$DATA" --output "$SCRATCH/x" \
  --exclude-items "$SCRATCH/blank.txt"
refused tab 2 "tab.txt:2:" "one raw item id per line" -- --model "$M" --data "$DATA" --output "$SCRATCH/x" \
  --exclude-items "$SCRATCH/tab.txt"
refused word 3 "word.txt:2:" "not an integer id" -- --model "$M" --data "$DATA" --output "$SCRATCH/x" \
  --candidate-items "$SCRATCH/word.txt" --similar-items
refused fold-bad 2 "tab.txt:2:" -- --model "$M" --data "$DATA" --output "$SCRATCH/x" \
  --fold-in "$SCRATCH/fold.csv" --exclude-items "$SCRATCH/tab.txt"
check bad-files "nothing published" test ! -e "$SCRATCH/x"
EXPECT_EXIT_CODE=2 refused similar-users 1 "--similar-users lists users" -- --model "$M" --data "$DATA" \
  --output "$SCRATCH/x" --similar-users --exclude-items "$SCRATCH/exclude.txt"

cli_finish
