#!/usr/bin/python3
"""Checks dals-export's files against the model and dataset they came from,
read here with h5py and numpy alone (tests/cli/export.sh runs it).

  export_check.py --model M --data D [--h5 F] [--npz F] [--tsv DIR]
                  [--npz-same F] [--recommend DIR --k K] [--expect-string-ids]

- model.h5: user_factors, item_factors, biases equal the model's blocks bit
  for bit on trained rows and are zero on the others; the trained flags are
  the dataset's training degrees > 0; the raw ids are the id maps'; the
  global mean is the model's; item_factors_ip is [v_j, c_j] (c_j = 0 when
  the model scores without item biases).
- model.npz: numpy.load(allow_pickle=False) gives the same arrays as model.h5.
- users.tsv / items.tsv: one line per trained row, floats reading back as
  the same float32 bits, ids as in the id maps.
- --recommend: the top-K from item_factors_ip and [u_i, 1], training items
  and untrained items excluded, ties by lower dense id, is dals-recommend's
  output line for line (the score computed as the model defines it: one
  fused multiply-add chain in float32, emulated exactly here).
Exit status 0 when everything holds; one FAIL line per problem otherwise.
"""
import argparse
import glob
import json
import os
import sys
import zipfile
from fractions import Fraction

import h5py
import numpy as np

FAILURES = []


def check(what, ok):
    if ok:
        print("ok   " + what)
    else:
        print("FAIL " + what)
        FAILURES.append(what)


def blocks(directory):
    return sorted(glob.glob(os.path.join(directory, "block-*.h5")))


def read_model(model):
    """The model's factor blocks, rows in dense id order."""
    sides = {}
    for side in ("users", "items"):
        factors, biases = [], []
        for path in blocks(os.path.join(model, side)):
            with h5py.File(path, "r") as f:
                factors.append(f["factors"][()])
                biases.append(f["biases"][()])
        sides[side] = (np.concatenate(factors), np.concatenate(biases))
    with open(os.path.join(model, "state.json")) as f:
        state = json.load(f)
    return sides, state


def read_dataset(data):
    """Training degrees per side, each user's training items, raw ids."""
    degrees, rated, ids = {}, [], {}
    for side, sub in (("users", "by-user"), ("items", "by-item")):
        deg = []
        for path in blocks(os.path.join(data, sub)):
            with h5py.File(path, "r") as f:
                indptr = f["indptr"][()]
                deg.append(np.diff(indptr))
                if side == "users":
                    indices = f["indices"][()]
                    rated.extend(indices[indptr[r]:indptr[r + 1]] for r in range(len(indptr) - 1))
        degrees[side] = np.concatenate(deg)
        raw = []
        for path in blocks(os.path.join(data, "ids", side)):
            with h5py.File(path, "r") as f:
                if "raw_ids" in f:
                    raw.extend(str(v) for v in f["raw_ids"][()])
                else:
                    offsets, data_bytes = f["raw_offsets"][()], f["raw_bytes"][()].tobytes()
                    raw.extend(data_bytes[offsets[r]:offsets[r + 1]].decode("utf-8") for r in range(len(offsets) - 1))
        ids[side] = raw
    return degrees, rated, ids


def bits(a):
    return np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)


def same_bits(a, b):
    return a.shape == b.shape and np.array_equal(bits(a), bits(b))


def id_texts(array):
    if array.dtype.kind in "iu":
        return [str(int(v)) for v in array]
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in array]


def expected_arrays(sides, state, degrees):
    """What the export must hold: trained rows as the model has them, the others zero."""
    out = {}
    for side, s in (("users", "user"), ("items", "item")):
        factors, biases = sides[side]
        trained = degrees[side] > 0
        out[s + "_factors"] = np.where(trained[:, None], factors, np.float32(0)).astype(np.float32)
        out[s + "_bias"] = np.where(trained, biases, np.float32(0)).astype(np.float32)
        out[s + "_trained"] = trained.astype(np.uint8)
    hyper = state["hyperparameters"]
    with_bias = hyper.get("feedback", "explicit") != "implicit" and hyper.get("bias", True)
    last = out["item_bias"] if with_bias else np.zeros_like(out["item_bias"])
    out["item_factors_ip"] = np.hstack([out["item_factors"], last[:, None]])
    return out


