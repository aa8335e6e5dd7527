#!/usr/bin/env bash
# Slurm for real: starts a one-node Slurm (munged, slurmctld, slurmd: see
# tools/local-slurm/start.sh) and runs slurm/train.sbatch with 2 tasks:
#  - straight through: the model equals one trained by mpirun;
#  - warned with SIGUSR1 mid-run, exactly as `#SBATCH --signal=B:USR1@...`
#    delivers it (to the batch shell): the job checkpoints, requeues itself,
#    runs again from the checkpoint and ends with the same model;
#  - cancelled with scancel (SIGTERM to the tasks): it leaves a checkpoint,
#    and the job resubmitted by hand finishes with the same model.
# The daemons are stopped at the end, also when the test fails. Needs root
# (and apt for slurm-wlm, munge, libpmix-dev if missing). Where this machine
# cannot run the daemons at all (start.sh exits 3: not root, or slurmd cannot
# initialize its cgroup plugin) the test is skipped (exit 77) and says why;
# any other failure to start the cluster fails the test. start.sh's
# cgroup.conf lets slurmd start without cgroups (containers, chroots).
#
# Usage (as ctest runs it): bash slurm_train.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/slurm_helpers.bash"
ckpt_init "$@"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL_SLURM=$ROOT/tools/local-slurm
SBATCH_SCRIPT=$ROOT/slurm/train.sbatch

