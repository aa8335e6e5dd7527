#!/usr/bin/env bash
# Seeded mutation fuzzing of every input dals reads: small valid datasets
# (integer and string ids), a checkpoint, a model and a text dump, all made
# by the project's own tools, each damaged a few hundred times (byte flips,
# truncation, HDF5-level edits of shapes, types, attributes and declared
# sizes, JSON type and range edits, a FIFO, directory, device or nothing in
# place of a file) and handed to the tool that reads it: dals-inspect,
# dals-train, dals-train --resume, dals-partition. Each run must end within
# the time limit either with a nonzero exit and a clear error naming the
# damaged file (one line, for every tool but dals-inspect, which reports
# every problem it finds on a line of its own), or with exit 0 where the
# input may still be valid (a flip in HDF5 padding); never a signal, a hang,
# an "internal" error or an uncaught exception; and no file but the tool's
# own output may change (the damaged input included, and the good originals
# beside it).
#
# DALS_FUZZ_SEED (default 14) and DALS_FUZZ_COUNT (default 300) pick the
# mutations; the seed is printed, and a case is replayed with the same seed
# and count. Usage (as ctest runs it): bash fuzz_inputs.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
: "${DALS_CLI_TIMEOUT:=30}"  # a hang is judged after this many seconds
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_INSPECT=$(find_tool dals-inspect)
DALS_PARTITION=$(find_tool dals-partition)
DALS_GENERATE=$(find_tool dals-generate)
DALS_MUTATE=$(find_tool dals-test-fuzz-mutate)
require_tools DALS_TRAIN DALS_INSPECT DALS_PARTITION DALS_GENERATE DALS_MUTATE
require_commands mkfifo ln xargs head
# One process without mpirun is an MPI singleton; isolated, it starts no
# orted of its own (about a quarter second less per run, a few hundred runs).
export OMPI_MCA_ess_singleton_isolated=1

SEED=${DALS_FUZZ_SEED:-14}
COUNT=${DALS_FUZZ_COUNT:-300}
[[ "$SEED" =~ ^[0-9]+$ && "$COUNT" =~ ^[0-9]+$ ]] || { echo "FAIL: DALS_FUZZ_SEED and DALS_FUZZ_COUNT must be integers" >&2; exit 1; }
echo "fuzz_inputs: seed $SEED, $COUNT mutations (DALS_FUZZ_SEED=$SEED DALS_FUZZ_COUNT=$COUNT replays this run)"
RANDOM=$SEED  # bash's generator: every choice below follows from the seed

IN=$SCRATCH/in    # the good inputs, never handed to a tool that might write
WORK=$SCRATCH/w   # the damaged copy of the current case
OUT=$SCRATCH/out  # the current case's output
LOGS=$SCRATCH/logs
mkdir -p "$IN" "$LOGS"
TRAIN_OPTS=(--iterations 2 --factors 4 --threads 1 --quiet)

# ---------------------------------------------------------------- the good inputs

setup() {
  local what=$1
  shift
  if ! "$@" >"$LOGS/setup-$what.log" 2>&1; then
    echo "FAIL: cannot make the $what input:" >&2
    sed 's/^/    | /' "$LOGS/setup-$what.log" >&2
    exit 1
  fi
}
mkdir -p "$IN/text"
setup dataset "$DALS_GENERATE" --output "$IN/data" --users 50 --items 30 --ratings 500 --blocks 2 --seed 3 \
  --text-output "$IN/text/dump"
head -n 80 "$IN/text/dump-train.csv" >"$IN/text/ratings.csv"
rm -f "$IN/text/dump-"*
# String ids: id blocks of another layout (offsets and bytes) and an id index.
awk -F, 'NR == 1 { print; next } { printf "u%s,i%s,%s\n", $1, $2, $3 }' "$IN/text/ratings.csv" >"$SCRATCH/strings.csv"
setup strings "$DALS_PARTITION" --input "$SCRATCH/strings.csv" --header --output "$IN/strings" --blocks 2 \
  --memory-limit 64M --quiet
setup checkpoint "$DALS_TRAIN" --data "$IN/data" --output "$IN/model" "${TRAIN_OPTS[@]}" --checkpoint-dir "$IN/ckpt"
NEWEST=iter-000002
[[ -f "$IN/ckpt/$NEWEST/state.json" ]] || { echo "FAIL: the training run left no $NEWEST checkpoint" >&2; exit 1; }

