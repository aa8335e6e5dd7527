#!/usr/bin/env bash
# Heavy rows (--heavy-rows, heavy_rows.hpp): on a dataset whose most rated
# item has nearly every user, routed users train with an exchange buffer
# well below that item's raters, bit-identical to the all-gather for 1-3
# ranks and 1-2 threads (explicit Cholesky under auto; CG and implicit CG
# with a forced threshold), and the item half receives fewer bytes than
# shipping the heavy items' raters (--heavy-rows off, a buffer that holds
# them). auto keeps the parts within 1/8 of the fixed table and is off
# under CG, whose too-small buffer names the threshold that fits. A bad
# value is one usage error.
#
# Usage (as ctest runs it): bash heavy_rows.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_MODEL_DIFF=$(find_tool dals-test-model-diff)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_INSPECT=$(find_tool dals-inspect)
DALS_REF=$(find_tool dals-test-recommend-ref)
require_tools DALS_TRAIN DALS_GENERATE DALS_MODEL_DIFF DALS_RECOMMEND DALS_INSPECT DALS_REF
require_commands jq

run_ranks 2 "$SCRATCH/generate" "$DALS_GENERATE" --users 6000 --items 300 --ratings 60000 --blocks 4 --seed 5 \
  --user-skew 1.5 --item-skew 1.5 --output "$SCRATCH/data"
expect_success generate "$SCRATCH/generate" || cli_finish
run_ranks 2 "$SCRATCH/generate-implicit" "$DALS_GENERATE" --users 6000 --items 300 --ratings 60000 --blocks 4 \
  --seed 5 --user-skew 1.5 --item-skew 1.5 --round --test-fraction 0 --output "$SCRATCH/implicit"
expect_success generate-implicit "$SCRATCH/generate-implicit" || cli_finish

# train NAME NP THREADS [OPTIONS...] (DATA from the environment: the explicit dataset)
train() {
  local name=$1 np=$2 threads=$3
  shift 3
  run_ranks "$np" "$SCRATCH/$name" "$DALS_TRAIN" --data "${DATA:-$SCRATCH/data}" --output "$SCRATCH/$name.model" \
    -k 16 --iterations 3 --seed 3 --threads "$threads" "$@"
  expect_success "$name" "$SCRATCH/$name"
}
same_model() {  # same_model CASE REFERENCE NAME
  check "$1" "$3 is bit-identical to $2" "$DALS_MODEL_DIFF" "$SCRATCH/$2.model" "$SCRATCH/$3.model"
}

# k = 16, auto: a row of 256 ratings or more may be heavy (64 ratings a
# part over 4 blocks; the parts' bytes equal the rows' from 41), the most
# rated first, as many as the budget allows: parts of 4 x 684 bytes
# within 1/8 of the fixed table, 18 items (6,000 x 68 / 8 / 2,736) and no
# user (300 x 68 / 8 / 2,736 < 1). 72 KB holds 1,084 rows; the most rated
# item has thousands of raters.
train ref 1 1 --exchange allgather
check widest "the 18 most rated items are heavy, from above 256 ratings; no user" \
  grep -Eq 'heavy rows: 0 users of >= [0-9]+ ratings, 18 items of >= ([3-9][0-9]{2}|[0-9]{4,}) ratings' \
  "$SCRATCH/ref.rank0.out"
threshold=$(grep -Eo '18 items of >= [0-9]+' "$SCRATCH/ref.rank0.out" | awk '{ print $5 }')
check recorded "state.json records the thresholds fold-in solves by (items: $threshold; users: the floor, 256)" \
  jq -e --argjson t "${threshold:-0}" '.heavy_rows_from.items == $t and .heavy_rows_from.users == 256' \
  "$SCRATCH/ref.model/state.json"
for case in 1-1 2-2 3-1 3-2; do
  train "routed-$case" "${case%-*}" "${case#*-}" --exchange routed --exchange-buffer 72K &&
    same_model routed ref "routed-$case"
done
check rounds "the parts came from other ranks" \
  jq -e -s 'all(.[]; .item_half_bytes_received > 0)' "$SCRATCH/routed-3-1.model/metrics.jsonl"

# The item half's bytes, one chunk each: parts against the heavy items' raters.
train auto-routed 3 1 --exchange routed --exchange-buffer 1M
train off-routed 3 1 --exchange routed --heavy-rows off --exchange-buffer 1M
parts=$(jq -s '.[0].item_half_bytes_received' "$SCRATCH/auto-routed.model/metrics.jsonl")
rows=$(jq -s '.[0].item_half_bytes_received' "$SCRATCH/off-routed.model/metrics.jsonl")
check fewer-bytes "the item half receives fewer bytes as parts ($parts) than as rows ($rows)" test "$parts" -lt "$rows"
check recorded-off "--heavy-rows off records none on either side" \
  jq -e '.heavy_rows_from == {"users": null, "items": null}' "$SCRATCH/off-routed.model/state.json"
run_ranks 2 "$SCRATCH/off-small" "$DALS_TRAIN" --data "$SCRATCH/data" --output "$SCRATCH/off-small.model" -k 16 \
  --exchange routed --exchange-buffer 72K --heavy-rows off
expect_failure off-small "$SCRATCH/off-small" --exchange-buffer "give at least"
# CG's auto has no heavy rows: the refusal names the threshold that fits the buffer, and it does.
run_ranks 2 "$SCRATCH/cg-small" "$DALS_TRAIN" --data "$SCRATCH/data" --output "$SCRATCH/cg-small.model" -k 16 \
  --solver cg --exchange routed --exchange-buffer 72K
