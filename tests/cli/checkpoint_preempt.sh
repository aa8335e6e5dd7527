#!/usr/bin/env bash
# Preemption: SIGTERM or SIGUSR1 mid-run makes dals-train finish the current
# half-iteration, write a checkpoint and exit with 3 on every rank, within
# one iteration (a signal during a user half stops at that half's end, with
# an iter-N.5 checkpoint); a signal that reached one rank only stops all of them; a
# time limit (--time-limit, SLURM_JOB_END_TIME) stops the run before the
# deadline; the resumed run ends bit-identical to an uninterrupted one.
#
# Usage (as ctest runs it): bash checkpoint_preempt.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 4000 2000 200000 4
ITERS=40
# k = 96: iterations of ~0.1 s, long against the delay of a signal sent
# through mpirun on a loaded machine (at k = 32 they took 20 ms, and three
# went by before the ranks saw the signal).
OPTS=(--data "$DATA" -k 96 --seed 5 --threads 1)
# shellcheck disable=SC2034  # read by lib.sh's run_ranks and run_one
DALS_CLI_TIMEOUT=120

run_ranks 1 "$LOGS/reference" "$DALS_TRAIN" "${OPTS[@]}" --iterations "$ITERS" --quiet --output "$SCRATCH/reference"
expect_success reference "$LOGS/reference"

# now_ms: wall clock in milliseconds.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# signal_case CASE NP HOW: starts a run, signals it once 3 iterations are
# done, checks the stop, resumes on 2 ranks and compares. HOW: "all" (SIGTERM
# to every rank, as Slurm does), "one" (SIGTERM to the last rank only),
# "mpirun" (SIGUSR1 to mpirun, which forwards it to every rank).
signal_case() {
  local case_name=$1 np=$2 how=$3 prefix=$LOGS/$1 ckpt=$SCRATCH/$1/ckpt output=$SCRATCH/$1/model r
  mkdir -p "$SCRATCH/$case_name"
  start_ranks "$np" "$prefix" "$DALS_TRAIN" "${OPTS[@]}" --iterations "$ITERS" --checkpoint-dir "$ckpt" \
    --checkpoint-every 10 --output "$output"
  if ! wait_for_children "$prefix" "$np" 30 || ! wait_for_line "$prefix.rank0.out" '^iter 3 ' 60; then
    fail "$case_name" "the run did not get to iteration 3"
    wait "$BG_PID"
    show_logs "$prefix"
    return 1
  fi
  local seen sent_at
  seen=$(grep -c '^iter ' "$prefix.rank0.out")
  sent_at=$(now_ms)
  case $how in
    all) for ((r = 0; r < np; r++)); do signal_rank "$prefix" "$r" TERM; done ;;
    one) signal_rank "$prefix" $((np - 1)) TERM ;;
    mpirun)
      local launcher
      launcher=$(cat "$prefix.rank0.launcher")
      [[ "$(cat "/proc/$launcher/comm" 2>/dev/null)" =~ ^(mpirun|orterun|mpiexec)$ ]] && kill -USR1 "$launcher" ;;
  esac
  wait "$BG_PID"
  local took=$(($(now_ms) - sent_at))
  expect_preempted "$case_name" "$prefix" || return 1
  local newest done_iters slowest_ms
  newest=$(newest_checkpoint "$ckpt")
  done_iters=$(checkpoint_iterations "$newest")
  check "$case_name" "the stop notice names the checkpoint $newest" grep -q "checkpoint $ckpt/$newest" "$prefix.rank0.err"
  check "$case_name" "$newest loads" loads "$ckpt/$newest"
  # Within one iteration: the signal came after `seen` iterations had been
  # printed, so the run was in iteration seen+1 (or just starting seen+2).
  check "$case_name" "stopped within one iteration of the signal (at $newest, $seen iterations printed before it)" \
    test "$done_iters" -le $((seen + 2))
  slowest_ms=$(grep -o 'users [0-9.]*s  items [0-9.]*s  exchange [0-9.]*s' "$prefix.rank0.out" |
    awk '{ t = ($2 + $4 + $6) * 1000; if (t > m) m = t } END { printf "%d", m }')
  check "$case_name" "exited ${took} ms after the signal (slowest iteration ${slowest_ms} ms; bound: that + 5 s for checkpoint and exit)" \
    test "$took" -le $((slowest_ms + 5000))
  check "$case_name" "no model was published" test ! -e "$output" -a ! -e "$output.tmp"
  run_ranks 2 "$prefix.resume" "$DALS_TRAIN" "${OPTS[@]}" --iterations "$ITERS" --checkpoint-dir "$ckpt" \
    --resume auto --quiet --output "$output"
  expect_success "$case_name" "$prefix.resume" && identical_models "$case_name" "$SCRATCH/reference" "$output"
}

