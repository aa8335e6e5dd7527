#!/usr/bin/env bash
# The model records which rows were trained: every block of a model and a
# checkpoint holds each row's training ratings (training_ratings), equal to
# the dataset's per-row degrees less the --validation-fraction entries, the
# same for 1 and 3 ranks; --update-model carries them (a folded-in user's
# count is its known fold-in items); dals-export, dals-recommend and
# dals-eval read them, and for a model written before them (no array) fall
# back to the dataset with the same results; a hostile count (negative, or
# an array of the wrong length) is refused naming the file.
#
# Usage (as ctest runs it): bash trained_rows.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_EVAL=$(find_tool dals-eval)
DALS_EXPORT=$(find_tool dals-export)
DALS_COUNTS=$(find_tool dals-test-model-counts)
require_tools DALS_TRAIN DALS_GENERATE DALS_RECOMMEND DALS_EVAL DALS_EXPORT DALS_COUNTS

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
TRAIN_OPTS=(-k 4 --iterations 2 --threads 1 --quiet)

# A test split of 30%: some rows keep no training rating at all.
DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 200 --items 150 --ratings 3000 --blocks 3 --seed 3 --round \
  --min-degree 1 --test-fraction 0.3 --output "$DATA"
"$DALS_COUNTS" --data "$DATA" >"$SCRATCH/data.counts"
"$DALS_COUNTS" --data "$DATA" 7 0.25 >"$SCRATCH/data-validation.counts"
check data-counts "some rows have no training rating" grep -q ' 0$' "$SCRATCH/data.counts"
check data-counts "the validation split lowers some counts" \
  bash -c '! cmp -s "$1" "$2"' _ "$SCRATCH/data.counts" "$SCRATCH/data-validation.counts"

for np in 1 3; do
  run "train-np$np" "$np" "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/model$np" "${TRAIN_OPTS[@]}" \
    --checkpoint-dir "$SCRATCH/ckpt$np"
  check "train-np$np" "the model's counts are the dataset's degrees" \
    cmp -s <("$DALS_COUNTS" --model "$SCRATCH/model$np") "$SCRATCH/data.counts"
  check "train-np$np" "and so are its checkpoint's" \
    cmp -s <("$DALS_COUNTS" --model "$SCRATCH/ckpt$np/iter-000002") "$SCRATCH/data.counts"
  run "validation-np$np" "$np" "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/validation$np" "${TRAIN_OPTS[@]}" \
    --validation-fraction 0.25 --validation-seed 7
  check "validation-np$np" "with --validation-fraction: the degrees less the held-out entries" \
    cmp -s <("$DALS_COUNTS" --model "$SCRATCH/validation$np") "$SCRATCH/data-validation.counts"
done

# Resuming from a checkpoint (whose blocks hold the counts) is as before:
# the same model, bit for bit.
run train-one 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/one" -k 4 --iterations 1 --threads 1 --quiet \
  --checkpoint-dir "$SCRATCH/ckpt-resume"
run resume 3 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/resumed" "${TRAIN_OPTS[@]}" \
  --checkpoint-dir "$SCRATCH/ckpt-resume" --resume auto
check resume "the resumed model's blocks are the uninterrupted run's" \
  bash -c 'for f in "$1"/users/*.h5 "$1"/items/*.h5; do cmp -s "$f" "$2/${f#"$1"/}" || exit 1; done' _ \
  "$SCRATCH/model1" "$SCRATCH/resumed"

# --update-model: a folded-in user of the dataset is recorded with its known
# items; every other row as before.
# (A listed user and two listed items of the lists: trained rows, raw ids.)
run lists 1 "$DALS_RECOMMEND" --model "$SCRATCH/model1" --data "$DATA" --output "$SCRATCH/lists" --k 2 \
  --min-item-ratings 1
read -r raw_user item_a item_b < <(awk -F '\t' 'NR == 1 { u = $1; a = $2 } NR == 2 { print u, a, $2 }' \
  "$SCRATCH/lists/part-00000.tsv")
printf '%s,%s,4\n%s,%s,3\n%s,not-an-item,5\n' "$raw_user" "$item_a" "$raw_user" "$item_b" "$raw_user" \
  >"$SCRATCH/fold.csv"
run update 3 "$DALS_RECOMMEND" --model "$SCRATCH/model1" --data "$DATA" --output "$SCRATCH/fold-out" \
  --fold-in "$SCRATCH/fold.csv" --update-model "$SCRATCH/updated" --k 3
