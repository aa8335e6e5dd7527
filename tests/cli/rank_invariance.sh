#!/usr/bin/env bash
# The published model (files on disk, not just memory) is bit-identical for
# P = 1, 2, 3, 4 ranks and 1 or 2 threads per rank, for Cholesky and for CG
# reading the fixed side from its half-precision copy.
#
# Usage (as ctest runs it): bash rank_invariance.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_MODEL_DIFF=$(find_tool dals-test-model-diff)
require_tools DALS_TRAIN DALS_GENERATE DALS_MODEL_DIFF

run_ranks 2 "$SCRATCH/generate" "$DALS_GENERATE" --users 900 --items 500 --ratings 40000 --blocks 4 --seed 11 \
  --output "$SCRATCH/data"
expect_success generate "$SCRATCH/generate" || cli_finish

# train NAME NP THREADS [OPTIONS...]: trains NAME's model.
train() {
  local name=$1 np=$2 threads=$3
  shift 3
  run_ranks "$np" "$SCRATCH/$name" "$DALS_TRAIN" --data "$SCRATCH/data" --output "$SCRATCH/$name.model" -k 10 \
    --iterations 4 --threads "$threads" --seed 3 --quiet "$@"
  expect_success "$name" "$SCRATCH/$name"
}
same_model() {  # same_model CASE REFERENCE NAME
  check "$1" "$3 is bit-identical to $2" "$DALS_MODEL_DIFF" "$SCRATCH/$2.model" "$SCRATCH/$3.model"
}

train ref 1 1
for np in 1 2 3 4; do
  for threads in 1 2; do
    [[ "$np$threads" == 11 ]] && continue
    train "cholesky-${np}x$threads" "$np" "$threads" && same_model cholesky ref "cholesky-${np}x$threads"
  done
done
train cg-ref 1 1 --solver cg --cg-precision half
for layout in 2x2 3x1 4x1; do
  train "cg-$layout" "${layout%x*}" "${layout#*x}" --solver cg --cg-precision half &&
    same_model cg cg-ref "cg-$layout"
done
# A different seed must give different factors: the comparison can fail.
run_ranks 1 "$SCRATCH/other-seed" "$DALS_TRAIN" --data "$SCRATCH/data" --output "$SCRATCH/other-seed.model" -k 10 \
  --iterations 4 --threads 1 --seed 4 --quiet
expect_success other-seed "$SCRATCH/other-seed"
check other-seed "models trained with different seeds differ" \
  bash -c '! "$0" "$1" "$2" >/dev/null' "$DALS_MODEL_DIFF" "$SCRATCH/ref.model" "$SCRATCH/other-seed.model"
cli_finish
