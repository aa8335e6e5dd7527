#!/usr/bin/env bash
# dals-recommend throughput benchmark (printed figures, not a test): the
# top-K of every user of a MovieLens-20M-shaped model, the whole job
# (loading, scoring, selection, writing the lists), as users per second,
# against the time the same m x n scores take as one sgemm at the rate
# OpenBLAS reaches on the same cores, measured in the same run, back to
# back with each repeat (issue 17's goal: within 1.5x of that time).
#
#   tools/bench-recommend.sh [--users 138000] [--items 27000] [--ratings 20000000]
#                            [--factors 64] [--k 10] [--layouts "2x1 1x2"]
#                            [--repeats 3] [--dir DIR]
#
# The dataset (dals-generate, 16 blocks) and the model (1 iteration of
# --solver cg: the factors' values do not change the cost) are cached in DIR
# (default ./bench-data). A layout RxT runs R ranks of T threads; the sgemm
# runs on R x T OpenBLAS threads: C[2048 x n] = U V^T over k, its rate
# scaled to the m x n x k scores (one sgemm of all m x n floats would need
# m n 4 bytes, 15 GB at this shape). Set DALS_BUILD to use a build other
# than ./build (dals-generate, dals-train, dals-recommend and
# tests/dals-bench-ranking must be built).
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,/^set /p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'; }
bad_usage() {
  printf 'bench-recommend.sh: error: %s (see --help)\n' "$*" >&2
  exit 2
}
users=138000 items=27000 ratings=20000000 factors=64 k=10 layouts="2x1 1x2" repeats=3 dir="$DALS_ROOT/bench-data"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --users | --items | --ratings | --factors | --k | --layouts | --repeats | --dir)
      [ $# -ge 2 ] || bad_usage "$1 needs a value"
      printf -v "${1#--}" '%s' "$2"
      shift 2
      ;;
    *) bad_usage "unknown argument '$1'" ;;
  esac
done
for v in "$users" "$items" "$ratings" "$factors" "$k" "$repeats"; do
  [[ "$v" =~ ^[1-9][0-9]*$ ]] || bad_usage "'$v' is not a positive integer"
done
for l in $layouts; do [[ "$l" =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || bad_usage "layout '$l' is not RANKSxTHREADS"; done

dals_setup_env
generate=$DALS_BUILD/dals-generate train=$DALS_BUILD/dals-train recommend=$DALS_BUILD/dals-recommend
bench=$DALS_BUILD/tests/dals-bench-ranking
for t in "$generate" "$train" "$recommend" "$bench"; do [ -x "$t" ] || dals_die "build $(basename "$t") into $DALS_BUILD first"; done
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
data=$dir/recommend-${users}x${items}-r$ratings
model=$data-model-k$factors
out=$dir/recommend-out

if [ ! -f "$data/manifest.json" ]; then
  dals_phase "generate: $users x $items, $ratings ratings, 16 blocks"
  dals_mpirun -n 2 "$generate" --users "$users" --items "$items" --ratings "$ratings" --blocks 16 --test-fraction 0 \
    --seed 1 --output "$data" --force >/dev/null
fi
if [ ! -f "$model/COMPLETE" ]; then
  dals_phase "train: 1 iteration, k = $factors"
  dals_mpirun -n 2 "$train" --data "$data" --output "$model" --force -k "$factors" --iterations 1 --solver cg \
    --threads 1 --quiet >/dev/null
fi

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
now() { date +%s.%N; }

dals_phase "recommend benchmark: top-$k of $users users x $items items, k = $factors, $repeats repeats"
uptime
rows=()
for layout in $layouts; do
  ranks=${layout%x*} threads=${layout#*x}
  walls=() rates=()
  for ((rep = 1; rep <= repeats; rep++)); do
    rates+=("$(OMP_NUM_THREADS=$((ranks * threads)) "$bench" --sgemm 2048 "$items" "$factors" |
      sed 's/.*"sgemm_gflops": \([0-9.]*\).*/\1/')")
    t0=$(now)
    OMP_NUM_THREADS=$threads dals_mpirun -n "$ranks" "$recommend" --model "$model" --data "$data" --output "$out" \
      --k "$k" --threads "$threads" --force --quiet
    walls+=("$(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }')")
  done
  listed=$(sed -n 's/.*"users_listed": \([0-9]*\).*/\1/p' "$out/recommendations.json")
  wall=$(median "${walls[@]}") rate=$(median "${rates[@]}")
  rows+=("$(awk -v l="$layout" -v u="$listed" -v w="$wall" -v r="$rate" -v m="$users" -v n="$items" -v f="$factors" \
    'BEGIN { s = 2 * m * n * f / (r * 1e9); printf "| %s | %d | %.2f | %.0f | %.1f | %.2f | %.2f |\n", l, u, w, u / w, r, s, w / s }')")
done

dals_phase "results (medians of $repeats; wall: the whole mpirun, loading and writing included)"
echo "| ranks x threads | users listed | wall s | users / s | sgemm GFLOP/s | m x n x k as sgemm, s | wall / sgemm |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
printf '%s\n' "${rows[@]}"
rm -rf "$out"