def check_arrays(label, got, want, ids, mean):
    for name, value in want.items():
        check(f"{label}: {name} equals the model bit for bit", name in got and same_bits(got[name], value)
              if value.dtype == np.float32 else name in got and np.array_equal(got[name], value))
    for side, s in (("users", "user"), ("items", "item")):
        check(f"{label}: {s}_ids are the dataset's raw ids", id_texts(got[s + "_ids"]) == ids[side])
    check(f"{label}: global_mean is the model's", float(got["global_mean"]) == mean)


def fma32(a, b, c):
    """float32 fma(a, b, c) elementwise, correctly rounded: the product of two
    floats is exact in float64, so a*b + c rounded to float64 is off only
    where that result lands exactly on a float32 midpoint; those few are
    redone exactly."""
    r = a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)
    out = r.astype(np.float32)
    tie = (r.view(np.uint64) & np.uint64((1 << 29) - 1)) == np.uint64(1 << 28)
    for idx in zip(*np.nonzero(tie)):
        x, y, z = (np.broadcast_to(v, r.shape)[idx] for v in (a, b, c))
        exact = Fraction(float(x)) * Fraction(float(y)) + Fraction(float(z))
        mid = Fraction(float(r[idx]))
        f = np.float32(r[idx])
        if Fraction(float(f)) < mid:
            lo, hi = f, np.nextafter(f, np.float32(np.inf))
        else:
            lo, hi = np.nextafter(f, np.float32(-np.inf)), f
        out[idx] = hi if exact > mid else lo if exact < mid else f
    return out


def check_top_k(export, rated, degrees, rec_dir, k):
    users = export["user_factors"]
    items = export["item_factors_ip"]
    user_ids, item_ids = id_texts(export["user_ids"]), id_texts(export["item_ids"])
    trained_items = export["item_trained"].astype(bool)
    lines = []
    # [u_i, 1] . [v_j, c_j] as the model's chain: s = fma(x_d, y_d, s), d = 0..k.
    ext = np.hstack([users, np.ones((users.shape[0], 1), np.float32)])
    scores = np.zeros((users.shape[0], items.shape[0]), np.float32)
    for d in range(items.shape[1]):
        scores = fma32(ext[:, d:d + 1], items[None, :, d], scores)
    for u in range(users.shape[0]):
        if degrees["users"][u] == 0:
            continue  # dals-recommend gives no list to a user without training ratings
        ok = trained_items.copy()
        ok[rated[u]] = False
        candidates = np.nonzero(ok)[0]
        s = scores[u, candidates]
        order = np.lexsort((candidates, -s))[:k]  # higher score first, then lower dense id
        for rank, p in enumerate(order, 1):
            lines.append(f"{user_ids[u]}\t{item_ids[candidates[p]]}\t{float(s[p]):.9g}\t{rank}\n")
    got = "".join(open(p).read() for p in sorted(glob.glob(os.path.join(rec_dir, "part-*.tsv"))))
    want = "".join(lines)
    check(f"top-{k} from item_factors_ip and [u, 1] equals dals-recommend ({len(lines)} lines)", got == want)
    if got != want:
        for a, b in zip(got.splitlines(), want.splitlines()):
            if a != b:
                print(f"  first difference: dals-recommend '{a}', numpy '{b}'")
                break


