#!/usr/bin/env bash
# dals-partition round trip: a dump with a header, string ids (UTF-8, a
# quoted id with a comma, integer-looking ids) and duplicate (user, item)
# pairs is partitioned on 1 and 3 ranks; read back, each dataset holds
# exactly the expected ratings (the last of each duplicate) under the right
# raw ids, in both orientations; both are identical; blocks are balanced
# within the stated bound; raw ids look up to their dense ids.
#
# Usage (as ctest runs it): bash partition_roundtrip.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
DALS_INSPECT=$(find_tool dals-inspect)
require_tools DALS_PARTITION DALS_INSPECT
require_commands jq

DUMP=$SCRATCH/dump.csv
EXPECTED=$SCRATCH/expected.csv
# The generator writes the dump and, beside it, what the dataset must hold.
awk -v expected="$EXPECTED" 'BEGIN {
  print "user,item,rating"
  for (u = 1; u <= 400; u++)
    for (i = 1; i <= 40; i++)
      if ((u * 7 + i * 3) % 4 == 0 || i == u % 40 + 1 || (i <= 3 && u % 2 == 0)) {  # items 1-3 popular
        user = (u % 5 == 0) ? u * 1000 : (u % 5 == 1 ? "zoë-" u : "user-" u)
        item = (i % 7 == 0) ? "\"item, " i "\"" : "item" i
        r = 1 + (u + i) % 5
        if (i % 2) r = r - 0.5
        print user "," item "," r
        value[user "," item] = r
        if ((u + i) % 9 == 0) {  # a duplicate, later in the file: it wins (--dedup last)
          r = 1 + (u * i) % 5
          print user "," item "," r
          value[user "," item] = r
        }
      }
  for (k in value) print k "," value[k] > expected
}' >"$DUMP"
sort -o "$EXPECTED" "$EXPECTED"
duplicates=$(($(wc -l <"$DUMP") - 1 - $(wc -l <"$EXPECTED")))

for np in 1 3; do
  case_name=roundtrip-np$np
  out=$SCRATCH/data-np$np
  run_ranks $np "$SCRATCH/$case_name" "$DALS_PARTITION" --input "$DUMP" --header --output "$out" --blocks 4 --seed 9
  expect_success $case_name "$SCRATCH/$case_name" || continue
  check $case_name "summary counts $duplicates duplicates merged" \
    grep -q "; $duplicates duplicates merged" "$SCRATCH/$case_name.rank0.out"
  for by in users items; do
    "$DALS_INSPECT" "$out" --dump train --by $by | sort >"$SCRATCH/$case_name.$by.csv"
    if diff -q "$EXPECTED" "$SCRATCH/$case_name.$by.csv" >/dev/null; then
      pass $case_name "by-$by blocks hold exactly the expected $(wc -l <"$EXPECTED") ratings under their raw ids"
    else
      fail $case_name "by-$by blocks differ from the expected ratings:"
      diff "$EXPECTED" "$SCRATCH/$case_name.$by.csv" | head -n 10 | sed 's/^/    | /' >&2
    fi
  done
  check $case_name "dals-inspect finds nothing wrong" "$DALS_INSPECT" --quiet "$out"
  # Stated bound: the heaviest block (ratings + rows) is at most 1.3 x the
  # mean for users (many light rows) and 1.5 x for items (40 heavy rows
  # over 4 blocks: one row is a tenth of a block).
  for side in user:1.3 item:1.5; do
    ratio=$(json_field "$out/manifest.json" '[.train[$s][] | .nnz + .rows] | (max / (add / length))' \
      --arg s "${side%%:*}_blocks")
    check $case_name "${side%%:*} blocks balanced: max / mean = $ratio <= ${side#*:}" \
      awk -v r="$ratio" -v b="${side#*:}" 'BEGIN { exit !(r <= b) }'
  done
done

check fingerprint "1 and 3 ranks write the same dataset" \
  test "$(json_field "$SCRATCH/data-np1/manifest.json" .fingerprint)" = \
  "$(json_field "$SCRATCH/data-np3/manifest.json" .fingerprint)"
# More ranks than blocks: some ranks write no block at all.
for np in 1 3; do
  run_ranks $np "$SCRATCH/two-blocks-np$np" "$DALS_PARTITION" --input "$DUMP" --header --output "$SCRATCH/b2-np$np" \
    --blocks 2 --seed 9 --quiet
  expect_success two-blocks-np$np "$SCRATCH/two-blocks-np$np"
done
check fingerprint "3 ranks and 2 blocks: the same dataset as 1 rank" \
  test "$(json_field "$SCRATCH/b2-np1/manifest.json" .fingerprint)" = \
  "$(json_field "$SCRATCH/b2-np3/manifest.json" .fingerprint)"

# Raw -> dense: every id found where the id map puts it; an absent id is not.
case_name=lookup
"$DALS_INSPECT" "$SCRATCH/data-np3" --user zoë-11 --user 5000 --item "item, 7" --item item3 >"$SCRATCH/lookup.out"
check $case_name "found ids print their dense id" test "$(grep -c 'dense id [0-9]' "$SCRATCH/lookup.out")" = 4
expected_dense=$(json_field "$SCRATCH/data-np3/manifest.json" .users)
if "$DALS_INSPECT" "$SCRATCH/data-np3" --user nobody >"$SCRATCH/absent.out"; then
  fail $case_name "an absent id was found"
else
  check $case_name "an absent id is reported absent (exit 1)" grep -q "user nobody: not in the dataset" "$SCRATCH/absent.out"
fi
# The dense id of the first user of the dump by-user order is 0.
first_user=$("$DALS_INSPECT" "$SCRATCH/data-np3" --dump train | head -n 1 | cut -d, -f1)
check $case_name "the first user of the by-user order ($first_user) has dense id 0 of $expected_dense" \
  grep -q "dense id 0$" <("$DALS_INSPECT" "$SCRATCH/data-np3" --user "$first_user")

cli_finish
