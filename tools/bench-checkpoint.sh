#!/usr/bin/env bash
# Checkpoint benchmark (printed figures, not a test): how long dals-train
# takes to write a checkpoint and to read one back when resuming, and the
# bandwidth that makes per rank, against plain sequential I/O to the same
# disk measured in the same run (dd with conv=fsync for writes, dd of a
# file not in the page cache for reads).
#
#   tools/bench-checkpoint.sh [--shapes "ml20m netflix"] [--factors 64]
#                             [--ranks 2] [--repeats 3] [--dir DIR]
#
# Shapes (users x items; blocks):
#   ml20m    MovieLens-20M: 138,493 x 26,744; 16 blocks
#   netflix  Netflix, 100M ratings: 480,189 x 17,770; 32 blocks
#   big      1,000,000 x 100,000; 64 blocks
# A checkpoint holds the factors, (m + n) x (k + 1) float32, so its cost
# depends on the shape and k, not on the ratings: the datasets are generated
# with 8 ratings per user (cached in DIR, default ./bench-data) and trained
# for 0 iterations, which writes one checkpoint (and the model). Each
# repeat is a fresh run into an empty checkpoint directory; reads are timed
# with `--resume` after dropping the page cache (root; otherwise the table
# says "cached" and the read figures are the page cache's).
# Set DALS_BUILD to use a build other than ./build (it must be built).
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
bad_usage() {
  printf 'bench-checkpoint.sh: error: %s (see --help)\n' "$*" >&2
  exit 2
}
shapes="ml20m netflix" factors=64 ranks=2 repeats=3 dir="$DALS_ROOT/bench-data"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --shapes | --factors | --ranks | --repeats | --dir)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      printf -v "${1#--}" '%s' "$2"
      shift 2
      ;;
    *) bad_usage "unknown argument '$1'" ;;
  esac
done
for s in $shapes; do case "$s" in ml20m | netflix | big) ;; *) bad_usage "unknown shape '$s'" ;; esac; done
for v in "$factors" "$ranks" "$repeats"; do [[ "$v" =~ ^[1-9][0-9]*$ ]] || bad_usage "'$v' is not a positive integer"; done

dals_setup_env
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1}
train=$DALS_BUILD/dals-train generate=$DALS_BUILD/dals-generate
[ -x "$train" ] && [ -x "$generate" ] || dals_die "build dals-train and dals-generate into $DALS_BUILD first"
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
work=$dir/ckpt-bench
rm -rf "$work"
mkdir -p "$work"

can_drop=0
if [ "$(id -u)" -eq 0 ] && sync && echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; then can_drop=1; fi
drop_caches() { sync; [ "$can_drop" -eq 0 ] || echo 3 >/proc/sys/vm/drop_caches; }

# median of the arguments
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# dd_write MB / dd_read: sequential write (conv=fsync) of an MB-sized file,
# then a read of it with the page cache dropped; each prints MB/s.
dd_mbps() { awk -v mb="$1" '{ for (i = 1; i <= NF; i++) if ($i == "s,") print mb * 1048576 / 1e6 / $(i - 1) }'; }
dd_write() { dd if=/dev/zero of="$work/dd.bin" bs=1M count="$1" conv=fsync 2>&1 | tail -n 1 | dd_mbps "$1"; }
dd_read() {
  drop_caches
  dd if="$work/dd.bin" of=/dev/null bs=1M 2>&1 | tail -n 1 | dd_mbps "$1"
  rm -f "$work/dd.bin"
}

dals_phase "checkpoint benchmark: k=$factors, $ranks ranks, $repeats repeats, in $dir ($(df -h "$dir" | awk 'NR == 2 { print $1 }'))"
uptime
rows=()
for shape in $shapes; do
  case $shape in
    ml20m) users=138493 items=26744 blocks=16 ;;
    netflix) users=480189 items=17770 blocks=32 ;;
    big) users=1000000 items=100000 blocks=64 ;;
  esac
  data=$dir/ckpt-data-${users}x${items}-b$blocks
  if [ ! -f "$data/manifest.json" ]; then
    dals_phase "generate $shape: $users x $items, $((users * 8)) ratings, $blocks blocks"
    dals_mpirun -n "$ranks" "$generate" --users "$users" --items "$items" --ratings $((users * 8)) \
      --blocks "$blocks" --test-fraction 0 --seed 1 --output "$data" --force >/dev/null
  fi
  writes=() reads=() dd_writes=() dd_reads=() mb=0
  # Each repeat times dd and dals-train back to back, so that both see the
  # same load on a shared machine.
  for ((rep = 1; rep <= repeats; rep++)); do
    ckpt=$work/$shape-$rep
    drop_caches
    log=$(dals_mpirun -n "$ranks" "$train" --data "$data" --output "$work/model" --force -k "$factors" \
      --iterations 0 --checkpoint-dir "$ckpt" --threads 1)
    line=$(grep "^checkpoint $ckpt/iter-000000:" <<<"$log") || dals_die "no checkpoint line in: $log"
    mb=$(awk '{ print $3 }' <<<"$line")
    writes+=("$(awk '{ sub(/s$/, "", $6); print $6 }' <<<"$line")")
    dd_mb=$(awk -v mb="$mb" 'BEGIN { printf "%d", mb * 1e6 / 1048576 + 1 }')
    dd_writes+=("$(dd_write "$dd_mb")")
    dd_reads+=("$(dd_read "$dd_mb")")
    drop_caches
    log=$(dals_mpirun -n "$ranks" "$train" --data "$data" --output "$work/model" --force -k "$factors" \
      --iterations 0 --resume "$ckpt/iter-000000" --threads 1)
    line=$(grep '^resumed from' <<<"$log") || dals_die "no resume line in: $log"
    reads+=("$(awk '{ sub(/s$/, "", $NF); print $NF }' <<<"$line")")
    rm -rf "$ckpt"
  done
  dd_write=$(median "${dd_writes[@]}") dd_read=$(median "${dd_reads[@]}")
  w=$(median "${writes[@]}") r=$(median "${reads[@]}")
  rows+=("$(awk -v s="$shape" -v u="$users" -v i="$items" -v b="$blocks" -v mb="$mb" -v w="$w" -v r="$r" \
    -v p="$ranks" -v dw="$dd_write" -v dr="$dd_read" -v cached=$((1 - can_drop)) 'BEGIN {
      wr = mb / w; rr = mb / r
      printf "| %s | %d x %d | %d | %.1f | %.3f | %.0f | %.0f | %.0f | %.0f%% | %.3f | %.0f | %.0f | %.0f%%%s |\n",
        s, u, i, b, mb, w, wr, wr / p, dw, 100 * wr / dw, r, rr / p, dr, 100 * rr / dr, cached ? " (cached)" : ""
    }')")
done

dals_phase "results (median of $repeats; MB = 10^6 bytes; per rank = aggregate / $ranks)"
echo "| shape | users x items | B | checkpoint MB | write s | write MB/s | per rank | dd write MB/s | of dd | read s | read MB/s per rank | dd read MB/s | of dd |"
echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
rm -rf "$work"
uptime
