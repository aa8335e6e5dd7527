#!/usr/bin/env bash
# dals-export end to end: an explicit, an implicit, a sparse (users without
# training ratings) and a string-id model exported as HDF5, .npz and TSV
# and read back in Python (export_check.py, h5py and numpy): the arrays equal
# the model's factor blocks bit for bit, untrained rows are zero and flagged
# (left out of TSV), raw ids (integer, string, non-ASCII) round-trip, an .npz
# with zip64 records loads the same, and the top-K computed in numpy from
# item_factors_ip and [u, 1] is dals-recommend's output line for line (also
# with exact ties, broken by the lower dense id). The
# same file at P = 1 and 3; `dals export` runs it. --parts (each rank its
# blocks, model.h5 virtual over them) reads back as the same arrays. A missing or damaged
# model, a model of another dataset, an output that exists (without --force,
# or not a dals-export output) and bad flags are refused with one line.
#
# Usage (as ctest runs it): bash export.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_EXPORT=$(find_tool dals-export)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_PARTITION=$(find_tool dals-partition)
DALS_CLI=$(find_tool dals)
DALS_COUNTS=$(find_tool dals-test-model-counts)
require_tools DALS_TRAIN DALS_GENERATE DALS_PARTITION DALS_EXPORT DALS_RECOMMEND DALS_CLI DALS_COUNTS
# Debian's python3-h5py and python3-numpy serve /usr/bin/python3 (a python3
# earlier in PATH, such as pyenv's, may lack them).
PYTHON=${DALS_PYTHON:-/usr/bin/python3}
require_commands "$PYTHON"
if ! "$PYTHON" -c 'import h5py, numpy' 2>/dev/null; then
  echo "FAIL: export.sh: $PYTHON cannot import h5py and numpy (tools/install-deps.sh installs python3-h5py python3-numpy)" >&2
  exit 1
fi
CHECK=$(dirname "${BASH_SOURCE[0]}")/export_check.py

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"

# refused CASE NP SUBSTRING... -- ARGS...: DALS_EXPORT must fail with one error line.
refused() { refused_run "$DALS_EXPORT" "$@"; }

# py CASE ARGS...: export_check.py, its lines shown, its status the check's.
py() {
  local case_name=$1
  shift
  "$PYTHON" "$CHECK" "$@" >"$LOGS/$case_name.py" 2>&1
  local status=$?
  sed 's/^/    /' "$LOGS/$case_name.py"
  check "$case_name" "export_check.py: the export read back in Python is the model" test "$status" = 0
}

# export_all NAME MODEL DATA: the three formats, and dals-recommend's top-5.
export_all() {
  local name=$1 model=$2 data=$3 format
  for format in hdf5 npz tsv; do
    run "$name-$format" 1 "$DALS_EXPORT" --model "$model" --data "$data" --output "$SCRATCH/$name-$format" \
      --format "$format"
  done
  run "$name-recommend" 1 "$DALS_RECOMMEND" --model "$model" --data "$data" --output "$SCRATCH/$name-rec" --k 5 \
    --min-item-ratings 0  # every trained item, as numpy ranks them
}

DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 6000 --blocks 3 --seed 5 --round --output "$DATA"
run train-explicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/explicit" -k 6 --iterations 3 --threads 1 --quiet
run train-implicit 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/implicit" -k 6 --iterations 3 --threads 1 \
  --quiet --implicit

export_all explicit "$SCRATCH/explicit" "$DATA"
DALS_TEST_NPZ_ZIP64_FROM=0 run explicit-zip64 1 "$DALS_EXPORT" --model "$SCRATCH/explicit" --data "$DATA" \
  --output "$SCRATCH/explicit-zip64" --format npz
py explicit-check --model "$SCRATCH/explicit" --data "$DATA" --h5 "$SCRATCH/explicit-hdf5/model.h5" \
  --npz "$SCRATCH/explicit-npz/model.npz" --npz-same "$SCRATCH/explicit-zip64/model.npz" \
  --tsv "$SCRATCH/explicit-tsv" --recommend "$SCRATCH/explicit-rec" --k 5
check explicit-hdf5 "export.json names its format" \
  grep -q '"format": "dals-export"' "$SCRATCH/explicit-hdf5/export.json"
check explicit-hdf5 "items without training ratings are counted" \
  grep -q '"items_trained": 1[0-9][0-9],' "$SCRATCH/explicit-hdf5/export.json"

# Rank 0 writes: the same bytes at P = 3, through the front end too.
run explicit-np3 3 "$DALS_CLI" export --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/np3" \
  --format hdf5
check explicit-np3 "dals export at P = 3: the same model.h5 bytes" \
  cmp -s "$SCRATCH/np3/model.h5" "$SCRATCH/explicit-hdf5/model.h5"
run explicit-np3-npz 3 "$DALS_EXPORT" --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/np3-npz" \
  --format npz
check explicit-np3-npz "the same model.npz bytes" cmp -s "$SCRATCH/np3-npz/model.npz" "$SCRATCH/explicit-npz/model.npz"

