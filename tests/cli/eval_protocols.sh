#!/usr/bin/env bash
# dals-eval's two other protocols end to end.
#  - --test-file: the dataset's own test split dumped with raw ids
#    (dals-inspect --dump test) gives the same figures as the default
#    evaluation, explicit and implicit, drop and mean; lines of users and
#    items the dataset lacks are counted and, as cold entries, dropped or
#    predicted by mu plus the known bias; the same bytes at P = 1 and 3.
#  - --strong-generalization: half the users of a generated dataset are
#    removed before partitioning and given with all their entries; the JSON
#    is the same bytes at P = 1, 3 and 2 threads (three chunks of users);
#    the split (--split-output) scores floor(0.2 n) of each user's n
#    entries and changes with --seed; and precision and recall at 10 equal
#    those computed here from dals-recommend --fold-in's lists of the same
#    fold-in part (the same fold-in, the same ranking) against the scored
#    part; the explicit RMSE equals the one computed here from the
#    folded-in factors and the exported item factors.
#  - Refusals: a missing file, a malformed line (FILE:LINE), a fraction
#    outside (0, 1), both protocols at once, --split-output alone or over a
#    file it did not write.
#
# Usage (as ctest runs it): bash eval_protocols.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_EVAL=$(find_tool dals-eval)
DALS_PARTITION=$(find_tool dals-partition)
DALS_INSPECT=$(find_tool dals-inspect)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_EXPORT=$(find_tool dals-export)
require_tools DALS_TRAIN DALS_GENERATE DALS_PARTITION DALS_EVAL DALS_INSPECT DALS_RECOMMEND DALS_EXPORT
require_commands jq cmp awk

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

# refused CASE NP SUBSTRING... -- ARGS...: DALS_EVAL must fail with one error line.
refused() { refused_run "$DALS_EVAL" "$@"; }

same_text() { check "$1" "$2 ($3 = $4)" test -n "$3" -a "$3" = "$4"; }
fixed() { printf "%.${1}f" "$2"; }

# A generated dataset; its ratings (train and test) with raw ids; users with
# an even raw id held out, the others partitioned and trained on.
GEN=$SCRATCH/gen
run generate 1 "$DALS_GENERATE" --users 1200 --items 150 --ratings 24000 --blocks 3 --seed 11 --round --output "$GEN"
{
  "$DALS_INSPECT" "$GEN" --dump train
  "$DALS_INSPECT" "$GEN" --dump test
} >"$SCRATCH/all.csv"
awk -F, '$1 % 2 == 0' "$SCRATCH/all.csv" >"$SCRATCH/held-out.csv"
awk -F, '$1 % 2 != 0' "$SCRATCH/all.csv" >"$SCRATCH/rest.csv"
DATA=$SCRATCH/data
run partition 1 "$DALS_PARTITION" --input "$SCRATCH/rest.csv" --test-fraction 0.2 --blocks 3 --output "$DATA" --quiet
for kind in explicit implicit; do
  flag=()
  [[ $kind == implicit ]] && flag=(--implicit)
  run "train-$kind" 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/$kind" -k 6 --iterations 3 --threads 1 \
    --quiet "${flag[@]}"
done

# --test-file of the dataset's own test split: the default's figures.
"$DALS_INSPECT" "$DATA" --dump test >"$SCRATCH/test.csv"
check dump "the dump has the test split's lines" test "$(wc -l <"$SCRATCH/test.csv")" = \
  "$(jq -r .test.ratings "$DATA/manifest.json")"
