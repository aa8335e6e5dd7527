# shellcheck shell=bash disable=SC2034,SC2016,SC2317
# Shared helpers of the command-line tests (tests/cli/*.sh).
#
# A test script starts with
#
#     source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#     cli_init "$@"            # $1 = build directory, $2 = private scratch directory
#
# runs its cases with run_ranks / run_one and checks them with
# expect_success / expect_failure (and check / fail for anything else), and
# ends with `cli_finish`, which prints a summary and exits nonzero if any
# check failed. Checks never stop the script: every case runs and reports.
#
# How a run is judged. run_ranks starts each rank inside a small bash wrapper
# that records the rank's exit code, stdout and stderr in PREFIX.rankN.{rc,out,err}
# and then exits 0 itself. So mpirun never aborts the job on the first
# nonzero exit: a rank that is left waiting in a collective stays there until
# the timeout, and the test reports the hang instead of mpirun hiding it. A
# rank with no .rc file was killed (MPI_Abort, a signal): that is a crash,
# not a clean failure.
#
# Run directly (ctest's cli-lib: `bash lib.sh BUILD SCRATCH`), this file tests
# its own helpers.

: "${DALS_CLI_TIMEOUT:=60}"  # seconds one run may take before it counts as a hang

CLI_FAILURES=0
CLI_CHECKS=0
CLI_FAILED_CASES=()

# ---------------------------------------------------------------- reporting

# fail CASE MESSAGE...: records a failed check. Also from a subshell (a
# helper inside $(...) or a pipeline), whose variables die with it: there
# the failure goes to CLI_FAILURE_LOG, which cli_finish counts.
fail() {
  local case_name=$1
  shift
  CLI_FAILURES=$((CLI_FAILURES + 1))
  CLI_FAILED_CASES+=("$case_name")
  echo "FAIL [$case_name] $*" >&2
  if [[ $BASHPID != "$$" && -n "${CLI_FAILURE_LOG:-}" ]]; then
    printf '%s\t%s\n' "$case_name" "$*" >>"$CLI_FAILURE_LOG"
  fi
}

# cli_collect_failures: adds the failures recorded by subshells to
# CLI_FAILURES and CLI_FAILED_CASES (once each).
cli_collect_failures() {
  local case_name
  [[ -n "${CLI_FAILURE_LOG:-}" && -s "$CLI_FAILURE_LOG" ]] || return 0
  while IFS=$'\t' read -r case_name _; do
    CLI_FAILURES=$((CLI_FAILURES + 1))
    CLI_FAILED_CASES+=("$case_name")
  done <"$CLI_FAILURE_LOG"
  : >"$CLI_FAILURE_LOG"
}

# pass CASE MESSAGE...: records a passed check.
pass() {
  local case_name=$1
  shift
  echo "ok   [$case_name] $*"
}

# check CASE DESCRIPTION COMMAND...: runs COMMAND; a nonzero status is a failure.
check() {
  local case_name=$1 what=$2
  shift 2
  CLI_CHECKS=$((CLI_CHECKS + 1))
  if "$@"; then
    pass "$case_name" "$what"
  else
    fail "$case_name" "$what"
    return 1
  fi
}

# cli_finish: summary line; exits 1 if any check failed, else 0.
cli_finish() {
  local script
  script=$(basename "$0" .sh)
  cli_collect_failures
  if ((CLI_FAILURES > 0)); then
    local unique
    unique=$(printf '%s\n' "${CLI_FAILED_CASES[@]}" | awk '!seen[$0]++' | paste -sd ' ')
    echo "$script: $CLI_FAILURES failed check(s) in: $unique" >&2
    exit 1
  fi
  echo "$script: all checks passed"
  exit 0
}

# ---------------------------------------------------------------- setup