# snapshot DIR: every entry's type, mode and size, and every regular file's
# sha256 (not a FIFO's: reading one would block).
snapshot() {
  (
    cd "$1" || exit 1
    find . -printf '%y %m %s %P\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  )
}
snapshot "$IN" >"$SCRATCH/in.snapshot"

# ---------------------------------------------------------------- mutations

# mutate FILE KIND: damages FILE (inside WORK) one seeded way for its kind
# (h5, json, csv, other); sets MUTATION (what was done) and EXPECT (fail: no
# reader may accept it; any: it may still be valid). False if the mutation
# found nothing to change.
mutate() {
  local file=$1 kind=$2 roll=$((RANDOM % 100)) seed=$((RANDOM * 32768 + RANDOM)) how out status=0
  if [[ -n "${FORCE_HOW:-}" ]]; then
    how=$FORCE_HOW seed=$FORCE_SEED
  else
    case "$kind" in
      h5) if ((roll < 30)); then how=flip; elif ((roll < 40)); then how=truncate; elif ((roll < 90)); then how=hdf5; else how=fs; fi ;;
      json) if ((roll < 15)); then how=flip; elif ((roll < 25)); then how=truncate; elif ((roll < 85)); then how=json; else how=fs; fi ;;
      csv) if ((roll < 60)); then how=text; elif ((roll < 80)); then how=flip; elif ((roll < 90)); then how=truncate; else how=fs; fi ;;
      *) if ((roll < 50)); then how=flip; elif ((roll < 70)); then how=truncate; else how=fs; fi ;;
    esac
  fi
  if [[ $how == fs ]]; then
    rm -f "$file"
    case $((seed % 5)) in
      0) mkfifo "$file"; MUTATION="a FIFO" ;;
      1) mkdir "$file"; MUTATION="a directory" ;;
      2) ln -s /dev/zero "$file"; MUTATION="a link to /dev/zero" ;;
      3) : >"$file"; MUTATION="an empty file" ;;
      4) MUTATION="removed" ;;
    esac
    EXPECT=fail
    return 0
  fi
  local args=("$how" "$file" "$seed")
  # state.json's checksum covers every field: half the edits recompute it,
  # so the typed reader behind it is reached too.
  [[ $how == json && $(basename "$file") == state.json ]] && ((seed % 2)) && args+=(resum)
  out=$("$DALS_MUTATE" "${args[@]}" 2>&1) || status=$?
  if ((status == 3)); then return 1; fi
  if ((status != 0)); then
    fail mutate "dals-test-fuzz-mutate ${args[*]}: $out"
    return 1
  fi
  MUTATION="$how $seed: ${out#expect=*: }"
  EXPECT=${out%%:*}
  EXPECT=${EXPECT#expect=}
  # A rating dump cut or edited anywhere may still be a valid dump.
  [[ $kind == csv ]] && EXPECT=any
  # What the file's own integrity checks cover must fail: state.json's
  # checksum (unless recomputed) and the manifest's fingerprint (all but the
  # provenance, the informational rating count and added keys).
  if [[ $how == json && $out != *"checksum recomputed"* && $out != *"sibling key added"* ]]; then
    case "$(basename "$file"):${out#expect=any: }" in
      state.json:*) EXPECT=fail ;;
      manifest.json:/provenance* | manifest.json:/ratings:*) ;;
      manifest.json:*) EXPECT=fail ;;
    esac
  fi
  return 0
}

# ---------------------------------------------------------------- judging

CASES=0 CLEAR=0 VALID=0 CRASHES=0 HANGS=0 UNCLEAR=0 ACCEPTED_BAD=0 SAMPLED_2=0

# verdict CASE WHAT: records one bad outcome of the current case.
verdict() {
  local case_name=$1 what=$2
  fail "$case_name" "$what [$MUTATION; $TOOL_LINE]"
  show_logs "$PREFIX"
}

