#!/usr/bin/env bash
# A host lost mid-run and a dead link, across namespaced hosts
# (tools/local-hosts/hosts.sh; 3 hosts x 1 rank, a checkpoint every
# iteration). Host 3 is hit at a seeded random moment inside an iteration:
#  - procs: every dals-train on host 3 SIGKILLed (its Open MPI daemon lives);
#  - host:  every process of host 3's namespace SIGKILLed (the daemon too);
#  - link:  host 3's veth taken down, --exchange-timeout 3 and mpirun's
#           keepalives short (1 s idle, 3 probes 1 s apart): the watchdog's
#           exit code 4 or mpirun's 205 ("lost communication with a remote
#           daemon"), whichever ends the job first (docs/multi-host.md).
# The three cases run at once, each on a cluster of its own (they mostly
# wait: for a timer, a keepalive, the launcher), each reporting when done.
# In each case: the job (mpirun) ends with a nonzero code within BOUND
# seconds of the hit, no dals-train is left on any host, every checkpoint
# under a final name loads (the newest at least the one seen before the
# hit), no model is published, and `--resume auto` on the 2 surviving hosts
# (2 ranks, fewer than before) ends bit-identical to an uninterrupted run.
# Skipped (exit 77, saying why) where namespaces cannot be made.
#
# Usage (as ctest runs it): bash multihost_lost_host.sh BUILD_DIR SCRATCH_DIR [SEED]
# (SEED: default DALS_LOST_HOST_SEED, else drawn; printed, to rerun a failure)
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
source "$(dirname "${BASH_SOURCE[0]}")/hosts_helpers.bash"
ckpt_init "$@"
SEED=${3:-${DALS_LOST_HOST_SEED:-$RANDOM}}
hosts_require
NAME=lh$$  # clusters ${NAME}p, ${NAME}h, ${NAME}l: concurrent runs do not meet
CASES=(procs host link)
teardown() {
  local c
  for c in "${CASES[@]}"; do "$HOSTS" down "$NAME${c:0:1}" >/dev/null 2>&1; done
}
trap teardown EXIT INT TERM
declare -A CLUSTER_DIR  # case -> its cluster's state directory (hosts.sh up prints it)
for c in "${CASES[@]}"; do
  CLUSTER_DIR[$c]=$(hosts_up 3 "$NAME${c:0:1}") || exit 1
done

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 2000 1000 60000 4
ITERS=8  # hit inside iteration 3 or 4 (K = 2 or 3): 4 or more left to resume
OPTS=(--data "$DATA" -k 16 --seed 5 --threads 1 --iterations "$ITERS" --quiet)
DALS_CLI_TIMEOUT=90
BOUND=30    # seconds from the hit to the end of the job (measured: 3-8 s)
LIMIT=3     # --exchange-timeout of the dead-link case
echo "     [seed] $SEED (rerun: bash $0 BUILD SCRATCH $SEED)"
RANDOM=$SEED

run_ranks 2 "$LOGS/reference" "$DALS_TRAIN" "${OPTS[@]}" --output "$SCRATCH/reference"
expect_success reference "$LOGS/reference" || cli_finish
echo "     [times] data and reference: $SECONDS s"

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# since END HIT: "N ms after the hit", or "not within the bound" if END is empty.
since() { if [[ -n "$1" ]]; then echo "$(($1 - $2)) ms after the hit"; else echo "not within the bound"; fi; }

# ranks_left CLUSTER: the dals-train processes on its hosts, "hI:PID ...".
ranks_left() {
  local i pid left=""
  for ((i = 1; i <= 3; i++)); do
    for pid in $("$HOSTS" pids "$1" "$i" 2>/dev/null); do
      [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dals-train ]] && left+=" h$i:$pid"
    done
  done
  printf '%s' "${left# }"
}

# hit_procs / hit_host / hit_link CLUSTER: what happens to its host 3.
hit_procs() {
  local pid
  for pid in $("$HOSTS" pids "$1" 3); do
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == dals-train ]] && kill -KILL "$pid"
  done
}
hit_host() { "$HOSTS" kill "$1" 3 KILL; }
hit_link() { "$HOSTS" link "$1" 3 down; }

