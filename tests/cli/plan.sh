#!/usr/bin/env bash
# dals-plan predicts exactly what dals-train measures: for P = 2 and 3,
# all-gather and routed with a buffer that forces several chunks, the
# predicted bytes sent and received per half (the busiest rank's, as
# metrics.jsonl reports them), chunks, rows received and duplication equal
# the trainer's figures, and the predicted memory equals its "model memory"
# to the 0.1 MiB it prints; so in implicit mode, routed (whose halves also
# all-gather the fixed side's Gramian block sums) and all-gathered; with a
# test split, routed items' ranking (its users' rows and excluded items out,
# the lists back: held_out.ranking_bytes_*) and the memory of the excluded
# items too. Bad input: one-line errors, exit 2 or 1.
#
# Usage (as ctest runs it): bash plan.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_PLAN=$(find_tool dals-plan)
require_tools DALS_TRAIN DALS_GENERATE DALS_PLAN
require_commands jq

run_ranks 2 "$SCRATCH/generate" "$DALS_GENERATE" --users 4000 --items 400 --ratings 50000 --blocks 5 --seed 21 \
  --user-skew 1.5 --item-skew 1.5 --output "$SCRATCH/data"
expect_success generate "$SCRATCH/generate" || cli_finish

# compare NAME NP MODE [OPTIONS...]: plan, train, and every figure equal (DATA: the dataset, $SCRATCH/data by default).
compare() {
  local name=$1 np=$2 mode=$3
  shift 3
  run_ranks 1 "$SCRATCH/$name.plan" "$DALS_PLAN" "${DATA:-$SCRATCH/data}" --ranks "$np" -k 10 --exchange "$mode" "$@" \
    --output "$SCRATCH/$name.json"
  expect_success "$name-plan" "$SCRATCH/$name.plan" || return
  run_ranks "$np" "$SCRATCH/$name" "$DALS_TRAIN" --data "${DATA:-$SCRATCH/data}" --output "$SCRATCH/$name.model" -k 10 \
    --iterations 1 --threads 1 --exchange "$mode" "$@"
  expect_success "$name-train" "$SCRATCH/$name" || return
  local pair measured predicted
  for pair in exchange_bytes_sent:iteration.bytes_sent exchange_bytes_received:iteration.bytes_received \
    user_half_bytes_sent:user_half.bytes_sent user_half_bytes_received:user_half.bytes_received \
    item_half_bytes_sent:item_half.bytes_sent item_half_bytes_received:item_half.bytes_received \
    held_out_bytes_sent:held_out.bytes_sent held_out_bytes_received:held_out.bytes_received; do
    measured=$(jq -s ".[0].${pair%%:*}" "$SCRATCH/$name.model/metrics.jsonl")
    predicted=$(jq ".max[\"${pair#*:}\"]" "$SCRATCH/$name.json")
    check "$name-${pair%%:*}" "predicted ${pair#*:} $predicted = measured $measured" test "$predicted" = "$measured"
  done
  # The header's routed figures: "users routed (C chunks, R rows received, X from other ranks, duplication D".
  local side half line want
  for side in users:item_half items:user_half; do
    half=${side#*:}
    line=$(grep -o "${side%%:*} routed ([^;]*" "$SCRATCH/$name.rank0.out")
    [[ -z $line ]] && continue
    want=$(jq -r --arg h "$half" '.max as $m | "\($m[$h + ".chunks"]) chunk\(if $m[$h + ".chunks"] == 1 then "" else "s" end), \($m[$h + ".rows_received"]) rows received, \($m[$h + ".rows_remote"]) from other ranks, duplication \($m[$h + ".duplication"] * 100 | round / 100)"' "$SCRATCH/$name.json")
    check "$name-$half-rows" "header '$line' matches the plan's '$want'" \
      bash -c '[[ "$0" == *"(${1%duplication*}"* && $(printf "%.2f" "${1##*duplication }") == "${0##*duplication }" ]]' "$line" "$want"
  done
  measured=$(grep -o 'model memory [0-9.]* MiB' "$SCRATCH/$name.rank0.out" | awk '{print $3}')
  predicted=$(jq '.max["memory.total"] / 1048576 * 10 | round / 10' "$SCRATCH/$name.json")
  check "$name-memory" "predicted memory $predicted MiB = model memory $measured MiB" \
    awk -v a="$predicted" -v b="$measured" 'BEGIN { exit !(a == b) }'
}

compare allgather-2 2 allgather
compare allgather-3 3 allgather
# 8 KB holds 186 rows of k = 10: the item half's light items (under 36
# raters, --heavy-rows 36) come in several chunks; the heavy rows' parts
# in rounds. Without heavy rows, 160 KB (3723 rows) for the most rated item.
compare routed-2 2 routed --exchange-buffer 8K --heavy-rows 36
compare routed-3 3 routed --exchange-buffer 8K --heavy-rows 36
compare routed-off-3 3 routed --exchange-buffer 160K --heavy-rows off
# auto: from 320 ratings (64 a part over 5 blocks), the most rated first, as
# many as keep their parts (5 x 312 bytes) within 1/8 of the users' table:
# 4,000 x 44 / 8 / 1,560 = 14 items; dals-plan reads the degrees first.
compare routed-auto-3 3 routed --exchange-buffer 160K
check auto-budget "auto makes the 14 most rated items heavy, from above 320 ratings" \
  grep -Eq 'heavy rows: [0-9]+ users of >= [0-9]+ ratings, 14 items of >= ([4-9][0-9]{2}|3[3-9][0-9]|32[1-9]|[0-9]{4,}) ratings' \
  "$SCRATCH/routed-auto-3.rank0.out"
check chunks "the small buffer forces several chunks" jq -e '.max["item_half.chunks"] > 1' "$SCRATCH/routed-3.json"
check heavy "the plan has heavy rows on both sides, and none with --heavy-rows off" jq -e -s \
  '.[0].max.heavy_items > 0 and .[0].max.heavy_users > 0 and .[0].max["memory.heavy_rows"] > 0 and .[1].max.heavy_items == 0' \
  "$SCRATCH/routed-3.json" "$SCRATCH/routed-off-3.json"

# Implicit (counts 1-5, no test split): routed and all-gathered.
run_ranks 2 "$SCRATCH/generate-implicit" "$DALS_GENERATE" --users 4000 --items 400 --ratings 50000 --blocks 5 \
  --seed 21 --user-skew 1.5 --item-skew 1.5 --round --test-fraction 0 --output "$SCRATCH/implicit"
expect_success generate-implicit "$SCRATCH/generate-implicit"
# (The most rated item has all 4000 users here: 200 KB holds 4654 rows.)
DATA=$SCRATCH/implicit compare implicit-routed-3 3 routed --implicit --exchange-buffer 200K
DATA=$SCRATCH/implicit compare implicit-allgather-2 2 allgather --implicit
# With a test split: the ranking of routed items moves its own bytes (the one iteration ranks).
run_ranks 2 "$SCRATCH/generate-implicit-test" "$DALS_GENERATE" --users 4000 --items 400 --ratings 50000 --blocks 5 \
  --seed 21 --user-skew 1.5 --item-skew 1.5 --round --output "$SCRATCH/implicit-test"
expect_success generate-implicit-test "$SCRATCH/generate-implicit-test"
DATA=$SCRATCH/implicit-test compare implicit-test-routed-2 2 routed --implicit --exchange-buffer 200K
DATA=$SCRATCH/implicit-test compare implicit-test-routed-3 3 routed --implicit --exchange-buffer 200K --eval-k 7
check ranking-bytes "the plan predicts the ranking's bytes" \
  jq -e '.max["held_out.ranking_bytes_received"] > 0 and .max["memory.ranking_exclusions"] > 0' \
  "$SCRATCH/implicit-test-routed-3.json"
# ... and auto routes both sides of a small memory.
run_ranks 1 "$SCRATCH/implicit-auto" "$DALS_PLAN" "$SCRATCH/data" --ranks 2 -k 10 --implicit --exchange auto \
  --memory-per-rank 100K --output "$SCRATCH/implicit-auto.json"
expect_success implicit-auto "$SCRATCH/implicit-auto" &&
  check implicit-auto "users and items routed" \
    jq -e '.routed.users == true and .routed.items == true' "$SCRATCH/implicit-auto.json"

# The comparison can fail: a plan for another buffer predicts other bytes.
run_ranks 1 "$SCRATCH/other.plan" "$DALS_PLAN" "$SCRATCH/data" --ranks 3 -k 10 --exchange routed \
  --exchange-buffer 1M --output "$SCRATCH/other.json" --quiet
check other-buffer "another buffer's plan differs from the run's bytes" bash -c \
  '[[ $(jq ".max[\"iteration.bytes_received\"]" "$0") != $(jq -s ".[0].exchange_bytes_received" "$1") ]]' \
  "$SCRATCH/other.json" "$SCRATCH/routed-3.model/metrics.jsonl"

# A P of 1,000 on a dataset of 1,024 blocks, in one process.
run_ranks 1 "$SCRATCH/gen-big" "$DALS_GENERATE" --users 20000 --items 2000 --ratings 120000 --blocks 1024 --seed 2 \
  --output "$SCRATCH/data1024"
expect_success gen-1024 "$SCRATCH/gen-big"
run_ranks 1 "$SCRATCH/p1000" "$DALS_PLAN" "$SCRATCH/data1024" --ranks 1000 --exchange routed -o "$SCRATCH/p1000.json"
expect_success p1000 "$SCRATCH/p1000"
check p1000-ranks "the plan has 1000 ranks" jq -e '(.per_rank | length) == 1000' "$SCRATCH/p1000.json"

# Bad input.
run_ranks 1 "$SCRATCH/bad-p" "$DALS_PLAN" "$SCRATCH/data" --ranks 6
expect_failure p-over-b "$SCRATCH/bad-p" "--ranks 6" "5 blocks"
check p-over-b-code "exit 1" test "$(rank_code "$SCRATCH/bad-p" 0)" = 1
run_ranks 1 "$SCRATCH/bad-p0" "$DALS_PLAN" "$SCRATCH/data" --ranks 0
expect_failure p-zero "$SCRATCH/bad-p0" "--ranks must be >= 1"
check p-zero-code "exit 2" test "$(rank_code "$SCRATCH/bad-p0" 0)" = 2
run_ranks 1 "$SCRATCH/bad-mode" "$DALS_PLAN" "$SCRATCH/data" --ranks 2 --exchange sideways
expect_failure bad-mode "$SCRATCH/bad-mode" "--exchange" "sideways"
check bad-mode-code "exit 2" test "$(rank_code "$SCRATCH/bad-mode" 0)" = 2
run_ranks 1 "$SCRATCH/missing" "$DALS_PLAN" "$SCRATCH/nowhere" --ranks 2
expect_failure missing "$SCRATCH/missing" "nowhere"
cp -r "$SCRATCH/data" "$SCRATCH/damaged"
block=$(find "$SCRATCH/damaged/by-item" -name 'block-*.h5' | sort | head -1)
truncate -s 100 "$block"
run_ranks 2 "$SCRATCH/damaged" "$DALS_PLAN" "$SCRATCH/damaged" --ranks 2 -o "$SCRATCH/damaged.json"
expect_failure damaged "$SCRATCH/damaged" "$(basename "$block")"
check damaged-nothing "no plan was written" test ! -e "$SCRATCH/damaged.json"
run_ranks 1 "$SCRATCH/tiny" "$DALS_PLAN" "$SCRATCH/data" --ranks 2 -k 10 --exchange routed --exchange-buffer 1K
expect_failure tiny-buffer "$SCRATCH/tiny" --exchange-buffer "give at least"
run_ranks 1 "$SCRATCH/exists" "$DALS_PLAN" "$SCRATCH/data" --ranks 2 -o "$SCRATCH/routed-2.json"
expect_failure exists "$SCRATCH/exists" "already exists"
cli_finish
