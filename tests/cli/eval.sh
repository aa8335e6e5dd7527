#!/usr/bin/env bash
# dals-eval end to end: the JSON of an explicit and an implicit model is the
# same bytes at P = 1, 2, 3 and 2 threads; with --cold-start mean the RMSE
# and MAE are dals-train's test RMSE and MAE of the last iteration (which
# predicts cold entries by the known biases too), and an implicit model's
# precision, recall and NDCG at 10 are those of its metrics.jsonl; the
# cold-start counts are right on a dataset built with known cold entries
# (drop leaves them out, mean keeps them); dals eval is the same tool; and
# a missing, damaged or foreign model, K <= 0 and an output that exists are
# refused with one error line on every rank.
#
# Usage (as ctest runs it): bash eval.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_EVAL=$(find_tool dals-eval)
DALS_CLI=$(find_tool dals)
DALS_PARTITION=$(find_tool dals-partition)
require_tools DALS_TRAIN DALS_GENERATE DALS_PARTITION DALS_EVAL DALS_CLI
require_commands jq cmp

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

# refused CASE NP SUBSTRING... -- ARGS...: DALS_EVAL must fail with one error line.
refused() { refused_run "$DALS_EVAL" "$@"; }

# same_text CASE WHAT A B: the two values are the same text (and not empty).
same_text() {
  check "$1" "$2 ($3 = $4)" test -n "$3" -a "$3" = "$4"
}

# jq_true FILE FILTER: jq's FILTER is true of FILE.
jq_true() { jq -e "$2" "$1" >/dev/null; }

# fixed DIGITS VALUE: VALUE printed with DIGITS decimals.
fixed() { printf "%.${1}f" "$2"; }

# A generated dataset has items whose ratings all went to the test split
# (cold items), and users and items in every block.
DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 6000 --blocks 3 --seed 5 --round --output "$DATA"
run generate-other 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 6000 --blocks 3 --seed 6 --round \
  --output "$SCRATCH/other-data"
run train-explicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/explicit" -k 6 --iterations 3 --threads 1 --quiet
run train-implicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/implicit" -k 6 --iterations 3 --threads 1 \
  --quiet --implicit

# The same bytes for any P and thread count, both cold-start strategies.
for kind in explicit implicit; do
  M=$SCRATCH/$kind
  for cold in drop mean; do
    for np in 1 2 3; do
      run "$kind-$cold-np$np" "$np" "$DALS_EVAL" --model "$M" --data "$DATA" --k 5,10 --cold-start "$cold" \
        --output "$SCRATCH/$kind-$cold-$np.json"
    done
    run "$kind-$cold-threads2" 2 "$DALS_EVAL" --model "$M" --data "$DATA" --k 5,10 --cold-start "$cold" \
      --threads 2 --output "$SCRATCH/$kind-$cold-t2.json"
    for other in 2 3 t2; do
      check "$kind-$cold-$other" "the JSON is the same bytes as at P = 1" \
        cmp -s "$SCRATCH/$kind-$cold-1.json" "$SCRATCH/$kind-$cold-$other.json"
    done
  done
done
E=$SCRATCH/explicit-drop-1.json
check explicit-json "format dals-eval" grep -q '"format": "dals-eval"' "$E"
check explicit-table "the table shows the model, the baselines and the K" \
  grep -q "bias only (mu + b_i + c_j)" "$LOGS/explicit-drop-np1.rank0.out"
check explicit-table "and popularity" grep -qE '^  popularity +0\.[0-9]' "$LOGS/explicit-drop-np1.rank0.out"
check implicit-json "an implicit model has no rating figures" \
  test "$(jq -c .rating "$SCRATCH/implicit-drop-1.json")" = null

# The model's RMSE and MAE with --cold-start mean are dals-train's test
# RMSE and MAE of the last iteration, to the 9 digits printed here.
last=$(tail -n 1 "$SCRATCH/explicit/metrics.jsonl")
EM=$SCRATCH/explicit-mean-1.json
same_text rmse "mean: RMSE = metrics.jsonl's test_rmse" "$(fixed 9 "$(json_field "$EM" .rating.model.rmse)")" \
  "$(fixed 9 "$(jq -r .test_rmse <<<"$last")")"
same_text mae "mean: MAE = metrics.jsonl's test_mae" "$(fixed 9 "$(json_field "$EM" .rating.model.mae)")" \
  "$(fixed 9 "$(jq -r .test_mae <<<"$last")")"