slurm_lock  # root, or skipped; one local cluster per machine at a time
# Ports: DALS_SLURM_PORTS if set, else the first free pair from 16817 on
# (not Slurm's usual 6817/6818, which a machine's own Slurm, or a test in a
# chroot on it, may hold: the lock above does not reach those).
port_free() { ! ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
if [[ -z "${DALS_SLURM_PORTS:-}" ]]; then
  for ((port = 16817; port < 16917; port += 2)); do
    if port_free $port && port_free $((port + 1)); then
      export DALS_SLURM_PORTS="$port $((port + 1))"
      break
    fi
  done
fi
cleanup() { "$LOCAL_SLURM/stop.sh" >"$SCRATCH/stop.log" 2>&1 || true; }
trap cleanup EXIT
start_status=0
exports=$("$LOCAL_SLURM/start.sh" 2>"$SCRATCH/start.log") || start_status=$?
if ((start_status == 3)); then
  echo "SKIPPED: this machine cannot run a local Slurm cluster:" >&2
  sed 's/^/    | /' "$SCRATCH/start.log" >&2
  exit 77
elif ((start_status != 0)); then
  echo "FAIL: cannot start a local Slurm cluster (start.sh exited $start_status):" >&2
  sed 's/^/    | /' "$SCRATCH/start.log" >&2
  exit 1
fi
eval "$exports"
check cluster "a local Slurm cluster is up ($SLURM_CONF)" sinfo -h

DATA=$SCRATCH/data
make_synth "$DATA" 4000 2000 200000 4
TRAIN_OPTS=(-k 16 --iterations 40 --threads 1 --seed 7 --checkpoint-every 10)
run_ranks 1 "$SCRATCH/reference" "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/reference" \
  "${TRAIN_OPTS[@]}" --quiet
expect_success reference "$SCRATCH/reference"
export DALS_TRAIN

# submit NAME: submits train.sbatch for NAME's model and checkpoints on one
# node with 2 tasks; prints the job id. The script's own --signal lead time
# (600 s) would fire at once in a 10-minute job: 1 s here, and the tests
# send the warning themselves.
submit() {
  sbatch --parsable -N 1 -n 2 --ntasks-per-node=2 -c 1 -t 10 --signal=B:USR1@1 -o "$SCRATCH/$1.out" \
    "$SBATCH_SCRIPT" "$DATA" "$SCRATCH/$1.model" "$SCRATCH/$1.ckpt" "${TRAIN_OPTS[@]}"
}

# ---------------------------------------------------------------- straight through
case_name=straight
job=$(submit $case_name)
check $case_name "submitted (job ${job:-none})" test -n "$job"
"$LOCAL_SLURM/wait-job.sh" "$job" 180 >"$SCRATCH/$case_name.wait" 2>&1
check $case_name "job $job completed: $(cat "$SCRATCH/$case_name.wait")" grep -q COMPLETED "$SCRATCH/$case_name.wait"
identical_models $case_name "$SCRATCH/reference" "$SCRATCH/$case_name.model"

# ---------------------------------------------------------------- warned, requeued
case_name=requeued
job=$(submit $case_name)
if until_output "$SCRATCH/$case_name.out" '^iter 12 '; then
  scancel --signal=USR1 --batch "$job"
  release_requeued "$job"
  "$LOCAL_SLURM/wait-job.sh" "$job" 180 >"$SCRATCH/$case_name.wait" 2>&1
  check $case_name "job $job completed: $(cat "$SCRATCH/$case_name.wait")" grep -q COMPLETED "$SCRATCH/$case_name.wait"
  check $case_name "the batch shell passed SIGUSR1 on" grep -q 'SIGUSR1: asking dals-train' "$SCRATCH/$case_name.out"
  check $case_name "dals-train stopped with a checkpoint" grep -q 'stopped by SIGUSR1' "$SCRATCH/$case_name.out"
  check $case_name "the job requeued itself" grep -q 'requeueing job' "$SCRATCH/$case_name.out"
  check $case_name "Slurm counts one restart" bash -c "scontrol show job $job | grep -q 'Restarts=1'"
  check $case_name "the second run resumed from the checkpoint" grep -q "resumed from $SCRATCH/$case_name.ckpt/iter-" \
    "$SCRATCH/$case_name.out"
  identical_models $case_name "$SCRATCH/reference" "$SCRATCH/$case_name.model"
  # A failed second run (seen once on a fresh machine) needs its output to be understood.
  grep -q COMPLETED "$SCRATCH/$case_name.wait" || sed 's/^/    | /' "$SCRATCH/$case_name.out" >&2
else
  fail $case_name "job $job did not reach iteration 12: $(job_state "$job")"
  sed 's/^/    | /' "$SCRATCH/$case_name.out" >&2
fi

# ---------------------------------------------------------------- cancelled, resubmitted
case_name=cancelled
job=$(submit $case_name)
if until_output "$SCRATCH/$case_name.out" '^iter 12 '; then
  scancel "$job"
  "$LOCAL_SLURM/wait-job.sh" "$job" 60 >"$SCRATCH/$case_name.wait" 2>&1
  check $case_name "job $job was cancelled: $(cat "$SCRATCH/$case_name.wait")" grep -q CANCELLED "$SCRATCH/$case_name.wait"
  # the tasks got SIGTERM and KillWait (10 s here) to save their state
  newest=$(newest_checkpoint "$SCRATCH/$case_name.ckpt")
  check $case_name "a checkpoint past iteration 10 was left (${newest:-none})" \
    test "$(checkpoint_iterations "${newest:-iter-000000}")" -gt 10
  check $case_name "it loads" loads "$SCRATCH/$case_name.ckpt/$newest"
  check $case_name "no model was published" test ! -e "$SCRATCH/$case_name.model"
  job2=$(submit $case_name)
  "$LOCAL_SLURM/wait-job.sh" "$job2" 180 >"$SCRATCH/$case_name.wait2" 2>&1
  check $case_name "the resubmitted job $job2 completed: $(cat "$SCRATCH/$case_name.wait2")" \
    grep -q COMPLETED "$SCRATCH/$case_name.wait2"
  check $case_name "it resumed from $newest" grep -q "resumed from $SCRATCH/$case_name.ckpt/$newest" \
    "$SCRATCH/$case_name.out"
  identical_models $case_name "$SCRATCH/reference" "$SCRATCH/$case_name.model"
else
  fail $case_name "job $job did not reach iteration 12: $(job_state "$job")"
  sed 's/^/    | /' "$SCRATCH/$case_name.out" >&2
fi

cli_finish
