#!/usr/bin/env bash
# tools/local-slurm/stop-multi.sh: stops what start-multi.sh started and
# removes its hosts. Cancels the cluster's jobs, stops each slurmd and
# slurmctld by the pid start-multi.sh's configuration made them record (each
# checked against /proc/PID/comm first; nothing is killed by name), then
# munged if start-multi.sh started it, and last `hosts.sh down`, which ends
# whatever still runs inside the hosts (a step daemon, a rank) and deletes
# them. Safe to run when nothing is up.
set -uo pipefail
BASE=${DALS_SLURM_BASE:-/tmp/dals-slurm-multi}
NAME=${DALS_SLURM_HOSTS:-dalsslurm}
RUN=$BASE/run
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOSTS=$(cd "$HERE/../local-hosts" && pwd)/hosts.sh

say() { echo "[local-slurm] $*" >&2; }
running() {  # running PID NAME: alive, named NAME, not a zombie
  [[ -n "$1" && "$(cat "/proc/$1/comm" 2>/dev/null)" == "$2" ]] || return 1
  case "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" in Z | X | "") return 1 ;; esac
}
# stop_one PIDFILE NAME: SIGTERM, SIGKILL after 10 s.
stop_one() {
  local file=$1 name=$2 pid i
  pid=$(tr -dc "0-9" 2>/dev/null <"$file") || pid=""
  if running "$pid" "$name"; then
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do running "$pid" "$name" || break; sleep 0.1; done
    running "$pid" "$name" && { say "$name ignored SIGTERM for 10 s: SIGKILL"; kill -KILL "$pid" 2>/dev/null; }
    say "stopped $name (pid $pid, $(basename "$file" .pid))"
  fi
  rm -f "$file"
}

pid=$(tr -dc "0-9" 2>/dev/null <"$RUN/slurmctld.pid") || pid=""
if running "$pid" slurmctld && [[ -x "$BASE/head" ]]; then
  jobs=$("$BASE/head" squeue -h -o %A 2>/dev/null | paste -sd ' ')
  if [[ -n "$jobs" ]]; then
    say "cancelling jobs $jobs"
    # shellcheck disable=SC2086
    "$BASE/head" scancel $jobs 2>/dev/null
    for ((i = 0; i < 100; i++)); do [[ -z "$("$BASE/head" squeue -h -o %A 2>/dev/null)" ]] && break; sleep 0.1; done
  fi
fi
for file in "$RUN"/slurmd-*.pid; do [[ -e "$file" ]] && stop_one "$file" slurmd; done
stop_one "$RUN/slurmctld.pid" slurmctld
stop_one "$RUN/munged.pid" munged
if ip netns list 2>/dev/null | grep -qE "^$NAME-(sw|h[0-9]+)\b"; then
  DALS_HOSTS_QUIET=1 "$HOSTS" down "$NAME"
  say "removed the hosts of cluster $NAME"
fi
rm -f "$BASE/hosts" "$BASE/head"
exit 0
