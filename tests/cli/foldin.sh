#!/usr/bin/env bash
# dals-recommend --fold-in end to end.
#  - A training user folded in from their whole training history against the
#    item factors their trained factor was solved against reproduces that
#    factor bit for bit (tolerance 0), explicit and implicit. Those are the
#    item factors of a checkpoint taken between halves (iter-000002.5: its
#    users were just solved against its items); a finished model's items
#    moved once more after its users' last solve, so there the fold-in
#    differs (the difference is printed, not checked).
#  - Their lists equal the brute force of dals-test-recommend-ref on that
#    checkpoint; the same bytes at P = 1, 3 and 2 threads, CSV or blanks.
#  - An unknown item is counted and skipped; a new user with no known item
#    gets zero factors and the popularity list; a new user with an existing
#    user's history gets that user's factors; fold-in items are not listed.
#  - --update-model writes the model with the fold-in users of the dataset
#    given their fold-in factors (only their rows change) and a new user
#    added, a sound model (added users in depth: cli/foldin_add.sh).
#  - A missing file, a malformed line (FILE:LINE), a bad value and misused
#    flags are refused with one error line on every rank.
#
# Usage (as ctest runs it): bash foldin.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_REF=$(find_tool dals-test-recommend-ref)
DALS_INSPECT=$(find_tool dals-inspect)
DALS_MODEL_DIFF=$(find_tool dals-test-model-diff)
require_tools DALS_TRAIN DALS_GENERATE DALS_RECOMMEND DALS_REF DALS_INSPECT DALS_MODEL_DIFF

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

# refused CASE NP SUBSTRING... -- ARGS...: DALS_RECOMMEND must fail with one error line.
refused() { refused_run "$DALS_RECOMMEND" "$@"; }

parts() { cat "$1"/"${2:-part}"-*."${3:-tsv}"; }

DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 6000 --blocks 3 --seed 5 --round --output "$DATA"
"$DALS_INSPECT" "$DATA" --dump train >"$SCRATCH/history.csv"
check dump "the training history was dumped" test -s "$SCRATCH/history.csv"

# A checkpoint between halves: the run is stopped (exit 3) after the user
# half of iteration 3 (DALS_TEST_SIGNAL, crash_point.hpp).
for kind in explicit implicit; do
  flags=()
  [[ $kind == implicit ]] && flags=(--implicit)
  run "train-$kind" 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/$kind" -k 6 --iterations 3 --threads 1 \
    --quiet "${flags[@]}"
  run_ranks 1 "$LOGS/ckpt-$kind" env DALS_TEST_SIGNAL=user-half:0:3 "$DALS_TRAIN" --data "$DATA" \
    --output "$SCRATCH/unused-$kind" -k 6 --iterations 3 --threads 1 --quiet "${flags[@]}" \
    --checkpoint-dir "$SCRATCH/ckpt-$kind" --checkpoint-every 10
  CKPT=$SCRATCH/ckpt-$kind/iter-000002.5
  check "ckpt-$kind" "stopped between halves with a checkpoint (exit $(rank_code "$LOGS/ckpt-$kind" 0))" \
    test -f "$CKPT/COMPLETE"
  "$DALS_REF" --factors "$CKPT" "$DATA" >"$SCRATCH/$kind.factors.ref"
  "$DALS_REF" "$CKPT" "$DATA" 5 >"$SCRATCH/$kind.lists.ref"
  for np in 1 3; do
    run "$kind-np$np" "$np" "$DALS_RECOMMEND" --model "$CKPT" --data "$DATA" --fold-in "$SCRATCH/history.csv" \
      --fold-in-factors --output "$SCRATCH/$kind-out$np" --k 5 --threads 1
    check "$kind-np$np" "every user's fold-in factors are the checkpoint's, bit for bit" \
      cmp -s <(parts "$SCRATCH/$kind-out$np" factors) "$SCRATCH/$kind.factors.ref"
    check "$kind-np$np" "their lists equal the brute force on the checkpoint" \
      cmp -s <(parts "$SCRATCH/$kind-out$np") "$SCRATCH/$kind.lists.ref"
  done
  tr , '\t' <"$SCRATCH/history.csv" >"$SCRATCH/history.tsv"
  run "$kind-threads2" 1 "$DALS_RECOMMEND" --model "$CKPT" --data "$DATA" --fold-in "$SCRATCH/history.tsv" \
    --fold-in-factors --output "$SCRATCH/$kind-t2" --k 5 --threads 2
  check "$kind-threads2" "2 threads, tab-separated: the same bytes" \
    cmp -s <(parts "$SCRATCH/$kind-t2" factors) "$SCRATCH/$kind.factors.ref"
  # Against the finished model: informational only (see the header).
  run "$kind-final" 1 "$DALS_RECOMMEND" --model "$SCRATCH/$kind" --data "$DATA" --fold-in "$SCRATCH/history.csv" \
    --fold-in-factors --output "$SCRATCH/$kind-final" --k 5
  echo "info: $kind, fold-in against the finished model's items: max |difference| to the trained users' factors" \
    "$(paste <(parts "$SCRATCH/$kind-final" factors) <("$DALS_REF" --factors "$SCRATCH/$kind" "$DATA") |
      awk -F '\t' '{ n = NF / 2; for (i = 2; i <= n; i++) { d = $i - $(i + n); if (d < 0) d = -d; if (d > m) m = d } }
        END { print m }')"
