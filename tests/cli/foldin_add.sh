#!/usr/bin/env bash
# dals-recommend --fold-in --update-model adds the users the dataset lacks
# (MODEL/added_users.h5), and every reader of the model uses them.
#  - New users with a known item are added (one without is not); the model
#    records them in state.json, and the dataset's blocks stay readable.
#  - dals-recommend --users NEW on the updated model: the fold-in's own
#    lists for them, line for line (their rated items excluded); the same
#    bytes at P = 1 and 3, with --users and for all users (added users last).
#  - dals-export (hdf5, npz, tsv): the added users' rows after the dataset's,
#    bit-equal to the fold-in factors, their raw ids, trained.
#  - String user ids (dals-partition): an added user of any name, likewise.
#  - A second fold-in into the updated model updates an added user and
#    appends a new one (order of first appearance), the others carried over.
#  - dals-eval --test-file: an added user's entries are not cold.
#  - dals-train --resume from an updated model warns that they are ignored.
#  - --format hdf5 lists: an added user's user_dense is users + its index.
#  - A damaged, missing, truncated, swapped or stray added_users.h5 is refused with
#    one error line naming it, on every rank (a stray one by every reader);
#    so is a non-integer new user of an integer dataset.
#
# Usage (as ctest runs it): bash foldin_add.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
DALS_GENERATE=$(find_tool dals-generate)
DALS_RECOMMEND=$(find_tool dals-recommend)
DALS_EXPORT=$(find_tool dals-export)
DALS_EVAL=$(find_tool dals-eval)
DALS_INSPECT=$(find_tool dals-inspect)
DALS_PARTITION=$(find_tool dals-partition)
DALS_MODEL_DIFF=$(find_tool dals-test-model-diff)
require_tools DALS_TRAIN DALS_GENERATE DALS_RECOMMEND DALS_EXPORT DALS_EVAL DALS_INSPECT DALS_PARTITION DALS_MODEL_DIFF
# Debian's python3-h5py and python3-numpy serve /usr/bin/python3 (as export.sh).
PYTHON=${DALS_PYTHON:-/usr/bin/python3}
require_commands "$PYTHON" jq
if ! "$PYTHON" -c 'import h5py, numpy' 2>/dev/null; then
  echo "FAIL: foldin_add.sh: $PYTHON cannot import h5py and numpy (tools/install-deps.sh installs them)" >&2
  exit 1
fi

LOGS=$SCRATCH/logs
mkdir -p "$LOGS"
refused() { refused_run "$DALS_RECOMMEND" "$@"; }
parts() { cat "$1"/"${2:-part}"-*."${3:-tsv}"; }
# lines_of DIR USER: the list lines of USER in DIR's parts.
lines_of() { parts "$1" | awk -F '\t' -v u="$2" '$1 == u'; }

DATA=$SCRATCH/data
run generate 1 "$DALS_GENERATE" --users 200 --items 120 --ratings 4000 --blocks 3 --seed 7 --round --output "$DATA"
"$DALS_INSPECT" "$DATA" --dump train >"$SCRATCH/history.csv"
M=$SCRATCH/model
run train 1 "$DALS_TRAIN" --data "$DATA" --output "$M" -k 5 --iterations 3 --threads 1 --quiet

# Items of the first users' histories, for the new users.
first=$(head -n 1 "$SCRATCH/history.csv" | cut -d , -f 1)
mapfile -t items < <(cut -d , -f 2 "$SCRATCH/history.csv" | sort -u | head -n 12)
{
  grep "^$first," "$SCRATCH/history.csv" | awk -F , -v OFS=, 'NR == 1 { $3 = ($3 == 5 ? 1 : 5) } { print }'
  for i in 0 1 2 3; do echo "900001,${items[$i]},$((i % 5 + 1))"; done
  for i in 4 5 6; do echo "900002,${items[$i]},4"; done
  echo "900003,no-such-item,2"
} >"$SCRATCH/f1.csv"
U1=$SCRATCH/updated1
run update1 2 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --fold-in "$SCRATCH/f1.csv" --fold-in-factors \
  --output "$SCRATCH/f1-lists" --update-model "$U1" --k 5 --threads 1
check update1 "1 updated, 2 added, the one without a known item not added" \
  grep -q "1 users updated, 0 without a known item kept, 2 added, 0 added before updated, 1 new without a known" \
  "$LOGS/update1.rank0.out"
check update1 "state.json records 2 added users" test "$(json_field "$U1/state.json" '.added_users.count')" = 2
check update1 "and the fold-in's counts" test "$(json_field "$U1/state.json" '.fold_in.users_added')" = 2
check update1 "added_users.h5 is there" test -f "$U1/added_users.h5"
run update1-np3 3 "$DALS_RECOMMEND" --model "$M" --data "$DATA" --fold-in "$SCRATCH/f1.csv" \
  --output "$SCRATCH/f1-lists-np3" --update-model "$SCRATCH/updated1-np3" --threads 2
check update1-np3 "the same model at P = 3 and 2 threads, added users too" \
  "$DALS_MODEL_DIFF" "$U1" "$SCRATCH/updated1-np3"