# Three lines the dataset lacks ids of (two new users, one new item) and a
# repeated pair.
first_line=$(head -n 1 "$SCRATCH/test.csv")
IFS=, read -r u0 i0 _ <<<"$first_line"
{
  cat "$SCRATCH/test.csv"
  echo "77777,$i0,4"
  echo "77779,999999,2"
  echo "$u0,999999,5"
  echo "$first_line"
} >"$SCRATCH/test-plus.csv"
for kind in explicit implicit; do
  for cold in drop mean; do
    M=$SCRATCH/$kind
    base=$SCRATCH/$kind-$cold
    run "$kind-$cold-split" 1 "$DALS_EVAL" --model "$M" --data "$DATA" --k 5,10 --cold-start "$cold" \
      --output "$base-split.json"
    for np in 1 3; do
      run "$kind-$cold-file-np$np" "$np" "$DALS_EVAL" --model "$M" --data "$DATA" --k 5,10 --cold-start "$cold" \
        --test-file "$SCRATCH/test.csv" --output "$base-file-$np.json"
      run "$kind-$cold-plus-np$np" "$np" "$DALS_EVAL" --model "$M" --data "$DATA" --k 5,10 --cold-start "$cold" \
        --test-file "$SCRATCH/test-plus.csv" --output "$base-plus-$np.json"
    done
    check "$kind-$cold-file" "--test-file: the same bytes at P = 1 and 3" cmp -s "$base-file-1.json" \
      "$base-file-3.json"
    check "$kind-$cold-plus" "with unknown ids too" cmp -s "$base-plus-1.json" "$base-plus-3.json"
    jq -S 'del(.test_file)' "$base-file-1.json" >"$base-file-1.cut"
    jq -S . "$base-split.json" >"$base-split.cut"
    check "$kind-$cold-file" "the dumped test split: the default's figures" cmp -s "$base-file-1.cut" "$base-split.cut"
    same_text "$kind-$cold-plus" "counted: 2 new users (2 entries), 1 new item (2 entries), 4 lines more, 3 pairs" \
      "$(jq -c '.test_file | [.users_not_in_dataset, .entries_of_users_not_in_dataset, .items_not_in_dataset,
        .entries_of_items_not_in_dataset, .entries, .pairs]' "$base-plus-1.json")" \
      "[2,2,1,2,$(($(wc -l <"$SCRATCH/test.csv") + 4)),$(($(wc -l <"$SCRATCH/test.csv") + 3))]"
    same_text "$kind-$cold-plus" "the three new lines are cold" \
      "$(jq '.cold_start.ratings' "$base-plus-1.json")" "$(($(jq '.cold_start.ratings' "$base-split.json") + 3))"
    if [[ $kind == explicit ]]; then
      want=$(jq '.rating.ratings' "$base-split.json")
      [[ $cold == mean ]] && want=$((want + 3))
      same_text "$kind-$cold-plus" "$cold: the rated entries" "$(jq '.rating.ratings' "$base-plus-1.json")" "$want"
    fi
  done
done
check plus-table "the table shows the counts" \
  grep -q "not in the dataset (cold): 2 users (2 entries), 1 items (2 entries)" "$LOGS/explicit-drop-plus-np1.rank0.out"

# Strong generalisation: the same bytes for any P and thread count.
SG=$SCRATCH/held-out.csv
for kind in explicit implicit; do
  M=$SCRATCH/$kind
  for np in 1 3; do
    run "$kind-sg-np$np" "$np" "$DALS_EVAL" --model "$M" --data "$DATA" --k 10,20 --strong-generalization "$SG" \
      --split-output "$SCRATCH/$kind-split-$np.tsv" --output "$SCRATCH/$kind-sg-$np.json"
  done
  run "$kind-sg-t2" 3 "$DALS_EVAL" --model "$M" --data "$DATA" --k 10,20 --strong-generalization "$SG" \
    --threads 2 --output "$SCRATCH/$kind-sg-t2.json"
  check "$kind-sg" "the JSON is the same bytes at P = 1, 3" cmp -s "$SCRATCH/$kind-sg-1.json" "$SCRATCH/$kind-sg-3.json"
  check "$kind-sg" "and with 2 threads" cmp -s "$SCRATCH/$kind-sg-1.json" "$SCRATCH/$kind-sg-t2.json"
  check "$kind-sg" "the split is the same bytes" cmp -s "$SCRATCH/$kind-split-1.tsv" "$SCRATCH/$kind-split-3.tsv"
  J=$SCRATCH/$kind-sg-1.json
  check "$kind-sg" "more than two chunks of 256 users scored" test "$(jq .strong_generalization.users_scored "$J")" -gt 512