done

# New users, unknown items, the fallback (explicit checkpoint).
CKPT=$SCRATCH/ckpt-explicit/iter-000002.5
first=$(head -n 1 "$SCRATCH/history.csv" | cut -d , -f 1)
{
  echo "# new users"
  grep "^$first," "$SCRATCH/history.csv" | sed "s/^$first,/clone,/"
  grep "^$first," "$SCRATCH/history.csv" | head -n 3 | sed "s/^$first,/newbie,/"
  echo "newbie,no-such-item,4"
  echo "ghost no-such-item 5"
  echo
  echo "ghost	also-unknown	1"
} >"$SCRATCH/new.txt"
run new-users 2 "$DALS_RECOMMEND" --model "$CKPT" --data "$DATA" --fold-in "$SCRATCH/new.txt" --fold-in-factors \
  --output "$SCRATCH/new" --k 5
check new-users "the unknown items are counted in one warning" \
  grep -q "3 of $(($(grep -c "^$first," "$SCRATCH/history.csv") + 6)) entries name an item not in the model" \
  "$LOGS/new-users.rank0.err"
check new-users "and in recommendations.json" \
  grep -q '"fold_in_unknown_item_entries": 3' "$SCRATCH/new/recommendations.json"
check new-users "one user without a known item" \
  grep -q '"fold_in_users_without_known_items": 1' "$SCRATCH/new/recommendations.json"
check new-users "users in the file's order: clone, newbie, ghost" \
  test "$(parts "$SCRATCH/new" factors | cut -f 1 | paste -sd ' ')" = "clone newbie ghost"
check new-users "clone has user $first's factors" \
  test "$(parts "$SCRATCH/new" factors | grep '^clone' | cut -f 2-)" = \
  "$(grep "^$first"$'\t' "$SCRATCH/explicit.factors.ref" | cut -f 2-)"
check new-users "ghost has zero factors and bias" \
  test -z "$(parts "$SCRATCH/new" factors | grep '^ghost' | cut -f 2- | tr '\t' '\n' | grep -v '^0$')"
# ghost's list: the most rated items, scored by their training ratings.
awk -F , '{ n[$2]++ } END { for (i in n) print i "\t" n[i] }' "$SCRATCH/history.csv" | sort -k2,2nr >"$SCRATCH/counts"
check new-users "ghost's list is the 5 most rated items, scores their counts" \
  awk -F '\t' 'NR == FNR { c[$1] = $2; if (FNR == 5) fifth = $2; next }
    $1 == "ghost" { seen++; if ($3 != c[$2] || $3 < fifth || (seen > 1 && $3 > prev)) bad = 1; prev = $3 }
    END { exit !(seen == 5 && !bad) }' "$SCRATCH/counts" <(parts "$SCRATCH/new")
check new-users "newbie's fold-in items are not listed" \
  test -z "$(grep '^newbie' <(parts "$SCRATCH/new") | cut -f 2 | grep -Fxf <(grep "^newbie," "$SCRATCH/new.txt" | cut -d , -f 2))"
check new-users "newbie has a list of 5" test "$(parts "$SCRATCH/new" | grep -c '^newbie')" = 5
printf 'user,item,rating\n' | cat - "$SCRATCH/new.txt" >"$SCRATCH/header.txt"
run header 1 "$DALS_RECOMMEND" --model "$CKPT" --data "$DATA" --fold-in "$SCRATCH/header.txt" --fold-in-header \
  --output "$SCRATCH/header" --k 5
check header "--fold-in-header skips the first line: the same lists" \
  cmp -s <(parts "$SCRATCH/header") <(parts "$SCRATCH/new")

# --update-model: user $first re-rated one item (and a new user): the new
# model is the finished one with exactly that user's row replaced by its
# fold-in factors; it is a sound model (dals-recommend reads it).
M=$SCRATCH/explicit
{
  grep "^$first," "$SCRATCH/history.csv" | awk -F , -v OFS=, 'NR == 1 { $3 = ($3 == 5 ? 1 : 5) } { print }'
  echo "900001,$(head -n 1 "$SCRATCH/history.csv" | cut -d , -f 2),3"
} >"$SCRATCH/rerated.csv"
run update 3 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --fold-in "$SCRATCH/rerated.csv" --fold-in-factors \
  --output "$SCRATCH/update-lists" --update-model "$SCRATCH/updated" --k 5