# Top-K of the added users on the updated model: the fold-in's lists.
printf '900002\n%s\n900001\n900003\n' "$first" >"$SCRATCH/wanted.txt"
for np in 1 3; do
  run "users-np$np" "$np" "$DALS_RECOMMEND" --model "$U1" --data "$DATA" --users "$SCRATCH/wanted.txt" \
    --output "$SCRATCH/users-np$np" --k 5 --threads 1
  run "all-np$np" "$np" "$DALS_RECOMMEND" --model "$U1" --data "$DATA" --output "$SCRATCH/all-np$np" --k 5 \
    --threads 2
done
for u in 900001 900002 "$first"; do
  check users-np1 "user $u: the fold-in's own list" \
    test -n "$(lines_of "$SCRATCH/users-np1" "$u")" -a "$(lines_of "$SCRATCH/users-np1" "$u")" = \
    "$(lines_of "$SCRATCH/f1-lists" "$u")"
done
check users-np1 "900003 (not added) is unknown" \
  test "$(json_field "$SCRATCH/users-np1/recommendations.json" '.user_ids_unknown')" = 1
check users-np1 "900001's rated items are not listed" \
  test -z "$(lines_of "$SCRATCH/users-np1" 900001 | cut -f 2 | grep -Fxf <(grep '^900001,' "$SCRATCH/f1.csv" | cut -d , -f 2))"
check users-np3 "--users: the same bytes at P = 3" cmp -s <(parts "$SCRATCH/users-np1") <(parts "$SCRATCH/users-np3")
check all-np3 "all users: the same bytes at P = 1 and 3" cmp -s <(parts "$SCRATCH/all-np1") <(parts "$SCRATCH/all-np3")
check all-np1 "all users: the added users last, in order" \
  test "$(parts "$SCRATCH/all-np1" | cut -f 1 | uniq | tail -n 2 | paste -sd ' ')" = "900001 900002"
check all-np1 "their lists as with --users" \
  test "$(lines_of "$SCRATCH/all-np1" 900002)" = "$(lines_of "$SCRATCH/users-np1" 900002)"

run users-h5 3 "$DALS_RECOMMEND" --model "$U1" --data "$DATA" --users "$SCRATCH/wanted.txt" \
  --output "$SCRATCH/users-h5" --k 5 --format hdf5 --merge
check users-h5 "--format hdf5: the added users' dense ids follow the dataset's" "$PYTHON" -c '
import sys, h5py, numpy as np
f = h5py.File(sys.argv[1], "r")
users, dense = f["user"][:], f["user_dense"][:]
assert set(dense[users == 900001]) == {int(sys.argv[2])} and set(dense[users == 900002]) == {int(sys.argv[2]) + 1}
' "$SCRATCH/users-h5/recommendations.h5" "$(jq -r .dataset.users "$M/state.json")"

# dals-export: the added rows after the dataset's, bit-equal.
for format in hdf5 npz tsv; do
  run "export-$format" 1 "$DALS_EXPORT" --model "$U1" --data "$DATA" --output "$SCRATCH/export-$format" \
    --format "$format" --quiet
done
# check_export FACTORS_TSV DIR USERS...: the exports of DIR hold USERS as
# their last rows, in that order, with the factors of FACTORS_TSV bit for bit.
check_export() {
  "$PYTHON" - "$@" <<'EOF'
import sys
import h5py
import numpy as np
factors_tsv, base, users = sys.argv[1], sys.argv[2], sys.argv[3:]
want = {}
for line in open(factors_tsv):
    f = line.rstrip("\n").split("\t")
    want[f[0]] = np.array([float(x) for x in f[1:]], dtype=np.float32)
n = len(users)
rows = np.stack([want[u] for u in users])
h5 = h5py.File(base + "-hdf5/model.h5", "r")
npz = np.load(base + "-npz/model.npz", allow_pickle=False)
for name, d in (("h5", h5), ("npz", npz)):
    ids = [x.decode() if isinstance(x, bytes) else str(x) for x in np.asarray(d["user_ids"])[-n:]]
    assert ids == users, (name, ids, users)
    assert np.array_equal(np.asarray(d["user_factors"])[-n:].view(np.uint32), rows[:, :-1].view(np.uint32)), name
    assert np.array_equal(np.asarray(d["user_bias"])[-n:].view(np.uint32), rows[:, -1].view(np.uint32)), name
    assert np.all(np.asarray(d["user_trained"])[-n:] == 1), name
assert int(h5.attrs["added_users"]) == n
tsv = [l.rstrip("\n").split("\t") for l in open(base + "-tsv/users.tsv")][-n:]
assert [t[0] for t in tsv] == users, tsv
got = np.array([[float(x) for x in t[1:]] for t in tsv], dtype=np.float32)
assert np.array_equal(got.view(np.uint32), rows.view(np.uint32))
EOF
}
check export "the added users' rows, ids and trained flags in hdf5, npz and tsv, bit for bit" \
  check_export <(parts "$SCRATCH/f1-lists" factors) "$SCRATCH/export" 900001 900002
