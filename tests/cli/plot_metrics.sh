#!/usr/bin/env bash
# tools/plot-metrics.py on real runs: an explicit run (with a test split) and
# an implicit run (ranking metrics every iteration) of dals-train drawn on
# one chart give a nonempty PNG of the expected size; a run's metrics.jsonl
# given by path works as its directory does; a missing file or a malformed
# line is refused with one line naming it, and nothing is written.
#
# Usage (as ctest runs it): bash plot_metrics.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
require_tools DALS_TRAIN DALS_GENERATE
# Debian's python3-matplotlib serves /usr/bin/python3 (a python3 earlier in
# PATH, such as pyenv's, may lack it).
PYTHON=${DALS_PYTHON:-/usr/bin/python3}
require_commands "$PYTHON"
PLOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/tools/plot-metrics.py
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

run() {
  local case_name=$1 np=$2
  shift 2
  run_ranks "$np" "$LOGS/$case_name" "$@"
  expect_success "$case_name" "$LOGS/$case_name"
}

# plot CASE ARGS...: tools/plot-metrics.py, one process (no mpirun).
plot() {
  local case_name=$1
  shift
  run_one "$LOGS/$case_name" "$PYTHON" "$PLOT" "$@"
}

# png_size FILE: "WIDTH HEIGHT" of a PNG (its IHDR), or nothing if FILE is not one.
png_size() {
  "$PYTHON" -c 'import struct, sys
b = open(sys.argv[1], "rb").read(24)
if b[:8] == b"\x89PNG\r\n\x1a\n" and b[12:16] == b"IHDR": print(*struct.unpack(">II", b[16:24]))' "$1"
}

DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 400 --items 200 --ratings 8000 --blocks 2 --seed 3 --round \
  --test-fraction 0.2 --output "$DATA"
run train-explicit 2 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/explicit" -k 4 --iterations 4 --threads 1 --quiet
run train-implicit 2 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/implicit" -k 4 --iterations 4 --threads 1 \
  --quiet --implicit --eval-every 1

plot plot --output "$SCRATCH/runs.png" --title "two runs" "$SCRATCH/explicit=explicit k=4" \
  "$SCRATCH/implicit/metrics.jsonl=implicit k=4"
expect_success plot "$LOGS/plot"
check plot "a PNG of 1800 x 500 (three panels)" test "$(png_size "$SCRATCH/runs.png")" = "1800 500"
check plot "of more than 20 KB (lines drawn, not an empty canvas)" \
  test "$(stat -c %s "$SCRATCH/runs.png")" -gt 20000
check plot "the summary names the output" grep -q "2 run(s) drawn to $SCRATCH/runs.png" "$LOGS/plot.rank0.out"
plot plot-one -o "$SCRATCH/one.png" "$SCRATCH/explicit"
expect_success plot-one "$LOGS/plot-one"
check plot-one "one explicit run: two panels" test "$(png_size "$SCRATCH/one.png")" = "1200 500"

plot missing -o "$SCRATCH/x.png" "$SCRATCH/explicit" "$SCRATCH/none"
expect_failure missing "$LOGS/missing" "plot-metrics: error:" "$SCRATCH/none" "cannot read"
printf '{"iteration": 1, "train_rmse": 1.0}\nnot json\n' >"$SCRATCH/bad.jsonl"
plot malformed -o "$SCRATCH/x.png" "$SCRATCH/bad.jsonl"
expect_failure malformed "$LOGS/malformed" "$SCRATCH/bad.jsonl:2" "not a JSON object"
check refusals "nothing written" test ! -e "$SCRATCH/x.png" -a ! -e "$SCRATCH/x.png.tmp"

cli_finish
