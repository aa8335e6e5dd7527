# shellcheck shell=bash disable=SC2034
# Helpers shared by the checkpoint tests (checkpoint_*.sh). Sourced after
# lib.sh; not a test itself (ctest registers tests/cli/*.sh only).
#
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
#   source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
#   ckpt_init "$@"

# ckpt_init BUILD SCRATCH: cli_init, plus DALS_GENERATE and DALS_DIFF.
ckpt_init() {
  cli_init "$@"
  DALS_GENERATE=$(find_tool dals-generate)
  DALS_DIFF=$(find_tool dals-test-model-diff)
  require_tools DALS_TRAIN DALS_GENERATE DALS_DIFF
}

# make_synth DIR USERS ITEMS RATINGS BLOCKS: a synthetic dataset (2 ranks
# write it; it is the same for any rank count). Exits the script on failure.
make_synth() {
  local dir=$1
  rm -rf "$dir"
  if ! timeout 120 "$MPIRUN" --oversubscribe --bind-to none -n 2 "$DALS_GENERATE" --users "$2" --items "$3" \
    --ratings "$4" --blocks "$5" --seed 11 --output "$dir" >"$dir.log" 2>&1; then
    echo "FAIL: cannot generate test dataset $dir:" >&2
    sed 's/^/    | /' "$dir.log" >&2
    exit 1
  fi
}

# The scripts that train one dataset many ways set DATA, OPTS (options
# every run shares) and LOGS.
# train CASE NP ARGS...: dals-train on DATA; the run must succeed.
train() {
  local case_name=$1 np=$2
  shift 2
  run_ranks "$np" "$LOGS/$case_name" "$DALS_TRAIN" --data "$DATA" "${OPTS[@]}" "$@"
  expect_success "$case_name" "$LOGS/$case_name"
}

# train_fails CASE NP ARGS... -- SUBSTRING...: must fail (exit $EXIT, default 1) naming each
# SUBSTRING; ARGS are the whole command line (DATA and OPTS are not added).
train_fails() {
  local case_name=$1 np=$2 args=()
  shift 2
  while [[ $1 != -- ]]; do args+=("$1"); shift; done
  shift
  run_ranks "$np" "$LOGS/$case_name" "$DALS_TRAIN" "${args[@]}"
  EXPECT_EXIT_CODE=${EXIT:-1} expect_failure "$case_name" "$LOGS/$case_name" "$@"
}

# identical_models CASE A B: the two model directories hold bit-identical factors.
identical_models() {
  local out
  CLI_CHECKS=$((CLI_CHECKS + 1))
  if out=$("$DALS_DIFF" "$2" "$3" 2>&1); then
    pass "$1" "$(basename "$2") and $(basename "$3") are bit-identical"
  else
    fail "$1" "$2 and $3 differ: $out"
    return 1
  fi
}

# loads DIR: DIR is a complete model or checkpoint whose every block passes
# its checks (read_model reads them all).
loads() {
  "$DALS_DIFF" "$1" "$1" >/dev/null 2>&1
}

# checkpoints_sound CASE CKPT: every checkpoint under CKPT with a valid name
# is complete and loads; staging directories (.tmp) do not count.
checkpoints_sound() {
  local case_name=$1 dir bad=""
  CLI_CHECKS=$((CLI_CHECKS + 1))
  for dir in "$2"/iter-*; do
    [[ -d "$dir" && "$dir" != *.tmp && "$dir" != *.deleting && "$dir" != *.old ]] || continue
    loads "$dir" || bad+=" $(basename "$dir")"
  done
  if [[ -n "$bad" ]]; then
    fail "$case_name" "checkpoints under a final name that do not load:$bad"
    return 1
  fi
  pass "$case_name" "every checkpoint under $2 loads"
}

# newest_checkpoint CKPT: name of the newest checkpoint (by progress), or "".
newest_checkpoint() {
  find "$1" -mindepth 1 -maxdepth 1 -type d -regex '.*/iter-[0-9]+\(\.5\)?$' -printf '%f\n' 2>/dev/null |
    sed 's/^iter-//' | sort -n | tail -n 1 | sed 's/^/iter-/'
}

