#!/usr/bin/env bash
# tools/local-slurm/start.sh: a one-node Slurm cluster on this machine
# (munged + slurmctld + slurmd), for the Slurm test of slurm/train.sbatch.
#
#   eval "$(tools/local-slurm/start.sh)"     # prints `export SLURM_CONF=...`
#   sbatch ...; tools/local-slurm/wait-job.sh JOBID
#   tools/local-slurm/stop.sh
#
# Root only (the daemons run as root, munged as the munge user). Installs
# slurm-wlm, munge and libpmix-dev if they are missing. Everything lives
# under $DALS_SLURM_BASE (default /tmp/dals-slurm): the configuration (the
# clients find it through SLURM_CONF; /etc/slurm is not touched), state,
# logs and the pid files that stop.sh uses: it stops only what this script
# started. Progress goes to stderr; stdout carries only the export line.
# When a daemon does not come up, the last lines of its log and the likely
# cause are printed.
#
# Exit status: 0 ready; 1 failed; 3 this machine cannot run the daemons at
# all (not root, or slurmd cannot initialize its cgroup plugin here): a test
# skips then.
#
# Pitfalls this handles (Debian 12, Slurm 22.05, without systemd):
#  - munged refuses to run as root ("Keyfile is insecure"): it runs as munge;
#  - Debian's Open MPI has PMIx only: MpiDefault=pmix, and Slurm's pmix
#    plugin dlopens libpmix.so, which only libpmix-dev provides;
#  - slurmd must be allowed to advertise more CPUs than the machine has
#    (SlurmdParameters=config_overrides) for oversubscribed test jobs;
#  - batch jobs start at once only with batch_sched_delay=0;
#  - slurmd (22.05) always loads a cgroup plugin, and the default
#    (CgroupPlugin=autodetect) fails where /sys/fs/cgroup has no cgroup file
#    system (containers, chroots): "Unable to initialize cgroup plugin".
#    Nothing here uses cgroups (proctrack/linuxproc, task/none,
#    jobacct_gather/none), and cgroup/v1's initialization touches no cgroup,
#    so cgroup.conf names it: slurmd starts with or without cgroups, v1 or v2.
#    (CgroupPlugin=disabled, which says so directly, came with Slurm 24.05.)
set -euo pipefail

BASE=${DALS_SLURM_BASE:-/tmp/dals-slurm}
CPUS=${DALS_SLURM_CPUS:-8}
read -r CTLD_PORT SLURMD_PORT <<<"${DALS_SLURM_PORTS:-6817 6818}"
CONF=$BASE/slurm.conf
RUN=$BASE/run
LOG=$BASE/log

