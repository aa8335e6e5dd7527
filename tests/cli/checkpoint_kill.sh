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
# chained: each resumed run is killed again, then a last run finishes.
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
  rm -f "$prefix".rank*.child
  env "$@" timeout -k 10 "$DALS_CLI_TIMEOUT" "$MPIRUN" --oversubscribe --bind-to none -n "$np" \
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
# Kill times are drawn from [5%, 95%] of an uninterrupted run of the same
# command, timed here, so the kills land inside runs on a fast or a slow machine.
calibrate_start=$(date +%s%N)
killed_run calibrate 3 "$LOGS/calibrate" "$SCRATCH/calibrate/ckpt" "$SCRATCH/calibrate/model"
wait "$KILLED_RUN_PID"
RUN_MS=$((($(date +%s%N) - calibrate_start) / 1000000))
check calibrate "an uninterrupted checkpointing run finishes" loads "$SCRATCH/calibrate/model"
echo "     [random] an uninterrupted run takes ${RUN_MS} ms"
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
  delay_ms=$((RUN_MS / 20 + RANDOM % (RUN_MS * 9 / 10)))
  victim=$((RANDOM % 3))
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  pid=$(cat "$prefix.rank$victim.child" 2>/dev/null || true)
  if [[ -n "$pid" && "$(cat "/proc/$pid/comm" 2>/dev/null)" == dals-train ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    # A staging directory this run created and did not rename: the kill hit a write.
    tmp_left=$(find "$ckpt" -maxdepth 1 -name '*.tmp' -newer "$prefix.started" 2>/dev/null | head -n 1)
    [[ -n "$tmp_left" ]] && during_write=$((during_write + 1))
    echo "     [random] kill $kill: rank $victim at ${delay_ms} ms${tmp_left:+ (a checkpoint was being written: $(basename "$tmp_left"))}"
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
