# shellcheck shell=bash
# tools/local-slurm/common.bash: what start.sh (one node) and start-multi.sh
# (nodes in namespaced hosts) share: messages, the packages, the daemons'
# pid checks, the diagnosis of a daemon that did not come up, and munged.
# Sourced after the caller has set BASE, RUN and LOG (and CTLD_PORT).

say() { echo "[local-slurm] $*" >&2; }
die() { say "ERROR: $*"; exit 1; }  # what did start stays up: the stop script stops it
cannot_run() { say "CANNOT RUN HERE: $*"; exit 3; }

# ensure_packages: installs slurm-wlm, munge and libpmix-dev where missing.
ensure_packages() {
  local missing=() p own_policy status
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
}

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

# ensure_munged: a munged that answers, started (as the munge user) if none
# runs; its pid goes to $RUN/munged.pid only when this call started it.
ensure_munged() {
  local munged_off
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
}