# --parts: every rank its own blocks, model.h5 virtual over them: the same
# arrays as the one file, the same part bytes at P = 1 and 3, readable
# after the directory moves (the parts are found relative to model.h5).
run explicit-parts1 1 "$DALS_EXPORT" --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/parts1" --parts
run explicit-parts3 3 "$DALS_EXPORT" --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/parts3" --parts
check explicit-parts3 "one part per block and side (3 + 3)" test "$(find "$SCRATCH/parts3/parts" -name '*.h5' | wc -l)" = 6
check explicit-parts3 "the same part files at P = 1 and 3" diff -r "$SCRATCH/parts1" "$SCRATCH/parts3"
check explicit-parts3 "export.json says how it is laid out" grep -q '"layout": "virtual over parts"' "$SCRATCH/parts3/export.json"
mv "$SCRATCH/parts3" "$SCRATCH/parts3-moved"
py explicit-parts-check --model "$SCRATCH/explicit" --data "$DATA" --h5 "$SCRATCH/explicit-hdf5/model.h5" \
  --h5-same "$SCRATCH/parts3-moved/model.h5"
py explicit-parts-direct --model "$SCRATCH/explicit" --data "$DATA" --h5 "$SCRATCH/parts3-moved/model.h5" \
  --recommend "$SCRATCH/explicit-rec" --k 5

export_all implicit "$SCRATCH/implicit" "$DATA"
py implicit-check --model "$SCRATCH/implicit" --data "$DATA" --h5 "$SCRATCH/implicit-hdf5/model.h5" \
  --npz "$SCRATCH/implicit-npz/model.npz" --tsv "$SCRATCH/implicit-tsv" --recommend "$SCRATCH/implicit-rec" --k 5
check implicit-hdf5 "an implicit model scores by u . v alone" \
  grep -q '"score": "u . v"' "$SCRATCH/implicit-hdf5/export.json"

# Users without training ratings (all of theirs held out): zero and flagged.
SPARSE=$SCRATCH/sparse
run generate-sparse 1 "$DALS_GENERATE" --users 300 --items 200 --ratings 3000 --blocks 3 --seed 5 --round \
  --min-degree 1 --user-skew 2 --test-fraction 0.5 --output "$SPARSE"
run train-sparse 1 "$DALS_TRAIN" --data "$SPARSE" --output "$SCRATCH/sparse-model" -k 4 --iterations 2 --threads 1 \
  --quiet
export_all sparse "$SCRATCH/sparse-model" "$SPARSE"
check sparse-hdf5 "some users are untrained" \
  bash -c '! grep -q "\"users_trained\": 300," "$1"' _ "$SCRATCH/sparse-hdf5/export.json"
py sparse-check --model "$SCRATCH/sparse-model" --data "$SPARSE" --h5 "$SCRATCH/sparse-hdf5/model.h5" \
  --npz "$SCRATCH/sparse-npz/model.npz" --tsv "$SCRATCH/sparse-tsv" --recommend "$SCRATCH/sparse-rec" --k 5

# String raw ids (dals-partition's string id maps), one of them not ASCII.
make_ratings_csv "$SCRATCH/ints.csv" 60 40
awk -F , 'NR == 1 { print; next } { u = $1 == 1002 ? "usér-ß" : "user-" $1; print u ",item " $2 "," $3 }' \
  "$SCRATCH/ints.csv" >"$SCRATCH/names.csv"
NAMES=$SCRATCH/names
run partition-names 1 "$DALS_PARTITION" --input "$SCRATCH/names.csv" --header --blocks 2 --output "$NAMES" --quiet
run train-names 1 "$DALS_TRAIN" --data "$NAMES" --output "$SCRATCH/names-model" -k 4 --iterations 2 --threads 1 --quiet
export_all names "$SCRATCH/names-model" "$NAMES"
py names-check --model "$SCRATCH/names-model" --data "$NAMES" --h5 "$SCRATCH/names-hdf5/model.h5" \
  --npz "$SCRATCH/names-npz/model.npz" --tsv "$SCRATCH/names-tsv" --recommend "$SCRATCH/names-rec" --k 5 \
  --expect-string-ids
run names-parts 2 "$DALS_EXPORT" --model "$SCRATCH/names-model" --data "$NAMES" --output "$SCRATCH/names-parts" --parts
py names-parts-check --model "$SCRATCH/names-model" --data "$NAMES" --h5 "$SCRATCH/names-hdf5/model.h5" \
  --h5-same "$SCRATCH/names-parts/model.h5" --expect-string-ids
check names-tsv "the raw strings in users.tsv" grep -q "^usér-ß"$'\t' "$SCRATCH/names-tsv/users.tsv"
check names-npz "the raw strings in model.npz" "$PYTHON" -c \
  'import numpy, sys; z = numpy.load(sys.argv[1]); sys.exit("usér-ß" not in set(z["user_ids"]))' \
  "$SCRATCH/names-npz/model.npz"

