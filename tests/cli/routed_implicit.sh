#!/usr/bin/env bash
# --exchange routed in implicit mode: the published model is bit-identical
# to the all-gather's for 1-3 ranks (an uneven cut at 2 of 3 blocks), 1 and
# 2 threads, Cholesky and CG (the all-gather's bits for any P and threads
# are implicit_train.sh's), with an exchange buffer that forces many
# chunks; the Gramian's blocks span two of its 2048-row chunks, so a global
# chunking would straddle the ranks. A checkpoint written routed resumes
# all-gathered on another rank count and the reverse, bit for bit. With a
# test split, routed and auto train and report the ranking metrics
# (routed_ranking.sh checks their bits).
#
# Usage (as ctest runs it): bash routed_implicit.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_MODEL_DIFF=$(find_tool dals-test-model-diff)
require_tools DALS_TRAIN DALS_GENERATE DALS_MODEL_DIFF

# Counts 1-5 (rounded), no test split: every value a confidence. 7000 users
# in 3 blocks of about 2333 rows; 3000 items, so that the users' rows
# reference many of them.
run_ranks 2 "$SCRATCH/generate" "$DALS_GENERATE" --users 7000 --items 3000 --ratings 40000 --blocks 3 --seed 21 \
  --round --item-skew 0.5 --test-fraction 0 --output "$SCRATCH/data"
expect_success generate "$SCRATCH/generate" || cli_finish

# train NAME NP [OPTIONS...] (ITERATIONS, SEED, DATA from the environment: 4, 3, the dataset above)
train() {
  local name=$1 np=$2
  shift 2
  run_ranks "$np" "$SCRATCH/$name" "$DALS_TRAIN" --data "${DATA:-$SCRATCH/data}" --output "$SCRATCH/$name.model" \
    -k 8 --implicit --alpha 2 --iterations "${ITERATIONS:-4}" --seed "${SEED:-3}" "$@"
  expect_success "$name" "$SCRATCH/$name"
}
same_model() {  # same_model CASE REFERENCE NAME
  check "$1" "$3 is bit-identical to $2" "$DALS_MODEL_DIFF" "$SCRATCH/$2.model" "$SCRATCH/$3.model"
}

# 60 KB holds 1666 rows of k = 8, above the widest item's 1400 users: the
# item half comes in several chunks, the user half in more.
for solver in cholesky cg; do
  train "$solver-ref" 1 --solver "$solver" --threads 1 --exchange allgather
  # Ranks-threads: the exchange alone, then 2 and 3 ranks (3 with 1 and 2 threads).
  for case in 1-1 2-2 3-1 3-2; do
    name=$solver-routed-$case
    train "$name" "${case%-*}" --solver "$solver" --threads "${case#*-}" --exchange routed --exchange-buffer 60K &&
      same_model "$solver-routed" "$solver-ref" "$name"
  done
done
check chunks "the small buffer splits each half into several chunks" \
  grep -Eq 'users routed \(([2-9]|[1-9][0-9]+) chunks.*items routed \(([2-9]|[1-9][0-9]+) chunks' \
  "$SCRATCH/cholesky-routed-3-1.rank0.out"
check bytes "metrics.jsonl reports the bytes each half moved (rows and the Gramian's block sums)" \
  jq -e -s 'all(.[]; .user_half_bytes_received > 0 and .item_half_bytes_received > 0)' \
  "$SCRATCH/cholesky-routed-3-1.model/metrics.jsonl"

# Checkpoint in one mode, resume in the other on another rank count.
ITERATIONS=2 train half-routed 3 --threads 1 --exchange routed --exchange-buffer 60K --checkpoint-dir "$SCRATCH/ck1"
train resumed-allgather 2 --threads 1 --exchange allgather --checkpoint-dir "$SCRATCH/ck1" --resume auto &&
  same_model resume cholesky-ref resumed-allgather
ITERATIONS=2 train half-allgather 2 --threads 1 --exchange allgather --checkpoint-dir "$SCRATCH/ck2"
train resumed-routed 3 --threads 2 --exchange routed --exchange-buffer 60K --checkpoint-dir "$SCRATCH/ck2" \
  --resume auto && same_model resume cholesky-ref resumed-routed

# The comparison can fail: another seed differs.
SEED=4 train other-seed 2 --threads 1 --exchange routed
check other-seed "models trained with different seeds differ" \
  bash -c 'test -e "$2/COMPLETE" && ! "$0" "$1" "$2" >/dev/null' "$DALS_MODEL_DIFF" "$SCRATCH/cholesky-ref.model" \
  "$SCRATCH/other-seed.model"

# A test split: its ranking metrics score every item, on routed items by a distributed top-K.
run_ranks 1 "$SCRATCH/generate-test" "$DALS_GENERATE" --users 700 --items 400 --ratings 8000 --blocks 3 --seed 5 \
  --round --test-fraction 0.1 --output "$SCRATCH/with-test"
expect_success generate-test "$SCRATCH/generate-test" || cli_finish
DATA=$SCRATCH/with-test ITERATIONS=2 train routed-ranking 2 --threads 1 --exchange routed
check routed-ranking "the last iteration reports precision@10" \
  grep -q "^iter 2 .*precision@10 " "$SCRATCH/routed-ranking.rank0.out"
DATA=$SCRATCH/with-test ITERATIONS=2 train auto-ranking 2 --threads 1 --exchange auto
check auto-ranking "the last iteration reports precision@10" \
  grep -q "^iter 2 .*precision@10 " "$SCRATCH/auto-ranking.rank0.out"
cli_finish
