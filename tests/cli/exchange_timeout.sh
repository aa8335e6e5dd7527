#!/usr/bin/env bash
# The exchange watchdog (--exchange-timeout, mpi/watchdog.hpp): a rank that
# stalls inside an exchange (DALS_TEST_STALL, as behind a dead link) ends
# the whole job within the limit plus a few seconds, with exit code 4 and a
# line naming the timeout, the rank and the step; no rank is left behind;
# the last complete checkpoint loads, and --resume auto ends bit-identical
# to an uninterrupted run. Also in the routed exchange, and a bad value.
#
# Usage (as ctest runs it): bash exchange_timeout.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 2000 1000 60000 4
OPTS=(--data "$DATA" -k 16 --seed 3 --threads 1 --iterations 4 --quiet)
# shellcheck disable=SC2034  # read by lib.sh's run_ranks
DALS_CLI_TIMEOUT=120
LIMIT=2
BOUND=$((LIMIT + 10))  # seconds from the launch (the stall comes after 2 iterations of milliseconds) to the end

run_ranks 2 "$LOGS/reference" "$DALS_TRAIN" "${OPTS[@]}" --output "$SCRATCH/reference"
expect_success reference "$LOGS/reference"

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# no_process_naming TEXT: no process has TEXT in its command line.
no_process_naming() { ! pgrep -f -- "$1" >/dev/null; }

# stall_case CASE NP STALL WANT ARGS... (WANT: a grep -E pattern): trains with DALS_TEST_STALL=STALL
# and --exchange-timeout LIMIT under a plain mpirun (its exit code is the
# job's: MPI_Abort ends every rank, so lib.sh's wrappers would record none).
# Checks the code, the time from the launch (an upper bound of the time
# from the stall) to the end, the error line naming WANT, and that no
# process of the run is left (ARGS name $SCRATCH/CASE/, unique to the case).
stall_case() {
  local case_name=$1 np=$2 stall=$3 want=$4 prefix=$LOGS/$1
  shift 4
  rm -f "$prefix".*
  local started code=0
  started=$(now_ms)
  DALS_TEST_STALL=$stall timeout -k 5 "$DALS_CLI_TIMEOUT" "$MPIRUN" --oversubscribe --bind-to none -n "$np" \
    "$DALS_TRAIN" "${OPTS[@]}" --exchange-timeout "$LIMIT" "$@" >"$prefix.out" 2>"$prefix.err" || code=$?
  local took=$(($(now_ms) - started))
  check "$case_name" "mpirun exited 4 (got $code)" test "$code" = 4
  check "$case_name" "ended ${took} ms after the launch (bound ${BOUND} s)" test "$took" -le $((BOUND * 1000))
  check "$case_name" "stderr names the timeout: $(grep -m1 'exchange-timeout' "$prefix.err")" \
    grep -q -- "error (rank [0-9]* on .*has not completed in .*; --exchange-timeout $LIMIT).*exit code 4" "$prefix.err"
  check "$case_name" "stderr names the step: $want" grep -qE -- "$want" "$prefix.err"
  # The checkpoint directory is unique to the case: a process naming it is one of this run's.
  check "$case_name" "no rank is left running" no_process_naming "$SCRATCH/$case_name/"
  if ((code != 4)); then sed 's/^/    | /' "$prefix.err" | head -n 20 >&2; fi
}

# The user exchange of iteration 3 stalls on rank 1 of 3 (the trainer's
# watched steps: two allgathers an iteration), after the checkpoint of
# iteration 2.
CKPT=$SCRATCH/allgather/ckpt
stall_case allgather 3 exchange:1:5 'allgather of the user factors has not completed in [0-9]+ s \(iteration 3;' \
  --exchange allgather --checkpoint-dir "$CKPT" --output "$SCRATCH/allgather/model"
check allgather "the newest checkpoint is iter-000002 (got $(newest_checkpoint "$CKPT"))" \
  test "$(newest_checkpoint "$CKPT")" = iter-000002
check allgather "iter-000002 loads" loads "$CKPT/iter-000002"
check allgather "no model was published" test ! -e "$SCRATCH/allgather/model"
run_ranks 2 "$LOGS/resume" "$DALS_TRAIN" "${OPTS[@]}" --checkpoint-dir "$CKPT" --resume auto \
  --output "$SCRATCH/allgather/model"
expect_success resume "$LOGS/resume" && identical_models resume "$SCRATCH/reference" "$SCRATCH/allgather/model"

# Routed: rank 0's first watched step (iteration 1's user half receives
# item rows), and with heavy users (--heavy-rows 40) their equations' parts first.
stall_case routed 2 exchange:0:1 'routed exchange of the item factors has not completed in [0-9]+ s \(iteration 1;' \
  --exchange routed --heavy-rows off --checkpoint-dir "$SCRATCH/routed/ckpt" --output "$SCRATCH/routed/model"
stall_case heavy 2 exchange:0:1 "exchange of the heavy users' equations has not completed in [0-9]+ s \\(iteration 1;" \
  --exchange routed --heavy-rows 40 --checkpoint-dir "$SCRATCH/heavy/ckpt" --output "$SCRATCH/heavy/model"

EXIT=2 train_fails bad_value 1 "${OPTS[@]}" --exchange-timeout -1 --output "$SCRATCH/bad" -- \
  "--exchange-timeout must be >= 0"

cli_finish
