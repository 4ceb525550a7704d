"""What the research run and its report share: the data of one run and the
scoring of routers on it (val log-loss, pair tables, APGR summaries)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serve_app.lab.outcomes import features, pairs, success, table, tiers


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
