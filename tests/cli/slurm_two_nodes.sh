#!/usr/bin/env bash
# Slurm across two nodes: starts a Slurm of two nodes, each a namespaced
# host with its own host name and address (tools/local-slurm/start-multi.sh:
# slurmctld on a head host, one slurmd per node, TCP between them), and runs
# slurm/train.sbatch with 2 nodes x 1 task (one rank per node, as on a
# cluster):
#  - straight through: the ranks report two different host names, each
#    node's link carries their exchange, the model equals one trained by
#    mpirun on one host;
#  - warned with SIGUSR1 (as `#SBATCH --signal=B:USR1@...` delivers it): the
#    tasks on both nodes checkpoint, the job requeues itself, runs again from
#    the checkpoint and ends with the same model;
#  - a node lost mid-run: every process on the second node (its slurmd, the
#    step daemon, the rank) is SIGKILLed, as a node that loses power. The job
#    must end (Slurm sets the node DOWN and requeues the job itself); the
#    test then cancels that requeued copy (it waits for two nodes, one is
#    gone) and resubmits the job on the surviving node with 1 task, as an
#    operator who does not wait for the node would: it resumes from the last
#    periodic checkpoint and ends with the same model. Last, the lost node
#    is brought back (start-multi.sh starts its slurmd again) and a step
#    reaches both nodes again.
# The time from the kill until the job has left the node is printed. The
# cluster is stopped and its hosts removed at the end, also when the test
# fails. Skipped (exit 77, saying why) where the machine cannot run it: not
# root, no network namespaces, or slurmd cannot start (start-multi.sh exit 3).
#
# Usage (as ctest runs it): bash slurm_two_nodes.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/slurm_helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/hosts_helpers.bash"
ckpt_init "$@"
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
LOCAL_SLURM=$ROOT/tools/local-slurm
SBATCH_SCRIPT=$ROOT/slurm/train.sbatch

