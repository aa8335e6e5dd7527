#!/usr/bin/env bash
# dals-recommend --fold-in --update-model adds the users the dataset lacks
# (MODEL/added_users.h5), and the model's readers use them (more readers and
# the refusals: cli/foldin_add_checks.sh; the shared model:
# cli/foldin_add_helpers.bash).
#  - New users with a known item are added (one without is not); the model
#    records them in state.json; the same model at P = 2 and 3.
#  - dals-recommend --users NEW on the updated model: the fold-in's own
#    lists for them, line for line (their rated items excluded); the same
#    bytes at P = 1 and 3, with --users and for all users (added users last);
#    --format hdf5: an added user's user_dense is users + its index.
#  - dals-export (hdf5, npz, tsv): the added users' rows after the dataset's,
#    bit-equal to the fold-in factors, their raw ids, trained.
#  - A second fold-in into the updated model updates an added user and
#    appends a new one (order of first appearance), the others carried over.
#  - String user ids (dals-partition): an added user of any name is listed
#    and exported likewise.
#
# Usage (as ctest runs it): bash foldin_add.sh BUILD_DIR SCRATCH_DIR
set -u -o pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cli_init "$@"
# shellcheck source-path=SCRIPTDIR source=foldin_add_helpers.bash
source "$(dirname "${BASH_SOURCE[0]}")/foldin_add_helpers.bash"

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
  check_export <(parts "$SCRATCH/f1-lists" factors) "$SCRATCH/export" 900001 900002
# --parts: the added users are one more part, and the virtual model.h5
# holds what the one file does.
run export-parts 3 "$DALS_EXPORT" --model "$U1" --data "$DATA" --output "$SCRATCH/export-parts" --parts --quiet
check export-parts "parts/added_users.h5 is written" test -f "$SCRATCH/export-parts/parts/added_users.h5"
check export-parts "the virtual model.h5 equals the one file (added users too)" same_h5 \
  "$SCRATCH/export-hdf5/model.h5" "$SCRATCH/export-parts/model.h5"
run export-model 1 "$DALS_EXPORT" --model "$M" --data "$DATA" --output "$SCRATCH/export-model" --format tsv --quiet
check export "the dataset's rows: the model's, but user $first's" \
  test "$(diff "$SCRATCH/export-model/users.tsv" <(head -n -2 "$SCRATCH/export-tsv/users.tsv") | grep '^[<>]' |
    cut -f 1 | cut -c 3- | sort -u)" = "$first"

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
run sexport-parts 2 "$DALS_EXPORT" --model "$SCRATCH/supdated" --data "$SCRATCH/sdata" \
  --output "$SCRATCH/sexport-parts" --parts --quiet
check sexport-parts "string ids: the virtual model.h5 equals the one file" same_h5 \
  "$SCRATCH/sexport-hdf5/model.h5" "$SCRATCH/sexport-parts/model.h5"

cli_finish