# Ties: item 9999 has item 501's ratings, so (Cholesky solves the same
# system for both) the same factors; full lists (K above n) rank every pair,
# the lower dense id first in dals-recommend and in numpy alike.
awk -F , 'NR == 1 { print; next } { print } $2 == 501 { print $1 ",9999," $3 }' "$SCRATCH/ints.csv" \
  >"$SCRATCH/ties.csv"
TIES=$SCRATCH/ties
run partition-ties 1 "$DALS_PARTITION" --input "$SCRATCH/ties.csv" --header --blocks 2 --output "$TIES" --quiet
run train-ties 1 "$DALS_TRAIN" --data "$TIES" --output "$SCRATCH/ties-model" -k 4 --iterations 2 --threads 1 --quiet
run ties-hdf5 1 "$DALS_EXPORT" --model "$SCRATCH/ties-model" --data "$TIES" --output "$SCRATCH/ties-hdf5"
run ties-recommend 1 "$DALS_RECOMMEND" --model "$SCRATCH/ties-model" --data "$TIES" --output "$SCRATCH/ties-rec" --min-item-ratings 0 \
  --k 50
py ties-check --model "$SCRATCH/ties-model" --data "$TIES" --h5 "$SCRATCH/ties-hdf5/model.h5" \
  --recommend "$SCRATCH/ties-rec" --k 50 --expect-ties

# Refusals: nothing published, one line, nonzero on every rank.
refused no-model-dir 2 "$SCRATCH/none" "no such model directory" -- --model "$SCRATCH/none" --data "$DATA" \
  --output "$SCRATCH/x"
refused not-a-model 1 "not a complete model" -- --model "$DATA" --data "$DATA" --output "$SCRATCH/x"
refused other-dataset 2 "fingerprint" "another dataset" -- --model "$SCRATCH/explicit" --data "$SPARSE" \
  --output "$SCRATCH/x"
cp -r "$SCRATCH/explicit" "$SCRATCH/damaged"
truncate -s 200 "$SCRATCH/damaged/items/block-00001.h5"
refused damaged-model 2 "damaged/items/block-00001.h5" -- --model "$SCRATCH/damaged" --data "$DATA" \
  --output "$SCRATCH/x"
refused damaged-parts 2 "damaged/items/block-00001.h5" -- --model "$SCRATCH/damaged" --data "$DATA" \
  --output "$SCRATCH/x" --parts
refused other-dataset-parts 2 "fingerprint" -- --model "$SCRATCH/explicit" --data "$SPARSE" --output "$SCRATCH/x" \
  --parts
cp -r "$SCRATCH/explicit" "$SCRATCH/uncounted"
run strip-counts 1 "$DALS_COUNTS" --strip "$SCRATCH/uncounted"
refused uncounted-parts 2 "no training_ratings" "without --parts" -- --model "$SCRATCH/uncounted" --data "$DATA" \
  --output "$SCRATCH/x" --parts
refused exists 2 "already exists" "--force" -- --model "$SCRATCH/explicit" --data "$DATA" \
  --output "$SCRATCH/implicit-hdf5"
check exists "the earlier output is untouched" grep -q '"score": "u . v"' "$SCRATCH/implicit-hdf5/export.json"
mkdir -p "$SCRATCH/precious" && echo keep >"$SCRATCH/precious/notes.txt"
refused force-foreign 1 "export.json" -- --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/precious" \
  --force
check force-foreign "the directory is untouched" test -f "$SCRATCH/precious/notes.txt"
refused force-model 1 "export.json" -- --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/implicit" \
  --force
run force-own 2 "$DALS_EXPORT" --model "$SCRATCH/explicit" --data "$DATA" --output "$SCRATCH/implicit-hdf5" --force
check force-own "an earlier dals-export output is replaced" \
  cmp -s "$SCRATCH/implicit-hdf5/model.h5" "$SCRATCH/explicit-hdf5/model.h5"
EXPECT_EXIT_CODE=2 refused bad-format 2 "--format must be hdf5, npz or tsv" -- --model "$SCRATCH/explicit" \
  --data "$DATA" --output "$SCRATCH/x" --format parquet
EXPECT_EXIT_CODE=2 refused parts-npz 2 "--parts needs --format hdf5" -- --model "$SCRATCH/explicit" \
  --data "$DATA" --output "$SCRATCH/x" --format npz --parts
EXPECT_EXIT_CODE=2 refused no-data 1 "--data is required" -- --model "$SCRATCH/explicit" --output "$SCRATCH/x"
EXPECT_EXIT_CODE=2 refused no-model 1 "--model is required" -- --data "$DATA" --output "$SCRATCH/x"
check refusals "nothing published by any refused run, no staging left" test ! -e "$SCRATCH/x" -a ! -e "$SCRATCH/x.tmp"

"$DALS_CLI" export --help >"$LOGS/help.out" 2>&1
check front-end "dals export --help shows the usage" grep -q "dals-export --model DIR --data DIR" "$LOGS/help.out"

cli_finish
