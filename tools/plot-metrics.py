#!/usr/bin/python3
"""Draws the metrics.jsonl of one or more dals-train runs as one PNG.

  tools/plot-metrics.py --output curves.png MODEL[=LABEL] [MODEL[=LABEL] ...]

MODEL is a model (or checkpoint) directory holding metrics.jsonl, or the
path of a metrics.jsonl itself; LABEL names the run in the legend (default:
the directory's name). Panels, every run in its own colour on each:
  - quality per iteration: training RMSE (dashed) and test RMSE (solid) of
    explicit runs; precision@K (dashed) and NDCG@K (solid) of implicit runs
    (a second panel when the runs are of both kinds);
  - seconds per iteration: the user half (solid), the item half (dashed)
    and the factor exchange (dotted).
Values a run did not record (null: no test split, an iteration not
evaluated) are left out. Needs Debian's python3-matplotlib (Agg backend: no
display). A missing or malformed file is an error naming the file and line;
nothing is written then. The PNG is written to OUTPUT.tmp and renamed.
"""
import argparse
import json
import math
import os
import sys


def die(message):
    print(f"plot-metrics: error: {message}", file=sys.stderr)
    sys.exit(1)


def read_run(spec):
    path, _, label = spec.partition("=")
    file = os.path.join(path, "metrics.jsonl") if os.path.isdir(path) else path
    if not label:
        label = os.path.basename(os.path.normpath(path if os.path.isdir(path) else os.path.dirname(path) or "."))
    try:
        with open(file, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        die(f"{file}: cannot read: {e.strerror}")
    records = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as e:
            die(f"{file}:{number}: not a JSON object: {e}")
        if not isinstance(record, dict) or not isinstance(record.get("iteration"), int):
            die(f"{file}:{number}: not a metrics record (no integer 'iteration')")
        records.append(record)
    if not records:
        die(f"{file}: holds no iteration")
    implicit = any("ndcg" in r or "loss" in r for r in records)
    return {"label": label, "file": file, "records": records, "implicit": implicit}


def series(run, key):
    xs, ys = [], []
    for r in run["records"]:
        v = r.get(key)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            xs.append(r["iteration"])
            ys.append(v)
    return xs, ys


def main():
    p = argparse.ArgumentParser(description="Draws dals-train metrics.jsonl files as one PNG.")
    p.add_argument("runs", nargs="+", metavar="MODEL[=LABEL]", help="model directory or metrics.jsonl, and a label")
    p.add_argument("--output", "-o", required=True, help="PNG file to write")
    p.add_argument("--title", default="", help="title above the panels")
    a = p.parse_args()
    runs = [read_run(spec) for spec in a.runs]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        from matplotlib.lines import Line2D
    except ImportError:
        die("matplotlib is missing: apt-get install python3-matplotlib (tools/install-deps.sh installs it)")

    quality = []
    if any(not r["implicit"] for r in runs):
        quality.append(("RMSE", [("train_rmse", "--", "train"), ("test_rmse", "-", "test")], False))
    if any(r["implicit"] for r in runs):
        k = next((r["records"][-1].get("eval_k") for r in runs if r["implicit"]), None)
        at = f"@{k}" if k else ""
        quality.append((f"ranking metric{at}", [("precision", "--", f"precision{at}"), ("ndcg", "-", f"NDCG{at}")],
                        True))
    timing = ("seconds per iteration",
              [("user_seconds", "-", "user half"), ("item_seconds", "--", "item half"),
               ("exchange_seconds", ":", "exchange")], None)
    panels = quality + [timing]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 5), squeeze=False)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = [colours[i % len(colours)] for i in range(len(runs))]
    for ax, (ylabel, metrics, implicit) in zip(axes[0], panels):
        styles = [Line2D([], [], color="black", linestyle=style, label=name) for _, style, name in metrics]
        loss_ax = None
        for i, run in enumerate(runs):
            if implicit is not None and run["implicit"] != implicit:
                continue
            for key, style, _ in metrics:
                xs, ys = series(run, key)
                if xs:
                    ax.plot(xs, ys, style, color=colour[i], marker="o", markersize=4)
            if implicit:
                # dals-train ranks the test split only every --eval-every
                # iterations (default: the last): the loss, every iteration,
                # shows the convergence between.
                xs, ys = series(run, "loss")
                if xs:
                    loss_ax = loss_ax or ax.twinx()
                    loss_ax.plot(xs, ys, "-.", color=colour[i], alpha=0.6)
        if loss_ax is not None:
            loss_ax.set_ylabel("loss (right axis)")
            styles.append(Line2D([], [], color="black", linestyle="-.", alpha=0.6, label="loss (right axis)"))
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.margins(x=0.05, y=0.1)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.legend(handles=styles, loc="best", fontsize="small", framealpha=0.8)
    # One legend of the runs for every panel: a run has the same colour on each.
    fig.legend(handles=[Line2D([], [], color=colour[i], marker="o", label=r["label"]) for i, r in enumerate(runs)],
               loc="lower center", ncol=min(len(runs), 6), fontsize="small", frameon=False)
    if a.title:
        fig.suptitle(a.title)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    tmp = a.output + ".tmp"
    try:
        fig.savefig(tmp, format="png", dpi=100)
        os.replace(tmp, a.output)
    except OSError as e:
        if os.path.exists(tmp):
            os.remove(tmp)
        die(f"{a.output}: cannot write: {e.strerror}")
    print(f"plot-metrics: {len(runs)} run(s) drawn to {a.output}")


if __name__ == "__main__":
    main()