check update "the counts: 1 user updated, 1 added (cli/foldin_add.sh tests added users)" \
  grep -q "1 users updated, 0 without a known item kept, 1 added, 0 added before updated, 0 new" \
  "$LOGS/update.rank0.out"
"$DALS_REF" --factors "$SCRATCH/updated" "$DATA" >"$SCRATCH/updated.factors" 2>"$LOGS/updated.ref.err"
"$DALS_REF" --factors "$M" "$DATA" >"$SCRATCH/final.factors"
check update "only user $first's row differs from the model's" \
  test "$(diff "$SCRATCH/updated.factors" "$SCRATCH/final.factors" | grep -c '^<')" = 1
check update "and it is user $first's fold-in factors" \
  test "$(grep "^$first"$'\t' "$SCRATCH/updated.factors")" = "$(grep "^$first"$'\t' <(parts "$SCRATCH/update-lists" factors))"
# From the whole history against the checkpoint: the checkpoint's factors again, every block.
run update-same 2 "$DALS_RECOMMEND" --model "$SCRATCH/ckpt-explicit/iter-000002.5" --data "$DATA" \
  --fold-in "$SCRATCH/history.csv" --output "$SCRATCH/update-same-lists" --update-model "$SCRATCH/update-same"
check update-same "the checkpoint's factors and biases, bit for bit (dals-test-model-diff)" \
  "$DALS_MODEL_DIFF" "$SCRATCH/ckpt-explicit/iter-000002.5" "$SCRATCH/update-same"
run update-reads 2 "$DALS_RECOMMEND" --model "$SCRATCH/updated" --data "$DATA" --output "$SCRATCH/update-top" --k 5
check update-reads "the updated model's lists differ from the model's for user $first and the added 900001 only" \
  test "$(diff <("$DALS_REF" "$M" "$DATA" 5) <(parts "$SCRATCH/update-top") | grep '^[<>]' | cut -f 1 | cut -c 3- |
    sort -u | paste -sd ' ')" = "$(printf '%s\n' "$first" 900001 | sort | paste -sd ' ')"
refused update-exists 1 "already exists" -- --model "$M" --data "$DATA" --fold-in "$SCRATCH/rerated.csv" \
  --output "$SCRATCH/x" --update-model "$SCRATCH/updated"
run update-force 1 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --fold-in "$SCRATCH/rerated.csv" \
  --output "$SCRATCH/update-lists2" --update-model "$SCRATCH/updated" --force --k 5
refused update-lists-dir 1 "state.json" -- --model "$M" --data "$DATA" --fold-in "$SCRATCH/rerated.csv" \
  --output "$SCRATCH/x" --update-model "$SCRATCH/update-lists" --force
EXPECT_EXIT_CODE=2 refused update-self 1 "must name a new directory" -- --model "$M" --data "$DATA" \
  --fold-in "$SCRATCH/rerated.csv" --output "$SCRATCH/x" --update-model "$M/" --force

# Refusals.
refused missing 2 "$SCRATCH/none.txt" -- --model "$CKPT" --data "$DATA" --fold-in "$SCRATCH/none.txt" \
  --output "$SCRATCH/x"
printf '1,2,3\n\n1,2\n' >"$SCRATCH/short.txt"
refused short-line 3 "$SCRATCH/short.txt:3:" "expected \`user item value\`" -- --model "$CKPT" --data "$DATA" \
  --fold-in "$SCRATCH/short.txt" --output "$SCRATCH/x"
printf '1 2 3\n1 2 three\n' >"$SCRATCH/word.txt"
refused bad-value 2 "$SCRATCH/word.txt:2:" "not a finite number" -- --model "$CKPT" --data "$DATA" \
  --fold-in "$SCRATCH/word.txt" --output "$SCRATCH/x"
printf '1 2 0\n' >"$SCRATCH/zero.txt"
refused implicit-zero 2 "$SCRATCH/zero.txt:1:" "must be > 0" -- --model "$SCRATCH/implicit" --data "$DATA" \
  --fold-in "$SCRATCH/zero.txt" --output "$SCRATCH/x"
printf '1 2\n' >"$SCRATCH/events.txt"
run implicit-events 1 "$DALS_RECOMMEND" --model "$SCRATCH/implicit" --data "$DATA" --fold-in "$SCRATCH/events.txt" \
  --output "$SCRATCH/events" --k 3
EXPECT_EXIT_CODE=2 refused with-users 1 "--users" -- --model "$CKPT" --data "$DATA" --fold-in "$SCRATCH/new.txt" \
  --users "$SCRATCH/new.txt" --output "$SCRATCH/x"
EXPECT_EXIT_CODE=2 refused factors-alone 1 "--fold-in-factors" -- --model "$CKPT" --data "$DATA" \
  --fold-in-factors --output "$SCRATCH/x"
check refusals "nothing published by any refused run, no staging left" test ! -e "$SCRATCH/x" -a ! -e "$SCRATCH/x.tmp"

cli_finish