# cli_init BUILD_DIR SCRATCH_DIR: sets BUILD_DIR, SCRATCH (emptied), the tool
# paths DALS_TRAIN, DALS_IMPORT, DALS_CORRUPT (empty if not built) and
# MPIRUN, and the Open MPI variables needed to run as root.
cli_init() {
  if (($# < 2)); then
    echo "usage: bash $(basename "$0") BUILD_DIR SCRATCH_DIR" >&2
    exit 2
  fi
  BUILD_DIR=$(cd "$1" && pwd) || { echo "FAIL: build directory $1 not found" >&2; exit 1; }
  SCRATCH=$2
  case "$(realpath -m -- "$SCRATCH")" in
    / | "$HOME" | "$(realpath -m -- "$BUILD_DIR")" | "")
      echo "FAIL: refusing to use $SCRATCH as a scratch directory (it is emptied)" >&2
      exit 1
      ;;
  esac
  rm -rf "$SCRATCH"
  mkdir -p "$SCRATCH" || { echo "FAIL: cannot create scratch directory $SCRATCH" >&2; exit 1; }
  SCRATCH=$(cd "$SCRATCH" && pwd)
  CLI_FAILURE_LOG=$SCRATCH/.cli-failures
  : >"$CLI_FAILURE_LOG"
  # what these helpers run (all from Priority "required" packages)
  require_commands timeout awk sed grep find sort cut diff paste tr sha256sum realpath
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
  export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
  MPIRUN=${MPIRUN:-$(command -v mpirun || command -v mpiexec || true)}
  DALS_TRAIN=$(find_tool dals-train)
  DALS_IMPORT=$(find_tool dals-import)
  DALS_CORRUPT=$(find_tool dals-test-corrupt)
}

# find_tool NAME: path of an executable of the build directory, or "".
find_tool() {
  local dir
  for dir in "$BUILD_DIR" "$BUILD_DIR/tests" "$BUILD_DIR/bin"; do
    if [[ -x "$dir/$1" ]]; then
      echo "$dir/$1"
      return 0
    fi
  done
  echo ""
}

# require_tools NAME...: exits (failing the test) unless each variable names an executable.
require_tools() {
  local var
  for var in "$@"; do
    if [[ -z "${!var:-}" || ! -x "${!var}" ]]; then
      echo "FAIL: $var: executable not found under $BUILD_DIR (build it first)" >&2
      exit 1
    fi
  done
  if [[ -z "$MPIRUN" ]]; then
    echo "FAIL: mpirun not found in PATH" >&2
    exit 1
  fi
}

# require_commands NAME...: exits (failing the test) unless each NAME is a
# command (a program in PATH, or an executable path such as /usr/bin/time):
# a test whose tool is missing must fail, not compare empty strings.
require_commands() {
  local name missing=()
  for name in "$@"; do
    if [[ "$name" == */* ]]; then
      [[ -x "$name" ]] || missing+=("$name")
    else
      command -v "$name" >/dev/null 2>&1 || missing+=("$name")
    fi
  done
  if ((${#missing[@]})); then
    echo "FAIL: $(basename "$0"): needs ${missing[*]}, not found (tools/install-deps.sh installs it)" >&2
    exit 1
  fi
}

# value_of CASE WHAT COMMAND...: prints COMMAND's output. If COMMAND is not
# found, fails or prints nothing, the failure of CASE is recorded (also from
# inside $(...)) and a marker that equals no other value is printed instead,
# so that no comparison of two missing values can pass.
value_of() {
  local case_name=$1 what=$2 out status=0
  shift 2
  if ! command -v "$1" >/dev/null 2>&1; then
    fail "$case_name" "$what: $1 not found (tools/install-deps.sh installs it)"
    echo "<no value: $1 missing #$BASHPID.$RANDOM>"
    return 1
  fi
  out=$("$@" 2>&1) || status=$?
  if ((status != 0)) || [[ -z "$out" ]]; then
    local said="printed nothing"
    [[ -z "$out" ]] || said="printed '$(head -c 300 <<<"${out//$'\n'/ }")'"
    fail "$case_name" "$what: '$*' $said and exited $status"
    echo "<no value: $1 failed #$BASHPID.$RANDOM>"
    return 1
  fi
  printf '%s\n' "$out"
}

# json_field FILE FILTER [JQ_OPTION...]: the value(s) jq's FILTER selects in
# FILE (raw strings), through value_of: jq missing, an unreadable file, a
# missing key (null or false) or no output at all is a failure.
json_field() {
  local file=$1 filter=$2
  shift 2
  value_of "json:${file##*/}" "$filter in $file" jq -e -r "$@" "$filter" "$file"
}

# ---------------------------------------------------------------- running

# The wrapper each rank runs: records exit code, stdout and stderr per rank.
# $1 = log prefix, the rest = the command. Exits 0 (see the header).
CLI_RANK_WRAPPER='prefix=$1; shift
rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${PMI_RANK:-0}}}
echo $$ >"$prefix.rank$rank.pid"
"$@" >"$prefix.rank$rank.out" 2>"$prefix.rank$rank.err"
echo $? >"$prefix.rank$rank.rc"
exit 0'

