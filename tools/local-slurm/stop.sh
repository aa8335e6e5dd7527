#!/usr/bin/env bash
# tools/local-slurm/stop.sh: stops what start.sh started. Cancels the jobs of
# the local cluster, then signals only the pids start.sh recorded under
# $DALS_SLURM_BASE/run, each checked against /proc/PID/comm first (nothing
# is killed by name). A munged that was running before start.sh stays.
set -uo pipefail
BASE=${DALS_SLURM_BASE:-/tmp/dals-slurm}
RUN=$BASE/run
export SLURM_CONF=$BASE/slurm.conf

say() { echo "[local-slurm] $*" >&2; }
running() {  # running PID NAME: alive, named NAME, not a zombie
  [[ -n "$1" && "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] || return 1
  case "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" in Z | X | "") return 1 ;; esac
}
stop_one() {
  local name=$1 pid i
  pid=$(tr -dc "0-9" 2>/dev/null <"$RUN/$name.pid") || pid=""
  if running "$pid" "$name"; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do running "$pid" "$name" || break; sleep 0.1; done
    running "$pid" "$name" && { say "$name ignored SIGTERM for 10 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
    say "stopped $name (pid $pid)"
  fi
  rm -f "$RUN/$name.pid"
}

pid=$(tr -dc "0-9" 2>/dev/null <"$RUN/slurmctld.pid") || pid=""
if running "$pid" slurmctld; then
  jobs=$(squeue -h -o %A 2>/dev/null | paste -sd ' ')
  if [[ -n "$jobs" ]]; then
    say "cancelling jobs $jobs"
    # shellcheck disable=SC2086
    scancel $jobs 2>/dev/null
    for ((i = 0; i < 150; i++)); do [[ -z "$(squeue -h -o %A 2>/dev/null)" ]] && break; sleep 0.1; done
  fi
fi
stop_one slurmd
stop_one slurmctld
stop_one munged
exit 0
