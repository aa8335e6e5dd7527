#!/usr/bin/env bash
# tools/fuzz.sh: builds the libFuzzer targets of fuzz/ (clang, the readers
# they fuzz instrumented with AddressSanitizer and UBSan; the rest linked
# from the ordinary build's libdals.a) and runs each for a while, starting
# from the seed corpus of fuzz/corpus/TARGET. What each
# target checks: docs/testing.md. CI does not run this; a developer does,
# for longer, after changing a reader.
#
#   tools/fuzz.sh [SECONDS [TARGET...]]   SECONDS per target (default 60; 0:
#                                         build only); targets: text-line json
#                                         (default both)
#
# Environment: BUILD (the ordinary build, default build: its libdals.a is
# built first), FUZZ_BUILD (build directory, default build-fuzz), CC and CXX
# (default clang and clang++; Debian: apt-get install clang libomp-dev),
# FUZZ_JOBS (build jobs, default 2). New inputs that add coverage go to
# FUZZ_BUILD/corpus/TARGET (copy the useful ones into fuzz/corpus/TARGET);
# a crash is saved as FUZZ_BUILD/crash-TARGET-*, replayed by running the
# target on that file alone. Exit: 0, or libFuzzer's status for a finding.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-60}
shift $(($# > 0 ? 1 : 0))
targets=("$@")
((${#targets[@]})) || targets=(text-line json)
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz: SECONDS must be a number, not '$seconds'" >&2; exit 2; }
build=${FUZZ_BUILD:-build-fuzz}
cc=${CC:-clang} cxx=${CXX:-clang++}
for compiler in "$cc" "$cxx"; do
  type -P "$compiler" >/dev/null || { echo "fuzz: $compiler not found (Debian: apt-get install clang libomp-dev)" >&2; exit 1; }
done
for t in "${targets[@]}"; do
  [[ -d fuzz/corpus/$t ]] || { echo "fuzz: unknown target '$t' (no fuzz/corpus/$t)" >&2; exit 2; }
done
plain=${BUILD:-build}
[[ -f "$plain/CMakeCache.txt" ]] || cmake -S . -B "$plain" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$plain" -j "${FUZZ_JOBS:-2}" --target dals
mkdir -p "$build"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
  -DDALS_FUZZ=ON -DDALS_BUILD_TESTS=OFF -DDALS_FUZZ_LIBRARY="$(realpath "$plain/libdals.a")" \
  >"$build/configure.log" 2>&1 || { cat "$build/configure.log" >&2; exit 1; }
cmake --build "$build" -j "${FUZZ_JOBS:-2}" --target "${targets[@]/#/dals-fuzz-}"
((seconds > 0)) || exit 0
for t in "${targets[@]}"; do
  mkdir -p "$build/corpus/$t"
  echo "fuzz: dals-fuzz-$t for ${seconds}s"
  # -max_len: a line or a state.json of a few KB covers every rule; longer only slows.
  "$build/fuzz/dals-fuzz-$t" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$build/crash-$t-" "$build/corpus/$t" "fuzz/corpus/$t"
done
