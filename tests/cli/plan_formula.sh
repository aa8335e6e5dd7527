#!/usr/bin/env bash
# tools/check-plan-formula.py on a real plan: the distinct users it counts
# among each rank's items' ratings (from the dataset and the plan's item
# ranges) equal dals-plan's item_half.distinct_rows on every rank, rows
# are received once (one chunk), and the median rank receives about the
# formula's R; a plan of another dataset, with users not routed or with
# heavy items (whose raters do not travel), is refused with one line
# naming the plan.
#
# Usage (as ctest runs it): bash plan_formula.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_PLAN=$(find_tool dals-plan)
require_tools DALS_GENERATE DALS_PLAN
# Debian's python3-h5py and python3-numpy serve /usr/bin/python3.
PYTHON=${DALS_PYTHON:-/usr/bin/python3}
require_commands "$PYTHON"
TOOL=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/check-plan-formula.py
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

run() {
  local case_name=$1
  shift
  run_one "$LOGS/$case_name" "$@"
  expect_success "$case_name" "$LOGS/$case_name"
}

run generate "$DALS_GENERATE" --users 3000 --items 300 --ratings 30000 --blocks 12 --seed 5 --test-fraction 0 \
  --item-skew 0.5 --output "$SCRATCH/data"
run generate-other "$DALS_GENERATE" --users 2000 --items 300 --ratings 20000 --blocks 12 --seed 5 \
  --output "$SCRATCH/other"
# The rows without heavy rows (their raters would not travel).
run plan "$DALS_PLAN" "$SCRATCH/data" --ranks 4 -k 8 --exchange routed --heavy-rows off --quiet \
  --output "$SCRATCH/plan.json"
run plan-heavy "$DALS_PLAN" "$SCRATCH/data" --ranks 4 -k 8 --exchange routed --heavy-rows 100 --quiet \
  --output "$SCRATCH/heavy.json"
run plan-allgather "$DALS_PLAN" "$SCRATCH/data" --ranks 4 -k 8 --exchange allgather --quiet \
  --output "$SCRATCH/allgather.json"

run check "$PYTHON" "$TOOL" "$SCRATCH/data" "$SCRATCH/plan.json" --top 3
out=$LOGS/check.rank0.out
check check "exact distinct users = the plan's on all 4 ranks" \
  grep -q "exact == plan's item_half.distinct_rows on 4 of 4 ranks; rows received / distinct: max 1.000" "$out"
check check "the three most rated items costed" test "$(grep -c '^    item ' "$out")" = 3
median_over_r=$(sed -n 's/.*plan rows received: median [0-9]* (\([0-9.]*\) R).*/\1/p' "$out")
check check "median rank within 10% of the formula (got ${median_over_r:-none} R)" \
  awk -v x="${median_over_r:-0}" 'BEGIN { exit !(x > 0.9 && x < 1.1) }'

run_one "$LOGS/other" "$PYTHON" "$TOOL" "$SCRATCH/other" "$SCRATCH/plan.json"
expect_failure other "$LOGS/other" "plan.json: users 3000 but"
run_one "$LOGS/allgather" "$PYTHON" "$TOOL" "$SCRATCH/data" "$SCRATCH/allgather.json"
expect_failure allgather "$LOGS/allgather" "allgather.json: users are not routed"
run_one "$LOGS/heavy" "$PYTHON" "$TOOL" "$SCRATCH/data" "$SCRATCH/heavy.json"
expect_failure heavy "$LOGS/heavy" "heavy.json: its heavy items" "--heavy-rows off"
run_one "$LOGS/missing" "$PYTHON" "$TOOL" "$SCRATCH/data" "$SCRATCH/none.json"
expect_failure missing "$LOGS/missing" "none.json"

cli_finish
