#!/usr/bin/env bash
# Implicit mode with a test split and routed items: the ranking metrics
# come from a distributed top-K (each rank ranks every test user against
# its own items, the owner merges the lists), and every iteration's
# precision, recall and NDCG@K in metrics.jsonl, and the model, are
# bit-identical to the all-gather's, for 1-3 ranks (an uneven cut at 2 of
# 3 blocks), 1 and 2 threads, with an exchange buffer that cuts the
# ranking into many rounds. The held-out bytes are counted. The comparison
# can fail: a run of other metrics (another K) differs.
#
# Usage (as ctest runs it): bash routed_ranking.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_MODEL_DIFF=$(find_tool dals-test-model-diff)
require_tools DALS_TRAIN DALS_GENERATE DALS_MODEL_DIFF
require_commands jq

# Counts 1-5 with a test split: 3000 users in 3 blocks, 900 items.
run_ranks 2 "$SCRATCH/generate" "$DALS_GENERATE" --users 3000 --items 900 --ratings 30000 --blocks 3 --seed 5 \
  --round --item-skew 0.8 --test-fraction 0.15 --output "$SCRATCH/data"
expect_success generate "$SCRATCH/generate" || cli_finish

# train NAME NP [OPTIONS...]: 3 iterations, ranked after each.
train() {
  local name=$1 np=$2
  shift 2
  run_ranks "$np" "$SCRATCH/$name" "$DALS_TRAIN" --data "$SCRATCH/data" --output "$SCRATCH/$name.model" -k 8 \
    --implicit --alpha 2 --iterations 3 --eval-every 1 --seed 3 "$@"
  expect_success "$name" "$SCRATCH/$name"
}
# The ranking metrics of every iteration, as metrics.jsonl writes them.
metrics_of() { jq -c '[.iteration, .precision, .recall, .ndcg]' "$SCRATCH/$1.model/metrics.jsonl"; }
same_run() {  # same_run CASE REFERENCE NAME
  check "$1-model" "$3's model is bit-identical to $2's" "$DALS_MODEL_DIFF" "$SCRATCH/$2.model" "$SCRATCH/$3.model"
  check "$1-metrics" "$3's precision, recall and NDCG are $2's" \
    bash -c '[[ -n $1 && $1 == "$2" ]]' _ "$(metrics_of "$2")" "$(metrics_of "$3")"
}

train ref 1 --threads 1 --exchange allgather
check ranked "every iteration has ranking metrics" \
  jq -e -s 'length == 3 and all(.[]; .precision > 0 and .ndcg > 0)' "$SCRATCH/ref.model/metrics.jsonl"
train allgather-3 3 --threads 2 --exchange allgather && same_run allgather ref allgather-3
# 56 KB (1592 rows of k = 8, above the widest user's 1348 items): the routed halves in
# chunks, the ranking in rounds of 159 users per rank at P = 3 (477 at P = 1).
for case in 1-1 1-2 2-1 2-2 3-1 3-2; do
  name=routed-$case
  train "$name" "${case%-*}" --threads "${case#*-}" --exchange routed --exchange-buffer 56K &&
    same_run "$name" ref "$name"
done
check bytes "metrics.jsonl counts the ranking's held-out bytes" \
  jq -e -s 'all(.[]; .held_out_bytes_sent > 0 and .held_out_bytes_received > 0)' \
  "$SCRATCH/routed-3-1.model/metrics.jsonl"
check no-bytes-one-rank "one rank moves nothing" \
  jq -e -s 'all(.[]; .held_out_bytes_sent == 0)' "$SCRATCH/routed-1-1.model/metrics.jsonl"
# The default buffer: one round.
train routed-big 3 --threads 1 --exchange routed && same_run routed-big ref routed-big

# The comparison can fail: K = 5's metrics differ from K = 10's (the model does not).
train other-k 2 --threads 1 --exchange routed --exchange-buffer 56K --eval-k 5
check other-k "another K's metrics differ" \
  bash -c '[[ -n $1 && -n $2 && $1 != "$2" ]]' _ "$(metrics_of ref)" "$(metrics_of other-k)"
cli_finish
