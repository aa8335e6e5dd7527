#!/usr/bin/env bash
# tools/local-hosts/hosts.sh: a small "cluster" of N hosts on this machine,
# for running dals (or any Open MPI program) with its ranks on separate
# hosts that talk TCP over a real network stack. Needs root. See
# docs/multi-host.md.
#
# Each host is a network namespace with its own UTS namespace (so its own
# host name; Open MPI tells hosts apart by name, and two ranks that report
# the same name would use shared memory between them). The hosts hang off
# one bridge in a switch namespace of their own, through one veth pair each:
# every address and route lives inside these namespaces, nothing is added to
# the machine's own network. Hosts are NAME-h1 .. NAME-hN (also their host
# names), at 198.18.0.1 .. 198.18.0.N (RFC 2544's benchmark range; two
# clusters may use the same addresses, their bridges are not connected).
#
# Open MPI starts the remote daemons through plm_rsh_agent: a generated
# script that stands in for ssh and runs the daemon inside the host's
# namespaces (no sshd). Between hosts the ranks use the TCP BTL on eth0,
# within a host shared memory (vader): --mca btl self,vader,tcp.
#
#   hosts.sh up N [--name NAME] [--slots S1,S2,...]   create NAME (default dals)
#   hosts.sh down [NAME]              end every process in its hosts, delete them
#   hosts.sh run N [--name NAME] [--slots ...] -- CMD...
#                                     up, CMD, down (always: also on failure,
#                                     SIGINT, SIGTERM); CMD sees DALS_HOSTS_MPIRUN
#   hosts.sh mpirun NAME MPIRUN_ARGS...   mpirun on host 1, across the hosts
#                                     (the hostfile unless --host/--hostfile given)
#   hosts.sh exec NAME HOST CMD...    CMD on HOST (1..N or NAME-hI)
#   hosts.sh pids NAME HOST           the processes on HOST
#   hosts.sh kill NAME HOST [SIGNAL]  signal every process on HOST (default KILL)
#   hosts.sh link NAME HOST up|down   take HOST's cable out or put it back
#   hosts.sh shape NAME HOST|all RATE [BURST]   tbf rate limit on the link(s); RATE=off removes it
#   hosts.sh netem NAME HOST|all ARGS...        tc netem (delay, loss; needs sch_netem)
#   hosts.sh slow NAME HOST|all DELAY_MS [LOSS_PERCENT]   delay and loss in user
#                                     space (dals-test-slow-link), where the kernel
#                                     has no sch_netem; DELAY_MS=off restores the cable
#   hosts.sh stats NAME               bytes and packets on every host's link
#   hosts.sh check                    can this machine make hosts? (exit 3 if not)
#
# `up` prints the state directory (/run/dals-hosts/NAME): hostfile, agent,
# and `mpirun`, a wrapper that equals `hosts.sh mpirun NAME`. Exit codes:
# 0 ok, 1 failure, 2 bad usage, 3 this machine cannot make namespaced hosts.
# shellcheck disable=SC2016  # ($0/$@ in sh -c strings expand in that shell)
set -uo pipefail
export LC_ALL=C

SELF=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")
STATE_ROOT=${DALS_HOSTS_STATE:-/run/dals-hosts}
SUBNET_PREFIX=198.18.0
SUBNET=$SUBNET_PREFIX.0/24

die() { echo "hosts.sh: error: $*" >&2; exit 1; }
usage() { echo "hosts.sh: error: $*" >&2; echo "usage: see the header of $SELF" >&2; exit 2; }
say() { [[ -n "${DALS_HOSTS_QUIET:-}" ]] || echo "[local-hosts] $*" >&2; }

valid_name() { [[ "$1" =~ ^[a-z][a-z0-9]{0,11}$ ]]; }
state_dir() { echo "$STATE_ROOT/$1"; }
switch_ns() { echo "$1-sw"; }

# host_ns NAME HOST: HOST is 1..N or the host's own name; prints NAME-hI.
host_ns() {
  local name=$1 host=$2 dir
  dir=$(state_dir "$name")
  [[ -s "$dir/hosts" ]] || die "no cluster '$name' (hosts.sh up N --name $name first)"
  if [[ "$host" =~ ^[0-9]+$ ]]; then host=$name-h$host; fi
  grep -qxF -- "$host" "$dir/hosts" || die "cluster '$name' has no host '$host' (it has: $(paste -sd ' ' "$dir/hosts"))"
  echo "$host"
}

# ---------------------------------------------------------------- check