# run_ranks NP PREFIX COMMAND...: runs COMMAND on NP ranks under mpirun and a
# timeout of DALS_CLI_TIMEOUT seconds. Leaves PREFIX.rankN.{rc,out,err},
# PREFIX.mpirun.{out,err} and PREFIX.np; PREFIX.timedout exists if the run
# hit the timeout. Returns mpirun's status (124 on timeout).
run_ranks() {
  local np=$1 prefix=$2
  shift 2
  rm -f "$prefix".rank*.rc "$prefix".rank*.pid "$prefix".rank*.out "$prefix".rank*.err "$prefix".mpirun.* \
    "$prefix".timedout
  mkdir -p "$(dirname "$prefix")"
  echo "$np" >"$prefix.np"
  local status=0
  timeout -k 10 "$DALS_CLI_TIMEOUT" "$MPIRUN" --oversubscribe --bind-to none -n "$np" \
    bash -c "$CLI_RANK_WRAPPER" _ "$prefix" "$@" >"$prefix.mpirun.out" 2>"$prefix.mpirun.err" || status=$?
  if ((status == 124 || status == 137)); then
    echo "timed out after ${DALS_CLI_TIMEOUT}s (status $status)" >"$prefix.timedout"
    kill_ranks "$prefix"
  fi
  return "$status"
}

# kill_ranks PREFIX: after a timeout, ends the rank processes of that run.
# Open MPI puts each rank in a process group of its own, so when timeout
# kills mpirun a hung rank would outlive it, spinning in a collective. Each
# wrapper recorded its pid (= its process group); only a process that still
# runs this run's wrapper (its command line names PREFIX) is killed.
kill_ranks() {
  local prefix=$1 pidfile pid
  for pidfile in "$prefix".rank*.pid; do
    [[ -s "$pidfile" ]] || continue
    pid=$(cat "$pidfile")
    [[ "$pid" =~ ^[0-9]+$ ]] || continue
    if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "$prefix"; then
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  done
}

# run_one PREFIX COMMAND...: runs a single-process command (no mpirun) with
# the same timeout and the same logs as a 1-rank run_ranks.
run_one() {
  local prefix=$1
  shift
  rm -f "$prefix".rank*.rc "$prefix".rank*.pid "$prefix".rank*.out "$prefix".rank*.err "$prefix".mpirun.* \
    "$prefix".timedout
  mkdir -p "$(dirname "$prefix")"
  echo 1 >"$prefix.np"
  local status=0
  timeout -k 10 "$DALS_CLI_TIMEOUT" bash -c "$CLI_RANK_WRAPPER" _ "$prefix" "$@" || status=$?
  if ((status == 124 || status == 137)); then
    echo "timed out after ${DALS_CLI_TIMEOUT}s (status $status)" >"$prefix.timedout"
  fi
  return "$status"
}

# rank_code PREFIX RANK: that rank's exit code, or "none" if it recorded none.
rank_code() {
  if [[ -s "$1.rank$2.rc" ]]; then cat "$1.rank$2.rc"; else echo none; fi
}

# all_stderr PREFIX: every rank's stderr, in rank order.
all_stderr() {
  local np r
  np=$(cat "$1.np")
  for ((r = 0; r < np; r++)); do
    [[ -f "$1.rank$r.err" ]] && cat "$1.rank$r.err"
  done
  return 0
}