test_ratings=$(json_field "$E" .test_ratings)
same_text mean-count "mean: every test rating is predicted" "$(json_field "$EM" .rating.ratings)" "$test_ratings"
cold=$(json_field "$E" .cold_start.ratings)
check drop-count "the generated dataset has cold entries" test "$cold" -gt 0
same_text drop-count "drop: the cold ones are left out" "$(json_field "$E" .rating.ratings)" \
  "$((test_ratings - cold))"
check baselines "the model beats the global mean on RMSE, and bias-only lies between" \
  jq_true "$E" '.rating | .model.rmse < .global_mean.rmse and .bias_only.rmse < .global_mean.rmse'

# Known cold entries: a CSV of training ratings and a test file of 20
# entries of known users and items, 3 of a new item, 2 of a new user and 1
# of a new user on a new item: 6 cold ratings, 2 cold users, 2 cold items.
make_ratings_csv "$SCRATCH/train.csv" 60 40
awk 'BEGIN {
  print "user,item,rating"
  for (u = 1; u <= 20; u++)
    for (i = 1; i <= 40; i++)
      if (!((u * 7 + i * 13) % 5 == 0 || i == (u % 40) + 1)) { printf "%d,%d,%d\n", 1000 + u, 500 + i, 1 + u % 5; break }
  print "1001,999,4"; print "1002,999,5"; print "1003,999,3"
  print "9999,501,2"; print "9999,502,4"; print "9998,998,1"
}' >"$SCRATCH/test.csv"
COLD=$SCRATCH/cold
run partition-cold 1 "$DALS_PARTITION" --input "$SCRATCH/train.csv" --test-input "$SCRATCH/test.csv" --header \
  --cold-start keep --blocks 2 --output "$COLD" --quiet
run train-cold 1 "$DALS_TRAIN" --data "$COLD" --output "$SCRATCH/cold-model" -k 4 --iterations 3 --threads 1 --quiet
for cold in drop mean; do
  run "cold-$cold" 2 "$DALS_EVAL" --model "$SCRATCH/cold-model" --data "$COLD" --cold-start "$cold" \
    --output "$SCRATCH/cold-$cold.json"
  J=$SCRATCH/cold-$cold.json
  same_text "cold-$cold" "cold ratings, users, items" "$(jq -c '.cold_start | [.ratings, .users, .items]' "$J")" \
    "[6,2,2]"
  check "cold-$cold" "the counts are printed" grep -q "cold start: 6 entries of 2 users and 2 items" \
    "$LOGS/cold-$cold.rank0.out"
done
same_text cold-drop "drop: 20 ratings used" "$(json_field "$SCRATCH/cold-drop.json" .rating.ratings)" 20
same_text cold-drop "drop: 20 users ranked" "$(json_field "$SCRATCH/cold-drop.json" .ranking.users)" 20
same_text cold-mean "mean: all 26 used" "$(json_field "$SCRATCH/cold-mean.json" .rating.ratings)" 26
same_text cold-mean "mean: the two new users ranked too" "$(json_field "$SCRATCH/cold-mean.json" .ranking.users)" 22
same_text cold-mean "mean: RMSE = dals-train's test_rmse" \
  "$(fixed 9 "$(json_field "$SCRATCH/cold-mean.json" .rating.model.rmse)")" \
  "$(fixed 9 "$(tail -n 1 "$SCRATCH/cold-model/metrics.jsonl" | jq -r .test_rmse)")"

# An implicit model on a dataset without cold entries: precision, recall and
# NDCG at 10 are those dals-train measured after its last iteration.
PLAIN=$SCRATCH/plain
run partition-plain 1 "$DALS_PARTITION" --input "$SCRATCH/train.csv" --header --test-fraction 0.2 --blocks 2 \
  --output "$PLAIN" --quiet
run train-plain 1 "$DALS_TRAIN" --data "$PLAIN" --output "$SCRATCH/plain-model" -k 4 --iterations 3 --threads 1 \
  --quiet --implicit
run plain 2 "$DALS_EVAL" --model "$SCRATCH/plain-model" --data "$PLAIN" --k 10 --output "$SCRATCH/plain.json"
last=$(tail -n 1 "$SCRATCH/plain-model/metrics.jsonl")
for metric in precision recall ndcg; do
  same_text "plain-$metric" "$metric@10 = metrics.jsonl's" \
    "$(fixed 9 "$(json_field "$SCRATCH/plain.json" ".ranking.model.at[0].$metric")")" \
    "$(fixed 9 "$(jq -r ".$metric" <<<"$last")")"
