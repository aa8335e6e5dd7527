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

# shellcheck source=tools/local-slurm/common.bash
source "$(dirname "${BASH_SOURCE[0]}")/common.bash"

[[ $(id -u) == 0 ]] || cannot_run "must run as root (the test starts real Slurm daemons)"
mkdir -p "$RUN" "$LOG" "$BASE/state/ctld" "$BASE/state/d"

ensure_packages
ensure_munged

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