# show_logs PREFIX: the logs of a run, indented, for a FAIL message.
show_logs() {
  local f
  for f in "$1".rank*.err "$1".rank*.out "$1".mpirun.err "$1".timedout; do
    [[ -s "$f" ]] || continue
    echo "    --- $(basename "$f")" >&2
    head -n 20 "$f" | sed 's/^/    | /' >&2
  done
}

# ranks_not_exiting PREFIX CODE: " rank R: C;" for each rank whose exit code
# is not CODE (empty if every rank returned CODE).
ranks_not_exiting() {
  local prefix=$1 want=$2 np r code bad=""
  np=$(cat "$prefix.np")
  for ((r = 0; r < np; r++)); do
    code=$(rank_code "$prefix" "$r")
    [[ "$code" == "$want" ]] || bad+=" rank $r: $code;"
  done
  printf '%s' "$bad"
}

# run_timed_out CASE PREFIX WHAT: fails CASE (with the logs) if the run hit
# its timeout; WHAT says what that means for the case.
run_timed_out() {
  local case_name=$1 prefix=$2 what=$3
  [[ -f "$prefix.timedout" ]] || return 1
  fail "$case_name" "$what: $(cat "$prefix.timedout")"
  show_logs "$prefix"
  return 0
}

# expect_success CASE PREFIX: every rank exited 0, within the timeout.
expect_success() {
  local case_name=$1 prefix=$2 np bad
  CLI_CHECKS=$((CLI_CHECKS + 1))
  np=$(cat "$prefix.np")
  run_timed_out "$case_name" "$prefix" "run did not finish" && return 1
  bad=$(ranks_not_exiting "$prefix" 0)
  if [[ -n "$bad" ]]; then
    fail "$case_name" "expected exit 0 on every rank, got:$bad"
    show_logs "$prefix"
    return 1
  fi
  pass "$case_name" "exit 0 on all $np rank(s)"
}

# expect_failure CASE PREFIX SUBSTRING...: the run failed cleanly:
#  - it finished within the timeout (no hang);
#  - every rank recorded an exit code (none killed by MPI_Abort or a signal)
#    and every one is nonzero and not a death by signal (> 128);
#  - all ranks together wrote exactly one line to stderr, it contains
#    "error:", and it contains each SUBSTRING (fixed strings).
# EXPECT_EXIT_CODE, if set, is the exit code every rank must return.
expect_failure() {
  local case_name=$1 prefix=$2
  shift 2
  local np r code bad="" ok=1 lines line
  CLI_CHECKS=$((CLI_CHECKS + 1))
  np=$(cat "$prefix.np")
  if [[ -f "$prefix.timedout" ]]; then
    fail "$case_name" "hang: $(cat "$prefix.timedout")"
    show_logs "$prefix"
    return 1
  fi
  for ((r = 0; r < np; r++)); do
    code=$(rank_code "$prefix" "$r")
    if [[ "$code" == none ]]; then
      bad+=" rank $r: killed (no exit code recorded);"
    elif [[ "$code" == 0 ]]; then
      bad+=" rank $r: exit 0;"
    elif ((code > 128)); then
      bad+=" rank $r: killed by signal $((code - 128));"
    elif [[ -n "${EXPECT_EXIT_CODE:-}" && "$code" != "$EXPECT_EXIT_CODE" ]]; then
      bad+=" rank $r: exit $code, expected $EXPECT_EXIT_CODE;"
    fi
  done
  if [[ -n "$bad" ]]; then
    fail "$case_name" "expected a nonzero exit on every rank:$bad"
    ok=0
  fi
  lines=$(all_stderr "$prefix" | grep -c '' || true)
  line=$(all_stderr "$prefix" | head -n 1)
  if [[ "$lines" != 1 ]]; then
    fail "$case_name" "expected exactly one line on stderr (all ranks together), got $lines"
    ok=0
  elif [[ "$line" != *"error:"* ]]; then
    fail "$case_name" "stderr line has no 'error:': $line"
    ok=0
  else
    local want
    for want in "$@"; do
      if [[ "$line" != *"$want"* ]]; then
        fail "$case_name" "error line does not name '$want': $line"
        ok=0
      fi
    done
  fi
  if ((ok)); then
    pass "$case_name" "exit $(rank_code "$prefix" 0) on all $np rank(s): $line"
    return 0
  fi
  show_logs "$prefix"
  return 1
}

