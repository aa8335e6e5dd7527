# shellcheck shell=bash
# Shared helpers of tools/test.sh, tools/demo.sh and tools/bench.sh.
# Source it (do not run it): it sets DALS_ROOT and DALS_BUILD and defines
# functions; it changes no options of the calling shell.

DALS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DALS_BUILD="${DALS_BUILD:-$DALS_ROOT/build}"  # override to benchmark another build

# One short header per phase, so a long log is easy to scan.
dals_phase() {
  printf '\n==> %s\n' "$*"
}

dals_die() {
  printf '%s: error: %s\n' "$(basename "$0")" "$*" >&2
  exit 1
}

# Open MPI refuses to start as root unless told; CI and fresh machines are root.
# One rank per core at most would also be Open MPI's default: tools/*.sh run
# more ranks than cores on small machines, so oversubscription is allowed.
dals_setup_env() {
  if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
  fi
  # BLAS calls run inside dals' own OpenMP threads: BLAS must not add its own.
  export OPENBLAS_NUM_THREADS=1
}

# Installs the Debian packages that are missing (tools/install-deps.sh skips
# the work, and needs no root, when everything is present). On a system
# without dpkg the packages cannot be checked: CMake reports what is missing.
dals_install_deps() {
  dals_phase "dependencies"
  if ! command -v dpkg-query >/dev/null 2>&1; then
    echo "no dpkg-query: not a Debian system, skipping package installation (CMake will name anything missing)"
    return 0
  fi
  "$DALS_ROOT/tools/install-deps.sh"
}

# Configures (Release) and builds into ./build with one job per core.
# Arguments, if any, are the targets to build (default: everything).
dals_build() {
  local jobs
  jobs="$(nproc 2>/dev/null || echo 2)"
  dals_phase "configure ($DALS_BUILD, Release)"
  # A unity build (16 sources per translation unit): the headers (Eigen,
  # HDF5, json, gtest) are parsed once per batch, not once per file, which
  # more than halves the compiler's time on a fresh machine (CI). The test
  # helpers are therefore defined once (tests/unit/error_of.hpp,
  # tests/mpi/mpi_test_support.hpp); the header check stays one file per unit.
  cmake -S "$DALS_ROOT" -B "$DALS_BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 >/dev/null
  dals_phase "build (-j$jobs${1:+, targets: $*})"
  local targets=()
  [ $# -gt 0 ] && targets=(--target "$@")
  cmake --build "$DALS_BUILD" -j "$jobs" "${targets[@]}"
}

# mpirun as the tools use it: no core binding (ranks x threads may exceed the
# cores; binding would pile the threads of a rank onto one core).
dals_mpirun() {
  mpirun --oversubscribe --bind-to none "$@"
}

# The median of the numbers on stdin, one a line (the mean of the middle two for an even count).
dals_median() {
  sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# dals_field KEY FILE: the numeric value of "KEY": in each line of a JSON-lines FILE (metrics.jsonl).
dals_field() {
  awk -v key="$1" '{ if (match($0, "\"" key "\":[-+0-9.eE]+")) print substr($0, RSTART + length(key) + 3, RLENGTH - length(key) - 3) }' "$2"
}
