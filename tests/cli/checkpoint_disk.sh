#!/usr/bin/env bash
# Disk trouble: checkpointing into a read-only file system, or into one that
# fills up during the write (a small tmpfs), fails with one error line naming
# the file, a nonzero exit on every rank and no hang; the checkpoints already
# there stay byte-identical and a later run resumes from them.
#
# Needs mount (root or CAP_SYS_ADMIN) for the tmpfs. Without it the
# read-only case falls back to chmod (which root would ignore), the full
# disk case cannot run, and the script exits 77 (ctest: skipped), saying so.
#
# Usage (as ctest runs it): bash checkpoint_disk.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/checkpoint_helpers.bash"
ckpt_init "$@"

DATA=$SCRATCH/data
LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
make_synth "$DATA" 900 500 40000 4
OPTS=(--data "$DATA" -k 10 --seed 3 --threads 1 --quiet)
GOOD=$SCRATCH/good  # iterations 5 and 6

MOUNTS=()
unmount_all() {
  local m
  for m in "${MOUNTS[@]}"; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
trap unmount_all EXIT

# tmpfs DIR SIZE: mounts a tmpfs of SIZE at DIR; false if mounting is impossible.
tmpfs() {
  mkdir -p "$1"
  mount -t tmpfs -o "size=$2" tmpfs "$1" 2>"$LOGS/mount.err" || return 1
  MOUNTS+=("$1")
}

run_ranks 1 "$LOGS/reference" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/ref8"
expect_success reference "$LOGS/reference"
run_ranks 2 "$LOGS/setup" "$DALS_TRAIN" "${OPTS[@]}" --iterations 6 --output "$SCRATCH/m6" --checkpoint-dir "$GOOD"
expect_success setup "$LOGS/setup"

# fails_safely CASE CKPT SUBSTRING...: resuming from CKPT and checkpointing
# into it fails cleanly naming each SUBSTRING; CKPT is unchanged and no
# model is published.
fails_safely() {
  local case_name=$1 ckpt=$2
  shift 2
  local listing=$SCRATCH/$case_name.listing
  tree_listing "$ckpt" | grep -v ' ./filler$' >"$listing"
  run_ranks 2 "$LOGS/$case_name" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 --output "$SCRATCH/$case_name.model" \
    --checkpoint-dir "$ckpt" --resume auto
  EXPECT_EXIT_CODE=1 expect_failure "$case_name" "$LOGS/$case_name" "$@"
  CLI_CHECKS=$((CLI_CHECKS + 1))
  if diff -q "$listing" <(tree_listing "$ckpt" | grep -v ' ./filler$') >/dev/null; then
    pass "$case_name" "the checkpoints in $ckpt are byte-identical to before (nothing half-written left)"
  else
    fail "$case_name" "$ckpt changed: $(diff "$listing" <(tree_listing "$ckpt" | grep -v ' ./filler$') | head -5)"
  fi
  check "$case_name" "no model published" test ! -e "$SCRATCH/$case_name.model" -a ! -e "$SCRATCH/$case_name.model.tmp"
}

# resumes_after CASE CKPT: once the trouble is gone, the old checkpoints resume.
resumes_after() {
  local case_name=$1 ckpt=$2
  run_ranks 2 "$LOGS/$case_name.after" "$DALS_TRAIN" "${OPTS[@]}" --iterations 8 \
    --output "$SCRATCH/$case_name.after" --checkpoint-dir "$ckpt" --resume auto
  expect_success "$case_name" "$LOGS/$case_name.after" &&
    identical_models "$case_name" "$SCRATCH/ref8" "$SCRATCH/$case_name.after"
}

SKIPPED=""

# ---------------------------------------------------------------- read-only
case_name=read-only
RO=$SCRATCH/ro
if tmpfs "$RO" 4m; then
  cp -a "$GOOD/." "$RO/"
  if mount -o remount,ro "$RO" 2>>"$LOGS/mount.err"; then
    fails_safely $case_name "$RO" "$RO/iter-000007.tmp" "Read-only file system"
    mount -o remount,rw "$RO" && resumes_after $case_name "$RO"
  else
    fail $case_name "cannot remount $RO read-only: $(cat "$LOGS/mount.err")"
  fi
elif [[ $(id -u) != 0 ]]; then
  fresh_copy "$GOOD" "$RO"
  chmod -R a-w "$RO"
  fails_safely $case_name "$RO" "$RO/iter-000007.tmp" "Permission denied"
  chmod -R u+w "$RO"
else
  SKIPPED+=" read-only"
fi

# ---------------------------------------------------------------- full
# A 1 MiB tmpfs holding the two checkpoints, filled up but for 32 KiB: the
# next checkpoint (about 90 kB) runs out of space while its blocks are written.
case_name=disk-full
FULL=$SCRATCH/full
if tmpfs "$FULL" 1m; then
  cp -a "$GOOD/." "$FULL/"
  dd if=/dev/zero of="$FULL/filler" bs=4k 2>/dev/null
  truncate -s -32k "$FULL/filler"
  fails_safely $case_name "$FULL" "$FULL/iter-000007.tmp/" "No space left on device"
  check $case_name "the partial checkpoint was removed (its space given back)" test ! -e "$FULL/iter-000007.tmp"
  rm -f "$FULL/filler"
  resumes_after $case_name "$FULL"
else
  SKIPPED+=" disk-full"
fi

if [[ -n "$SKIPPED" ]]; then
  echo "SKIPPED:$SKIPPED: cannot mount a tmpfs here ($(cat "$LOGS/mount.err")); run as root (or with CAP_SYS_ADMIN)" >&2
  if ((CLI_FAILURES == 0)); then
    unmount_all
    exit 77
  fi
fi
cli_finish