say() { echo "[local-slurm] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }  # what did start stays up: stop.sh stops it
cannot_run() { say "CANNOT RUN HERE: $*"; exit 3; }

[[ $(id -u) == 0 ]] || cannot_run "must run as root (the test starts real Slurm daemons)"
mkdir -p "$RUN" "$LOG" "$BASE/state/ctld" "$BASE/state/d"

# ---------------------------------------------------------------- packages
missing=()
for p in slurm-wlm munge libpmix-dev; do
  dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
if ((${#missing[@]})); then
  say "installing ${missing[*]}"
  # Without systemd the packages' scripts would try to start the services
  # with invoke-rc.d; a temporary policy-rc.d stops them.
  own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  status=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$LOG/apt.log" 2>&1 ||
    status=$?
  ((own_policy)) && rm -f /usr/sbin/policy-rc.d
  ((status == 0)) || { cat "$LOG/apt.log" >&2; die "apt-get install ${missing[*]} failed"; }
fi
ls /usr/lib/*/pmix2/lib/libpmix.so >/dev/null 2>&1 || die "libpmix.so missing: srun --mpi=pmix cannot work"

# alive PIDFILE NAME: the recorded process runs, is named NAME and is not a zombie.
alive() {
  local pid
  pid=$(tr -dc "0-9" 2>/dev/null <"$1") || return 1
  [[ -n "$pid" && "$(cat "/proc/$pid/comm" 2>/dev/null)" == "$2" ]] || return 1
  case "$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null)" in Z | X | "") return 1 ;; esac
}
wait_alive() {
  local i
  for ((i = 0; i < $3 * 10; i++)); do alive "$1" "$2" && return 0; sleep 0.1; done
  return 1
}

# log_size FILE: its size in bytes (0 if absent): where this start's lines begin.
log_size() { stat -c %s "$1" 2>/dev/null || echo 0; }

# daemon_failed NAME LOG [OFFSET]: NAME did not come up: prints the last
# lines it wrote to LOG (past OFFSET, where this start began) and the likely
# cause, then exits (3 where this machine cannot run it).
daemon_failed() {
  local name=$1 log=$2 offset=${3:-0} cause="" status=1 text=""
  text=$(tail -c +"$((offset + 1))" "$log" 2>/dev/null | tail -n 50)
  if [[ -n "$text" ]]; then
    say "last lines of $log:"
    tail -n 15 <<<"$text" | sed 's/^/    | /' >&2
  else
    say "$name wrote nothing to $log"
  fi
  case "$text" in
    *"Unable to initialize cgroup plugin"* | *"No filesystem mounted on /sys/fs/cgroup"* | *"stat /sys/fs/cgroup"*)
      cause="slurmd could not initialize its cgroup plugin: this machine (a container or chroot?) has no usable
    cgroup file system under /sys/fs/cgroup, and $BASE/cgroup.conf did not avoid it (see the pitfalls in $0)"
      status=3 ;;
    *"Address already in use"* | *"Unable to bind listen port"*)
      cause="a port is taken (another Slurm?): set DALS_SLURM_PORTS to two free ports" ;;
    *"Keyfile is insecure"* | *"key"*"permission"* | *"Unable to access"*"key"* | *"Failed to check keyfile"*)
      cause="munged rejects /etc/munge/munge.key or its directory (owner munge, mode 0600 / 0700 expected)" ;;
    *"Found pid"*"bound to socket"* | *"socket"*"in use"*)
      cause="another munged holds /run/munge/munge.socket.2" ;;
    *"Couldn't find the specified plugin"* | *"cannot find "*" plugin"*)
      cause="a Slurm plugin is missing (slurm-wlm-basic-plugins, libpmix-dev: tools/install-deps.sh)" ;;
    *"Unable to contact slurm controller"* | *"Unable to register"*)
      cause="slurmd cannot reach slurmctld on port $CTLD_PORT (see $LOG/slurmctld.log)" ;;
    *"fatal:"*)
      cause="the daemon stopped on: $(grep -m1 -o 'fatal:.*' <<<"$text")" ;;
    *"error:"*)
      cause="its first error: $(grep -m1 -o 'error:.*' <<<"$text")" ;;
  esac
  say "likely cause: ${cause:-unknown (see the log above)}"
  if ((status == 3)); then cannot_run "$name did not start"; fi
  die "$name did not start"
}

# ---------------------------------------------------------------- munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  say "munged already running"
else
  [[ -s /etc/munge/munge.key ]] || mungekey --create --keyfile=/etc/munge/munge.key --force
  chown munge:munge /etc/munge /etc/munge/munge.key
  chmod 0700 /etc/munge
  chmod 0600 /etc/munge/munge.key
  install -d -o munge -g munge -m 0755 /run/munge
  install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge
  rm -f /run/munge/munged.pid
  munged_off=$(log_size /var/log/munge/munged.log)
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid 2>"$LOG/munged.err" ||
    { cat "$LOG/munged.err" >&2; daemon_failed munged /var/log/munge/munged.log "$munged_off"; }
  wait_alive /run/munge/munged.pid munged 10 || daemon_failed munged /var/log/munge/munged.log "$munged_off"
  cp /run/munge/munged.pid "$RUN/munged.pid"
  munge -n | unmunge >/dev/null || die "munge credential round trip failed"
  say "munged started"
fi

# ---------------------------------------------------------------- slurm.conf
NODE=$(hostname -s)
MEM_MB=$(($(awk '/^MemTotal:/{print int($2/1024)}' /proc/meminfo) * 9 / 10))
cat >"$CONF.new" <<CONF
# written by tools/local-slurm/start.sh: a one-node cluster for dals' tests
ClusterName=dalslocal
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$BASE/state/ctld
SlurmdSpoolDir=$BASE/state/d
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SwitchType=switch/none
MpiDefault=pmix
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
ReturnToService=2
EnforcePartLimits=ALL
SlurmdParameters=config_overrides
JobRequeue=1
KillWait=10
InactiveLimit=0
MinJobAge=300
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN
PartitionName=debug Nodes=$NODE Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
CONF
mv "$CONF.new" "$CONF"
cat >"$BASE/cgroup.conf" <<CGROUP
# written by tools/local-slurm/start.sh: slurmd (22.05) always loads a cgroup
# plugin; nothing in this cluster uses cgroups, and cgroup/v1's initialization
# touches none, so slurmd also starts where /sys/fs/cgroup has no cgroups
# (autodetect, the default, fails there).
CgroupPlugin=cgroup/v1
CGROUP
export SLURM_CONF=$CONF

# ---------------------------------------------------------------- daemons
port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
if alive "$RUN/slurmctld.pid" slurmctld; then
  say "slurmctld already running"
else
  port_busy "$CTLD_PORT" && die "port $CTLD_PORT is taken (another Slurm?): set DALS_SLURM_PORTS"
  ctld_off=$(log_size "$LOG/slurmctld.log")
  slurmctld -c -f "$CONF" || daemon_failed slurmctld "$LOG/slurmctld.log" "$ctld_off"
  wait_alive "$RUN/slurmctld.pid" slurmctld 15 || daemon_failed slurmctld "$LOG/slurmctld.log" "$ctld_off"
  say "slurmctld started"
fi
if alive "$RUN/slurmd.pid" slurmd; then
  say "slurmd already running"
else
  port_busy "$SLURMD_PORT" && die "port $SLURMD_PORT is taken (another Slurm?): set DALS_SLURM_PORTS"
  slurmd_off=$(log_size "$LOG/slurmd.log")
  slurmd -f "$CONF" -N "$NODE" || daemon_failed slurmd "$LOG/slurmd.log" "$slurmd_off"
  wait_alive "$RUN/slurmd.pid" slurmd 15 || daemon_failed slurmd "$LOG/slurmd.log" "$slurmd_off"
  say "slurmd started"
fi

state=""
for ((i = 0; i < 300; i++)); do
  state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null | head -n 1 || true)
  case "$state" in
    idle* | mixed* | allocated* | completing*) break ;;
    *drain* | down*) scontrol update NodeName="$NODE" State=RESUME 2>/dev/null || true ;;
  esac
  sleep 0.1
done
case "$state" in
  idle* | mixed* | allocated* | completing*) ;;
  *)
    say "node $NODE is not ready (state '$state'): $(scontrol show node "$NODE" 2>/dev/null | grep -o 'Reason=.*' || true)"
    daemon_failed slurmd "$LOG/slurmd.log" "${slurmd_off:-0}"
    ;;
esac
timeout 60 srun -N1 -n1 true || daemon_failed "'srun -n1 true' (slurmd)" "$LOG/slurmd.log" "${slurmd_off:-0}"
say "ready: node $NODE is $state"
echo "export SLURM_CONF=$CONF"
