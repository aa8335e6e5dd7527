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
#
# Pitfalls this handles (Debian 12, Slurm 22.05, without systemd):
#  - munged refuses to run as root ("Keyfile is insecure"): it runs as munge;
#  - Debian's Open MPI has PMIx only: MpiDefault=pmix, and Slurm's pmix
#    plugin dlopens libpmix.so, which only libpmix-dev provides;
#  - slurmd must be allowed to advertise more CPUs than the machine has
#    (SlurmdParameters=config_overrides) for oversubscribed test jobs;
#  - batch jobs start at once only with batch_sched_delay=0.
set -euo pipefail

BASE=${DALS_SLURM_BASE:-/tmp/dals-slurm}
CPUS=${DALS_SLURM_CPUS:-8}
read -r CTLD_PORT SLURMD_PORT <<<"${DALS_SLURM_PORTS:-6817 6818}"
CONF=$BASE/slurm.conf
RUN=$BASE/run
LOG=$BASE/log

say() { echo "[local-slurm] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (the test starts real Slurm daemons)"
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
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
  wait_alive /run/munge/munged.pid munged 10 || die "munged did not start (see /var/log/munge/munged.log)"
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
export SLURM_CONF=$CONF

# ---------------------------------------------------------------- daemons
port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }
if alive "$RUN/slurmctld.pid" slurmctld; then
  say "slurmctld already running"
else
  port_busy "$CTLD_PORT" && die "port $CTLD_PORT is taken (another Slurm?): set DALS_SLURM_PORTS"
  slurmctld -c -f "$CONF"
  wait_alive "$RUN/slurmctld.pid" slurmctld 15 || { tail -20 "$LOG/slurmctld.log" >&2; die "slurmctld did not start"; }
  say "slurmctld started"
fi
if alive "$RUN/slurmd.pid" slurmd; then
  say "slurmd already running"
else
  port_busy "$SLURMD_PORT" && die "port $SLURMD_PORT is taken (another Slurm?): set DALS_SLURM_PORTS"
  slurmd -f "$CONF" -N "$NODE"
  wait_alive "$RUN/slurmd.pid" slurmd 15 || { tail -20 "$LOG/slurmd.log" >&2; die "slurmd did not start"; }
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
case "$state" in idle* | mixed* | allocated* | completing*) ;; *) die "node $NODE is not ready (state '$state'); logs in $LOG" ;; esac
timeout 60 srun -N1 -n1 true || die "'srun -n1 true' failed; logs in $LOG"
say "ready: node $NODE is $state"
echo "export SLURM_CONF=$CONF"