# check: exit 0 if namespaces, veth pairs and bridges can be made here,
# else print the first error and return 3.
cmd_check() {
  local probe="dalsprobe$$" out
  [[ $(id -u) == 0 ]] || { echo "hosts.sh: namespaced hosts need root" >&2; return 3; }
  for tool in ip unshare hostname; do
    command -v "$tool" >/dev/null || { echo "hosts.sh: $tool not found (tools/install-deps.sh)" >&2; return 3; }
  done
  if ! out=$(ip netns add "$probe" 2>&1); then
    echo "hosts.sh: cannot create a network namespace: $out" >&2
    return 3
  fi
  local status=0
  out=$(ip -n "$probe" link add br0 type bridge 2>&1 &&
    ip -n "$probe" link add v0 type veth peer name v1 2>&1 &&
    ip netns exec "$probe" unshare --uts sh -c "hostname $probe" 2>&1) || status=3
  ip netns del "$probe" 2>/dev/null
  ((status == 0)) || echo "hosts.sh: cannot make a bridge, a veth pair or a UTS namespace: $out" >&2
  return $status
}

# ---------------------------------------------------------------- up / down

cmd_up() {
  local n=${1:-} name=dals slots=""
  [[ "$n" =~ ^[1-9][0-9]?$ ]] || usage "up: N must be a number of hosts, 1..99 (got '${n}')"
  shift
  while (($#)); do
    case "$1" in
      --name) name=${2:-}; shift 2 || usage "--name needs a value" ;;
      --slots) slots=${2:-}; shift 2 || usage "--slots needs a value" ;;
      *) usage "up: unknown argument '$1'" ;;
    esac
  done
  valid_name "$name" || usage "--name '$name': 1-12 lower-case letters and digits, starting with a letter"
  local -a slot_list
  IFS=, read -r -a slot_list <<<"${slots:-}"
  if [[ -z "$slots" ]]; then slot_list=(); fi
  if ((${#slot_list[@]} > 1 && ${#slot_list[@]} != n)); then
    usage "--slots '$slots': one value for all hosts, or one per host ($n)"
  fi
  local s
  for s in "${slot_list[@]}"; do [[ "$s" =~ ^[1-9][0-9]*$ ]] || usage "--slots '$slots': '$s' is not a positive number"; done
  cmd_check || exit 3
  local dir sw
  dir=$(state_dir "$name")
  sw=$(switch_ns "$name")
  if [[ -e "$dir" ]] || ip netns list | grep -qE "^$name-(sw|h[0-9]+)( |$)"; then
    die "cluster '$name' exists already (hosts.sh down $name)"
  fi
  mkdir -p "$dir" || die "cannot create $dir"
  # From here on a failure removes what was made.
  if ! make_hosts "$name" "$n" "${slot_list[@]}"; then
    DALS_HOSTS_QUIET=1 cmd_down "$name"
    die "cannot set up cluster '$name' (see the error above)"
  fi
  say "cluster $name: $n host(s) $(paste -sd ' ' "$dir/hosts") on $SUBNET, bridge in $sw"
  echo "$dir"
}

# make_hosts NAME N [SLOTS...]: the namespaces, links, host files and scripts.
make_hosts() {
  local name=$1 n=$2
  shift 2
  local -a slots=("$@")
  local dir sw i host
  dir=$(state_dir "$name")
  sw=$(switch_ns "$name")
  ip netns add "$sw" || return 1
  ip -n "$sw" link set lo up || return 1
  # STP off (the default): ports forward at once.
  ip -n "$sw" link add br0 type bridge || return 1
  ip -n "$sw" link set br0 up || return 1
  : >"$dir/hosts"
  : >"$dir/hostfile"
  local etc_hosts="127.0.0.1 localhost"$'\n'
  for ((i = 1; i <= n; i++)); do etc_hosts+="$SUBNET_PREFIX.$i $name-h$i"$'\n'; done
  for ((i = 1; i <= n; i++)); do
    host=$name-h$i
    echo "$host" >>"$dir/hosts"
    ip netns add "$host" || return 1
    ip -n "$host" link set lo up || return 1
    plain_cable "$name" "$i" "" || return 1
    # `ip netns exec` mounts /etc/netns/HOST/hosts over /etc/hosts.
    mkdir -p "/etc/netns/$host" && printf '%s' "$etc_hosts" >"/etc/netns/$host/hosts" || return 1
    local s=${slots[0]:-1}
    ((${#slots[@]} > 1)) && s=${slots[i - 1]}
    echo "$host slots=$s" >>"$dir/hostfile"
  done
  # The stand-in for ssh: "agent HOST COMMAND..." (Open MPI passes the remote
  # command as one shell string, as it would to ssh).
  cat >"$dir/agent" <<EOF
#!/bin/sh
# plm_rsh_agent of cluster $name (written by $SELF)
host=\$1; shift
grep -qxF -- "\$host" "$dir/hosts" || { echo "agent: \$host is not a host of cluster $name" >&2; exit 255; }
exec ip netns exec "\$host" unshare --uts sh -c "hostname \$host && exec \$*"
EOF
  cat >"$dir/mpirun" <<EOF
#!/bin/sh
# mpirun across the hosts of cluster $name (written by $SELF)
exec "$SELF" mpirun $name "\$@"
EOF
  chmod 755 "$dir/agent" "$dir/mpirun" || return 1
  # Every host reaches every other one before anyone relies on it.
  for ((i = 2; i <= n; i++)); do
    # A TCP connection to a closed port: "refused" is an answer from host i.
    local answer
    answer=$(ip netns exec "$name-h1" timeout 5 bash -c "exec 3<>/dev/tcp/$SUBNET_PREFIX.$i/1" 2>&1)
    [[ "$answer" == *refused* ]] ||
      { echo "hosts.sh: host $i ($SUBNET_PREFIX.$i) does not answer host 1" >&2; return 1; }
  done
  return 0
}

# plain_cable NAME I [MAC]: host I's cable, a veth pair from its eth0 to
# port pI of the bridge (eth0 given MAC when one is named).
plain_cable() {
  local name=$1 i=$2 mac=$3 host=$1-h$2 sw
  sw=$(switch_ns "$name")
  # Both ends are made inside their namespaces: no name in the machine's
  # own namespace can clash with them.
  ip -n "$sw" link add "p$i" type veth peer name eth0 netns "$host" || return 1
  [[ -z "$mac" ]] || ip -n "$host" link set eth0 address "$mac" || return 1
  cable_up "$name" "$i"
}

# cable_up NAME I: address, bridge port and carrier of host I's cable.
cable_up() {
  local name=$1 i=$2 host=$1-h$2 sw
  sw=$(switch_ns "$name")
  ip -n "$sw" link set "p$i" master br0 || return 1
  ip -n "$sw" link set "p$i" up || return 1
  ip -n "$host" addr add "$SUBNET_PREFIX.$i/24" dev eth0 || return 1
  ip -n "$host" link set eth0 up || return 1
}

# end_processes NS: SIGTERM, then (after up to 2 s) SIGKILL, to every
# process inside namespace NS: only what this cluster's commands started
# runs there.
end_processes() {
  local ns=$1 pids i
  pids=$(ip netns pids "$ns" 2>/dev/null | paste -sd ' ')
  [[ -n "$pids" ]] || return 0
  # shellcheck disable=SC2086
  kill -TERM $pids 2>/dev/null
  for ((i = 0; i < 20; i++)); do
    pids=$(ip netns pids "$ns" 2>/dev/null | paste -sd ' ')
    [[ -n "$pids" ]] || return 0
    sleep 0.1
  done
  # shellcheck disable=SC2086
  kill -KILL $pids 2>/dev/null
  return 0
}

cmd_down() {
  local name=${1:-dals} dir ns
  valid_name "$name" || usage "down: bad cluster name '$name'"
  dir=$(state_dir "$name")
  # The namespaces by name, not only those the state lists: a cluster whose
  # `up` was killed halfway is removed too.
  local -a spaces
  mapfile -t spaces < <(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$name-(sw|h[0-9]+)$")
  for ns in "${spaces[@]}"; do end_processes "$ns"; done
  for ns in "${spaces[@]}"; do
    ip netns del "$ns" 2>/dev/null || echo "hosts.sh: warning: cannot delete namespace $ns" >&2
    rm -rf "/etc/netns/$ns"
  done
  rmdir /etc/netns 2>/dev/null
  rm -rf "$dir"
  rmdir "$STATE_ROOT" 2>/dev/null
  say "cluster $name removed (${#spaces[@]} namespace(s))"
  return 0
}

# ---------------------------------------------------------------- running

cmd_mpirun() {
  local name=${1:-}
  valid_name "$name" || usage "mpirun: bad cluster name '$name'"
  shift
  local dir first
  dir=$(state_dir "$name")
  first=$(host_ns "$name" 1) || exit 1
  # shellcheck disable=SC2054  # (commas inside MCA values, not separators)
  local -a opts=(--mca plm_rsh_agent "$dir/agent"
    --mca oob_tcp_if_include "$SUBNET" --mca btl_tcp_if_include "$SUBNET"
    --mca btl self,vader,tcp)
  local arg placed=0
  for arg in "$@"; do
    case "$arg" in --host | -H | --hostfile | -hostfile | --machinefile | -machinefile | --default-hostfile) placed=1 ;; esac
  done
  ((placed)) || opts+=(--hostfile "$dir/hostfile")
  # exec all the way down: whoever signals this process signals mpirun.
  exec ip netns exec "$first" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$first" mpirun "${opts[@]}" "$@"
}

cmd_exec() {
  local name=${1:-} host
  (($# >= 3)) || usage "exec NAME HOST CMD..."
  host=$(host_ns "$name" "$2") || exit 1
  shift 2
  exec ip netns exec "$host" unshare --uts sh -c 'hostname "$0" && exec "$@"' "$host" "$@"
}

cmd_pids() {
  local host
  host=$(host_ns "${1:-}" "${2:-}") || exit 1
  ip netns pids "$host"
}

cmd_kill() {
  local host sig=${3:-KILL} pids
  host=$(host_ns "${1:-}" "${2:-}") || exit 1
  pids=$(ip netns pids "$host" | paste -sd ' ')
  [[ -n "$pids" ]] || { say "nothing runs on $host"; return 0; }
  # shellcheck disable=SC2086
  kill "-$sig" $pids
}

cmd_link() {
  local name=${1:-} host i
  host=$(host_ns "$name" "${2:-}") || exit 1
  i=${host##*-h}
  case "${3:-}" in
    up | down) ip -n "$(switch_ns "$name")" link set "p$i" "$3" ;;
    *) usage "link NAME HOST up|down" ;;
  esac
}

# each_link NAME HOST|all FN ARGS...: FN HOSTNS ARGS... for the host(s).
each_link() {
  local name=$1 which=$2 fn=$3 host
  shift 3
  if [[ "$which" == all ]]; then
    while read -r host; do "$fn" "$host" "$@" || return 1; done <"$(state_dir "$name")/hosts"
  else
    host=$(host_ns "$name" "$which") || exit 1
    "$fn" "$host" "$@"
  fi
}

shape_one() {
  local host=$1 rate=$2 burst=${3:-64kb}
  ip -n "$host" link set eth0 up  # (a no-op; fails early on a bad host)
  tc -n "$host" qdisc del dev eth0 root 2>/dev/null
  [[ "$rate" == off ]] && return 0
  tc -n "$host" qdisc add dev eth0 root tbf rate "$rate" burst "$burst" latency 200ms
}

netem_one() {
  local host=$1 out
  shift
  tc -n "$host" qdisc del dev eth0 root 2>/dev/null
  [[ "${1:-}" == off ]] && return 0
  if ! out=$(tc -n "$host" qdisc add dev eth0 root netem "$@" 2>&1); then
    echo "hosts.sh: tc netem on $host: $out (this kernel lacks sch_netem: is CONFIG_NET_SCH_NETEM set?)" >&2
    return 1
  fi
}

# slow_one HOST DELAY_MS [LOSS_PERCENT]: host HOST's cable replaced by
# dals-test-slow-link (two TAP devices and a process between them: the
# host's outgoing frames wait DELAY_MS and are lost with LOSS_PERCENT), or
# with DELAY_MS=off the plain veth cable back. eth0 keeps its MAC address,
# so that no neighbour's ARP entry goes stale. The process's counts go to
# the state directory's slow-I.out when it ends.
slow_one() {
  local host=$1 delay=$2 loss=${3:-0} name=${1%-h*} i=${1##*-h} dir sw mac bin pid t
  dir=$(state_dir "$name")
  sw=$(switch_ns "$name")
  mac=$(ip -n "$host" -o link show eth0 | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)
  [[ -n "$mac" ]] || { echo "hosts.sh: $host has no eth0" >&2; return 1; }
  if [[ "$delay" != off ]]; then
    [[ "$delay" =~ ^[0-9]+([.][0-9]+)?$ && "$loss" =~ ^[0-9]+([.][0-9]+)?$ ]] ||
      usage "slow: DELAY_MS and LOSS_PERCENT must be numbers (got '$delay' '$loss')"
    local build=${DALS_BUILD:-$(dirname "$SELF")/../../build}
    bin=$build/tests/dals-test-slow-link
    [[ -x "$bin" ]] || bin=$build/dals-test-slow-link
    [[ -x "$bin" ]] || { echo "hosts.sh: no dals-test-slow-link in $build (build the tests, or set DALS_BUILD)" >&2; return 1; }
  fi
  [[ "$delay" == off && ! -s "$dir/slow-$i.pid" ]] && return 0  # a plain cable already
  if [[ -s "$dir/slow-$i.pid" ]]; then  # the user-space cable ends with its process
    pid=$(cat "$dir/slow-$i.pid")
    kill -TERM "$pid" 2>/dev/null
    for ((t = 0; t < 50; t++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    rm -f "$dir/slow-$i.pid"
  else
    ip -n "$sw" link del "p$i" || return 1  # (both ends of the veth pair)
  fi
  [[ "$delay" == off ]] && { plain_cable "$name" "$i" "$mac"; return; }
  # Removed first: the new process truncates it only once it runs, and the
  # old one's "ready" must not be read as the new one's.
  rm -f "$dir/slow-$i.out"
  "$bin" --host-netns "/run/netns/$host" --switch-netns "/run/netns/$sw" --switch-dev "p$i" \
    --delay-ms "$delay" --loss-percent "$loss" --seed "$i" >"$dir/slow-$i.out" 2>&1 </dev/null &
  pid=$!
  # Up to 30 s: making a device waits for the kernel's network lock, which
  # a namespace being deleted (another cluster's `down`) can hold for seconds.
  for ((t = 0; t < 300; t++)); do
    grep -q '^ready$' "$dir/slow-$i.out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if ! grep -q '^ready$' "$dir/slow-$i.out"; then
    kill -KILL "$pid" 2>/dev/null
    local status=0
    wait "$pid" || status=$?
    echo "hosts.sh: dals-test-slow-link for $host did not start (exit $status): $(head -c 300 "$dir/slow-$i.out")" >&2
    plain_cable "$name" "$i" "$mac"
    return 1
  fi
  echo "$pid" >"$dir/slow-$i.pid"
  ip -n "$host" link set eth0 address "$mac" || return 1
  cable_up "$name" "$i"
}

cmd_slow() { (($# >= 3)) || usage "slow NAME HOST|all DELAY_MS [LOSS_PERCENT]"; each_link "$1" "$2" slow_one "${@:3}"; }

cmd_shape() { (($# >= 3)) || usage "shape NAME HOST|all RATE [BURST]"; each_link "$1" "$2" shape_one "${@:3}"; }
cmd_netem() { (($# >= 3)) || usage "netem NAME HOST|all ARGS..."; each_link "$1" "$2" netem_one "${@:3}"; }

# stats NAME: "HOST tx_bytes rx_bytes tx_packets rx_packets" of each host's eth0.
cmd_stats() {
  local name=${1:-} host f line
  host_ns "$name" 1 >/dev/null || exit 1
  while read -r host; do
    line=$host
    for f in tx_bytes rx_bytes tx_packets rx_packets; do
      line+=" $(ip netns exec "$host" cat "/sys/class/net/eth0/statistics/$f")"
    done
    echo "$line"
  done <"$(state_dir "$name")/hosts"
}

cmd_run() {
  local n=${1:-} name=dals
  local -a up_args=()
  (($#)) || usage "run N [--name NAME] [--slots ...] -- CMD..."
  up_args+=("$1")
  shift
  while (($#)) && [[ "$1" != -- ]]; do
    [[ "$1" == --name ]] && name=${2:-}
    up_args+=("$1")
    shift
  done
  [[ "${1:-}" == -- ]] || usage "run: no '--' before the command"
  shift
  (($#)) || usage "run: no command after '--'"
  local dir status=0 child=""
  # The trap first, so that a signal during `up` still removes what it made.
  # shellcheck disable=SC2317
  on_signal() {
    [[ -n "$child" ]] && kill -TERM "$child" 2>/dev/null
    cmd_down "$name"
    exit "$1"
  }
  trap 'on_signal 130' INT
  trap 'on_signal 143' TERM
  trap 'cmd_down "$name"' EXIT
  dir=$(cmd_up "${up_args[@]}") || exit $?
  export DALS_HOSTS_NAME=$name DALS_HOSTS_DIR=$dir DALS_HOSTS_MPIRUN=$dir/mpirun DALS_HOSTS_HOSTFILE=$dir/hostfile
  # In the background, so that a signal to this script is handled at once
  # (bash runs a trap only after the foreground command has ended).
  "$@" &
  child=$!
  wait "$child" || status=$?
  child=""
  exit "$status"
}

case "${1:-}" in
  up | down | run | mpirun | exec | pids | kill | link | shape | netem | slow | stats | check)
    sub=$1
    shift
    "cmd_$sub" "$@"
    ;;
  -h | --help) sed -n '2,/^set /p' "$SELF" | sed '$d; s/^# \{0,1\}//' ;;
  *) usage "unknown command '${1:-}'" ;;
esac
