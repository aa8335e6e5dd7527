#!/usr/bin/env bash
# Ranks on separate hosts: dals-train across namespaced hosts on this
# machine (tools/local-hosts/hosts.sh: own network and UTS namespaces, veth
# links to one bridge, Open MPI's TCP BTL between hosts, shared memory only
# within one) gives the model of a single-host run bit for bit:
#  - 2 hosts x 1 rank, straight through;
#  - 3 hosts with 1+2 ranks (TCP and shared memory in one job);
#  - the routed exchange on 3 hosts, in chunks;
#  - checkpoint on 3 hosts (3 ranks), resume on 2 hosts (2 ranks).
# Bytes on each host's link are checked against what dals reports sending.
# Skipped (exit 77, saying why) where namespaces cannot be made (not root,
# a container without CAP_SYS_ADMIN or NET_ADMIN).
#
# Usage (as ctest runs it): bash multihost_train.sh BUILD_DIR SCRATCH_DIR
# shellcheck disable=SC2034  # OPTS, DATA, LOGS are read by checkpoint_helpers.bash
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/hosts_helpers.bash"
ckpt_init "$@"
hosts_require
NAME=mh$$  # one cluster per test run: concurrent runs do not meet
trap '"$HOSTS" down "$NAME" >/dev/null 2>&1' EXIT INT TERM
dir=$(hosts_up 3 "$NAME") || exit 1
HOST_MPIRUN=$dir/mpirun
# placement SPEC: an mpirun for these hosts with that --host list.
placement() {
  local file=$SCRATCH/mpirun-${1//[:,]/_}
  printf '#!/bin/sh\nexec "%s" --host %s "$@"\n' "$HOST_MPIRUN" "$1" >"$file"
  chmod 755 "$file"
  echo "$file"
}

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 4000 2000 200000 4
OPTS=(-k 16 --seed 5 --threads 1 --quiet)  # read by train (checkpoint_helpers.bash)
train reference 2 --output "$SCRATCH/reference" --iterations 12

before=$("$HOSTS" stats "$NAME")
MPIRUN=$(placement "$NAME-h1:1,$NAME-h2:1") train hosts-2x1 2 --output "$SCRATCH/m2x1" --iterations 12
identical_models hosts-2x1 "$SCRATCH/reference" "$SCRATCH/m2x1"
after=$("$HOSTS" stats "$NAME")
# What dals says each rank sent (the busiest rank, summed over the
# iterations) against what each host's link transmitted: at least that,
# and at most twice it plus 1 MB (TCP/IP headers, MPI's start-up and
# collectives, the metrics' reductions).
reported=$(jq -s 'map(.exchange_bytes_sent) | add' "$SCRATCH/m2x1/metrics.jsonl")
echo "     [links] dals reports $reported factor bytes sent by the busiest rank; per host link (tx):"
join <(sort <<<"$before") <(sort <<<"$after") | while read -r host tx0 _ _ _ tx1 _ _ _; do
  echo "     [links]   $host tx $((tx1 - tx0)) bytes"
  if [[ $host == "$NAME-h1" || $host == "$NAME-h2" ]]; then
    check links "$host's link carried at least what dals reports sending ($reported bytes)" \
      test $((tx1 - tx0)) -ge "$reported"
    check links "$host's link carried at most twice that plus 1 MB" \
      test $((tx1 - tx0)) -le $((2 * reported + 1000000))
  fi
done

MPIRUN=$(placement "$NAME-h1:1,$NAME-h2:2") train hosts-1+2 3 --output "$SCRATCH/m12" --iterations 12
identical_models hosts-1+2 "$SCRATCH/reference" "$SCRATCH/m12"

# The routed exchange across hosts, in chunks (a 224 KB buffer: 3373 rows; the most rated item has 3261 raters of 4000): the same bits.
MPIRUN=$(placement "$NAME-h1:1,$NAME-h2:1,$NAME-h3:1") train routed-3hosts 3 --output "$SCRATCH/mr3" \
  --iterations 12 --exchange routed --exchange-buffer 224K
identical_models routed-3hosts "$SCRATCH/reference" "$SCRATCH/mr3"

MPIRUN=$(placement "$NAME-h1:1,$NAME-h2:1,$NAME-h3:1") train ckpt-3hosts 3 --output "$SCRATCH/m5" \
  --iterations 5 --checkpoint-dir "$SCRATCH/ckpt"
MPIRUN=$(placement "$NAME-h2:1,$NAME-h3:1") train resume-2hosts 2 --output "$SCRATCH/m12r" --iterations 12 \
  --checkpoint-dir "$SCRATCH/ckpt" --resume auto
identical_models resume-2hosts "$SCRATCH/reference" "$SCRATCH/m12r"

"$HOSTS" down "$NAME" >/dev/null 2>&1
check teardown "no namespace of cluster $NAME is left" bash -c "! ip netns list | grep -q '^$NAME-'"
cli_finish
