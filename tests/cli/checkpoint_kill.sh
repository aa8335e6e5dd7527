#!/usr/bin/env bash
# Nothing lost when a rank dies: a 3-rank run is killed with SIGKILL on one
# rank, the job fails without hanging, every checkpoint left under a final
# name is complete and loads, no half-written model appears, and
# `--resume auto` (on 2 ranks) finishes with factors bit-identical to an
# uninterrupted run.
#
# Kill points: (1) deterministic crash points inside the checkpoint write
# (DALS_TEST_CRASH, see crash_point.hpp): after a rank's blocks are written,
# after COMPLETE but before the rename, after the rename, and during the
# final model's write; (2) SIGKILL from outside at seeded random moments,
# chained: each resumed run is killed again, then a last run finishes. The
# random moments start once every rank is past MPI_Init (DALS_TEST_READY,
# crash_point.hpp): a rank killed while still connecting to Open MPI 4.1's
# launcher can leave mpirun itself hanging (PMIx "UNREACHABLE"), which no
# job can prevent.
#
# Usage (as ctest runs it): bash checkpoint_kill.sh BUILD_DIR SCRATCH_DIR [SEED]
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"
SEED=${3:-${DALS_KILL_SEED:-20240607}}
RANDOM_KILLS=${DALS_RANDOM_KILLS:-5}

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 4000 2000 200000 4
ITERS=16
OPTS=(--data "$DATA" -k 16 --seed 5 --threads 1 --iterations "$ITERS" --quiet)
DALS_CLI_TIMEOUT=90

run_ranks 2 "$LOGS/reference" "$DALS_TRAIN" "${OPTS[@]}" --output "$SCRATCH/reference"
expect_success reference "$LOGS/reference" || { cli_finish; }

# killed_run CASE NP PREFIX CKPT OUTPUT [VAR=VALUE...]: dals-train on NP ranks
# with every rank exec'ed by its wrapper, so that a dying rank dies as the
# MPI process and mpirun ends the job (as srun would). Returns mpirun's status.
killed_run() {
  local case_name=$1 np=$2 prefix=$3 ckpt=$4 output=$5
  shift 5
  local status=0
  rm -f "$prefix".rank*.child "$prefix".rank*.ready
  env DALS_TEST_READY="$prefix" "$@" timeout -k 10 "$DALS_CLI_TIMEOUT" "$MPIRUN" --oversubscribe --bind-to none -n "$np" \
    bash -c 'r=${OMPI_COMM_WORLD_RANK:-0}; echo $$ >"$0.rank$r.child"; exec "$@" >"$0.rank$r.out" 2>"$0.rank$r.err"' \
    "$prefix" "$DALS_TRAIN" "${OPTS[@]}" --checkpoint-dir "$ckpt" --resume auto --output "$output" \
    >"$prefix.mpirun.out" 2>&1 &
  KILLED_RUN_PID=$!
}

# finish CASE CKPT OUTPUT: resume on 2 ranks to the end; must equal the reference.
finish() {
  local case_name=$1 ckpt=$2 output=$3
  run_ranks 2 "$LOGS/$case_name.finish" "$DALS_TRAIN" "${OPTS[@]}" --checkpoint-dir "$ckpt" --resume auto \
    --output "$output"
  expect_success "$case_name" "$LOGS/$case_name.finish" && identical_models "$case_name" "$SCRATCH/reference" "$output"
}

