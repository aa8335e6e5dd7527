#!/usr/bin/env bash
# The first thing to run on a fresh machine: installs what is missing, builds
# dals, generates a small synthetic dataset with a planted low-rank model and
# trains it on 2 MPI ranks, printing the RMSE of every iteration.
#
#   tools/demo.sh        (as root on Debian 12, or as a user with sudo)
#
# Output in ./demo-out: data/ (the dataset, generated once; delete it to
# regenerate), model/ (replaced on every run) and curves.png (its training
# and test RMSE and seconds per iteration, tools/plot-metrics.py).
set -euo pipefail
# shellcheck source=tools/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$DALS_ROOT"

dals_setup_env
dals_install_deps
# Every tool and the `dals` front end, so that the README's next steps (dals-partition, dals-inspect) work too.
dals_build dals-cli dals-generate dals-train dals-partition dals-inspect dals-import

out="$DALS_ROOT/demo-out"
data="$out/data"
model="$out/model"

if [ -f "$data/manifest.json" ]; then
  dals_phase "dataset: reusing $data (delete it to regenerate)"
else
  dals_phase "dataset: 20,000 users x 5,000 items, ~1,000,000 ratings (10% held out), 8 blocks"
  mkdir -p "$out"
  dals_mpirun -n 2 "$DALS_BUILD/dals-generate" --users 20000 --items 5000 --ratings 1000000 \
    --true-rank 8 --noise 0.5 --round --test-fraction 0.1 --blocks 8 --seed 1 --output "$data" --force
fi

dals_phase "train: mpirun -n 2 dals-train (2 ranks x 1 thread, k=64, 10 iterations)"
export OMP_NUM_THREADS=1
dals_mpirun -n 2 "$DALS_BUILD/dals-train" --data "$data" --output "$model" \
  --threads 1 --iterations 10 --force

dals_phase "model written to $model"
for entry in state.json metrics.jsonl COMPLETE users items; do
  case "$entry" in
    state.json)    what="iteration, hyper-parameters, dataset fingerprint, metrics" ;;
    metrics.jsonl) what="one JSON line per iteration (RMSE, objective, seconds, GFLOP/s)" ;;
    COMPLETE)      what="written last: the model is whole" ;;
    users|items)   what="$(find "$model/$entry" -name 'block-*.h5' | wc -l) block files, datasets factors (rows x k float32) and biases" ;;
  esac
  if [ -d "$model/$entry" ]; then
    printf '  %-15s %s\n' "$entry/" "$what"
  elif [ -e "$model/$entry" ]; then
    printf '  %-15s %s\n' "$entry" "$what"
  else
    printf '  %-15s MISSING\n' "$entry"
  fi
done

# The convergence curve (tools/plot-metrics.py, on Debian's python3-matplotlib,
# which tools/install-deps.sh installs; its /usr/bin/python3 is the one that has it).
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  dals_phase "curves: tools/plot-metrics.py draws $model/metrics.jsonl"
  /usr/bin/python3 tools/plot-metrics.py --output "$out/curves.png" --title "dals demo: 20,000 x 5,000, k=64" \
    "$model=demo (2 ranks)"
else
  echo "No curve drawn: python3-matplotlib is missing (apt-get install python3-matplotlib, or tools/install-deps.sh)."
fi
echo
echo "Next: tools/test.sh runs the test suite; README.md explains the options and file formats."
