"""`python -m serve_app.lab.outcomes.research --datasets ../shared/datasets --out build/routing_research`

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
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serve_app.lab.outcomes import features, pairs, success, table, tiers

HEAD_GRID = [("linear", {"l2": 1e-4}), ("linear", {"l2": 1e-3}), ("linear", {"l2": 1e-2}),
             ("linear+counts", {"l2": 1e-3}), ("mlp", {"hidden": 256, "weight_decay": 1e-2})]
KNN_K = (10, 30, 100)
KNN_ALPHA = (1.0, 5.0, 20.0)
KNN_FLOOR = (0.0, 0.5, 0.7)
LINEAR_BLEND = (0.25, 0.5, 0.75)


@dataclass
class Data:
    rows: list[dict]
    emb: np.ndarray
    tok: np.ndarray
    X: np.ndarray  # served features
    C: np.ndarray  # text counts
    Y: np.ndarray  # per-tier success, training models
    Yall: np.ndarray  # per-tier success, all models
    split: np.ndarray
    source: np.ndarray
    eval_set: np.ndarray

    def mask(self, name: str) -> np.ndarray:
        return self.split == name


def load(datasets: Path, out: Path, progress=None) -> Data:
    # Rebuilt every run (2 s): a cached table would go stale when the mapping changes.
    rows, rep = table.build(datasets)
    table.write(rows, rep, out / "table")
    prompts = [r["prompt"] for r in rows]
    emb, tok = features.embed(prompts, out / "emb", progress)
    return Data(rows, emb, tok, features.served(emb, tok), features.counts(prompts), table.success_matrix(rows),
                table.success_matrix(rows, "success_all"), np.array([r["split"] for r in rows]),
                np.array([r["source"] for r in rows]), np.array([r["eval_set"] for r in rows]))


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


def pick(est: dict, d: Data, prefix: str) -> str:
    va = d.mask("val")
    return min((n for n in est if n.startswith(prefix)), key=lambda n: success.masked_bce(est[n][va], d.Y[va]))


def val_scores(est: dict, d: Data) -> dict:
    va = d.mask("val")
    return {n: {"log_loss": round(success.masked_bce(p[va], d.Y[va]), 5),
                "brier": round(success.masked_brier(p[va], d.Y[va]), 5)} for n, p in est.items()}


def units(d: Data, split: str) -> dict[str, np.ndarray]:
    """Evaluation units: each source pooled (mixed traffic) and each benchmark alone."""
    m = d.mask(split)
    out = {f"{s} (pooled)": m & (d.source == s) for s in np.unique(d.source[m])}
    for b in np.unique(d.eval_set[m]):
        mb = m & (d.eval_set == b)
        if mb.sum() >= pairs.MIN_ROWS:
            out[b] = mb
    return out


def pair_table(d: Data, split: str, routers: dict, boot: int = 0, gain: tuple = ()) -> dict:
    """{unit: [pair results]}; `routers[name]` is [n, 4] (the weak tier's column is the
    score, as the protocol says) or [n] (one score for every pair, e.g. v1's 1 - difficulty).
    Routers named in `gain` are also scored as `<name> (gain)`: P(weak tier) - P(strong
    tier), so prompts that no tier answers are not sent to the strong model first."""
    ti = {t: i for i, t in enumerate(tiers.TIERS)}
    res = {}
    for unit, m in units(d, split).items():
        sub = [d.rows[i] for i in np.nonzero(m)[0]]
        for pr in pairs.PAIRS:
            w, s = ti[pr.weak_tier], ti[tiers.tier_of(pr.source, pr.strong) or "llm"]
            scores = {n: (p[m] if p.ndim == 1 else p[m][:, w]) for n, p in routers.items()}
            scores |= {f"{n} (gain)": np.nan_to_num(routers[n][m][:, w] - routers[n][m][:, s]) for n in gain}
            e = pairs.evaluate_pair(sub, pr, scores, boot=boot)
            if e is not None:
                res.setdefault(unit, []).append(e)
    return res


MIN_GAP = 0.05  # pairs whose strong model is not 5 points better are listed, not averaged


def mean_apgr(res: dict, name: str, kinds=("seen",), pooled=False) -> float | None:
    v = [e["routers"][name]["apgr"] for unit, es in res.items() if pooled == unit.endswith("(pooled)")
         for e in es if e["kind"] in kinds and e["gap"] >= MIN_GAP and name in e["routers"]]
    return round(float(np.mean(v)), 4) if v else None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="../shared/datasets")
    ap.add_argument("--out", default="build/routing_research")
    ap.add_argument("--boot", type=int, default=200, help="bootstrap resamples for APGR errors on held-out")
    args = ap.parse_args(argv)
    from tqdm import tqdm

    from serve_app.lab.outcomes import report

    out = Path(args.out)
    t0 = time.time()
    log = lambda *a: print(f"[{time.time() - t0:6.0f} s]", *a, flush=True)  # noqa: E731
    log("== outcome table and embeddings")
    d = load(Path(args.datasets), out, tqdm)
    log(f"   {len(d.rows)} rows: " + ", ".join(f"{s} {int(d.mask(s).sum())}" for s in ("train", "val", "heldout")))
    log("== candidates (fit on train)")
    est, settings = candidates(d, log)
    log("== choices on val")
    report.run(d, est, settings, out, args.boot, log, Path(args.datasets))
    log(f"done; results under {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