# ---------------------------------------------------------------- crash points
# publish_factor_dir calls: 1..16 are the checkpoints, 17 the model.
for spec in blocks-written:1:3 blocks-written:2:1 sealed:0:5 published:0:7 blocks-written:2:17 sealed:0:17; do
  case_name=crash-${spec//:/-}
  ckpt=$SCRATCH/$case_name/ckpt
  output=$SCRATCH/$case_name/model
  mkdir -p "$SCRATCH/$case_name"
  killed_run "$case_name" 3 "$LOGS/$case_name" "$ckpt" "$output" DALS_TEST_CRASH="$spec"
  status=0
  wait "$KILLED_RUN_PID" || status=$?
  CLI_CHECKS=$((CLI_CHECKS + 1))
  if ((status == 0)); then
    fail "$case_name" "crash point $spec was never reached (the job succeeded)"
  elif ((status == 124)); then
    fail "$case_name" "hang: the job outlived its ${DALS_CLI_TIMEOUT}s timeout after a rank died"
  else
    pass "$case_name" "the job failed when a rank died at crash point $spec (status $status)"
  fi
  checkpoints_sound "$case_name" "$ckpt"
  check "$case_name" "no model was published" test ! -e "$output"
  finish "$case_name" "$ckpt" "$output"
done

# ---------------------------------------------------------------- random kills
# wait_ready PREFIX NP: until every rank of the run has passed MPI_Init (or the
# job is gone); returns 1 if not all did within the timeout.
wait_ready() {
  local prefix=$1 np=$2 waited=0 r ready
  while ((waited < DALS_CLI_TIMEOUT * 100)); do
    ready=0
    for ((r = 0; r < np; r++)); do [[ -e "$prefix.rank$r.ready" ]] && ready=$((ready + 1)); done
    ((ready == np)) && return 0
    kill -0 "$KILLED_RUN_PID" 2>/dev/null || return 1
    sleep 0.01
    waited=$((waited + 1))
  done
  return 1
}

# Kill times are drawn from [5%, 90%] of an uninterrupted run of the same
# command after MPI_Init, timed here, so the kills land inside runs on a fast
# or a slow machine (and not in MPI_Finalize, for the reason above).
killed_run calibrate 3 "$LOGS/calibrate" "$SCRATCH/calibrate/ckpt" "$SCRATCH/calibrate/model"
wait_ready "$LOGS/calibrate" 3
calibrate_start=$(date +%s%N)
wait "$KILLED_RUN_PID"
RUN_MS=$((($(date +%s%N) - calibrate_start) / 1000000))
check calibrate "an uninterrupted checkpointing run finishes" loads "$SCRATCH/calibrate/model"
echo "     [random] an uninterrupted run takes ${RUN_MS} ms after MPI_Init"
RANDOM=$SEED
case_name=random
ckpt=$SCRATCH/random/ckpt
output=$SCRATCH/random/model
mkdir -p "$SCRATCH/random"
during_write=0
for ((kill = 1; kill <= RANDOM_KILLS; kill++)); do
  prefix=$LOGS/random-$kill
  touch "$prefix.started"
  killed_run "$case_name" 3 "$prefix" "$ckpt" "$output"
  delay_ms=$((RUN_MS / 20 + RANDOM % (RUN_MS * 17 / 20)))
  if ! wait_ready "$prefix" 3; then
    CLI_CHECKS=$((CLI_CHECKS + 1))
    fail "random-$kill" "not every rank got past MPI_Init (see $prefix.*)"
    wait "$KILLED_RUN_PID"
    continue
  fi
  victim=$((RANDOM % 3))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  pid=$(cat "$prefix.rank$victim.child" 2>/dev/null || true)
  if [[ -n "$pid" && "$(cat "/proc/$pid/comm" 2>/dev/null)" == dals-train ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    # A staging directory this run created and did not rename: the kill hit a write.
    tmp_left=$(find "$ckpt" -maxdepth 1 -name '*.tmp' -newer "$prefix.started" 2>/dev/null | head -n 1)
    [[ -n "$tmp_left" ]] && during_write=$((during_write + 1))
    echo "     [random] kill $kill: rank $victim at ${delay_ms} ms after MPI_Init${tmp_left:+ (a checkpoint was being written: $(basename "$tmp_left"))}"
  else
    echo "     [random] kill $kill: rank $victim had already exited at ${delay_ms} ms"
  fi
  status=0
  wait "$KILLED_RUN_PID" || status=$?
  CLI_CHECKS=$((CLI_CHECKS + 1))
  if ((status == 124)); then
    fail "random-$kill" "hang: the job outlived its timeout after a rank died"
  else
    pass "random-$kill" "job ended (status $status)"
  fi
  checkpoints_sound "random-$kill" "$ckpt"
  if [[ -e "$output" ]]; then
    check "random-$kill" "a published model is complete" loads "$output"
    break  # the run had finished before this kill: nothing left to resume
  fi
done
echo "     [random] $during_write of $RANDOM_KILLS random kills landed during a checkpoint write (seed $SEED)"
if [[ -e "$output" ]]; then
  identical_models random "$SCRATCH/reference" "$output"
else
  finish random "$ckpt" "$output"
fi

cli_finish