run export-model 1 "$DALS_EXPORT" --model "$M" --data "$DATA" --output "$SCRATCH/export-model" --format tsv --quiet
check export "the dataset's rows: the model's, but user $first's" \
  test "$(diff "$SCRATCH/export-model/users.tsv" <(head -n -2 "$SCRATCH/export-tsv/users.tsv") | grep '^[<>]' |
    cut -f 1 | cut -c 3- | sort -u)" = "$first"

# String user ids: added users of any name, as the dataset's ids are.
awk -F , -v OFS=, '{ $1 = "u" $1; print }' "$SCRATCH/history.csv" >"$SCRATCH/str.csv"
run spartition 1 "$DALS_PARTITION" --input "$SCRATCH/str.csv" --blocks 2 --output "$SCRATCH/sdata" --quiet
run strain 1 "$DALS_TRAIN" --data "$SCRATCH/sdata" --output "$SCRATCH/smodel" -k 4 --iterations 2 --threads 1 --quiet
sed 's/^900001,/newbie,/; s/^900002,/u-new 2,/; /^[0-9]/d' "$SCRATCH/f1.csv" >"$SCRATCH/sf.csv"
run supdate 2 "$DALS_RECOMMEND" --model "$SCRATCH/smodel" --data "$SCRATCH/sdata" --fold-in "$SCRATCH/sf.csv" \
  --fold-in-factors --output "$SCRATCH/sf-lists" --update-model "$SCRATCH/supdated" --k 5
printf 'newbie\nu-new 2\n' >"$SCRATCH/swanted.txt"
run susers 2 "$DALS_RECOMMEND" --model "$SCRATCH/supdated" --data "$SCRATCH/sdata" --users "$SCRATCH/swanted.txt" \
  --output "$SCRATCH/susers" --k 5
check susers "string ids: the fold-in's lists" cmp -s <(parts "$SCRATCH/susers") <(parts "$SCRATCH/sf-lists")
for format in hdf5 npz tsv; do
  run "sexport-$format" 1 "$DALS_EXPORT" --model "$SCRATCH/supdated" --data "$SCRATCH/sdata" \
    --output "$SCRATCH/sexport-$format" --format "$format" --quiet
done
check sexport "string ids: the added rows and ids in every format" \
  check_export <(parts "$SCRATCH/sf-lists" factors) "$SCRATCH/sexport" newbie "u-new 2"

# A second fold-in into the updated model: 900001 re-rated, 900004 new.
{
  for i in 7 8 9; do echo "900004,${items[$i]},3"; done
  for i in 0 1 10 11; do echo "900001,${items[$i]},2"; done
  echo "900002,no-such-item,1"
} >"$SCRATCH/f2.csv"
U2=$SCRATCH/updated2
run update2 3 "$DALS_RECOMMEND" --model "$U1" --data "$DATA" --fold-in "$SCRATCH/f2.csv" --fold-in-factors \
  --output "$SCRATCH/f2-lists" --update-model "$U2" --k 5
check update2 "1 added, 1 added before updated, 900002 (no known item) kept" \
  grep -q "0 users updated, 1 without a known item kept, 1 added, 1 added before updated" "$LOGS/update2.rank0.out"
run export2 1 "$DALS_EXPORT" --model "$U2" --data "$DATA" --output "$SCRATCH/export2-tsv" --format tsv --quiet
check export2 "900001 and 900002 carried over in their order, 900004 appended" \
  test "$(tail -n 3 "$SCRATCH/export2-tsv/users.tsv" | cut -f 1 | paste -sd ' ')" = "900001 900002 900004"
# same_rows A B: the rows of two factor TSVs (id, then floats) as float32 bits.
same_rows() {
  "$PYTHON" - "$1" "$2" <<'EOF'
import sys
import numpy as np
rows = [[l.rstrip("\n").split("\t") for l in open(p)] for p in sys.argv[1:]]
assert [r[0] for r in rows[0]] == [r[0] for r in rows[1]], rows
a, b = (np.array([[float(x) for x in r[1:]] for r in t], dtype=np.float32) for t in rows)
assert np.array_equal(a.view(np.uint32), b.view(np.uint32))
EOF
}
check export2 "900001: its second fold-in's factors; 900002: its first's" \
  same_rows <(tail -n 3 "$SCRATCH/export2-tsv/users.tsv" | head -n 2) \
  <(parts "$SCRATCH/f2-lists" factors | grep '^900001'; grep '^900002' "$SCRATCH/export-tsv/users.tsv")
printf '900001\n900004\n' >"$SCRATCH/wanted2.txt"
run users2 2 "$DALS_RECOMMEND" --model "$U2" --data "$DATA" --users "$SCRATCH/wanted2.txt" \
  --output "$SCRATCH/users2" --k 5
check users2 "the updated added user's list is its second fold-in's" \
  test "$(lines_of "$SCRATCH/users2" 900001)" = "$(lines_of "$SCRATCH/f2-lists" 900001)"

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
