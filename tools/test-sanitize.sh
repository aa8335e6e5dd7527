#!/usr/bin/env bash
# Builds dals with AddressSanitizer and UndefinedBehaviorSanitizer into
# ./build-sanitize (-O1 -g, asserts on) and runs the tests that fit CI's time
# in it: a heap overflow, use after free or undefined behaviour (overflow,
# misaligned access, bad shift) aborts the test that hit it. tools/test.sh
# runs it after the normal tests, so CI (.ci/run) does too.
#
#   tools/test-sanitize.sh               the sanitized selection (below)
#   tools/test-sanitize.sh -R cli-       extra arguments go to ctest instead
#
# Leak checking is off (ASAN_OPTIONS=detect_leaks=0): Open MPI, PMIx and
# hwloc keep allocations to the end of the process by design and report
# hundreds of leaks of their own under LeakSanitizer, none of them dals'.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DALS_ROOT"

build="${DALS_SANITIZE_BUILD:-$DALS_ROOT/build-sanitize}"
jobs="${CTEST_PARALLEL_LEVEL:-2}"
# What runs sanitized by default (docs/testing.md says why these): the unit
# and MPI tests, and the CLI tests that feed the readers damaged and hostile
# files, where a memory error would hide.
default_tests='^(unit|mpi-np[1-4]|cli-(bad_input|hostile_hdf5|hostile_inputs|checkpoint_corrupt|checkpoint_factors))$'

dals_setup_env
flags="-O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined"
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
dals_phase "configure ($build, AddressSanitizer + UndefinedBehaviorSanitizer)"
cmake -S "$DALS_ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Sanitize "${launcher[@]}" \
  -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=16 \
  -DCMAKE_CXX_FLAGS_SANITIZE="$flags" -DCMAKE_EXE_LINKER_FLAGS_SANITIZE="-fsanitize=address,undefined" >/dev/null
# The tools the selected CLI tests drive, and the two gtest binaries; not
# the header check or the benchmark.
targets=(dals-unit-tests dals-mpi-tests dals-cli dals-train dals-generate dals-import dals-partition dals-inspect
  dals-test-corrupt dals-test-model-diff)
dals_phase "build (-j$(nproc 2>/dev/null || echo 2), sanitized)"
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}"

# halt_on_error: the first report fails the test; abort_on_error=0 keeps the
# exit code (1) instead of a core dump per rank.
export ASAN_OPTIONS="detect_leaks=0:halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
dals_phase "sanitized tests (ctest -j$jobs)"
args=(-R "$default_tests")
[ $# -gt 0 ] && args=("$@")
set +e
ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" "${args[@]}"
status=$?
set -e
if [ "$status" -eq 0 ]; then
  dals_phase "sanitized tests passed"
else
  dals_phase "sanitized tests FAILED (ctest exit code $status)"
fi
exit "$status"
