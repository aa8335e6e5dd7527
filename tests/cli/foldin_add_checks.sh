#!/usr/bin/env bash
# Users added to a model by dals-recommend --update-model (cli/foldin_add.sh
# tests the main readers and string ids; the shared model: cli/foldin_add_helpers.bash):
#  - dals-eval --test-file: an added user's entries are not cold.
#  - dals-train --resume from an updated model warns that they are ignored.
#  - A damaged, missing, truncated, swapped or stray added_users.h5 is
#    refused with one error line naming it, on every rank (a stray one by
#    every reader); so is a non-integer new user of an integer dataset.
#
# Usage (as ctest runs it): bash foldin_add_checks.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
# shellcheck source-path=SCRIPTDIR source=foldin_add_helpers.bash
source "$(dirname "${BASH_SOURCE[0]}")/foldin_add_helpers.bash"

# dals-eval --test-file: the added user is known, the stranger cold.
{
  echo "900001,${items[8]},4"
  echo "777777,${items[8]},4"
} >"$SCRATCH/test.csv"
run eval 2 "$DALS_EVAL" --model "$U1" --data "$DATA" --test-file "$SCRATCH/test.csv" --output "$SCRATCH/eval.json" \
  --quiet
check eval "one cold user, not two" test "$(json_field "$SCRATCH/eval.json" '.cold_start.users')" = 1

# --resume from an updated model: a warning, the dataset's users trained.
run resume 1 "$DALS_TRAIN" --data "$DATA" --output "$SCRATCH/resumed" -k 5 --iterations 4 --threads 1 --quiet \
  --resume "$U1"
check resume "warns that the added users are ignored" grep -q "2 users added by fold-in" "$LOGS/resume.rank0.err"


# A model of 3 added users (U1 and one more), for the refusals below.
printf '900004,%s,3\n' "${items[7]}" >"$SCRATCH/f2.csv"
U2=$SCRATCH/updated2
run update2 1 "$DALS_RECOMMEND" --model "$U1" --data "$DATA" --fold-in "$SCRATCH/f2.csv" \
  --output "$SCRATCH/f2-lists" --update-model "$U2"

# Damage: every rank refuses, naming the file; nothing published.
damaged() {
  rm -rf "$SCRATCH/bad"
  cp -r "$U1" "$SCRATCH/bad"
  "$PYTHON" - "$SCRATCH/bad/added_users.h5" "$1" <<'EOF'
import os, sys
import h5py
path, how = sys.argv[1:]
if how == "missing":
    os.remove(path)
elif how == "flip":
    with h5py.File(path, "r+") as f:
        f["factors"][0, 0] = f["factors"][0, 0] + 1  # the array's checksum attribute no longer matches
elif how == "short":
    with h5py.File(path, "r+") as f:
        attrs = dict(f["biases"].attrs)
        short = f["biases"][:-1]
        del f["biases"]
        f["biases"] = short
        for k, v in attrs.items():
            f["biases"].attrs[k] = v
EOF
}
for how in missing flip short; do
  damaged "$how"
  refused "bad-$how" 2 "$SCRATCH/bad/added_users.h5" -- --model "$SCRATCH/bad" --data "$DATA" \
    --users "$SCRATCH/wanted.txt" --output "$SCRATCH/x"
done
damaged flip
refused_run "$DALS_EXPORT" bad-export 1 "$SCRATCH/bad/added_users.h5" -- --model "$SCRATCH/bad" \
  --data "$DATA" --output "$SCRATCH/x"
cp "$U2/added_users.h5" "$SCRATCH/bad/added_users.h5"
refused bad-other 3 "$SCRATCH/bad/added_users.h5" "records 2" -- --model "$SCRATCH/bad" --data "$DATA" \
  --output "$SCRATCH/x"
# Two other added users, sound arrays: not the file state.json sealed.
sed 's/^900001,/900005,/; s/^900002,/900006,/' "$SCRATCH/f1.csv" >"$SCRATCH/f3.csv"
run update3 1 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --fold-in "$SCRATCH/f3.csv" \
  --output "$SCRATCH/f3-lists" --update-model "$SCRATCH/updated3"
cp "$SCRATCH/updated3/added_users.h5" "$SCRATCH/bad/added_users.h5"
refused bad-swapped 2 "$SCRATCH/bad/added_users.h5" "checksum mismatch" -- --model "$SCRATCH/bad" --data "$DATA" \
  --output "$SCRATCH/x"
refused bad-fold-in 2 "$SCRATCH/bad/added_users.h5" -- --model "$SCRATCH/bad" --data "$DATA" \
  --fold-in "$SCRATCH/f2.csv" --update-model "$SCRATCH/x-model" --output "$SCRATCH/x"
printf 'newbie,%s,3\n' "${items[0]}" >"$SCRATCH/named.csv"
refused not-integer 2 "$SCRATCH/named.csv" "'newbie' is not an integer" -- --model "$M" --data "$DATA" \
  --fold-in "$SCRATCH/named.csv" --update-model "$SCRATCH/x-model" --output "$SCRATCH/x"
cp "$U2/added_users.h5" "$M/added_users.h5"
refused stray 2 "$M/added_users.h5" "records no added users" -- --model "$M" --data "$DATA" --output "$SCRATCH/x"
refused stray-similar 2 "$M/added_users.h5" "records no added users" -- --model "$M" --data "$DATA" \
  --output "$SCRATCH/x" --similar-users
rm -f "$M/added_users.h5"
check refusals "nothing published by any refused run, no staging left" \
  test ! -e "$SCRATCH/x" -a ! -e "$SCRATCH/x.tmp" -a ! -e "$SCRATCH/x-model" -a ! -e "$SCRATCH/x-model.tmp"

cli_finish