done
same_text plain "no cold entries" "$(jq -c '.cold_start | [.ratings, .users, .items]' "$SCRATCH/plain.json")" "[0,0,0]"

# A model without biases has no bias-only figures.
run train-no-bias 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/no-bias" -k 6 --iterations 2 --threads 1 \
  --quiet --no-bias
run no-bias 1 "$DALS_EVAL" --model "$SCRATCH/no-bias" --data "$DATA" --output "$SCRATCH/no-bias.json"
check no-bias "bias_only is null" jq_true "$SCRATCH/no-bias.json" '.rating.bias_only == null and .rating.model.rmse > 0'

# --no-auc, and the front end.
run no-auc 1 "$DALS_CLI" eval --model "$SCRATCH/explicit" --data "$DATA" --no-auc --output "$SCRATCH/no-auc.json"
check no-auc "dals eval writes the JSON, without an AUC" jq_true "$SCRATCH/no-auc.json" '.ranking.model.auc == null'
same_text no-auc "the other figures unchanged" "$(jq -c '.ranking.model.at' "$SCRATCH/no-auc.json")" \
  "$(jq -c '.ranking.model.at' "$SCRATCH/explicit-drop-1.json" | jq -c 'map(select(.k == 10))')"

# Refusals.
refused other-dataset 2 "state.json" "fingerprint" "another dataset" -- --model "$SCRATCH/explicit" \
  --data "$SCRATCH/other-data" --output "$SCRATCH/x.json"
refused no-model 2 "$SCRATCH/none" "no such model directory" -- --model "$SCRATCH/none" --data "$DATA" \
  --output "$SCRATCH/x.json"
cp -r "$SCRATCH/explicit" "$SCRATCH/damaged"
truncate -s 200 "$SCRATCH/damaged/items/block-00001.h5"
refused damaged-model 2 "damaged/items/block-00001.h5" -- --model "$SCRATCH/damaged" --data "$DATA" \
  --output "$SCRATCH/x.json"
EXPECT_EXIT_CODE=2 refused k-zero 2 "--k must be" "'0'" -- --model "$SCRATCH/explicit" --data "$DATA" --k 0 \
  --output "$SCRATCH/x.json"
EXPECT_EXIT_CODE=2 refused k-negative 1 "--k must be" -- --model "$SCRATCH/explicit" --data "$DATA" --k 10,-5
EXPECT_EXIT_CODE=2 refused bad-cold 1 "--cold-start must be drop or mean" -- --model "$SCRATCH/explicit" \
  --data "$DATA" --cold-start keep
refused exists 2 "already exists" "--force" -- --model "$SCRATCH/explicit" --data "$DATA" --output "$E"
echo '{"format": "dals-recommendations"}' >"$SCRATCH/foreign.json"
refused force-foreign 2 "foreign.json" "not a dals-eval output" -- --model "$SCRATCH/explicit" --data "$DATA" \
  --output "$SCRATCH/foreign.json" --force
check force-foreign "the file is untouched" grep -q dals-recommendations "$SCRATCH/foreign.json"
refused no-dir 1 "does not exist" -- --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/no/x.json"
run partition-no-test 1 "$DALS_PARTITION" --input "$SCRATCH/train.csv" --header --blocks 2 \
  --output "$SCRATCH/no-test" --quiet
run train-no-test 1 "$DALS_TRAIN" --data "$SCRATCH/no-test" --output "$SCRATCH/no-test-model" -k 2 --iterations 1 \
  --threads 1 --quiet
refused no-test-split 2 "no-test" "has no test split" -- --model "$SCRATCH/no-test-model" --data "$SCRATCH/no-test" \
  --output "$SCRATCH/x.json"
refused too-many-ranks 4 "4 ranks" -- --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/x.json"
check refusals "nothing written by any refused run" test ! -e "$SCRATCH/x.json"
run force-own 2 "$DALS_EVAL" --model "$SCRATCH/implicit" --data "$DATA" --k 5,10 --output "$E" --force
check force-own "an earlier dals-eval output is replaced" cmp -s "$E" "$SCRATCH/implicit-drop-1.json"

"$DALS_CLI" eval --help >"$LOGS/help.out" 2>&1
check front-end "dals eval --help shows the usage" grep -q "Usage: mpirun -n P dals-eval" "$LOGS/help.out"

cli_finish