# checkpoint_iterations NAME: "iter-000012.5" -> 12 (the completed iterations).
checkpoint_iterations() {
  local n=${1#iter-}
  n=${n%.5}
  echo $((10#$n))
}

# A rank wrapper like lib.sh's that also records the pid of the command
# itself (PREFIX.rankN.child), so that a test can signal dals-train and not
# its wrapper, and mpirun's pid (PREFIX.rankN.launcher: Open MPI starts the
# ranks of one node as children of mpirun). mpirun forwards SIGUSR1 and
# SIGTERM to what it started, the wrapper: the wrapper passes them on to
# dals-train, as a batch system's launcher would deliver them.
CKPT_RANK_WRAPPER='prefix=$1; shift
rank=${OMPI_COMM_WORLD_RANK:-${PMIX_RANK:-${PMI_RANK:-0}}}
echo $$ >"$prefix.rank$rank.pid"
echo $PPID >"$prefix.rank$rank.launcher"
"$@" >"$prefix.rank$rank.out" 2>"$prefix.rank$rank.err" &
child=$!
echo $child >"$prefix.rank$rank.child"
trap "kill -USR1 $child 2>/dev/null" USR1
trap "kill -TERM $child 2>/dev/null" TERM
while :; do
  wait $child
  rc=$?
  kill -0 $child 2>/dev/null || break
done
echo $rc >"$prefix.rank$rank.rc"
exit 0'

# start_ranks NP PREFIX COMMAND...: run_ranks in the background, with the
# wrapper above; BG_PID is the background job. Wait with `wait "$BG_PID"`.
start_ranks() {
  rm -f "$2".rank*.child "$2".rank*.launcher
  CLI_RANK_WRAPPER=$CKPT_RANK_WRAPPER run_ranks "$@" &
  BG_PID=$!
}

# wait_for_line FILE PATTERN SECONDS: waits until FILE has a line matching
# PATTERN (grep -E); false on timeout.
wait_for_line() {
  local i
  for ((i = 0; i < $3 * 20; i++)); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}

# wait_for_children PREFIX NP SECONDS: waits until every rank recorded its child pid.
wait_for_children() {
  local i r ok
  for ((i = 0; i < $3 * 20; i++)); do
    ok=1
    for ((r = 0; r < $2; r++)); do [[ -s "$1.rank$r.child" ]] || ok=0; done
    ((ok)) && return 0
    sleep 0.05
  done
  return 1
}

# signal_rank PREFIX RANK SIGNAL: sends SIGNAL to that rank's dals-train
# process, after checking that the pid is still that process.
signal_rank() {
  local pid
  pid=$(cat "$1.rank$2.child" 2>/dev/null) || return 1
  [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dals-train ]] || return 1
  kill "-$3" "$pid"
}

# expect_preempted CASE PREFIX: every rank exited with 3 (stopped, checkpoint
# written), within the timeout, and stderr holds exactly one line, the notice.
expect_preempted() {
  local case_name=$1 prefix=$2 np bad lines
  CLI_CHECKS=$((CLI_CHECKS + 1))
  np=$(cat "$prefix.np")
  run_timed_out "$case_name" "$prefix" "did not stop" && return 1
  bad=$(ranks_not_exiting "$prefix" 3)
  lines=$(all_stderr "$prefix" | grep -c '' || true)
  if [[ -n "$bad" ]] || [[ "$lines" != 1 ]] || ! all_stderr "$prefix" | grep -q 'stopped by'; then
    fail "$case_name" "expected exit 3 on every rank and one 'stopped by' line, got:${bad:- codes ok;} $lines stderr line(s)"
    show_logs "$prefix"
    return 1
  fi
  pass "$case_name" "exit 3 on all $np ranks: $(all_stderr "$prefix")"
}

# state_has DIR REGEX: DIR/state.json (indented, one value per line) has a
# line matching REGEX (grep -E).
state_has() {
  grep -qE -- "$2" "$1/state.json"
}

# resumes_past_damage CASE CKPT WANT...: `--resume auto` in CKPT (OPTS,
# --iterations 8) skips its damaged iter-000006 with exactly one warning
# line naming it and each WANT, resumes from iter-000004 and ends with the
# model of an uninterrupted run ($SCRATCH/ref8).
resumes_past_damage() {
  local case_name=$1 ckpt=$2
  shift 2
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/$case_name.model" \
    --checkpoint-dir "$ckpt" --resume auto
  expect_success "$case_name" "$LOGS/$case_name" || return 1
  local warning want
  warning=$(all_stderr "$LOGS/$case_name")
  check "$case_name" "exactly one warning line: $warning" test "$(grep -c '' <<<"$warning")" = 1
  check "$case_name" "it is a warning" grep -q "dals-train: warning:" <<<"$warning"
  for want in "$@" "skipping checkpoint $ckpt/iter-000006"; do
    check "$case_name" "the warning names '$want'" grep -qF -- "$want" <<<"$warning"
  done
  check "$case_name" "it resumed from iter-000004" \
    state_has "$SCRATCH/$case_name.model" "\"from\": \"$ckpt/iter-000004\""
  identical_models "$case_name" "$SCRATCH/ref8" "$SCRATCH/$case_name.model"
}