# wait_checkpoint CKPT N: until the newest checkpoint has N iterations or
# more (true), or the job has ended (false).
wait_checkpoint() {
  local newest
  while kill -0 "$JOB_PID" 2>/dev/null; do
    newest=$(newest_checkpoint "$1")
    [[ -n "$newest" ]] && (($(checkpoint_iterations "$newest") >= $2)) && return 0
    sleep 0.02
  done
  return 1
}

# newest_loads CKPT K: the newest checkpoint has K iterations or more and loads.
newest_loads() {
  local newest
  newest=$(newest_checkpoint "$1")
  [[ -n "$newest" ]] && (($(checkpoint_iterations "$newest") >= $2)) && loads "$1/$newest"
}

# lose CASE K PERCENT WANT_CODES [ARGS...]: on cluster $NAME + CASE's
# initial, trains on 3 hosts x 1 rank (ARGS added), hits host 3 with
# hit_CASE inside iteration K+1 (PERCENT % of the time iteration K took
# after checkpoint K appeared), and checks what the header says.
# WANT_CODES: the exit codes of mpirun that count ("" = any nonzero code).
lose() {
  local case_name=$1 k=$2 percent=$3 want=$4 prefix=$LOGS/$1 ckpt=$SCRATCH/$1/ckpt output=$SCRATCH/$1/model
  local cluster=$NAME${1:0:1} hit=hit_$1
  shift 4
  rm -rf "${SCRATCH:?}/$case_name"
  mkdir -p "$SCRATCH/$case_name"
  local start_ms mpirun=${CLUSTER_DIR[$case_name]}/mpirun survivors=$SCRATCH/$case_name/mpirun-survivors
  start_ms=$(now_ms)
  # The resume's mpirun: hosts 1 and 2, 1 rank each.
  printf '#!/bin/sh\nexec "%s" --host %s "$@"\n' "$mpirun" "$cluster-h1:1,$cluster-h2:1" >"$survivors"
  chmod 755 "$survivors"
  timeout -k 5 "$DALS_CLI_TIMEOUT" "$mpirun" --host "$cluster-h1:1,$cluster-h2:1,$cluster-h3:1" -n 3 \
    "$DALS_TRAIN" "${OPTS[@]}" --checkpoint-dir "$ckpt" --output "$output" "$@" >"$prefix.out" 2>"$prefix.err" &
  JOB_PID=$!
  local before_ms k_ms hit_ms
  wait_checkpoint "$ckpt" $((k - 1)) && before_ms=$(now_ms) && wait_checkpoint "$ckpt" "$k"
  k_ms=$(now_ms)
  CLI_CHECKS=$((CLI_CHECKS + 1))
  if ! kill -0 "$JOB_PID" 2>/dev/null || [[ -z "${before_ms:-}" ]]; then
    fail "$case_name" "the job ended before its checkpoint iter-$(printf %06d "$k") (see $prefix.err)"
    sed 's/^/    | /' "$prefix.err" | head -n 20 >&2
    wait "$JOB_PID"
    return 1
  fi
  local delay=$(((k_ms - before_ms) * percent / 100)) seen
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  seen=$(newest_checkpoint "$ckpt")
  hit_ms=$(now_ms)
  CLI_CHECKS=$((CLI_CHECKS + 1))
  if ! kill -0 "$JOB_PID" 2>/dev/null; then
    fail "$case_name" "the job ended before the hit, ${delay} ms after iter-$(printf %06d "$k") (see $prefix.err)"
    wait "$JOB_PID"
    return 1
  fi
  "$hit" "$cluster"
  pass "$case_name" "host 3 hit ($hit) ${delay} ms (${percent}% of iteration $k's time) after iter-$(printf %06d "$k") appeared; newest then: $seen"
  # The job's end and its ranks' end, each within BOUND of the hit.
  local ranks_ms="" end_ms="" left
  while (($(now_ms) - hit_ms < BOUND * 1000)); do
    [[ -z "$ranks_ms" && -z "$(ranks_left "$cluster")" ]] && ranks_ms=$(now_ms)
    [[ -z "$end_ms" ]] && ! kill -0 "$JOB_PID" 2>/dev/null && end_ms=$(now_ms)
    [[ -n "$ranks_ms" && -n "$end_ms" ]] && break
    sleep 0.05
  done
  left=$(ranks_left "$cluster")
  local code=0
  if [[ -z "$end_ms" ]]; then
    kill -TERM "$JOB_PID" 2>/dev/null
    wait "$JOB_PID"
    code=hang
  else
    wait "$JOB_PID" || code=$?
  fi
  check "$case_name" "mpirun ended $(since "$end_ms" "$hit_ms") (bound ${BOUND} s)" test -n "$end_ms"
  if [[ -n "$want" ]]; then
    check "$case_name" "mpirun's exit code is one of: $want (got $code)" grep -qw -- "$code" <<<"$want"
  else
    check "$case_name" "mpirun's exit code is nonzero (got $code)" test "$code" != 0
  fi
  check "$case_name" "every dals-train had ended $(since "$ranks_ms" "$hit_ms"); left: ${left:-none}" \
    test -n "$ranks_ms" -a -z "$left"
  [[ -n "$end_ms" && -n "$ranks_ms" ]] || sed 's/^/    | /' "$prefix.err" | head -n 20 >&2
  # Whatever the job left on host 3 (a daemon behind a dead link) goes.
  DALS_HOSTS_QUIET=1 "$HOSTS" kill "$cluster" 3 KILL
  checkpoints_sound "$case_name" "$ckpt"
  local newest
  newest=$(newest_checkpoint "$ckpt")
  check "$case_name" "the newest checkpoint (${newest:-none}) is at least iter-$(printf %06d "$k") and loads" \
    newest_loads "$ckpt" "$k"
  check "$case_name" "no model was published" test ! -e "$output"
  local resume_ms
  resume_ms=$(now_ms)
  MPIRUN=$survivors run_ranks 2 "$LOGS/$case_name.resume" "$DALS_TRAIN" "${OPTS[@]}" --checkpoint-dir "$ckpt" \
    --checkpoint-every 0 --resume auto --output "$output"
  expect_success "$case_name.resume" "$LOGS/$case_name.resume" &&
    identical_models "$case_name.resume" "$SCRATCH/reference" "$output"
  echo "     [times] $case_name: code $code, job ended $(since "$end_ms" "$hit_ms"), ranks $(since "$ranks_ms" "$hit_ms");" \
    "launch to hit $((hit_ms - start_ms)) ms, resume $(($(now_ms) - resume_ms)) ms"
}