expect_failure cg-small "$SCRATCH/cg-small" "--heavy-rows 1085"
train cg-hinted 2 1 --solver cg --exchange routed --exchange-buffer 72K --heavy-rows 1085

# CG: auto has no heavy rows; a forced threshold solves them exactly, the same bits in every mode.
train cg-auto 1 1 --solver cg --exchange allgather
check cg-auto "auto is off under CG" bash -c '! grep -q "heavy rows" "$0"' "$SCRATCH/cg-auto.rank0.out"
train cg-ref 1 1 --solver cg --heavy-rows 60 --exchange allgather
train cg-routed 3 2 --solver cg --heavy-rows 60 --exchange routed --exchange-buffer 16K &&
  same_model cg cg-ref cg-routed
check cg-forced "the forced threshold is used" grep -q 'items of >= 60 ratings' "$SCRATCH/cg-ref.rank0.out"
DATA=$SCRATCH/implicit train implicit-cg-ref 1 2 --implicit --solver cg --heavy-rows 60 --exchange allgather
DATA=$SCRATCH/implicit train implicit-cg-routed 2 1 --implicit --solver cg --heavy-rows 60 --exchange routed \
  --exchange-buffer 16K && same_model implicit-cg implicit-cg-ref implicit-cg-routed

# The comparison can fail: the forced threshold changes the bits.
check differs "another threshold gives other bits" \
  bash -c '! "$0" "$1" "$2" >/dev/null' "$DALS_MODEL_DIFF" "$SCRATCH/cg-auto.model" "$SCRATCH/cg-ref.model"

# A resumed run whose thresholds differ from its checkpoint's (here by
# --resume-override) says which rows change how they are solved.
train ckpt 2 1 --checkpoint-dir "$SCRATCH/ckpt" --checkpoint-every 1
run_ranks 2 "$SCRATCH/resumed" "$DALS_TRAIN" --data "$SCRATCH/data" --output "$SCRATCH/resumed.model" -k 16 \
  --iterations 4 --seed 3 --checkpoint-dir "$SCRATCH/ckpt" --resume auto --heavy-rows 300 --resume-override
expect_success resumed "$SCRATCH/resumed"
check resumed-warns "the resume names the items' old and new thresholds" \
  grep -Eq 'heavy items \(solved in parts\) were those of [0-9]+ ratings or more, in this run 300' \
  "$SCRATCH/resumed.rank0.err"

# Fold-in solves users as training did, by the users' threshold state.json
# records: 3,000 items over 2 blocks at k = 4 allow 44 heavy users (parts
# of 84 bytes), so auto's users' threshold rises above its floor of 128 and
# differs from the items'. Every training user folded in from its history
# against a checkpoint between halves (as cli-foldin) has its factors bit
# for bit, the heavy ones' from parts too.
run_ranks 1 "$SCRATCH/generate-users" "$DALS_GENERATE" --users 1000 --items 3000 --ratings 60000 --blocks 2 --seed 5 \
  --round --user-skew 1.5 --output "$SCRATCH/heavy-users"
expect_success generate-users "$SCRATCH/generate-users"
run_ranks 1 "$SCRATCH/ckpt-users" env DALS_TEST_SIGNAL=user-half:0:3 "$DALS_TRAIN" --data "$SCRATCH/heavy-users" \
  --output "$SCRATCH/unused.model" -k 4 --iterations 3 --threads 1 --checkpoint-dir "$SCRATCH/ckpt-users" \
  --checkpoint-every 10
CKPT=$SCRATCH/ckpt-users/iter-000002.5
check ckpt-users "stopped between halves with a checkpoint" test -f "$CKPT/COMPLETE"
check users-budget "auto makes 43 users heavy, above the floor, at another threshold than the items'" \
  jq -e '.heavy_rows_from.users > 128 and .heavy_rows_from.users != .heavy_rows_from.items' "$CKPT/state.json"
check users-heavy "the header counts them" grep -q 'heavy rows: 43 users of' "$SCRATCH/ckpt-users.rank0.out"
"$DALS_INSPECT" "$SCRATCH/heavy-users" --dump train >"$SCRATCH/users-history.csv"
"$DALS_REF" --factors "$CKPT" "$SCRATCH/heavy-users" >"$SCRATCH/users.factors.ref"
run_ranks 2 "$SCRATCH/foldin-users" "$DALS_RECOMMEND" --model "$CKPT" --data "$SCRATCH/heavy-users" \
  --fold-in "$SCRATCH/users-history.csv" --fold-in-factors --output "$SCRATCH/foldin-users" --k 5 --threads 1
expect_success foldin-users "$SCRATCH/foldin-users"
check foldin-users "every user's fold-in factors are the checkpoint's, bit for bit" \
  cmp -s <(cat "$SCRATCH"/foldin-users/factors-*.tsv) "$SCRATCH/users.factors.ref"

# Bad values.
for bad in 0 lots -5; do
  run_ranks 1 "$SCRATCH/bad-$bad" "$DALS_TRAIN" --data "$SCRATCH/data" --output "$SCRATCH/bad.model" --heavy-rows "$bad"
  expect_failure "bad-$bad" "$SCRATCH/bad-$bad" "--heavy-rows"
  check "bad-$bad-code" "exit 2" test "$(rank_code "$SCRATCH/bad-$bad" 0)" = 2
done
cli_finish