def check_tsv(directory, want, ids):
    for side, s in (("users", "user"), ("items", "item")):
        with open(os.path.join(directory, side + ".tsv")) as f:
            rows = [line.rstrip("\n").split("\t") for line in f]
        k = want[s + "_factors"].shape[1]
        check(f"tsv {side}: header id f_1..f_{k} bias",
              rows[0] == ["id"] + [f"f_{c}" for c in range(1, k + 1)] + ["bias"])
        trained = np.nonzero(want[s + "_trained"])[0]
        body = rows[1:]
        check(f"tsv {side}: one line per trained row ({len(trained)})", len(body) == len(trained))
        if len(body) != len(trained):
            continue
        check(f"tsv {side}: ids in dense order", [r[0] for r in body] == [ids[side][i] for i in trained])
        values = np.array([[np.float32(x) for x in r[1:]] for r in body], np.float32)
        model = np.hstack([want[s + "_factors"], want[s + "_bias"][:, None]])[trained]
        check(f"tsv {side}: factors and bias read back as the model's float32 bits", same_bits(values, model))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--h5")
    p.add_argument("--npz")
    p.add_argument("--npz-same", help="another .npz (zip64 records) that must hold the same arrays as --npz")
    p.add_argument("--h5-same", help="another model.h5 (--parts: virtual datasets) that must hold the same arrays, "
                   "types and attributes as --h5")
    p.add_argument("--tsv")
    p.add_argument("--recommend")
    p.add_argument("--k", type=int, default=5)
    p.add_argument("--expect-string-ids", action="store_true")
    p.add_argument("--expect-ties", action="store_true", help="two trained items must have equal rows (equal scores)")
    a = p.parse_args()

    sides, state = read_model(a.model)
    degrees, rated, ids = read_dataset(a.data)
    want = expected_arrays(sides, state, degrees)
    mean = float(state["dataset"]["mean"])
    check("the dataset has untrained rows or not, as the model's shape says",
          len(degrees["users"]) == len(sides["users"][0]) and len(degrees["items"]) == len(sides["items"][0]))
    export = None
    if a.h5:
        # The three lines of the README.
        with h5py.File(a.h5, "r") as f:
            export = {name: f[name][()] for name in f}
            attrs = dict(f.attrs)
        check_arrays("h5", export, want, ids, mean)
        check("h5: hyper-parameters as attributes",
              attrs.get("format") == "dals-export" and int(attrs.get("factors", -1)) == want["user_factors"].shape[1]
              and json.loads(attrs["hyperparameters"]) == state["hyperparameters"])
        if a.expect_string_ids:
            check("h5: string ids are str", all(isinstance(v, (bytes, str)) for v in export["user_ids"]))
        if a.h5_same:
            with h5py.File(a.h5, "r") as one, h5py.File(a.h5_same, "r") as other:
                check("h5-same: the same dataset names", sorted(one) == sorted(other))
                check("h5-same: the same types and shapes", all(
                    one[n].dtype == other[n].dtype and one[n].shape == other[n].shape for n in one))
                check("h5-same: the same values, bit for bit", all(
                    np.array_equal(one[n][()], other[n][()]) for n in one))
                check("h5-same: the same attributes", dict(one.attrs) == dict(other.attrs))
                check("h5-same: its arrays are virtual datasets (--parts)", all(
                    other[n].is_virtual for n in other if other[n].shape != ()))
    if a.npz:
        with np.load(a.npz, allow_pickle=False) as z:
            npz = {name: z[name] for name in z.files}
        check_arrays("npz", npz, want, ids, mean)
        check("npz: the implicit library's key names", "user_factors" in npz and "item_factors" in npz)
        check("npz: hyper-parameters as a JSON string",
              json.loads(str(npz["hyperparameters"])) == state["hyperparameters"])
        if a.expect_string_ids:
            check("npz: string ids as fixed-width unicode", npz["user_ids"].dtype.kind == "U")
        if a.npz_same:
            with zipfile.ZipFile(a.npz_same) as zf:
                check("npz with zip64 records: every entry has one, and the CRCs hold",
                      all(i.extract_version >= 45 and i.extra[:2] == b"\x01\x00" for i in zf.infolist())
                      and zf.testzip() is None)
            with np.load(a.npz_same, allow_pickle=False) as z:
                check("npz with zip64 records: the same arrays",
                      sorted(z.files) == sorted(npz) and all(np.array_equal(z[n], npz[n]) for n in npz))
        if export is None:
            export = npz
    if a.tsv:
        check_tsv(a.tsv, want, ids)
    if a.expect_ties:
        rows = export["item_factors_ip"][export["item_trained"].astype(bool)]
        unique = np.unique(bits(rows), axis=0)
        check(f"items with the same ratings have the same factors ({len(rows) - len(unique)} tie(s))",
              len(unique) < len(rows))
    if a.recommend:
        check_top_k(export, rated, degrees, a.recommend, a.k)
    print(f"export_check: {len(FAILURES)} failure(s)")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
