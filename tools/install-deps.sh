#!/usr/bin/env bash
# Installs dals' build and test dependencies from Debian's packages.
# Idempotent: packages already present are not fetched again, and apt-get
# update runs only when something is missing. Needs root (or sudo).
#
#   tools/install-deps.sh           install what is missing
#   tools/install-deps.sh --list    print the package list, one a line
#
# Every program that a script of the project runs (tools/, tests/, slurm/,
# .ci/) must come from a package below, or from a fresh Debian 12 machine
# (Priority "required", or tools/debian-base-packages.list):
# tools/check-commands.sh checks that, in CI.
set -euo pipefail

packages=(
  # the build (CMakeLists.txt); tools/test.sh runs ctest (cmake)
  build-essential cmake pkg-config
  openmpi-bin libopenmpi-dev  # mpirun: tools/lib.sh, tests/cli/*.sh
  libeigen3-dev
  libhdf5-dev
  libboost-program-options-dev
  libgtest-dev
  libopenblas-dev
  zlib1g-dev
  nlohmann-json3-dev
  # the Slurm test (tests/cli/slurm_train.sh) runs a local one-node cluster
  # (tools/local-slurm/): slurmctld, slurmd, munged; srun needs libpmix.so
  slurm-wlm munge libpmix-dev
  # ... and calls sinfo, sbatch, squeue, scontrol, scancel, srun (also in
  # slurm/*.sbatch) and the daemons: slurm-wlm pulls these in, listed because
  # the scripts call their programs
  slurm-client slurmctld slurmd
  # /usr/bin/python3 with Debian's h5py and numpy: tests/cli/export.sh runs
  # tests/cli/export_check.py; matplotlib: tools/plot-metrics.py (its ctest
  # test cli/plot_metrics.sh, and tools/demo.sh's curve)
  python3-minimal python3 python3-h5py python3-numpy python3-matplotlib
  jq     # tests/cli/partition_*.sh read manifest.json and metrics.jsonl; tools/check-commands.sh
  time   # /usr/bin/time: peak RSS in tests/cli/partition_out_of_core.sh
  shfmt  # tools/check-commands.sh parses the scripts with it
  clang-format shellcheck  # tools/check-style.sh (the ctest test check-style)
  # in a Debian server image, not in a minimal one (containers, debootstrap):
  procps    # ps: tests/cli/lib.sh; uptime: tools/bench-checkpoint.sh
  iproute2  # ss: tools/local-slurm/start.sh (is a port taken?); ip, tc: tools/local-hosts/hosts.sh
)

case "${1:-}" in
  --list) printf '%s\n' "${packages[@]}"; exit 0 ;;
  "") ;;
  *) echo "install-deps: unknown argument '$1' (only --list)" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo_cmd=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Without systemd (containers, CI) the munge and slurm packages would try to
# start their services while installing; a temporary policy-rc.d forbids it
# (the Slurm test starts its own daemons).
own_policy=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo_cmd[@]}" tee /usr/sbin/policy-rc.d >/dev/null
  "${sudo_cmd[@]}" chmod 755 /usr/sbin/policy-rc.d
  own_policy=1
fi
status=0
"${sudo_cmd[@]}" apt-get update -qq || status=$?
[ "$status" -ne 0 ] || "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
  status=$?
[ "$own_policy" -eq 0 ] || "${sudo_cmd[@]}" rm -f /usr/sbin/policy-rc.d
[ "$status" -eq 0 ] || { echo "install-deps: apt-get failed (status $status)" >&2; exit "$status"; }
echo "install-deps: done"