"$DALS_COUNTS" --model "$SCRATCH/updated" >"$SCRATCH/updated.counts"
check update "the updated model records one user with its 2 known fold-in items, the rest unchanged" \
  test "$(diff "$SCRATCH/data.counts" "$SCRATCH/updated.counts" | grep -c '^> users [0-9]* 2$')" = 1 -a \
  "$(diff "$SCRATCH/data.counts" "$SCRATCH/updated.counts" | grep -c '^[<>]')" = 2

# A model written before the counts existed: the tools fall back to the
# dataset, with the same results (no --validation-fraction: the two agree).
cp -r "$SCRATCH/model1" "$SCRATCH/old"
"$DALS_COUNTS" --strip "$SCRATCH/old"
check old-model "the stripped model has no counts" bash -c '! "$1" --model "$2" 2>/dev/null' _ "$DALS_COUNTS" \
  "$SCRATCH/old"
for which in model1 old; do
  run "recommend-$which" 2 "$DALS_RECOMMEND" --model "$SCRATCH/$which" --data "$DATA" --output "$SCRATCH/rec-$which" \
    --k 5 --min-item-ratings 3
  run "similar-$which" 2 "$DALS_RECOMMEND" --model "$SCRATCH/$which" --data "$DATA" --output "$SCRATCH/sim-$which" \
    --k 3 --similar-items
  run "eval-$which" 2 "$DALS_EVAL" --model "$SCRATCH/$which" --data "$DATA" --k 5 --cold-start drop \
    --output "$SCRATCH/eval-$which.json" --quiet
  run "export-$which" 1 "$DALS_EXPORT" --model "$SCRATCH/$which" --data "$DATA" --output "$SCRATCH/export-$which" \
    --format tsv
done
check old-model "dals-recommend says where its counts came from" grep -q "written before models recorded" \
  "$LOGS/recommend-old.rank0.out"
check old-model "the same lists" cmp -s <(cat "$SCRATCH"/rec-model1/part-*) <(cat "$SCRATCH"/rec-old/part-*)
check old-model "the same similar items" cmp -s <(cat "$SCRATCH"/sim-model1/part-*) <(cat "$SCRATCH"/sim-old/part-*)
check old-model "the same evaluation" cmp -s <(grep -v '"model"' "$SCRATCH/eval-model1.json") \
  <(grep -v '"model"' "$SCRATCH/eval-old.json")
check old-model "the same export" cmp -s "$SCRATCH/export-model1/items.tsv" "$SCRATCH/export-old/items.tsv"

# --validation-fraction: the export marks as trained exactly the rows the
# model counts, not the dataset's.
run export-validation 1 "$DALS_EXPORT" --model "$SCRATCH/validation1" --data "$DATA" \
  --output "$SCRATCH/export-validation" --format tsv
trained_items=$(awk '$1 == "items" && $3 > 0' "$SCRATCH/data-validation.counts" | wc -l)
check export-validation "items_trained is the model's $trained_items" \
  grep -q "\"items_trained\": $trained_items," "$SCRATCH/export-validation/export.json"

# Hostile counts: the array's own checksum valid, the value or the length not.
rows0=$(python3 -c "import json,sys; s=json.load(open(sys.argv[1])); print(s['dataset']['user_block_firsts'][1])" \
  "$SCRATCH/model1/state.json")
zeros=$(printf '0,%.0s' $(seq 2 "$rows0"))
for case_name in negative short; do
  cp -r "$SCRATCH/model1" "$SCRATCH/$case_name"
done
"$DALS_COUNTS" --write "$SCRATCH/negative" users 0 "-1,${zeros%,}"
"$DALS_COUNTS" --write "$SCRATCH/short" users 0 "${zeros%,}"
for tool in recommend eval export; do
  case $tool in
    recommend) bin=$DALS_RECOMMEND extra=(--output "$SCRATCH/x-$tool") ;;
    eval) bin=$DALS_EVAL extra=(--quiet) ;;
    export) bin=$DALS_EXPORT extra=(--output "$SCRATCH/x-$tool") ;;
  esac
  np=2
  [[ $tool == export ]] && np=1
  refused_run "$bin" "negative-$tool" "$np" "negative/users/block-00000.h5" "training_ratings is -1" -- \
    --model "$SCRATCH/negative" --data "$DATA" "${extra[@]}"
  refused_run "$bin" "short-$tool" "$np" "short/users/block-00000.h5" "training_ratings" -- \
    --model "$SCRATCH/short" --data "$DATA" "${extra[@]}"
  check "negative-$tool" "nothing published" test ! -e "$SCRATCH/x-$tool"
done
run_ranks 2 "$LOGS/resume-negative" "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/x-resume" -k 4 \
  --iterations 3 --threads 1 --quiet --resume "$SCRATCH/negative"
expect_failure resume-negative "$LOGS/resume-negative" "negative/users/block-00000.h5" "training_ratings is -1"

cli_finish