# ---------------------------------------------------------------- data

# make_ratings_csv FILE [USERS [ITEMS]]: a deterministic CSV with a header,
# integer raw ids (users from 1001, items from 501) and ratings 1..5; about
# a fifth of all (user, item) pairs, every user and item rated at least
# once. USERS x ITEMS defaults to 60 x 40 (about 480 ratings).
make_ratings_csv() {
  local file=$1 users=${2:-60} items=${3:-40}
  awk -v U="$users" -v I="$items" 'BEGIN {
    print "user,item,rating"
    for (u = 1; u <= U; u++)
      for (i = 1; i <= I; i++)
        if ((u * 7 + i * 13) % 5 == 0 || i == (u % I) + 1)
          printf "%d,%d,%d\n", 1000 + u, 500 + i, 1 + (u * i + u) % 5
  }' >"$file"
}

# make_dataset DIR BLOCKS [CSV]: imports CSV (default: a fresh make_ratings_csv)
# into a new dataset directory DIR with BLOCKS blocks per side. Exits the
# script on failure: nothing can be tested without a dataset.
make_dataset() {
  local dir=$1 blocks=$2 csv=${3:-}
  if [[ -z "$csv" ]]; then
    csv="$dir.csv"
    make_ratings_csv "$csv"
  fi
  rm -rf "$dir"
  if ! "$DALS_IMPORT" --input "$csv" --output "$dir" --blocks "$blocks" --test-fraction 0.1 --seed 1 \
    >"$dir.import.log" 2>&1; then
    echo "FAIL: cannot build test dataset $dir:" >&2
    sed 's/^/    | /' "$dir.import.log" >&2
    exit 1
  fi
}

# fresh_copy SRC DST: DST becomes an exact copy of SRC.
fresh_copy() {
  rm -rf "$2"
  cp -a "$1" "$2"
}

# tree_listing DIR: one line per entry (type, size, sha256, relative path),
# sorted: equal listings mean byte-identical trees.
tree_listing() {
  (
    cd "$1" 2>/dev/null || { fail tree_listing "no directory $1 to list"; exit 1; }
    find . -mindepth 1 \( -type d -printf 'd - - %p\n' \) -o \( -type f -printf 'f %s - %p\n' \) | sort -k4 |
      while read -r type size _ path; do
        if [[ "$type" == f ]]; then
          digest=$(sha256sum <"$path" | cut -d' ' -f1)
          [[ -n "$digest" ]] || fail tree_listing "sha256sum printed nothing for $1/$path"
          echo "f $size ${digest:-none-$BASHPID.$RANDOM} $path"
        else
          echo "d - - $path"
        fi
      done
  )
}

# listings_differ DIR1 DIR2: true if the trees are not byte-identical.
listings_differ() {
  ! diff -q <(tree_listing "$1") <(tree_listing "$2") >/dev/null
}

# same_tree CASE DIR LISTING_FILE: checks DIR still matches a listing taken
# earlier with tree_listing, and shows the difference if not.
same_tree() {
  local case_name=$1 dir=$2 before=$3
  CLI_CHECKS=$((CLI_CHECKS + 1))
  local diff_text
  if diff_text=$(diff "$before" <(tree_listing "$dir")); then
    pass "$case_name" "$dir is byte-identical to before"
  else
    fail "$case_name" "$dir changed:"
    echo "$diff_text" | head -n 20 | sed 's/^/    | /' >&2
    return 1
  fi
}

# ---------------------------------------------------------------- runs in $LOGS
# The tool tests (recommend, eval, export, ...) keep each run's logs in $LOGS.

# run CASE NP ARGS...: a run that must succeed on every rank.
run() {
  local case_name=$1 np=$2
  shift 2
  run_ranks "$np" "$LOGS/$case_name" "$@"
  expect_success "$case_name" "$LOGS/$case_name"
}

