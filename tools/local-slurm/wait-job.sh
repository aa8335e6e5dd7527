#!/usr/bin/env bash
# tools/local-slurm/wait-job.sh JOBID [TIMEOUT_S]: polls every 0.2 s until
# the job has ended (sbatch --wait polls every 2, 8, then 32 s), prints its
# state and exits with its exit code (1 if it failed without one, 124 on
# timeout). A requeued job is waited for until its last run ends.
jid=$1
limit=${2:-600}
end=$(($(date +%s) + limit))
while :; do
  st=$(squeue -h -j "$jid" -t all -o %T 2>/dev/null)
  case "$st" in
    PENDING | CONFIGURING | RUNNING | COMPLETING | SUSPENDED | REQUEUED | REQUEUE_HOLD | REQUEUE_FED | RESIZING | "") ;;
    *) break ;;
  esac
  if (($(date +%s) >= end)); then
    echo "timeout waiting for job $jid (state '$st')" >&2
    exit 124
  fi
  sleep 0.2
done
ec=$(scontrol show job "$jid" 2>/dev/null | grep -o ' ExitCode=[0-9]*' | head -n 1 | cut -d= -f2)
echo "job $jid $st exit=${ec:-?}"
[[ "$st" == COMPLETED ]] && exit 0
[[ -n "$ec" && "$ec" != 0 ]] && exit "$ec"
exit 1
