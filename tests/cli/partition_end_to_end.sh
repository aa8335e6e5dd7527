#!/usr/bin/env bash
# End to end: dals-generate writes a dataset and the same ratings as text
# (PREFIX-train.csv, PREFIX-test.csv, raw ids); dals-partition turns the text
# back into a dataset (the test file mapped with the training ids, cold-start
# test ratings kept, as the generator keeps them). Both datasets hold exactly
# the same ratings under the same raw ids, and dals-train reaches the same
# test RMSE on both.
#
# Not bit for bit: the partitioned dataset numbers users and items in another
# order (dense ids follow the hash of the raw id), and the initial factors
# are drawn per dense id, so the two runs start from different points and
# add in different orders. ALS converges to the same fit all the same: the
# test RMSEs agree to about 1e-5, and the check allows 1e-4.
#
# Usage (as ctest runs it): bash partition_end_to_end.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_PARTITION=$(find_tool dals-partition)
DALS_INSPECT=$(find_tool dals-inspect)
DALS_GENERATE=$(find_tool dals-generate)
require_tools DALS_PARTITION DALS_INSPECT DALS_GENERATE DALS_TRAIN
require_commands jq
# shellcheck disable=SC2034  # read by lib.sh's run_ranks and run_one
DALS_CLI_TIMEOUT=120

S=$SCRATCH
run_ranks 2 "$S/generate" "$DALS_GENERATE" --users 4000 --items 900 --ratings 200000 --test-fraction 0.1 \
  --blocks 4 --seed 5 --output "$S/generated" --text-output "$S/text"
expect_success generate "$S/generate" || cli_finish
run_ranks 2 "$S/partition" "$DALS_PARTITION" --input "$S/text-train.csv" --test-input "$S/text-test.csv" --header \
  --cold-start keep --blocks 4 --output "$S/partitioned" --quiet
expect_success partition "$S/partition" || cli_finish

for split in train test; do
  "$DALS_INSPECT" "$S/generated" --dump $split | sort >"$S/generated.$split"
  "$DALS_INSPECT" "$S/partitioned" --dump $split | sort >"$S/partitioned.$split"
  check same-ratings "$split: the same $(wc -l <"$S/generated.$split") ratings under the same raw ids" \
    cmp -s "$S/generated.$split" "$S/partitioned.$split"
done
check inspect "dals-inspect finds nothing wrong with the partitioned dataset" "$DALS_INSPECT" --quiet "$S/partitioned"
check inspect "... nor with the generated one" "$DALS_INSPECT" --quiet "$S/generated"
check mean "the same training mean" test "$(json_field "$S/generated/manifest.json" .mean | cut -c1-12)" = \
  "$(json_field "$S/partitioned/manifest.json" .mean | cut -c1-12)"

for data in generated partitioned; do
  run_ranks 2 "$S/train-$data" "$DALS_TRAIN" --data "$S/$data" --output "$S/model-$data" --factors 8 --regularization weighted \
    --lambda-units absolute --lambda 0.05 --iterations 12 --threads 1 --seed 1 --quiet
  expect_success "train-$data" "$S/train-$data"
done
a=$(json_field "$S/model-generated/metrics.jsonl" '.[-1].test_rmse' --slurp)  # the last line's
b=$(json_field "$S/model-partitioned/metrics.jsonl" '.[-1].test_rmse' --slurp)
check test-rmse "test RMSE $a (generated) vs $b (partitioned): |difference| <= 1e-4" \
  awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; exit !(a > 0 && b > 0 && d <= 1e-4 && d >= -1e-4) }'

cli_finish
