#!/usr/bin/env bash
# A slow link only slows the run: dals-train on 2 namespaced hosts whose
# cables delay every outgoing frame by 5 ms and lose 1% of them
# (tools/local-hosts/hosts.sh slow: dals-test-slow-link in user space, since
# this project's VM kernel has no sch_netem) gives the single-host model
# bit for bit, with the default exchange watchdog; the cable really dropped
# frames (its counts), and `slow ... off` gives the plain cable back (a
# second run across it is bit-identical too). Skipped (exit 77, saying why)
# where namespaces or TAP devices cannot be made.
#
# Usage (as ctest runs it): bash multihost_slow_link.sh BUILD_DIR SCRATCH_DIR
# shellcheck disable=SC2034  # OPTS, DATA, LOGS are read by checkpoint_helpers.bash
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/hosts_helpers.bash"
ckpt_init "$@"
export DALS_BUILD=$BUILD_DIR  # where hosts.sh finds dals-test-slow-link

hosts_require
if [[ ! -c /dev/net/tun ]]; then
  echo "SKIPPED: no /dev/net/tun: the slow cable needs TAP devices" >&2
  exit 77
fi
NAME=sl$$
trap '"$HOSTS" down "$NAME" >/dev/null 2>&1' EXIT INT TERM
dir=$(hosts_up 2 "$NAME") || exit 1

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 4000 2000 200000 4
OPTS=(-k 16 --seed 5 --threads 1 --quiet)
train reference 2 --output "$SCRATCH/reference" --iterations 8

check slow-up "both cables become slow ones (5 ms, 1% loss)" "$HOSTS" slow "$NAME" all 5 1
start=$(date +%s%N)
MPIRUN=$dir/mpirun train slow-2x1 2 --output "$SCRATCH/slow" --iterations 8
echo "     [slow] 8 iterations across the slow cables: $(( ($(date +%s%N) - start) / 1000000 )) ms"
identical_models slow-2x1 "$SCRATCH/reference" "$SCRATCH/slow"

check slow-off "both cables become plain veth pairs again" "$HOSTS" slow "$NAME" all off
for i in 1 2; do
  counts=$(grep '^frames_to_switch' "$dir/slow-$i.out")
  echo "     [slow] host $i's cable: $counts"
  read -r _ sent _ lost _ over _ _ <<<"$counts"
  check counts "host $i's cable carried frames (${sent:-none})" test "${sent:-0}" -gt 1000
  check counts "host $i's cable lost some (${lost:-none}), about 1% of them" \
    test "${lost:-0}" -gt 0 -a "${lost:-0}" -lt $(( (${sent:-0} + ${lost:-0}) / 30 ))
  check counts "no frame was dropped for the queue's limit" test "${over:-1}" -eq 0
done
check veth "host 1's eth0 is a veth again" bash -c "ip -n $NAME-h1 -d link show eth0 | grep -q veth"
MPIRUN=$dir/mpirun train plain-2x1 2 --output "$SCRATCH/plain" --iterations 8
identical_models plain-2x1 "$SCRATCH/reference" "$SCRATCH/plain"

"$HOSTS" down "$NAME" >/dev/null 2>&1
check teardown "no namespace of cluster $NAME is left" bash -c "! ip netns list | grep -q '^$NAME-'"
cli_finish
