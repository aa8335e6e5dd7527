#!/usr/bin/env bash
# Installs what is missing, builds dals into ./build (Release) and runs the
# whole test suite. Exits with ctest's exit code.
#
#   tools/test.sh                 everything
#   tools/test.sh -R mpi          extra arguments go to ctest
#
# CTEST_PARALLEL_LEVEL sets how many tests run at once (default 2: the MPI
# tests oversubscribe the cores anyway; every test has its own scratch dir).
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DALS_ROOT"

dals_setup_env
dals_install_deps
# shellcheck disable=SC2119
dals_build  # all targets

jobs="${CTEST_PARALLEL_LEVEL:-2}"
dals_phase "test (ctest -j$jobs)"
set +e
ctest --test-dir "$DALS_BUILD" --output-on-failure --no-tests=error -j "$jobs" "$@"
status=$?
set -e
if [ "$status" -eq 0 ]; then
  dals_phase "all tests passed"
else
  dals_phase "tests FAILED (ctest exit code $status)"
fi
exit "$status"
