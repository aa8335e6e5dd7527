# shellcheck shell=bash
# Helpers shared by the Slurm tests (slurm_train.sh: one node;
# slurm_two_nodes.sh: two nodes in namespaced hosts). Sourced after lib.sh
# and checkpoint_helpers.bash; not a test itself.
#
# SLURM_ON: a command that runs Slurm's client commands (squeue, scontrol)
# where they reach slurmctld; empty (the default) runs them here. The
# two-node test sets it to start-multi.sh's head wrapper.
SLURM_ON=${SLURM_ON:-}

# slurm_lock: exits 77 unless root (before the lock file, which root's runs
# own), then takes /tmp/dals-slurm-test.lock: one local cluster per machine,
# concurrent runs of the Slurm tests take turns.
slurm_lock() {
  if [[ $(id -u) != 0 ]]; then
    echo "SKIPPED: this test starts real Slurm daemons: it needs root" >&2
    exit 77
  fi
  exec 9>/tmp/dals-slurm-test.lock
  if ! flock -w 900 9; then
    echo "FAIL: another Slurm test held /tmp/dals-slurm-test.lock for 15 minutes" >&2
    exit 1
  fi
}

# slurm_client CMD...: CMD (a Slurm client command) through SLURM_ON.
slurm_client() {
  # shellcheck disable=SC2086  # SLURM_ON is a command word or nothing
  $SLURM_ON "$@"
}

# job_state JOB: e.g. "RUNNING None" or "PENDING BeginTime".
job_state() { slurm_client squeue -h -j "$1" -t all -o '%T %r' 2>/dev/null; }

# job_ended STATE: the job is past running (completed, failed, cancelled...).
job_ended() {
  case "$1" in COMPLETED* | FAILED* | CANCELLED* | TIMEOUT* | NODE_FAIL* | OUT_OF_MEMORY* | BOOT_FAIL* | DEADLINE*) return 0 ;; esac
  return 1
}

# old_steps_alive JOB: a slurmstepd of JOB still runs (its title is
# "slurmstepd: [JOB.STEP]"); zombies do not count. (The hosts of the
# two-node test share the machine's process namespace: this sees them too.)
old_steps_alive() {
  local dir
  for dir in /proc/[0-9]*; do
    [[ "$(cat "$dir/comm" 2>/dev/null)" == slurmstepd ]] || continue
    [[ "$(awk '{print $3}' "$dir/stat" 2>/dev/null)" == Z ]] && continue
    tr '\0' ' ' <"$dir/cmdline" 2>/dev/null | grep -qF "[$1." && return 0
  done
  return 1
}

# until_output FILE PATTERN: waits (60 s at most) for PATTERN in a job's output.
until_output() { wait_for_line "$1" "$2" 60; }

# release_requeued JOB: waits (120 s at most) until a job that requeued
# itself has ended. Slurm holds a requeued job back for a while (BeginTime,
# about 2 minutes here) so that the old run's step daemon is gone before
# the new run's step (of the same id) starts; this releases it as soon as
# that daemon has exited, instead of waiting out the delay, but not within
# 2 s of the requeue: slurmd revokes the old run's credential with a time
# in whole seconds and refuses a new one made in that same second ("Killing
# non-startable batch JobId=J: Job credential revoked" in slurmctld.log, the
# job FAILED: seen on one node, where the old step daemon ends at once).
release_requeued() {
  local job=$1 released=0 pending=0 state i
  for ((i = 0; i < 600; i++)); do
    state=$(job_state "$job")
    if [[ $released == 0 && "$state" == "PENDING BeginTime" ]]; then
      pending=$((pending + 1))  # polls 0.2 s apart: 10 of them are 2 s at least
      if ((pending > 10)) && ! old_steps_alive "$job"; then
        slurm_client scontrol update JobId="$job" StartTime=now && released=1
      fi
    fi
    job_ended "$state" && break
    sleep 0.2
  done
}
