#!/usr/bin/env bash
# tools/local-slurm/start-multi.sh [--nodes N]: a Slurm cluster of N nodes
# (default 2) on this machine, each node a namespaced host of its own
# (tools/local-hosts/hosts.sh: own network and UTS namespaces, so its own
# host name and address), for running slurm/train.sbatch across nodes.
#
#   eval "$(tools/local-slurm/start-multi.sh --nodes 2)"
#   $DALS_SLURM_HEAD sbatch -N 2 --ntasks-per-node 1 slurm/train.sbatch ...
#   $DALS_SLURM_HEAD tools/local-slurm/wait-job.sh JOBID
#   tools/local-slurm/stop-multi.sh
#
# The hosts are NAME-h1 .. NAME-h(N+1) at 198.18.0.1 .. (NAME: cluster name,
# $DALS_SLURM_HOSTS, default dalsslurm). NAME-h1 is the head: slurmctld runs
# there, and so must every client command (sbatch, squeue, scontrol: the
# head's address is reachable only from inside the hosts), which is what
# $DALS_SLURM_HEAD does ("$DALS_SLURM_HEAD CMD..." runs CMD on the head).
# NAME-h2 .. are the nodes: one slurmd each, NodeName = the host's name,
# NodeAddr = its address; slurmctld and the slurmds talk TCP over the hosts'
# bridge, and so do the job's ranks (srun --mpi=pmix; Open MPI's TCP BTL).
# munged runs once, in the machine's own namespace: every host reaches it,
# since a Unix socket with a path (/run/munge/munge.socket.2) belongs to
# the file system, not to a network namespace (a real cluster runs one
# munged per node, with the same key).
#
# Prints the export lines (SLURM_CONF, DALS_SLURM_HEAD, DALS_SLURM_HOSTS,
# DALS_SLURM_NODES: the node names, space separated) on stdout, progress on
# stderr. Run again while the cluster is up, it starts what is not running
# (a node's slurmd after the node was lost, e.g.) and leaves the rest.
# State, configuration and logs live under $DALS_SLURM_BASE (default
# /tmp/dals-slurm-multi); stop-multi.sh stops only what this script started
# and removes the hosts.
#
# Exit status: 0 ready; 1 failed; 3 this machine cannot run it (not root,
# no namespaces, or slurmd cannot initialize its cgroup plugin): a test
# skips then.
#
# Pitfalls (besides start.sh's, which apply here too):
#  - every slurmd needs its own SlurmdSpoolDir, pid and log file: %n (the
#    node name) in their paths, the spool directories made beforehand;
#  - Slurm's PMIx plugin makes its per-step directory (spmix_appdir_UID_JOB.STEP)
#    under TmpFS, default /tmp, which all the hosts share: the second node's
#    step fails ("Cannot create directory ... File exists") unless TmpFS is
#    per node (TmpFS=$BASE/tmp/%n);
#  - slurmctld needs SlurmctldHost=NAME-h1(198.18.0.1): the name must be the
#    head's host name, the address one the nodes can reach;
#  - SlurmdTimeout=5: a lost node is set DOWN after two failed pings, each
#    of which takes Slurm about 12 s (its connection attempts to a closed
#    port, not a configurable limit): about 25 s. The default (300 s) would
#    leave a job on a lost node running for 5 minutes.
set -euo pipefail

BASE=${DALS_SLURM_BASE:-/tmp/dals-slurm-multi}
NAME=${DALS_SLURM_HOSTS:-dalsslurm}
CPUS=${DALS_SLURM_CPUS:-4}
CTLD_PORT=6817  # inside the hosts' namespaces: no other Slurm can hold them
SLURMD_PORT=6818
CONF=$BASE/slurm.conf
RUN=$BASE/run
LOG=$BASE/log
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
HOSTS=$(cd "$HERE/../local-hosts" && pwd)/hosts.sh
# shellcheck source=tools/local-slurm/common.bash
source "$HERE/common.bash"

nodes=2
while (($#)); do
  case "$1" in
    --nodes) nodes=${2:-}; shift 2 || die "--nodes needs a value" ;;
    *) die "unknown argument '$1' (usage: start-multi.sh [--nodes N])" ;;
  esac
done
[[ "$nodes" =~ ^[1-8]$ ]] || die "--nodes '$nodes': 1..8"

[[ $(id -u) == 0 ]] || cannot_run "must run as root (the test starts real Slurm daemons in namespaced hosts)"
if ! why=$("$HOSTS" check 2>&1); then cannot_run "no namespaced hosts here: $why"; fi
mkdir -p "$RUN" "$LOG" "$BASE/state/ctld"

ensure_packages
ensure_munged

# ---------------------------------------------------------------- hosts
# One more host than nodes: host 1 is the head.
if [[ -s "$BASE/hosts" ]] && ip netns list | grep -q "^$NAME-h1\b"; then
  say "hosts of cluster $NAME already up"
  hosts_dir=$(cat "$BASE/hosts")
else
  hosts_dir=$("$HOSTS" up $((nodes + 1)) --name "$NAME" 2>"$LOG/hosts.log") ||
    { sed 's/^/    | /' "$LOG/hosts.log" >&2; die "cannot create $((nodes + 1)) namespaced hosts"; }
  echo "$hosts_dir" >"$BASE/hosts"
  say "hosts $(paste -sd ' ' "$hosts_dir/hosts")"