done
J=$SCRATCH/explicit-sg-1.json
S=$SCRATCH/explicit-split-1.tsv
same_text sg-users "every held-out user read" "$(jq .strong_generalization.users "$J")" \
  "$(cut -d, -f1 "$SG" | sort -u | wc -l)"
same_text sg-entries "every line counted" "$(jq .strong_generalization.entries "$J")" "$(wc -l <"$SG")"
same_text sg-split "the split file holds the known entries" "$(($(wc -l <"$S") - 1))" \
  "$(jq '.strong_generalization | .entries - .entries_of_unknown_items' "$J")"
# Per user: floor(0.2 n) scored (the rest folded in), and the JSON's sums.
counts=$(awk -F'\t' 'NR > 1 { n[$1]++; if ($4 == "scored") s[$1]++ }
  END { bad = 0; for (u in n) { want = int(0.2 * n[u] + 1e-9); if (s[u] + 0 != want) bad++; f += n[u] - want; t += want }
        print bad, f, t }' "$S")
same_text sg-split "no user off floor(0.2 n); fold-in and scored entries" "$counts" \
  "$(jq -r '.strong_generalization | "0 \(.fold_in_entries) \(.scored_entries)"' "$J")"
run sg-seed 1 "$DALS_EVAL" --model "$SCRATCH/explicit" --data "$DATA" --strong-generalization "$SG" --seed 2 \
  --split-output "$SCRATCH/split-seed2.tsv" --quiet
check sg-seed "another --seed, another split" test "$(cmp -s "$S" "$SCRATCH/split-seed2.tsv"; echo $?)" = 1
check sg-json "popularity beside, and explicit RMSE" jq -e '.ranking.popularity.at[0].precision > 0 and
  .rating.model.rmse > 0 and .rating.global_mean.rmse > 0 and .cold_start.ratings == 0' "$J"

# The metrics against dals-recommend --fold-in on the same fold-in part:
# precision and recall at 10 of its lists against the scored part.
for kind in explicit implicit; do
  S=$SCRATCH/$kind-split-1.tsv
  awk -F'\t' 'NR > 1 && $4 == "fold-in" { print $1 "," $2 "," $3 }' "$S" >"$SCRATCH/$kind-fold.csv"
  run "$kind-recommend" 1 "$DALS_RECOMMEND" --model "$SCRATCH/$kind" --data "$DATA" --fold-in "$SCRATCH/$kind-fold.csv" \
    --k 10 --min-item-ratings 0 --output "$SCRATCH/$kind-lists" --quiet
  ref=$(awk -F'\t' -v K=10 'FNR == 1 { file++ }
    file == 1 && FNR > 1 && $4 == "scored" { rel[$1 SUBSEP $2] = 1; n[$1]++ }
    file == 2 && $4 <= K && (($1 SUBSEP $2) in rel) { hit[$1]++ }
    END { for (u in n) { p += hit[u] / K; r += hit[u] / n[u]; c++ }; printf "%.6f %.6f %d", p / c, r / c, c }' \
    "$S" "$SCRATCH/$kind-lists/part-00000.tsv")
  J=$SCRATCH/$kind-sg-1.json
  same_text "$kind-sg-reference" "P@10, R@10 and users = those of dals-recommend's fold-in lists" \
    "$(fixed 6 "$(jq '.ranking.model.at[0].precision' "$J")") $(fixed 6 "$(jq '.ranking.model.at[0].recall' "$J")") $(
      jq '.ranking.users' "$J")" "$ref"
  check "$kind-sg-reference" "with hits" jq -e '.ranking.model.at[0].precision > 0' "$J"
done

# The explicit RMSE against mu + b_u + c_j + u . v computed here from the
# folded-in factors (dals-recommend --fold-in-factors) and the model's item
# factors (dals-export --format tsv), to 6 digits (float32 factors).
S=$SCRATCH/explicit-split-1.tsv
run explicit-factors 1 "$DALS_RECOMMEND" --model "$SCRATCH/explicit" --data "$DATA" \
  --fold-in "$SCRATCH/explicit-fold.csv" --fold-in-factors --k 1 --output "$SCRATCH/explicit-factors" --quiet
run explicit-export 1 "$DALS_EXPORT" --model "$SCRATCH/explicit" --data "$DATA" --format tsv \
  --output "$SCRATCH/explicit-export" --quiet
rmse=$(awk -F'\t' -v MU="$(jq -r .mean "$DATA/manifest.json")" 'FNR == 1 { file++ }
  file == 1 { k = NF - 2; for (d = 1; d <= NF - 1; d++) u[$1, d] = $(d + 1) }
  file == 2 && FNR > 1 { for (d = 1; d <= NF - 1; d++) v[$1, d] = $(d + 1) }
  file == 3 && FNR > 1 && $4 == "scored" {
    p = MU + u[$1, k + 1] + v[$2, k + 1]; for (d = 1; d <= k; d++) p += u[$1, d] * v[$2, d]
    e += ($3 - p) ^ 2; n++ }
  END { printf "%.6f %d", sqrt(e / n), n }' "$SCRATCH/explicit-factors/factors-00000.tsv" \
  "$SCRATCH/explicit-export/items.tsv" "$S")
same_text explicit-sg-rmse "RMSE and ratings = those computed from the exported factors" \
  "$(fixed 6 "$(jq '.rating.model.rmse' "$SCRATCH/explicit-sg-1.json")") $(jq '.rating.ratings' \
    "$SCRATCH/explicit-sg-1.json")" "$rmse"

# Refusals.
M=$SCRATCH/explicit
refused missing-test-file 3 "$SCRATCH/none.csv" -- --model "$M" --data "$DATA" --test-file "$SCRATCH/none.csv" \
  --output "$SCRATCH/x.json"
refused missing-sg-file 3 "$SCRATCH/none.csv" -- --model "$M" --data "$DATA" --strong-generalization \
  "$SCRATCH/none.csv" --output "$SCRATCH/x.json"
printf '1,2,3\n# a comment\n5,6\n' >"$SCRATCH/bad.csv"
refused malformed-test-file 3 "bad.csv:3:" "expected \`user item value\`" -- --model "$M" --data "$DATA" \
  --test-file "$SCRATCH/bad.csv" --output "$SCRATCH/x.json"
printf '1,2,3\n5,6,x\n' >"$SCRATCH/bad-value.csv"
refused malformed-sg-file 2 "bad-value.csv:2:" "'x' is not a finite number" -- --model "$M" --data "$DATA" \
  --strong-generalization "$SCRATCH/bad-value.csv" --output "$SCRATCH/x.json"
for f in 0 1 1.5 -0.2; do
  EXPECT_EXIT_CODE=2 refused "fraction-$f" 2 "--fold-in-fraction must be in (0, 1)" -- --model "$M" --data "$DATA" \
    --strong-generalization "$SG" --fold-in-fraction "$f" --output "$SCRATCH/x.json"
done
EXPECT_EXIT_CODE=2 refused both-protocols 1 "give one" -- --model "$M" --data "$DATA" --strong-generalization "$SG" \
  --test-file "$SCRATCH/test.csv"
EXPECT_EXIT_CODE=2 refused split-alone 1 "--split-output" -- --model "$M" --data "$DATA" \
  --split-output "$SCRATCH/x.tsv"
refused split-exists 2 "already exists" -- --model "$M" --data "$DATA" --strong-generalization "$SG" \
  --split-output "$SCRATCH/explicit-split-1.tsv" --output "$SCRATCH/x.json"
refused split-foreign 2 "not a dals-eval --split-output" -- --model "$M" --data "$DATA" --strong-generalization "$SG" \
  --split-output "$SCRATCH/test.csv" --force --output "$SCRATCH/x.json"
check refusals "nothing written by any refused run" test ! -e "$SCRATCH/x.json" -a ! -e "$SCRATCH/x.tsv"
run split-force 1 "$DALS_EVAL" --model "$M" --data "$DATA" --strong-generalization "$SG" --quiet \
  --split-output "$SCRATCH/split-seed2.tsv" --force
check split-force "--force replaces its own split" cmp -s "$SCRATCH/split-seed2.tsv" "$SCRATCH/explicit-split-1.tsv"

cli_finish
