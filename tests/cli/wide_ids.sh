#!/usr/bin/env bash
# Datasets whose column ids are int64 on disk (as a side of 2^31 rows or
# more must be stored; dals-generate --wide-ids writes them at any size):
# dals-train reads them compacted where the other side is routed, and the
# model and its metrics are bit-identical to those from the same ratings
# stored in 32 bits, for P = 1-3, 2 threads, heavy rows, several chunks, CG,
# a validation split, implicit mode's routed ranking and a resume; where
# the other side is replicated the ids are narrowed; dals-plan's figures
# are the same; dals-inspect checks the files; and an id 2^32 above a valid
# one (which 32 bits would read as that id) is one clear error; a side of
# 2^31 rows or more cannot be all-gathered.
#
# Usage (as ctest runs it): bash wide_ids.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_INSPECT=$(find_tool dals-inspect)
DALS_PLAN=$(find_tool dals-plan)
DALS_MODEL_DIFF=$(find_tool dals-test-model-diff)
DALS_CORRUPT=$(find_tool dals-test-corrupt)
require_tools DALS_TRAIN DALS_GENERATE DALS_INSPECT DALS_PLAN DALS_MODEL_DIFF DALS_CORRUPT
require_commands jq

GEN=(--users 4000 --items 400 --ratings 50000 --blocks 5 --seed 21)
for kind in narrow wide; do
  extra=()
  [[ $kind == wide ]] && extra=(--wide-ids)
  run_ranks 2 "$SCRATCH/gen-$kind" "$DALS_GENERATE" "${GEN[@]}" --output "$SCRATCH/$kind" "${extra[@]}"
  expect_success "generate-$kind" "$SCRATCH/gen-$kind" || cli_finish
  run_ranks 2 "$SCRATCH/gen-i$kind" "$DALS_GENERATE" "${GEN[@]}" --implicit --output "$SCRATCH/i$kind" "${extra[@]}"
  expect_success "generate-implicit-$kind" "$SCRATCH/gen-i$kind" || cli_finish
done
# The files differ (8 bytes an id, not 4), the ratings do not.
check wider "the wide dataset's blocks store more bytes" \
  test "$(stat -c %s "$SCRATCH/wide/by-item/block-00001.h5")" -gt "$(stat -c %s "$SCRATCH/narrow/by-item/block-00001.h5")"
run_one "$SCRATCH/inspect" "$DALS_INSPECT" "$SCRATCH/wide"
expect_success inspect "$SCRATCH/inspect"
for kind in narrow wide; do
  run_one "$SCRATCH/dump-$kind" "$DALS_INSPECT" "$SCRATCH/$kind" --dump train
  expect_success "dump-$kind" "$SCRATCH/dump-$kind"
done
check dump "both hold the same ratings" cmp "$SCRATCH/dump-narrow.rank0.out" "$SCRATCH/dump-wide.rank0.out"

# train NAME NP DATA [OPTIONS...]
train() {
  local name=$1 np=$2 data=$3
  shift 3
  run_ranks "$np" "$SCRATCH/$name" "$DALS_TRAIN" --data "$SCRATCH/$data" --output "$SCRATCH/$name.model" -k 10 \
    --iterations "${ITERATIONS:-3}" --threads "${THREADS:-1}" --seed 3 "$@"
  expect_success "$name" "$SCRATCH/$name"
}
# twins NAME REFERENCE NP [OPTIONS...]: the narrow and the wide dataset
# trained alike (the implicit ones with IMPLICIT=i). The wide model is
# bit-identical to REFERENCE's (trained once, on one rank, all-gathered);
# its metrics, but for times, equal the narrow twin's (sums over ranks
# and threads round alike only for the same P and one thread: the
# threads' reductions of the objective take no fixed order).
twins() {
  local name=$1 ref=$2 np=$3
  shift 3
  train "$name-narrow" "$np" "${IMPLICIT:-}narrow" "$@" || return
  train "$name" "$np" "${IMPLICIT:-}wide" "$@" || return
  check "$name" "$name is bit-identical to $ref" "$DALS_MODEL_DIFF" "$SCRATCH/$ref.model" "$SCRATCH/$name.model"
  local strip='[.[] | with_entries(select(.key | test("seconds|gflops") | not))]'
  [[ ${THREADS:-1} == 1 ]] || return 0
  check "$name-metrics" "$name's metrics are its narrow twin's" \
    bash -c 'diff <(jq -s -c "$0" "$1") <(jq -s -c "$0" "$2")' "$strip" \
    "$SCRATCH/$name-narrow.model/metrics.jsonl" "$SCRATCH/$name.model/metrics.jsonl"
}

# 8 KB holds 186 rows of k = 10: several chunks a half; rows of 36 ratings
# or more are heavy (their equations sent in parts).
R=(--exchange routed --exchange-buffer 8K --heavy-rows 36)
train ref 1 narrow --exchange allgather --heavy-rows 36
for np in 1 2 3; do twins "wide-$np" ref "$np" "${R[@]}"; done
check chunks "the routed run cut chunks" grep -Eq 'users routed \(([2-9]|[1-9][0-9]+) chunks' \
  "$SCRATCH/wide-2.rank0.out"
