#!/usr/bin/python3
"""Checks dals-plan's routed item half against the model in docs/memory.md.

  tools/check-plan-formula.py DATA PLAN.json [--top N]

DATA is a dataset directory, PLAN.json what `dals-plan DATA --ranks P
--exchange routed -o PLAN.json` wrote for it (users routed). Prints:
  - the average formula R = sum_u (1 - (1 - 1/P)^d_u) over the users'
    degrees d_u (the distinct user rows a rank's ratings reference if each
    rating fell on a rank at random), against the plan's median and max of
    item_half.rows_received (all ranks' ratings, own rows included);
  - the same formula with each rank's own share f_r of the ratings in
    place of 1/P (block granularity and the load balance make f_r differ
    from 1/P), and the exact count: the distinct users among the ratings
    of the items the rank owns (its item range, from the plan's own_items
    in rank order), which the plan must equal where no row is received
    twice (item_half.distinct_rows always, rows_received at duplication 1);
  - for the N most rated items: the owner's rows received only for that
    item (its raters that none of the owner's other items reference:
    what shipping costs for it), against reducing its normal equations
    instead, a (k + 1) x (k + 1) symmetric matrix and a right-hand side,
    ((k + 1)(k + 2) / 2 + k + 1) floats, from every rank that owns one of
    its raters.
Needs Debian's python3-h5py and python3-numpy. A missing file, a plan of
another dataset or of another mode is an error naming it.
"""
import argparse
import glob
import json
import os
import sys

import h5py
import numpy as np


def fail(msg):
    print(f"check-plan-formula: {msg}", file=sys.stderr)
    sys.exit(1)


def read_side(data, side):
    """The side's CSR (by-user) or CSC (by-item) over all blocks: indptr, indices."""
    files = sorted(glob.glob(os.path.join(data, side, "block-*.h5")))
    if not files:
        fail(f"{data}/{side}: no blocks")
    parts, degs = [], []
    for f in files:
        with h5py.File(f, "r") as h:
            ptr = h["indptr"][:]
            degs.append(np.diff(ptr))
            parts.append(h["indices"][:])
    deg = np.concatenate(degs)
    indptr = np.zeros(len(deg) + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    return indptr, np.concatenate(parts)


def formula(deg_values, deg_counts, share):
    """sum over users of 1 - (1 - share)^d, from the degrees' histogram."""
    return float(np.sum(deg_counts * -np.expm1(deg_values * np.log1p(-share))))


def ranges(per_rank, key):
    """Each rank's [first, end) on one side: ranks own contiguous runs in rank order."""
    counts = [r[key] for r in sorted(per_rank, key=lambda r: r["rank"])]
    ends = np.cumsum(counts)
    return np.concatenate(([0], ends[:-1])), ends


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data")
    ap.add_argument("plan")
    ap.add_argument("--top", type=int, default=5, help="most rated items to cost (default 5)")
    a = ap.parse_args()
    try:
        with open(os.path.join(a.data, "manifest.json")) as f:
            man = json.load(f)
        with open(a.plan) as f:
            plan = json.load(f)
    except (OSError, ValueError) as e:
        fail(str(e))
    if plan.get("format") != "dals-plan":
        fail(f"{a.plan}: not a dals-plan file")
    for key in ("users", "items", "ratings"):
        if plan[key] != man[key]:
            fail(f"{a.plan}: {key} {plan[key]} but {a.data} has {man[key]}")
    if not plan["routed"]["users"]:
        fail(f"{a.plan}: users are not routed (plan with --exchange routed)")

    P, k, row_bytes = plan["ranks"], plan["factors"], plan["row_bytes"]
    per_rank = sorted(plan["per_rank"], key=lambda r: r["rank"])
    nnz = man["ratings"]
    uptr, _ = read_side(a.data, "by-user")
    iptr, iidx = read_side(a.data, "by-item")
    udeg = np.diff(uptr)
    ideg = np.diff(iptr)
    dv, dc = np.unique(udeg[udeg > 0], return_counts=True)

    got = np.array([r["item_half.rows_received"] for r in per_rank])
    distinct = np.array([r["item_half.distinct_rows"] for r in per_rank])
    nnz_r = np.array([r["ratings_by_item"] for r in per_rank])
    ifirst, iend = ranges(per_rank, "own_items")
    ufirst, uend = ranges(per_rank, "own_users")
    if iend[-1] != man["items"] or uend[-1] != man["users"]:
        fail(f"{a.plan}: own_items / own_users do not add up to the dataset's")
    exact = np.array([len(np.unique(iidx[iptr[f]:iptr[e]])) for f, e in zip(ifirst, iend)])
    share = np.array([formula(dv, dc, n / nnz) for n in nnz_r])

    R = formula(dv, dc, 1.0 / P)
    imax = int(np.argmax(got))
    print(f"{a.data}: {man['users']} users x {man['items']} items, {nnz} ratings; P = {P}, k = {k}")
    print(f"  user degree: mean {udeg.mean():.1f}, max {udeg.max()}; item degree: mean {ideg.mean():.1f}, "
          f"max {ideg.max()} ({ideg.max() / man['users']:.1%} of users)")
    print(f"  nnz/P {nnz / P:.0f}; formula R {R:.0f} (R/(nnz/P) {R / (nnz / P):.3f})")
    print(f"  plan rows received: median {np.median(got):.0f} ({np.median(got) / R:.3f} R), "
          f"max {got.max()} ({got.max() / R:.3f} R, rank {imax})")
    print(f"  ratings per rank: median {np.median(nnz_r):.0f}, max {nnz_r.max()} (rank {int(np.argmax(nnz_r))}); "
          f"rank {imax} holds {nnz_r[imax]}, heaviest item {ideg[ifirst[imax]:iend[imax]].max()}")
    print(f"  share formula: median {np.median(share):.0f}, max {share.max():.0f}; rank {imax}: {share[imax]:.0f}")
    print(f"  exact distinct users: median {np.median(exact):.0f}, max {exact.max()}; rank {imax}: {exact[imax]}")
    bad = np.flatnonzero(exact != distinct)
    print(f"  exact == plan's item_half.distinct_rows on {P - len(bad)} of {P} ranks"
          + (f"; differs on ranks {bad[:10].tolist()}" if len(bad) else "")
          + f"; rows received / distinct: max {np.max(got / np.maximum(distinct, 1)):.3f}")

    tri = (k + 1) * (k + 2) // 2 + (k + 1)
    print(f"  top items: reduction = ranks owning raters x {tri} floats x 4 B; "
          f"shipping = raters only it references x {row_bytes} B")
    owner_of_user = np.searchsorted(uend, np.arange(man["users"]), side="right")
    for j in np.argsort(-ideg, kind="stable")[:a.top]:
        r = int(np.searchsorted(iend, j, side="right"))
        raters = iidx[iptr[j]:iptr[j + 1]]
        users, counts = np.unique(iidx[iptr[ifirst[r]]:iptr[iend[r]]], return_counts=True)
        only = int(np.sum(counts[np.searchsorted(users, raters)] == 1))
        senders = len(np.unique(owner_of_user[raters]))
        ship, reduce_ = only * row_bytes, senders * tri * 4
        print(f"    item {j}: degree {ideg[j]}, rank {r} ({exact[r]} rows); only it: {only} rows = {ship / 2**20:.2f} MiB; "
              f"reduction from {senders} ranks = {reduce_ / 2**20:.2f} MiB ({'reduce' if reduce_ < ship else 'ship'})")


if __name__ == "__main__":
    main()
