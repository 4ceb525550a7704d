"""`triage experiment success-models [--datasets DIR] [--out build/routing_research]`

Every number of the success-model report, in one run (minutes on 2 cores;
embeddings are cached, so a rerun is mostly fitting):

1. outcome table (table.py) + serving embeddings (features.py);
2. candidates fitted on `train`: heads, kNN (global prior), kNN with the
   head as prior (the Beta blend), linear blends;
3. every choice on `val` by log-loss of the per-tier success (the quantity
   served); APGR on val is reported next to it, never used alone (its
   bootstrap error, ~0.03, is larger than the differences between candidates);
4. Platt calibration of the chosen estimate on `val`;
5. held-out benchmarks and pairs: APGR / shares for every router; the
   quality-target decision (cost and quality) against v1's tier head;
6. coverage of prompts unlike the outcome data (creative writing, summaries).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from serve_app.lab.outcomes import success
from serve_app.lab.outcomes.evaluation import Data, load, pick

HEAD_GRID = [("linear", {"l2": 1e-4}), ("linear", {"l2": 1e-3}), ("linear", {"l2": 1e-2}),
             ("linear+counts", {"l2": 1e-3}), ("mlp", {"hidden": 256, "weight_decay": 1e-2})]
KNN_K = (10, 30, 100)
KNN_ALPHA = (1.0, 5.0, 20.0)
KNN_FLOOR = (0.0, 0.5, 0.7)
LINEAR_BLEND = (0.25, 0.5, 0.75)


def fit_head(kind: str, params: dict, d: Data, tr: np.ndarray, va: np.ndarray):
    if kind == "linear":
        return success.LinearHeads.fit(d.X[tr], d.Y[tr], **params), d.X
    if kind == "linear+counts":
        XC = np.concatenate([d.X, d.C], 1)
        return success.LinearHeads.fit(XC[tr], d.Y[tr], **params), XC
    return success.MLPHeads.fit(d.X[tr], d.Y[tr], val=(d.X[va], d.Y[va]), **params), d.X


def head_name(kind, params) -> str:
    return kind + "(" + ",".join(f"{k}={v:g}" for k, v in params.items()) + ")"


def candidates(d: Data, log=print) -> tuple[dict, dict]:
    """All estimates for all rows ({name: [n, 4]}) and their settings; memory = train rows."""
    tr, va = d.mask("train"), d.mask("val")
    est, settings = {}, {}
    for kind, params in HEAD_GRID:
        t0 = time.time()
        model, X = fit_head(kind, params, d, tr, va)
        name = "head:" + head_name(kind, params)
        est[name], settings[name] = model.predict(X), {"kind": kind, **params, "model": model}
        log(f"  {name}: val log-loss {success.masked_bce(est[name][va], d.Y[va]):.4f} ({time.time() - t0:.0f} s)")
    best_head = min((n for n in est if n.startswith("head:")), key=lambda n: success.masked_bce(est[n][va], d.Y[va]))
    sims, idx = success.topk(d.emb, d.emb[tr], max(KNN_K))
    mem_y = d.Y[tr]
    glob = np.nanmean(mem_y, 0)
    for k in KNN_K:
        for a in KNN_ALPHA:
            for f in KNN_FLOOR:
                s = {"k": k, "alpha": a, "floor": f}
                est[f"knn:k={k},a={a:g},floor={f:g}"], _ = success.knn_estimate(sims, idx, mem_y, glob, k, a, f)
                settings[f"knn:k={k},a={a:g},floor={f:g}"] = {**s, "prior": "global"}
                est[f"beta:k={k},a={a:g},floor={f:g}"], _ = success.knn_estimate(sims, idx, mem_y, est[best_head], k, a, f)
                settings[f"beta:k={k},a={a:g},floor={f:g}"] = {**s, "prior": best_head}
    best_knn = pick(est, d, "knn:")
    for lam in LINEAR_BLEND:
        est[f"linear-blend:{lam:g}"] = lam * est[best_head] + (1 - lam) * est[best_knn]
        settings[f"linear-blend:{lam:g}"] = {"head": best_head, "knn": best_knn, "head_weight": lam}
    return est, settings | {"_sims": sims, "_idx": idx}


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    ap = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default=None, help="shared datasets root (default: $TRIAGE_DATASETS or ../shared/datasets)")
    ap.add_argument("--out", default="build/routing_research")
    ap.add_argument("--boot", type=int, default=200, help="bootstrap resamples for APGR errors on held-out")
    args = ap.parse_args(argv)
    from tqdm import tqdm

    from serve_app.lab.outcomes import report, tables
    from serve_app.lab.paths import datasets_root

    out = Path(args.out)
    t0 = time.time()
    log = lambda *a: print(f"[{time.time() - t0:6.0f} s]", *a, flush=True)  # noqa: E731
    log("== outcome table and embeddings")
    datasets = datasets_root(args.datasets)
    d = load(datasets, out, tqdm)
    log(f"   {len(d.rows)} rows: " + ", ".join(f"{s} {int(d.mask(s).sum())}" for s in ("train", "val", "heldout")))
    log("== candidates (fit on train)")
    est, settings = candidates(d, log)
    log("== choices on val")
    report.run(d, est, settings, out, args.boot, log, datasets)
    (out / "tables.md").write_text(tables.render(out), encoding="utf-8")
    log(f"done; results under {out} (tables.md: the report's tables)")
    return 0
