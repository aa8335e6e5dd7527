#!/usr/bin/env bash
# Hostile input files: a manifest field of the wrong type or range, a named
# pipe where a file should be, a manifest whose mean is not the data's.
# Each ends with one error line naming the file and what is wrong, a nonzero
# exit on every rank, and no hang (expect_failure fails on a hang).
#
# Usage (as ctest runs it): bash hostile_inputs.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_INSPECT=$(find_tool dals-inspect)
require_tools DALS_TRAIN DALS_IMPORT DALS_INSPECT DALS_CORRUPT
require_commands mkfifo

GOOD=$SCRATCH/good  # 4 blocks per side
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_dataset "$GOOD" 4

# ---------------------------------------------------------------- JSON types and ranges

# 2^32 + 4: read into an int it would be 4, the true count, and the
# fingerprint would still match.
case_name=manifest-blocks-2p32
fresh_copy "$GOOD" "$SCRATCH/$case_name"
sed -i 's/"blocks": 4,/"blocks": 4294967300,/' "$SCRATCH/$case_name/manifest.json"
check $case_name "the manifest was edited" grep -q '"blocks": 4294967300,' "$SCRATCH/$case_name/manifest.json"
run_one "$LOGS/$case_name" "$DALS_INSPECT" "$SCRATCH/$case_name"
EXPECT_EXIT_CODE=1 expect_failure $case_name "$LOGS/$case_name" "$case_name/manifest.json" blocks 4294967300

cli_finish