# Every case's moment is drawn here, in order, so that SEED gives them all.
pids=()
for c in "${CASES[@]}"; do
  k=$((2 + RANDOM % 2))
  percent=$((RANDOM % 100))
  case $c in
    link)
      OMPI_MCA_oob_tcp_keepalive_time=1 OMPI_MCA_oob_tcp_keepalive_intvl=1 OMPI_MCA_oob_tcp_keepalive_probes=3 \
        lose link "$k" "$percent" "4 205" --exchange-timeout "$LIMIT" >"$LOGS/link.report" 2>&1 &
      ;;
    *) lose "$c" "$k" "$percent" "" >"$LOGS/$c.report" 2>&1 & ;;
  esac
  pids+=($!)
done
# A case's shell that stops early (a bug of this script) fails the test.
for i in "${!CASES[@]}"; do
  status=0
  wait "${pids[$i]}" || status=$?
  cat "$LOGS/${CASES[$i]}.report"
  grep -q "^     \[times\] ${CASES[$i]}:" "$LOGS/${CASES[$i]}.report" ||
    fail "${CASES[$i]}" "the case stopped before its end (status $status; $LOGS/${CASES[$i]}.report)"
done

teardown
for c in "${CASES[@]}"; do
  check teardown "no namespace of cluster $NAME${c:0:1} is left" bash -c "! ip netns list | grep -q '^$NAME${c:0:1}-'"
done
cli_finish
