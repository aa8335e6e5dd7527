# shellcheck shell=bash disable=SC2034
# Shared by cli/foldin_add.sh and cli/foldin_add_checks.sh (sourced after
# lib.sh's cli_init): the tools, a small explicit model M of DATA, a fold-in
# file f1.csv (user $first re-rated; new users 900001 and 900002 with known
# items, 900003 without) and U1, M updated from it at P = 2, its 2 added
# users checked; check_export, the exports' check.
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
  echo "FAIL: $(basename "$0"): $PYTHON cannot import h5py and numpy (tools/install-deps.sh installs them)" >&2
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

# same_h5 ONE VIRTUAL: the same datasets (names, types, shapes, values bit
# for bit) and attributes in both files, VIRTUAL's arrays virtual datasets
# (dals-export --parts).
same_h5() {
  "$PYTHON" - "$1" "$2" <<'EOF'
import sys, h5py, numpy as np
with h5py.File(sys.argv[1], "r") as one, h5py.File(sys.argv[2], "r") as other:
    assert sorted(one) == sorted(other), (sorted(one), sorted(other))
    for n in one:
        assert one[n].dtype == other[n].dtype and one[n].shape == other[n].shape, n
        assert np.array_equal(one[n][()], other[n][()]), n
        assert other[n].shape == () or other[n].is_virtual, n
    assert dict(one.attrs) == dict(other.attrs)
EOF
}
