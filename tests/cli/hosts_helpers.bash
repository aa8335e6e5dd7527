# Helpers of the tests whose ranks run on namespaced hosts
# (tools/local-hosts/hosts.sh). Source after lib.sh.
#
#   hosts_require            HOSTS := hosts.sh; exit 77 (skipped, saying why)
#                            where this machine cannot make namespaced hosts
#   hosts_up N NAME          the cluster's state directory on stdout (hosts.sh
#                            up's), or FAIL with up's messages and exit 1
# shellcheck shell=bash

hosts_require() {
  local why
  HOSTS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tools/local-hosts" && pwd)/hosts.sh
  if ! why=$("$HOSTS" check 2>&1); then
    echo "SKIPPED: this machine cannot make namespaced hosts: $why" >&2
    exit 77
  fi
}

hosts_up() {
  local log=$SCRATCH/up-$2.log
  if ! "$HOSTS" up "$1" --name "$2" 2>"$log"; then
    echo "FAIL: cannot create $1 namespaced hosts ($2):" >&2
    sed 's/^/    | /' "$log" >&2
    exit 1
  fi
}