fi
HEAD=$NAME-h1
NODES=()
for ((i = 2; i <= nodes + 1; i++)); do NODES+=("$NAME-h$i"); done

# ---------------------------------------------------------------- slurm.conf
MEM_MB=$(($(awk '/^MemTotal:/{print int($2/1024)}' /proc/meminfo) / (2 * nodes)))
{
  cat <<CONF
# written by tools/local-slurm/start-multi.sh: $nodes nodes in namespaced hosts
ClusterName=dalsmulti
SlurmctldHost=$HEAD(198.18.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$BASE/state/ctld
SlurmdSpoolDir=$BASE/state/%n
SlurmctldPidFile=$RUN/slurmctld.pid
SlurmdPidFile=$RUN/slurmd-%n.pid
SlurmctldLogFile=$LOG/slurmctld.log
SlurmdLogFile=$LOG/slurmd-%n.log
TmpFS=$BASE/tmp/%n
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
SlurmdTimeout=5
CONF
  for ((i = 0; i < nodes; i++)); do
    echo "NodeName=${NODES[i]} NodeAddr=198.18.0.$((i + 2)) CPUs=$CPUS RealMemory=$MEM_MB State=UNKNOWN"
  done
  echo "PartitionName=debug Nodes=$(IFS=,; echo "${NODES[*]}") Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES"
} >"$CONF.new"
mv "$CONF.new" "$CONF"
cat >"$BASE/cgroup.conf" <<CGROUP
# written by tools/local-slurm/start-multi.sh: see tools/local-slurm/start.sh
CgroupPlugin=cgroup/v1
CGROUP
export SLURM_CONF=$CONF
for node in "${NODES[@]}"; do mkdir -p "$BASE/state/$node" "$BASE/tmp/$node"; done

# on HOST CMD...: CMD inside that host, with the cluster's configuration.
on() { "$HOSTS" exec "$NAME" "$@"; }
cat >"$BASE/head" <<EOF
#!/bin/sh
# "head CMD...": CMD on the head host $HEAD of the Slurm cluster $NAME
# (written by $HERE/start-multi.sh)
export SLURM_CONF=$CONF
exec "$HOSTS" exec "$NAME" 1 "\$@"
EOF
chmod 755 "$BASE/head"

# ---------------------------------------------------------------- daemons
if alive "$RUN/slurmctld.pid" slurmctld; then
  say "slurmctld already running"
else
  ctld_off=$(log_size "$LOG/slurmctld.log")
  on 1 slurmctld -c -f "$CONF" || daemon_failed slurmctld "$LOG/slurmctld.log" "$ctld_off"
  wait_alive "$RUN/slurmctld.pid" slurmctld 15 || daemon_failed slurmctld "$LOG/slurmctld.log" "$ctld_off"
  say "slurmctld started on $HEAD"
fi
declare -A slurmd_off
for node in "${NODES[@]}"; do
  if alive "$RUN/slurmd-$node.pid" slurmd; then
    say "slurmd on $node already running"
    continue
  fi
  slurmd_off[$node]=$(log_size "$LOG/slurmd-$node.log")
  on "$node" slurmd -f "$CONF" -N "$node" || daemon_failed "slurmd on $node" "$LOG/slurmd-$node.log" "${slurmd_off[$node]}"
  wait_alive "$RUN/slurmd-$node.pid" slurmd 15 ||
    daemon_failed "slurmd on $node" "$LOG/slurmd-$node.log" "${slurmd_off[$node]}"
  say "slurmd started on $node"
done

# Every node idle (a node that was lost comes back by itself:
# ReturnToService=2), then one task on each: their host names must differ.
for node in "${NODES[@]}"; do
  state=""
  for ((i = 0; i < 300; i++)); do
    state=$(on 1 sinfo -h -n "$node" -o %T 2>/dev/null | head -n 1 || true)
    case "$state" in
      idle* | mixed* | allocated* | completing*) break ;;
      *drain* | down*) on 1 scontrol update NodeName="$node" State=RESUME 2>/dev/null || true ;;
    esac
    sleep 0.1
  done
  case "$state" in
    idle* | mixed* | allocated* | completing*) ;;
    *)
      say "node $node is not ready (state '$state'): $(on 1 scontrol show node "$node" 2>/dev/null | grep -o 'Reason=.*' || true)"
      daemon_failed "slurmd on $node" "$LOG/slurmd-$node.log" "${slurmd_off[$node]:-0}"
      ;;
  esac
done
names=$(on 1 timeout 60 srun -N "$nodes" --ntasks-per-node 1 hostname 2>"$LOG/srun-check.err" | sort -u | paste -sd ' ') ||
  { cat "$LOG/srun-check.err" >&2; daemon_failed "'srun hostname' on every node" "$LOG/slurmd-${NODES[0]}.log"; }
[[ "$names" == "${NODES[*]}" ]] ||
  die "one task per node reported host names '$names', expected '${NODES[*]}'"
say "ready: nodes ${NODES[*]} (head $HEAD); srun reached each"
echo "export SLURM_CONF=$CONF DALS_SLURM_HEAD=$BASE/head DALS_SLURM_HOSTS=$NAME DALS_SLURM_NODES='${NODES[*]}'"