THREADS=2 twins wide-threads ref 2 "${R[@]}"
# Replicated, the ids are narrowed to 32 bits as they are read.
twins wide-allgather ref 2 --exchange allgather --heavy-rows 36
train ref-cg 1 narrow --exchange allgather --solver cg --heavy-rows off
twins wide-cg ref-cg 3 --exchange routed --solver cg --heavy-rows off
train ref-validation 1 narrow --exchange allgather --validation-fraction 0.1 --heavy-rows 36
twins wide-validation ref-validation 3 "${R[@]}" --validation-fraction 0.1
# Implicit mode ranks every item per test user, by dense item id.
train ref-implicit 1 inarrow --exchange allgather --heavy-rows 100
IMPLICIT=i twins wide-implicit ref-implicit 2 --exchange routed --exchange-buffer 16K --heavy-rows 100
check ranked "the routed implicit run reports the all-gathered run's ranking metrics" \
  bash -c 'test "$(jq -s -c "[.[].ndcg]" "$0")" = "$(jq -s -c "[.[].ndcg]" "$1")" && jq -e -s ".[-1].ndcg > 0" "$0"' \
  "$SCRATCH/ref-implicit.model/metrics.jsonl" "$SCRATCH/wide-implicit.model/metrics.jsonl"
# A checkpoint of the wide dataset resumes on another rank count.
ITERATIONS=2 train half 3 wide "${R[@]}" --checkpoint-dir "$SCRATCH/ck"
train resumed 2 wide "${R[@]}" --checkpoint-dir "$SCRATCH/ck" --resume auto &&
  check resumed "the resumed model is bit-identical to ref" "$DALS_MODEL_DIFF" "$SCRATCH/ref.model" \
    "$SCRATCH/resumed.model"
# The comparison can fail: another seed differs.
run_ranks 2 "$SCRATCH/seed" "$DALS_TRAIN" --data "$SCRATCH/wide" --output "$SCRATCH/seed.model" -k 10 \
  --iterations 3 --threads 1 --seed 4 --exchange routed --heavy-rows 36
expect_success seed "$SCRATCH/seed"
check other-seed "another seed's model differs" \
  bash -c '! "$0" "$1" "$2" >/dev/null' "$DALS_MODEL_DIFF" "$SCRATCH/ref.model" "$SCRATCH/seed.model"

# dals-plan reads the wide blocks compacted too: the same figures.
for kind in narrow wide; do
  run_ranks 1 "$SCRATCH/plan-$kind" "$DALS_PLAN" "$SCRATCH/$kind" --ranks 3 -k 10 --exchange routed \
    --exchange-buffer 8K --heavy-rows 36 --output "$SCRATCH/plan-$kind.json"
  expect_success "plan-$kind" "$SCRATCH/plan-$kind"
done
check plan "the plans of both datasets agree" \
  bash -c 'diff <(jq -c "{max, median}" "$0") <(jq -c "{max, median}" "$1")' \
  "$SCRATCH/plan-narrow.json" "$SCRATCH/plan-wide.json"

# An id 2^32 above a valid one: out of range, never read as the valid id.
fresh_copy "$SCRATCH/wide" "$SCRATCH/bad"
run_one "$SCRATCH/corrupt" "$DALS_CORRUPT" wide-index-past-32-bits "$SCRATCH/bad"
expect_success corrupt "$SCRATCH/corrupt"
tree_listing "$SCRATCH/bad" >"$SCRATCH/bad.listing"
for np in 1 2; do
  run_ranks "$np" "$SCRATCH/bad-$np" "$DALS_TRAIN" --data "$SCRATCH/bad" --output "$SCRATCH/bad-$np.model" -k 4 \
    --iterations 1 --exchange routed
  EXPECT_EXIT_CODE=1 expect_failure "bad-$np" "$SCRATCH/bad-$np" "by-item/block-00000.h5: index 42949"
  check "bad-$np" "no model published" test ! -e "$SCRATCH/bad-$np.model"
done
run_one "$SCRATCH/bad-inspect" "$DALS_INSPECT" "$SCRATCH/bad"
check bad-inspect "dals-inspect names the block and the id" grep -q "by-item/block-00000.h5: index 42949" \
  "$SCRATCH/bad-inspect.rank0.err"
same_tree bad "$SCRATCH/bad" "$SCRATCH/bad.listing"

# A manifest of 2^31 users or more (its last user block grown; no block
# file backs it): all-gathered, they are refused before any block is read,
# by dals-train on every rank and by dals-plan; auto routes them and the
# blocks' disagreement with the manifest is then the error.
fresh_copy "$SCRATCH/wide" "$SCRATCH/huge"
run_one "$SCRATCH/huge-corrupt" "$DALS_CORRUPT" manifest-huge-users "$SCRATCH/huge"
expect_success huge-corrupt "$SCRATCH/huge-corrupt"
run_ranks 2 "$SCRATCH/huge-allgather" "$DALS_TRAIN" --data "$SCRATCH/huge" --output "$SCRATCH/huge.model" -k 4 \
  --iterations 1 --exchange allgather
EXPECT_EXIT_CODE=1 expect_failure huge-allgather "$SCRATCH/huge-allgather" "--exchange allgather:" "2^31 or more"
run_one "$SCRATCH/huge-plan" "$DALS_PLAN" "$SCRATCH/huge" --ranks 2 -k 4 --exchange allgather
EXPECT_EXIT_CODE=1 expect_failure huge-plan "$SCRATCH/huge-plan" "--exchange allgather:" "2^31 or more"
run_ranks 2 "$SCRATCH/huge-auto" "$DALS_TRAIN" --data "$SCRATCH/huge" --output "$SCRATCH/huge.model" -k 4 \
  --iterations 1
EXPECT_EXIT_CODE=1 expect_failure huge-auto "$SCRATCH/huge-auto" "/huge/by-" "the manifest says"
check huge "no model published" test ! -e "$SCRATCH/huge.model"
cli_finish