slurm_lock  # root, or skipped; one local cluster per machine at a time
hosts_require
cleanup() { "$LOCAL_SLURM/stop-multi.sh" >"$SCRATCH/stop.log" 2>&1 || true; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
start_status=0
exports=$("$LOCAL_SLURM/start-multi.sh" --nodes 2 2>"$SCRATCH/start.log") || start_status=$?
if ((start_status == 3)); then
  echo "SKIPPED: this machine cannot run a two-node Slurm in namespaced hosts:" >&2
  sed 's/^/    | /' "$SCRATCH/start.log" >&2
  exit 77
elif ((start_status != 0)); then
  echo "FAIL: cannot start a two-node Slurm (start-multi.sh exited $start_status):" >&2
  sed 's/^/    | /' "$SCRATCH/start.log" >&2
  exit 1
fi
eval "$exports"
SLURM_ON=$DALS_SLURM_HEAD  # the client commands run on the head host
read -r NODE1 NODE2 <<<"$DALS_SLURM_NODES"
check cluster "two nodes $NODE1 and $NODE2 are up" bash -c "$SLURM_ON sinfo -h -N -o %N | sort -u | wc -l | grep -qx 2"

DATA=$SCRATCH/data
make_synth "$DATA" 4000 2000 200000 4
TRAIN_OPTS=(-k 16 --iterations 40 --threads 1 --seed 7 --checkpoint-every 10)
run_ranks 1 "$SCRATCH/reference" "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/reference" \
  "${TRAIN_OPTS[@]}" --quiet
expect_success reference "$SCRATCH/reference"

# Every task says where it runs, then becomes dals-train (signals reach it).
cat >"$SCRATCH/dals-train-here" <<EOF
#!/bin/sh
echo "[slurm_two_nodes] task \${SLURM_PROCID:-?} of \${SLURM_NTASKS:-?} on host \$(hostname)"
exec "$DALS_TRAIN" "\$@"
EOF
chmod 755 "$SCRATCH/dals-train-here"
export DALS_TRAIN=$SCRATCH/dals-train-here

# submit NAME NODES [SBATCH_OPTIONS...]: train.sbatch for NAME's model and
# checkpoints on NODES nodes x 1 task, output to NAME.out (or $OUT.out);
# prints the job id. The script's own
# --signal lead time (600 s) would fire at once in a 10-minute job: 1 s
# here, and the test sends the warning itself.
submit() {
  slurm_client sbatch --parsable -N "$2" --ntasks-per-node 1 -c 1 -t 10 --signal=B:USR1@1 \
    -o "$SCRATCH/${OUT:-$1}.out" "${@:3}" "$SBATCH_SCRIPT" "$DATA" "$SCRATCH/$1.model" "$SCRATCH/$1.ckpt" "${TRAIN_OPTS[@]}"
}
# task_hosts NAME: the host names the tasks of NAME's runs reported, sorted, once each.
task_hosts() { sed -n 's/^\[slurm_two_nodes\] task .* on host //p' "$SCRATCH/$1.out" | sort -u | paste -sd ' '; }
wait_job() { slurm_client "$LOCAL_SLURM/wait-job.sh" "$1" "$2" >"$3" 2>&1; }
link_tx() { "$HOSTS" stats "$DALS_SLURM_HOSTS" | awk -v h="$1" '$1 == h {print $2}'; }
show_output() { sed 's/^/    | /' "$SCRATCH/$1.out" >&2; }

# ---------------------------------------------------------------- straight through
case_name=straight
tx1=$(link_tx "$NODE1") tx2=$(link_tx "$NODE2")
job=$(submit $case_name 2)
check $case_name "submitted (job ${job:-none})" test -n "$job"
wait_job "$job" 180 "$SCRATCH/$case_name.wait"
check $case_name "job $job completed: $(cat "$SCRATCH/$case_name.wait")" grep -q COMPLETED "$SCRATCH/$case_name.wait"
check $case_name "its two tasks ran on two hosts ($(task_hosts $case_name))" test "$(task_hosts $case_name)" == "$NODE1 $NODE2"
sent1=$(($(link_tx "$NODE1") - tx1)) sent2=$(($(link_tx "$NODE2") - tx2))
echo "     [links] during the job: $NODE1 sent $sent1 bytes, $NODE2 $sent2 (factor rows: about 0.2 MB per rank and iteration)"
check $case_name "both nodes' links carried the exchange (at least 1 MB each)" \
  test "$sent1" -ge 1000000 -a "$sent2" -ge 1000000
identical_models $case_name "$SCRATCH/reference" "$SCRATCH/$case_name.model" || show_output $case_name

# ---------------------------------------------------------------- warned, requeued
case_name=requeued
job=$(submit $case_name 2)
if until_output "$SCRATCH/$case_name.out" '^iter 12 '; then
  slurm_client scancel --signal=USR1 --batch "$job"
  release_requeued "$job"
  wait_job "$job" 180 "$SCRATCH/$case_name.wait"
  check $case_name "job $job completed: $(cat "$SCRATCH/$case_name.wait")" grep -q COMPLETED "$SCRATCH/$case_name.wait"
  check $case_name "the batch shell passed SIGUSR1 on" grep -q 'SIGUSR1: asking dals-train' "$SCRATCH/$case_name.out"
  check $case_name "dals-train stopped with a checkpoint" grep -q 'stopped by SIGUSR1' "$SCRATCH/$case_name.out"
  check $case_name "the job requeued itself" grep -q 'requeueing job' "$SCRATCH/$case_name.out"
  check $case_name "Slurm counts one restart" bash -c "$SLURM_ON scontrol show job $job | grep -q 'Restarts=1'"
  check $case_name "the second run resumed from the checkpoint" grep -q "resumed from $SCRATCH/$case_name.ckpt/iter-" \
    "$SCRATCH/$case_name.out"
  check $case_name "both runs ran on both hosts ($(task_hosts $case_name))" test "$(task_hosts $case_name)" == "$NODE1 $NODE2"
  identical_models $case_name "$SCRATCH/reference" "$SCRATCH/$case_name.model"
  grep -q COMPLETED "$SCRATCH/$case_name.wait" || show_output $case_name
else
  fail $case_name "job $job did not reach iteration 12: $(job_state "$job")"
  show_output $case_name
fi

# ---------------------------------------------------------------- a node lost, resubmitted
case_name=lost
job=$(submit $case_name 2)
if until_output "$SCRATCH/$case_name.out" '^iter 12 '; then
  t0=$(date +%s.%N)
  "$HOSTS" kill "$DALS_SLURM_HOSTS" "$NODE2" KILL  # slurmd, slurmstepd, the rank: all of the node
  rank_gone="" state=""
  for ((i = 0; i < 900; i++)); do  # 180 s at most
    if [[ -z "$rank_gone" ]] && ! "$HOSTS" pids "$DALS_SLURM_HOSTS" "$NODE1" | xargs -r ps -o comm= -p | grep -q dals-train; then
      rank_gone=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
    fi
    state=$(job_state "$job")
    case "$state" in RUNNING* | COMPLETING* | "") ;; *) break ;; esac
    sleep 0.2
  done
  ended=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
  echo "     [lost] $NODE2 killed: the rank on $NODE1 ended after ${rank_gone:-?} s, the job left" \
    "the nodes after $ended s (state '$state')"
  check $case_name "the job left the nodes ($state)" bash -c "[[ '$state' != RUNNING* && '$state' != COMPLETING* ]]"
  check $case_name "Slurm set $NODE2 down" bash -c "$SLURM_ON sinfo -h -n $NODE2 -o %T | grep -q down"
  check $case_name "Slurm requeued the job itself (node failure, --requeue)" bash -c "[[ '$state' == PENDING* ]]"
  check $case_name "no model was published" test ! -e "$SCRATCH/$case_name.model"
  newest=$(newest_checkpoint "$SCRATCH/$case_name.ckpt")
  check $case_name "a periodic checkpoint is left (${newest:-none})" \
    test "$(checkpoint_iterations "${newest:-iter-000000}")" -ge 10
  check $case_name "it loads" loads "$SCRATCH/$case_name.ckpt/$newest"
  # The requeued copy would wait for two nodes: cancelled, the job goes again on the survivor.
  slurm_client scancel "$job"
  wait_job "$job" 60 "$SCRATCH/$case_name.wait"
  check $case_name "the requeued job was cancelled: $(cat "$SCRATCH/$case_name.wait")" \
    grep -q CANCELLED "$SCRATCH/$case_name.wait"
  job2=$(OUT=$case_name.2 submit $case_name 1 -w "$NODE1")
  wait_job "$job2" 180 "$SCRATCH/$case_name.wait2"
  check $case_name "the resubmitted job $job2 completed on $NODE1: $(cat "$SCRATCH/$case_name.wait2")" \
    grep -q COMPLETED "$SCRATCH/$case_name.wait2"
  check $case_name "it ran on $NODE1 alone ($(task_hosts $case_name.2))" test "$(task_hosts $case_name.2)" == "$NODE1"
  check $case_name "it resumed from $newest" grep -q "resumed from $SCRATCH/$case_name.ckpt/$newest" \
    "$SCRATCH/$case_name.2.out"
  identical_models $case_name "$SCRATCH/reference" "$SCRATCH/$case_name.model" || show_output $case_name.2
  # The node comes back: its slurmd started again, it returns to service by itself.
  exports=$("$LOCAL_SLURM/start-multi.sh" --nodes 2 2>"$SCRATCH/restart.log")
  check $case_name "$NODE2 is back: a step reaches both nodes again" grep -q 'srun reached each' "$SCRATCH/restart.log"
else
  fail $case_name "job $job did not reach iteration 12: $(job_state "$job")"
  show_output $case_name
fi

cli_finish
