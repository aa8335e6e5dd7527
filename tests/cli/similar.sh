#!/usr/bin/env bash
# dals-recommend --similar-items and --similar-users end to end: each trained
# item's (user's) top-5 by the cosine of the factors equals the brute force
# of dals-test-recommend-ref (itself left out, untrained rows never listed,
# ties to the lower dense id), the same bytes at P = 1, 3 and 1 or 2
# threads, explicit and implicit; --items lists only the known ids given
# and counts the others; misused flags are refused.
#
# Usage (as ctest runs it): bash similar.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_REF=$(find_tool dals-test-recommend-ref)
require_tools DALS_TRAIN DALS_GENERATE DALS_RECOMMEND DALS_REF

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

# refused CASE NP SUBSTRING... -- ARGS...: DALS_RECOMMEND must fail with one error line.
refused() { refused_run "$DALS_RECOMMEND" "$@"; }

parts() { cat "$1"/part-*."${2:-tsv}"; }

# Sparse enough that some items have no training rating (never listed).
DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 3000 --blocks 3 --seed 5 --round \
  --min-degree 1 --user-skew 2 --test-fraction 0.3 --output "$DATA"
run train-explicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/explicit" -k 6 --iterations 3 --threads 1 --quiet
run train-implicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/implicit" -k 6 --iterations 3 --threads 1 \
  --quiet --implicit

for kind in explicit implicit; do
  M=$SCRATCH/$kind
  for side in items users; do
    "$DALS_REF" --similar "$side" "$M" "$DATA" 5 >"$SCRATCH/$kind-$side.ref"
    check "$kind-$side-ref" "the brute-force reference ran" test -s "$SCRATCH/$kind-$side.ref"
    for np in 1 3; do
      run "$kind-$side-np$np" "$np" "$DALS_RECOMMEND" --model "$M" --data "$DATA" --"similar-$side" \
        --output "$SCRATCH/$kind-$side-$np" --k 5 --threads 1
      check "$kind-$side-np$np" "$np part(s), concatenated equal to the brute force" \
        cmp -s <(parts "$SCRATCH/$kind-$side-$np") "$SCRATCH/$kind-$side.ref"
    done
    run "$kind-$side-t2" 1 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --"similar-$side" \
      --output "$SCRATCH/$kind-$side-t2" --k 5 --threads 2
    check "$kind-$side-t2" "2 threads: the same bytes" cmp -s <(parts "$SCRATCH/$kind-$side-t2") \
      "$SCRATCH/$kind-$side.ref"
  done
done
listed=$(cut -f 1 "$SCRATCH/explicit-items.ref" | sort -u | wc -l)
check untrained "items without training ratings have no list ($listed of 200 listed)" test "$listed" -lt 200
check untrained "and are counted" \
  grep -qE '"items_without_training_ratings": [1-9]' "$SCRATCH/explicit-items-3/recommendations.json"
check self "no item is its own neighbour" test -z "$(awk -F '\t' '$1 == $2' "$SCRATCH/explicit-items.ref")"

# --items: two known ids (the last and the first), one unknown, a repeat.
first=$(head -n 1 "$SCRATCH/explicit-items.ref" | cut -f 1)
last=$(tail -n 1 "$SCRATCH/explicit-items.ref" | cut -f 1)
printf '%s\nno-such-item\n%s\n%s\n' "$last" "$first" "$last" >"$SCRATCH/items.txt"
run items 2 "$DALS_RECOMMEND" --model "$SCRATCH/explicit" --data "$DATA" --similar-items --items "$SCRATCH/items.txt" \
  --output "$SCRATCH/some" --k 5 --format csv
check items "only the given items' lists, as in the full output (CSV)" cmp -s <(parts "$SCRATCH/some" csv) \
  <(awk -F '\t' -v a="$first" -v b="$last" '$1 == a || $1 == b' "$SCRATCH/explicit-items.ref" | tr '\t' ,)
check items "the unknown id is counted" grep -q '"item_ids_unknown": 1' "$SCRATCH/some/recommendations.json"

EXPECT_EXIT_CODE=2 refused items-alone 1 "--items needs --similar-items" -- --model "$SCRATCH/explicit" \
  --data "$DATA" --items "$SCRATCH/items.txt" --output "$SCRATCH/x"
EXPECT_EXIT_CODE=2 refused two-modes 2 "exclude each other" -- --model "$SCRATCH/explicit" --data "$DATA" \
  --similar-items --similar-users --output "$SCRATCH/x"
refused no-items-file 2 "$SCRATCH/none.txt" -- --model "$SCRATCH/explicit" --data "$DATA" --similar-items \
  --items "$SCRATCH/none.txt" --output "$SCRATCH/x"
check refusals "nothing published by any refused run, no staging left" test ! -e "$SCRATCH/x" -a ! -e "$SCRATCH/x.tmp"

cli_finish