# judge CASE NP NAMES...: classifies the run at PREFIX (NP ranks); a clear
# error must name one of NAMES (the damaged file's path as the tool sees it).
judge() {
  local case_name=$1 np=$2 r code all_zero=1 any_zero=0 text line lines
  shift 2
  CASES=$((CASES + 1))
  CLI_CHECKS=$((CLI_CHECKS + 1))
  if [[ -f "$PREFIX.timedout" ]]; then
    HANGS=$((HANGS + 1))
    verdict "$case_name" "hang: $(cat "$PREFIX.timedout")"
    return
  fi
  for ((r = 0; r < np; r++)); do
    code=$(rank_code "$PREFIX" "$r")
    if [[ $code == none ]] || ((code >= 128)); then
      CRASHES=$((CRASHES + 1))
      verdict "$case_name" "crash: rank $r exit $code"
      return
    fi
    if ((code == 0)); then any_zero=1; else all_zero=0; fi
  done
  text=$(all_stderr "$PREFIX")
  if grep -qiE 'internal|terminate called|what\(\)|Sanitizer|runtime error|Segmentation|Aborted|core dumped|bad_alloc' \
    <<<"$text"; then
    UNCLEAR=$((UNCLEAR + 1))
    verdict "$case_name" "unclear error: $(head -n 1 <<<"$text")"
    return
  fi
  if ((all_zero)); then
    if [[ $EXPECT == fail ]]; then
      ACCEPTED_BAD=$((ACCEPTED_BAD + 1))
      verdict "$case_name" "accepted an input that cannot be valid"
    elif [[ -n "${ACCEPT_CHECK:-}" ]] && ! "$DALS_INSPECT" --quiet "$ACCEPT_CHECK" >"$PREFIX.accept" 2>&1; then
      ACCEPTED_BAD=$((ACCEPTED_BAD + 1))
      verdict "$case_name" "exit 0 but its output fails dals-inspect: $(head -n 1 "$PREFIX.accept")"
    else
      VALID=$((VALID + 1))
    fi
    return
  fi
  if ((any_zero)); then
    UNCLEAR=$((UNCLEAR + 1))
    verdict "$case_name" "some ranks exited 0, others not"
    return
  fi
  lines=$(grep -c '' <<<"$text")
  line=$(grep -m 1 'error:' <<<"$text")
  local named=0 name
  for name in "$@"; do
    [[ $line == *"$name"* ]] && named=1
  done
  if [[ $TOOL == dals-inspect ]]; then
    # dals-inspect reports each problem on a line of its own, then counts
    # them: every line its own, and one error naming the file.
    if grep -qv '^dals-inspect: ' <<<"$text"; then
      named=0
    else
      for name in "$@"; do
        grep -qF -- "$name" <<<"$text" && named=1
      done
    fi
  elif ((lines != 1)); then
    named=0
  fi
  if ((named)); then
    CLEAR=$((CLEAR + 1))
  else
    UNCLEAR=$((UNCLEAR + 1))
    verdict "$case_name" "unclear error ($lines stderr line(s), expected one naming ${1:-the file}): $line"
  fi
}

# ---------------------------------------------------------------- one case

# fuzz_case I TARGET: one mutation of one file of a fresh copy of the target,
# handed to the tool that reads it.
fuzz_case() {
  local i=$1 target=$2 np=1 file rel kind files name
  rm -rf "$WORK" "$OUT" "$OUT.tmp"
  case "$target" in
    data | strings) cp -a "$IN/$target" "$WORK" ;;
    checkpoint) cp -a "$IN/ckpt" "$WORK" ;;
    model) cp -a "$IN/model" "$WORK" ;;
    text) mkdir -p "$WORK" && cp -a "$IN/text/ratings.csv" "$WORK/" ;;
  esac
  # Only the newest checkpoint is damaged; the older one beside it stays good.
  local root=$WORK
  [[ $target == checkpoint ]] && root=$WORK/$NEWEST
  mapfile -t files < <(cd "$root" && find . -type f -printf '%P\n' | LC_ALL=C sort)
  rel=${files[RANDOM % ${#files[@]}]}
  [[ -n "${FORCE_REL:-}" ]] && rel=$FORCE_REL
  file=$root/$rel
  case "$rel" in
    *.h5) kind=h5 ;;
    *.json) kind=json ;;
    *.csv) kind=csv ;;
    *) kind=other ;;
  esac
  mutate "$file" "$kind" || return 0
  # Files this tool does not read, or reads only for a marker, may hold anything.
  local reads=1
  TOOL_LINE="" ACCEPT_CHECK=""
  case "$target" in
    data | strings)
      if ((i % 10 == 5)); then
        TOOL=dals-train
        # (ids/ holds raw ids, for exports; test ratings are read by user only)
        [[ $rel == ids/* || $rel == test/by-item/* ]] && reads=0
      else
        TOOL=dals-inspect
      fi
      ;;
    checkpoint | model) TOOL=dals-train; [[ $rel == COMPLETE || $rel == metrics.jsonl ]] && reads=0 ;;
    text) TOOL=dals-partition ;;
  esac
  ((reads)) || EXPECT=any
  # A sample of the runs that use MPI at all runs on 2 ranks, under mpirun.
  [[ $TOOL != dals-inspect ]] && ((i % 25 == 13)) && np=2
  local cmd=()
  case "$target:$TOOL" in
    *:dals-inspect) cmd=("$DALS_INSPECT" --quiet "$WORK") ;;
    *:dals-train)
      cmd=("$DALS_TRAIN" --output "$OUT" "${TRAIN_OPTS[@]}")
      case "$target" in
        data | strings) cmd+=(--data "$WORK") ;;
        checkpoint) cmd+=(--data "$IN/data" --checkpoint-dir "$WORK" --resume "$WORK/$NEWEST") ;;
        model) cmd+=(--data "$IN/data" --resume "$WORK") ;;
      esac
      ;;
    text:dals-partition)
      cmd=("$DALS_PARTITION" --input "$file" --header --output "$OUT" --blocks 1 --memory-limit 64M --quiet)
      ACCEPT_CHECK=$OUT
      ;;
  esac
  TOOL_LINE="$TOOL on $np rank(s): ${cmd[*]:1}"
  local before=$SCRATCH/case.before t0=$EPOCHREALTIME
  snapshot "$WORK" >"$before"
  PREFIX=$LOGS/case
  if ((np == 1)); then
    run_one "$PREFIX" "${cmd[@]}"
  else
    SAMPLED_2=$((SAMPLED_2 + 1))
    run_ranks "$np" "$PREFIX" "${cmd[@]}"
  fi
  local case_name="case-$i-$target-${rel//\//_}"
  # The file as a message would name it: its path inside the copy.
  local names=("$rel" "$(basename "$root")/$rel")
  # dals-inspect may find a problem between the files of one folder (a raw id in two blocks).
  [[ $TOOL == dals-inspect && $rel == */* ]] && names+=("$WORK/$(dirname "$rel"):")
  judge "$case_name" "$np" "${names[@]}"
  if ! diff -q "$before" <(snapshot "$WORK") >/dev/null; then
    verdict "$case_name" "the run changed its input: $(diff "$before" <(snapshot "$WORK") | head -n 4 | tr '\n' ' ')"
  fi
  echo "case $i: $target/$rel: $MUTATION -> $TOOL np=$np exit $(rank_code "$PREFIX" 0) ($(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }') s)" >>"$LOGS/cases.log"
}