signal_case sigterm-all-ranks 3 all
signal_case sigterm-one-rank 3 one
signal_case sigusr1-to-mpirun 2 mpirun

# ---------------------------------------------------------------- half-iteration boundary
# A SIGTERM during a user half (rank 1 sends it to itself as the user half
# of iteration 3 starts: DALS_TEST_SIGNAL) stops the run at the end of that
# half, not a half later: the checkpoint is iter-000002.5.
case_name=sigterm-in-user-half
prefix=$LOGS/$case_name
mkdir -p "$SCRATCH/$case_name"
run_ranks 2 "$prefix" env DALS_TEST_SIGNAL=user-half:1:3 "$DALS_TRAIN" "${OPTS[@]}" --iterations "$ITERS" \
  --checkpoint-dir "$SCRATCH/$case_name/ckpt" --checkpoint-every 10 --output "$SCRATCH/$case_name/model"
if expect_preempted $case_name "$prefix"; then
  check $case_name "the checkpoint is the half-iteration one: $(cd "$SCRATCH/$case_name/ckpt" && ls | paste -sd ' ')" \
    test "$(newest_checkpoint "$SCRATCH/$case_name/ckpt")" = iter-000002.5
  check $case_name "the notice names the user half of iteration 3" \
    grep -q "after iteration 2 and the user half of 3" "$prefix.rank0.err"
  run_ranks 3 "$prefix.resume" "$DALS_TRAIN" "${OPTS[@]}" --iterations "$ITERS" \
    --checkpoint-dir "$SCRATCH/$case_name/ckpt" --resume auto --quiet --output "$SCRATCH/$case_name/model"
  expect_success $case_name "$prefix.resume" &&
    identical_models $case_name "$SCRATCH/reference" "$SCRATCH/$case_name/model"
fi

# ---------------------------------------------------------------- deadline
# time_limit_case CASE LIMIT_S ENV...: a run of "forever" must stop on its
# own before LIMIT_S seconds with a checkpoint, and resume identically.
time_limit_case() {
  local case_name=$1 limit=$2 prefix=$LOGS/$1 ckpt=$SCRATCH/$1/ckpt output=$SCRATCH/$1/model
  shift 2
  mkdir -p "$SCRATCH/$case_name"
  local started took
  started=$(now_ms)
  run_ranks 2 "$prefix" env "$@" "$DALS_TRAIN" "${OPTS[@]}" --iterations 100000 --checkpoint-dir "$ckpt" \
    --checkpoint-every 0 --output "$output" ${TIME_LIMIT:+--time-limit "$limit"}
  expect_preempted "$case_name" "$prefix" || return 1
  check "$case_name" "the notice says the deadline stopped it" grep -q "stopped by the deadline" "$prefix.rank0.err"
  # From mpirun's start to rank 0's exit (its .rc file): mpirun's start-up
  # (well under a second) is inside, its slow clean-up after exit code 3 is not.
  took=$(($(date -r "$prefix.rank0.rc" +%s%3N) - started))
  check "$case_name" "rank 0 ended ${took} ms after mpirun started, within the ${limit} s limit (+1 s for start-up)" \
    test "$took" -le $((limit * 1000 + 1000))
  local newest done_iters
  newest=$(newest_checkpoint "$ckpt")
  done_iters=$(checkpoint_iterations "$newest")
  check "$case_name" "it got somewhere first ($newest)" test "$done_iters" -ge 1
  [[ "${RESUME:-1}" == 1 ]] || return 0
  # Resume to a few iterations past the stop; compare with a run of as many.
  local target=$((done_iters + 3))
  run_ranks 3 "$prefix.resume" "$DALS_TRAIN" "${OPTS[@]}" --iterations "$target" --checkpoint-dir "$ckpt" \
    --resume auto --quiet --output "$output"
  run_ranks 1 "$prefix.reference" "$DALS_TRAIN" "${OPTS[@]}" --iterations "$target" --quiet \
    --output "$SCRATCH/$case_name/reference"
  expect_success "$case_name" "$prefix.resume" && expect_success "$case_name" "$prefix.reference" &&
    identical_models "$case_name" "$SCRATCH/$case_name/reference" "$output"
}

TIME_LIMIT=1 time_limit_case time-limit 4
RESUME=0 time_limit_case slurm-end-time 4 SLURM_JOB_END_TIME=$(($(date +%s) + 4))

cli_finish
