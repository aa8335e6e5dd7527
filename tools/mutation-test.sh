#!/usr/bin/env bash
# Mutation check: plants each one-line bug of tools/mutants.txt in the source,
# one at a time, builds incrementally in a build directory of its own, runs
# the tests that should catch it, and puts the line back. A mutant the tests
# pass is a test that is missing.
#
#   tools/mutation-test.sh               every mutant
#   tools/mutation-test.sh NAME...       only these (names as in --list)
#   tools/mutation-test.sh --list        names, files and test regexes
#
# DALS_MUTATION_BUILD sets the build directory (default ./build-mutation,
# Release, ccache when installed); CTEST_PARALLEL_LEVEL the tests run at once
# (default 2). Logs: BUILD/mutation-logs/NAME.log. Exits 0 only when every
# mutant applied, built and was killed (a failing test); a mutant whose
# line is not found exactly once, or that does not compile, is a failure too.
# The source file is restored after each mutant, also on Ctrl-C or an error.
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DALS_ROOT"

table="$DALS_ROOT/tools/mutants.txt"
build="${DALS_MUTATION_BUILD:-$DALS_ROOT/build-mutation}"
jobs="${CTEST_PARALLEL_LEVEL:-2}"

names=() files=() froms=() tos=() regexes=()
parse_table() {
  local line key value name="" file="" from="" to="" tests=""
  flush() {
    if [ -n "$name$file$from$to$tests" ]; then
      [ -n "$name" ] && [ -n "$file" ] && [ -n "$from" ] && [ -n "$to" ] && [ -n "$tests" ] ||
        dals_die "$table: incomplete record${name:+ '$name'} (needs name, file, from, to, tests)"
      names+=("$name") files+=("$file") froms+=("$from") tos+=("$to") regexes+=("$tests")
    fi
    name="" file="" from="" to="" tests=""
  }
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      '#'*) continue ;;
      '') flush; continue ;;
    esac
    key="${line%%: *}"
    value="${line#*: }"
    case "$key" in
      name) name="$value" ;;
      file) file="$value" ;;
      from) from="$value" ;;
      to) to="$value" ;;
      tests) tests="$value" ;;
      *) dals_die "$table: unknown field in line: $line" ;;
    esac
  done <"$table"
  flush
}
parse_table

if [ "${1:-}" = "--list" ]; then
  for i in "${!names[@]}"; do printf '%-34s %-30s %s\n' "${names[$i]}" "${files[$i]}" "${regexes[$i]}"; done
  exit 0
fi
if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then
  sed -n '2,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
  exit 0
fi

selected=()
if [ $# -eq 0 ]; then
  selected=("${!names[@]}")
else
  for want in "$@"; do
    found=""
    for i in "${!names[@]}"; do [ "${names[$i]}" = "$want" ] && found="$i"; done
    [ -n "$found" ] || dals_die "no mutant named '$want' (see --list)"
    selected+=("$found")
  done
fi

# The one file changed at any moment, and its original: put back on any exit.
backup="" mutated=""
restore() {
  if [ -n "$mutated" ]; then
    cp "$backup" "$mutated"
    mutated=""
  fi
}
trap restore EXIT
trap 'restore; exit 130' INT
trap 'restore; exit 143' TERM

dals_setup_env
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
dals_phase "configure and build the unmutated tree ($build)"
cmake -S "$DALS_ROOT" -B "$build" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
mkdir -p "$build/mutation-logs"
backup="$build/mutation-logs/original.bak"

results=()
failures=0
killed=0
for i in "${selected[@]}"; do
  name="${names[$i]}" file="${files[$i]}" from="${froms[$i]}" to="${tos[$i]}" regex="${regexes[$i]}"
  log="$build/mutation-logs/$name.log"
  : >"$log"
  start=$SECONDS
  dals_phase "mutant $name ($file; tests: $regex)"
  count=0
  [ -f "$file" ] && count="$(grep -cFx -- "$from" "$file" || true)"
  if [ "$count" != 1 ]; then
    verdict="NOT-APPLIED (line found $count times)"
  else
    cp "$file" "$backup"
    mutated="$file"
    # Replace the one matching line; awk -v would read backslashes as escapes.
    FROM="$from" TO="$to" awk '$0 == ENVIRON["FROM"] { print ENVIRON["TO"]; next } { print }' "$backup" >"$file"
    if ! cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >>"$log" 2>&1; then
      verdict="BUILD-FAILED"
    elif ctest --test-dir "$build" --output-on-failure --no-tests=error -j "$jobs" -R "$regex" >>"$log" 2>&1; then
      verdict="SURVIVED"
    else
      verdict="killed"
    fi
    restore
  fi
  [ "$verdict" = killed ] && killed=$((killed + 1)) || failures=$((failures + 1))
  echo "$verdict ($((SECONDS - start)) s; log $log)"
  results+=("$(printf '%-34s %-28s %5ds  %s' "$name" "$verdict" $((SECONDS - start)) "$regex")")
done

# Leave the build directory matching the tree again.
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

dals_phase "mutation score: $killed of ${#selected[@]} killed"
printf '%-34s %-28s %6s  %s\n' mutant result time tests
printf '%s\n' "${results[@]}"
[ "$failures" -eq 0 ]