# refused_run TOOL CASE NP SUBSTRING... -- ARGS...: TOOL ARGS must fail with
# one error line naming every SUBSTRING.
refused_run() {
  local tool=$1 case_name=$2 np=$3 wants=()
  shift 3
  while [[ $1 != -- ]]; do wants+=("$1"); shift; done
  shift
  run_ranks "$np" "$LOGS/$case_name" "$tool" "$@"
  expect_failure "$case_name" "$LOGS/$case_name" "${wants[@]}"
}

# ---------------------------------------------------------------- self-test

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  set -u -o pipefail
  cli_init "$@"
  require_tools DALS_IMPORT
  DALS_CLI_TIMEOUT=20

  run_ranks 2 "$SCRATCH/ok" true
  expect_success ok "$SCRATCH/ok"

  # Every rank fails, one prints: the shape of a clean collective failure.
  run_ranks 2 "$SCRATCH/clean" bash -c \
    'if [[ $OMPI_COMM_WORLD_RANK == 0 ]]; then echo "tool: error: some/file.h5: broken" >&2; fi; exit 3'
  EXPECT_EXIT_CODE=3 expect_failure clean "$SCRATCH/clean" some/file.h5

  # Each of these must be judged a failure by expect_failure.
  expect_rejected() {
    local name=$1
    shift
    local saved=$CLI_FAILURES saved_cases=("${CLI_FAILED_CASES[@]}")
    if expect_failure "$name" "$SCRATCH/$name" "$@" >/dev/null 2>&1; then
      fail "$name" "expect_failure accepted a bad run"
    else
      CLI_FAILURES=$saved
      CLI_FAILED_CASES=("${saved_cases[@]}")
      pass "$name" "expect_failure rejects it"
    fi
  }
  run_ranks 2 "$SCRATCH/one-zero" bash -c \
    'echo "tool: error: x" >&2; exit $OMPI_COMM_WORLD_RANK'
  expect_rejected one-zero x
  run_ranks 2 "$SCRATCH/two-lines" bash -c 'echo "tool: error: x" >&2; exit 1'
  expect_rejected two-lines x
  run_ranks 2 "$SCRATCH/wrong-name" bash -c \
    '[[ $OMPI_COMM_WORLD_RANK == 0 ]] && echo "tool: error: x" >&2; exit 1'
  expect_rejected wrong-name other-file
  run_ranks 2 "$SCRATCH/no-error-word" bash -c \
    '[[ $OMPI_COMM_WORLD_RANK == 0 ]] && echo "x went wrong" >&2; exit 1'
  expect_rejected no-error-word x
  DALS_CLI_TIMEOUT=3
  run_ranks 2 "$SCRATCH/hang" bash -c \
    '[[ $OMPI_COMM_WORLD_RANK == 0 ]] && { echo "tool: error: x" >&2; exit 1; }; sleep 30'
  expect_rejected hang x
  ranks_gone() {  # zombies count as gone: an init that does not reap is not our concern
    local pidfile state
    sleep 1
    for pidfile in "$1".rank*.pid; do
      [[ -s "$pidfile" ]] || continue
      state=$(ps -o stat= -p "$(cat "$pidfile")" 2>/dev/null || true)
      [[ -z "$state" || "$state" == Z* ]] || return 1
    done
    return 0
  }
  check hang "the hung rank was ended with the run" ranks_gone "$SCRATCH/hang"
  DALS_CLI_TIMEOUT=20
  run_ranks 2 "$SCRATCH/killed" bash -c \
    '[[ $OMPI_COMM_WORLD_RANK == 0 ]] && echo "tool: error: x" >&2; kill -9 $$'
  expect_rejected killed x
  # Like MPI_Abort: the whole rank process goes, nothing is recorded (or,
  # if mpirun misses it, the run hangs): rejected either way.
  DALS_CLI_TIMEOUT=5
  run_ranks 2 "$SCRATCH/aborted" bash -c \
    '[[ $OMPI_COMM_WORLD_RANK == 0 ]] && echo "tool: error: x" >&2; kill -9 $PPID'
  expect_rejected aborted x
  DALS_CLI_TIMEOUT=20

  run_one "$SCRATCH/single" bash -c 'echo "tool: error: in.csv:3: bad" >&2; exit 1'
  expect_failure single "$SCRATCH/single" in.csv:3:

  make_dataset "$SCRATCH/data" 2
  check dataset "make_dataset writes a manifest" test -s "$SCRATCH/data/manifest.json"
  fresh_copy "$SCRATCH/data" "$SCRATCH/copy"
  check listing "tree_listing of a copy is identical" \
    diff <(tree_listing "$SCRATCH/data") <(tree_listing "$SCRATCH/copy")
  echo x >>"$SCRATCH/copy/manifest.json"
  check listing-change "tree_listing sees a changed file" listings_differ "$SCRATCH/data" "$SCRATCH/copy"

  # Value helpers: a missing tool, a failing one or an empty answer is a
  # recorded failure (also from inside $(...)), never an empty string.
  M=$SCRATCH/data/manifest.json
  check json "json_field reads the block count" test "$(json_field "$M" .blocks)" = 2
  check json "json_field passes jq options" test "$(json_field "$M" '.[$k]' --arg k items)" = 40
  # records_failure COMMAND...: runs COMMAND inside $(...); true if it
  # recorded a failure there (which is then taken back: it was expected).
  records_failure() {
    local before after
    before=$(grep -c '' "$CLI_FAILURE_LOG")
    : "$("$@" 2>/dev/null)"
    after=$(grep -c '' "$CLI_FAILURE_LOG")
    head -n "$before" "$CLI_FAILURE_LOG" >"$CLI_FAILURE_LOG.keep" && mv "$CLI_FAILURE_LOG.keep" "$CLI_FAILURE_LOG"
    ((after > before))
  }
  no_jq() { PATH=/nonexistent json_field "$@"; }
  check json-missing-key "a missing key fails" records_failure json_field "$M" .no_such_key
  check json-no-file "a missing file fails" records_failure json_field "$SCRATCH/nothing.json" .blocks
  check json-no-jq "jq missing fails" records_failure no_jq "$M" .blocks
  a=$(no_jq "$M" .fingerprint 2>/dev/null)
  b=$(no_jq "$M" .fingerprint 2>/dev/null)
  : >"$CLI_FAILURE_LOG"  # those two failures were expected
  check json-no-jq "two values read without jq differ ('$a', '$b')" test "$a" != "$b"
  check value-empty "value_of fails on a command that prints nothing" records_failure value_of x x true
  check value-status "value_of fails on a failing command" records_failure value_of x x sh -c 'echo 1; exit 3'
  nonexistent=no-such-command-here  # (a variable: tools/check-commands.sh would flag the literal name)
  check value-missing "value_of fails on a missing command" records_failure value_of x x "$nonexistent"
  check value-ok "value_of prints the output" test "$(value_of x x echo 42)" = 42
  not() { ! "$@"; }
  check require "require_commands fails on a missing command" \
    not bash -c 'source "$1"; require_commands sed "$2"' _ "${BASH_SOURCE[0]}" "$nonexistent" 2>/dev/null
  check require "... and on a missing path" \
    not bash -c 'source "$1"; require_commands "$2"' _ "${BASH_SOURCE[0]}" /no/such/time 2>/dev/null
  check require "... and passes when all are there" \
    bash -c 'source "$1"; require_commands sed /bin/sh' _ "${BASH_SOURCE[0]}"
  # A failure inside $(...) counts in the end.
  : "$(fail subshell "recorded from a subshell" 2>/dev/null)"
  check subshell "a failure recorded in a subshell reaches the log" grep -q '^subshell' "$CLI_FAILURE_LOG"
  saved=$CLI_FAILURES
  cli_collect_failures
  check subshell "cli_collect_failures counts it" test "$CLI_FAILURES" = $((saved + 1))
  CLI_FAILURES=$saved
  unset 'CLI_FAILED_CASES[-1]'
  cli_finish
fi