# replay I TARGET FILE HOW SEED: a case the fuzzing once failed (numbered from
# 9001), run first
# every time (what dals-test-fuzz-mutate does with a seed is fixed).
replay() {
  local i=$1 target=$2
  FORCE_REL=$3 FORCE_HOW=$4 FORCE_SEED=$5
  fuzz_case "$i" "$target"
  FORCE_REL="" FORCE_HOW="" FORCE_SEED=""
}
start=$SECONDS
# A flipped seed attribute of the id index: dals-inspect blamed the id blocks only.
replay 9001 strings ids/users/index.h5 flip 896475801
# factors_k removed from a checkpoint's factor block: the resume accepted it.
replay 9002 checkpoint items/block-00000.h5 hdf5 638152279

for ((i = 0; i < COUNT; i++)); do
  roll=$((RANDOM % 100))
  # Most cases go to dals-inspect (a few ms a run); a dals-train or
  # dals-partition run costs its MPI start (a few tenths of a second).
  if ((roll < 55)); then
    target=data
  elif ((roll < 67)); then
    target="strings"
  elif ((roll < 80)); then
    target=checkpoint
  elif ((roll < 90)); then
    target=model
  else
    target=text
  fi
  fuzz_case "$i" "$target"
  # The good inputs are read by some runs (the dataset of every resume): unchanged, always.
  if ((i % 50 == 49 || i == COUNT - 1)) && ! diff -q "$SCRATCH/in.snapshot" <(snapshot "$IN") >/dev/null; then
    fail good-inputs "the good inputs changed by case $i: $(diff "$SCRATCH/in.snapshot" <(snapshot "$IN") | head -n 4)"
    snapshot "$IN" >"$SCRATCH/in.snapshot"
  fi
done
rm -rf "$WORK" "$OUT" "$OUT.tmp"

echo "fuzz_inputs: seed $SEED: $CASES inputs tried ($SAMPLED_2 on 2 ranks) in $((SECONDS - start)) s:" \
  "$CLEAR clear errors, $VALID accepted as valid; $CRASHES crashes, $HANGS hangs, $UNCLEAR unclear errors," \
  "$ACCEPTED_BAD invalid inputs accepted (the case log: $LOGS/cases.log)"
check counts "no crash, hang, unclear error or invalid input accepted" \
  test $((CRASHES + HANGS + UNCLEAR + ACCEPTED_BAD)) = 0
check counts "some inputs were tried (got $CASES)" test "$CASES" -gt $((COUNT / 2))
cli_finish
