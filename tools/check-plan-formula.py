#!/usr/bin/python3
"""Checks dals-plan's routed item half against the model in docs/memory.md.

  tools/check-plan-formula.py DATA PLAN.json [--top N]

DATA is a dataset directory, PLAN.json what `dals-plan DATA --ranks P
--exchange routed --heavy-rows off -o PLAN.json` wrote for it (users routed). Prints:
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
    print(f"check-plan-formula: error: {msg}", file=sys.stderr)
    sys.exit(1)


def read_degrees(data, side, with_indices=True):
    """The side's CSR (by-user) or CSC (by-item) over all blocks: indptr, indices (None without)."""
    files = sorted(glob.glob(os.path.join(data, side, "block-*.h5")))
    if not files:
        fail(f"{data}/{side}: no blocks")
    parts, degs = [], []
    for f in files:
        with h5py.File(f, "r") as h:
            degs.append(np.diff(h["indptr"][:]))
            if with_indices:
                parts.append(h["indices"][:])
    deg = np.concatenate(degs)
    indptr = np.zeros(len(deg) + 1, dtype=np.int64)
    np.cumsum(deg, out=indptr[1:])
    return indptr, np.concatenate(parts) if with_indices else None


def size(b):
    """Bytes in B, KiB, MiB or GiB, three significant digits."""
    for unit in ("B", "KiB", "MiB"):
        if b < 1024:
            return f"{b:.3g} {unit}"
        b /= 1024
    return f"{b:.3g} GiB"


def median(x):
    """The lower median, a value some rank has, as dals-plan prints it."""
    return np.sort(x)[(len(x) - 1) // 2]


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
    # The formula counts every item's raters; heavy items' raters never travel.
    if plan["max"].get("heavy_items", 0) > 0:
        fail(f"{a.plan}: its heavy items are solved from per-block equations, their raters not received "
             "(plan with --heavy-rows off)")

    loaded = load(a.data, plan)
    report_rows(a.data, man, plan, *loaded)
    report_heavy(man, plan, *loaded[1:], a.top)


def load(data, plan):
    """The users' degrees, the item CSC and the plan's per-rank arrays."""
    uptr, _ = read_degrees(data, "by-user", with_indices=False)
    iptr, iidx = read_degrees(data, "by-item")
    per_rank = sorted(plan["per_rank"], key=lambda r: r["rank"])
    return np.diff(uptr), iptr, iidx, per_rank


def report_rows(data, man, plan, udeg, iptr, iidx, per_rank):
    """The formula, the share formula and the exact count against the plan's rows received."""
    P, nnz = plan["ranks"], man["ratings"]
    ideg = np.diff(iptr)
    dv, dc = np.unique(udeg[udeg > 0], return_counts=True)
    got = np.array([r["item_half.rows_received"] for r in per_rank])
    distinct = np.array([r["item_half.distinct_rows"] for r in per_rank])
    nnz_r = np.array([r["ratings_by_item"] for r in per_rank])
    ifirst, iend = ranges(per_rank, "own_items")
    if iend[-1] != man["items"]:
        fail(f"{plan['data']}: own_items do not add up to the dataset's items")
    exact = np.array([len(np.unique(iidx[iptr[f]:iptr[e]])) for f, e in zip(ifirst, iend)])
    share = np.array([formula(dv, dc, n / nnz) for n in nnz_r])
    R = formula(dv, dc, 1.0 / P)
    top = int(np.argmax(got))
    # dals-plan's own median and max.
    med, mx = plan["median"]["item_half.rows_received"], plan["max"]["item_half.rows_received"]
    print(f"{data}: {man['users']} users x {man['items']} items, {nnz} ratings; P = {P}, k = {plan['factors']}")
    print(f"  user degree: mean {udeg.mean():.1f}, max {udeg.max()}; item degree: mean {ideg.mean():.1f}, "
          f"max {ideg.max()} ({ideg.max() / man['users']:.1%} of users)")
    print(f"  nnz/P {nnz / P:.0f}; formula R {R:.0f} (R/(nnz/P) {R / (nnz / P):.3f})")
    print(f"  plan rows received: median {med:.0f} ({med / R:.3f} R), "
          f"max {mx} ({mx / R:.3f} R, rank {top})")
    print(f"  ratings per rank: median {median(nnz_r):.0f}, max {nnz_r.max()} (rank {int(np.argmax(nnz_r))}); "
          f"rank {top} holds {nnz_r[top]}, heaviest item {ideg[ifirst[top]:iend[top]].max()}")
    print(f"  share formula: median {median(share):.0f}, max {share.max():.0f}; rank {top}: {share[top]:.0f}")
    print(f"  exact distinct users: median {median(exact):.0f}, max {exact.max()}; rank {top}: {exact[top]}")
    bad = np.flatnonzero(exact != distinct)
    print(f"  exact == plan's item_half.distinct_rows on {P - len(bad)} of {P} ranks"
          + (f"; differs on ranks {bad[:10].tolist()}" if len(bad) else "")
          + f"; rows received / distinct: max {np.max(got / np.maximum(distinct, 1)):.3f}")


def report_heavy(man, plan, iptr, iidx, per_rank, count):
    """For the most rated items: the rows shipped only for them against a reduction of their equations."""
    k, row_bytes = plan["factors"], plan["row_bytes"]
    ideg = np.diff(iptr)
    ifirst, iend = ranges(per_rank, "own_items")
    _, uend = ranges(per_rank, "own_users")
    if uend[-1] != man["users"]:
        fail(f"{plan['data']}: own_users do not add up to the dataset's users")
    floats = (k + 1) * (k + 2) // 2 + (k + 1)
    print(f"  top items: reduction = ranks owning raters x {floats} floats x 4 B; "
          f"shipping = raters only it references x {row_bytes} B")
    owner_of_user = np.searchsorted(uend, np.arange(man["users"]), side="right")
    for j in np.argsort(-ideg, kind="stable")[:count]:
        r = int(np.searchsorted(iend, j, side="right"))
        raters = iidx[iptr[j]:iptr[j + 1]]
        users, counts = np.unique(iidx[iptr[ifirst[r]]:iptr[iend[r]]], return_counts=True)
        only = int(np.sum(counts[np.searchsorted(users, raters)] == 1))
        senders = len(np.unique(owner_of_user[raters]))
        ship, reduce_ = only * row_bytes, senders * floats * 4
        verdict = "reduce" if reduce_ < ship else "ship"
        print(f"    item {j}: degree {ideg[j]}, rank {r} ({len(users)} rows); only it: {only} rows = {size(ship)}; "
              f"reduction from {senders} ranks = {size(reduce_)} ({verdict})")


if __name__ == "__main__":
    main()
