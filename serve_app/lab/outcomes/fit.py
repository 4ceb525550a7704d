"""The per-tier success model the router serves, fitted with the settings the
research run chose on validation (`triage experiment success-models`;
serve_app/lab/outcomes/results/RESULTS.md has its numbers):

- head: the served features (unit MiniLM embedding, onnx-int8 at 128 tokens,
  + log length) -> ReLU(256) -> one logit per tier, soft targets (the share
  of a tier's training models that answered well), weight decay 1e-2, early
  stopping on val; lowest val log-loss of the linear and MLP heads tried;
- memory: the train rows (vectors + per-tier success), k = 10 neighbours by
  cosine, a Beta prior of strength 20 around the head (the blend with the
  lowest val log-loss; kNN alone and linear mixes were worse);
- Platt per tier on val; support floor = the 5th percentile of val's nearest
  similarity (below it a prompt is unlike the outcome data: tier classifier);
- quality_target default: on val, the cheapest target (among those up to the
  quality peak, where a higher target means more quality) whose decisions
  keep 95% of the quality of always using the strongest tier, with no tier
  reaching it meaning the cheapest tier within 20% of the best estimate
  (policy.near_best; measured on val against "the most likely tier" and
  "the tier classifier's": same or better quality at the same cost).

The blend is computed with the runtime's own SuccessModel, so what is fitted
here is what serves. Non-commercial sources (AlpacaEval's instruction set,
CC BY-NC) stay out unless allow_noncommercial.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from serve_app.lab.outcomes import features, pairs, success, table, tiers
from serve_app.outcomes.estimate import SuccessModel, SuccessSettings

SETTINGS = {"hidden": 256, "weight_decay": 1e-2, "k": 10, "alpha": 20.0, "floor": 0.0}
SUPPORT_PERCENTILE = 5.0
NEAR_BEST = 0.2  # policy.near_best: the rule the default target is chosen under
RELATIVE_QUALITY = 0.95
NONCOMMERCIAL = ("alpaca_eval",)
MEMORY_FILE = "outcome_memory.npz"


def fit(datasets: Path, work: Path, allow_noncommercial: bool = False, progress=None, log=print,
        encoder: str | None = None) -> dict:
    """{"weights": success.* arrays, "meta": model.json's success section,
    "memory": (vectors, success), "table_report": ...}. `encoder`: the
    model's fine-tuned encoder directory (None: the packaged MiniLM)."""
    sources = tuple(s for s in table.LOADERS if allow_noncommercial or s not in NONCOMMERCIAL)
    rows, rep = table.build(datasets, sources)
    table.write(rows, rep, work / "table")
    split = np.array([r["split"] for r in rows])
    tr, va = split == "train", split == "val"
    log(f"outcome table: {len(rows)} prompts ({', '.join(sources)}): train {tr.sum()}, val {va.sum()}, "
        f"held-out {(split == 'heldout').sum()}")
    emb, tok = features.embed([r["prompt"] for r in rows], work / "emb", progress, encoder)
    x, y, y_all = features.served(emb, tok), table.success_matrix(rows), table.success_matrix(rows, "success_all")

    head = success.MLPHeads.fit(x[tr], y[tr], hidden=SETTINGS["hidden"], weight_decay=SETTINGS["weight_decay"],
                                val=(x[va], y[va]))
    weights = {"success.W1": head.W1, "success.b1": head.b1, "success.W2": head.W2, "success.b2": head.b2}
    meta = {"tiers": list(tiers.TIERS), "memory": MEMORY_FILE, "hidden": SETTINGS["hidden"],
            "knn": {"k": SETTINGS["k"], "alpha": SETTINGS["alpha"], "floor": SETTINGS["floor"]}, "support_floor": 0.0}
    model = SuccessModel(weights, SuccessSettings.from_meta(meta))
    sims, idx = success.topk(emb[va], emb[tr], SETTINGS["k"])
    raw = model.blend(model.head(x[va]), sims, y[tr][idx])
    platt = success.Platt.fit(raw, y[va])
    meta["platt"] = {"a": [float(v) for v in platt.a], "b": [float(v) for v in platt.b]}
    meta["support_floor"] = round(float(np.percentile(sims[:, 0], SUPPORT_PERCENTILE)), 4)
    meta["support_percentile"] = SUPPORT_PERCENTILE
    served = platt(raw)
    curve = pairs.decision_curve(served, y_all[va], slack=NEAR_BEST)
    # Only targets up to the quality peak: past it, targets above what tiers
    # reach hand prompts to the near-best rule and quality falls as the
    # target rises, a knob that works backwards.
    peak = max(range(len(curve["curve"])), key=lambda i: curve["curve"][i]["relative_quality"])
    ok = [c for c in curve["curve"][:peak + 1] if c["relative_quality"] >= RELATIVE_QUALITY]
    chosen = min(ok, key=lambda c: (c["cost"], c["target"])) if ok else None
    meta["quality_target"] = chosen["target"] if chosen else 1.0
    meta["near_best"] = NEAR_BEST
    meta["val"] = {"log_loss": round(success.masked_bce(served, y[va]), 5), "ece": round(success.ece(served, y[va]), 4),
                   "at_quality_target": chosen, "always_top": curve["always_top"], "sources": list(sources),
                   "rule": f"cheapest target keeping {RELATIVE_QUALITY:.0%} of always-top quality on val"}
    meta["coverage"] = coverage(datasets, work, emb[tr], meta["support_floor"],
                                {"val": emb[va], "heldout": emb[split == "heldout"]}, progress, encoder)
    log(f"success model: val log-loss {meta['val']['log_loss']}, ECE {meta['val']['ece']}, "
        f"support floor {meta['support_floor']}, quality_target {meta['quality_target']}")
    return {"weights": weights, "meta": meta, "memory": (emb[tr], y[tr]), "table_report": rep}


def save_memory(directory: Path, vectors: np.ndarray, success_rates: np.ndarray) -> None:
    np.savez_compressed(Path(directory) / MEMORY_FILE, vectors=vectors.astype(np.float16),
                        success=success_rates.astype(np.float16))


def coverage(datasets: Path, work: Path, memory: np.ndarray, floor: float, known: dict, progress=None,
             encoder: str | None = None) -> dict:
    """Share of prompts with outcome support (nearest memory similarity >=
    floor): the outcome data's own splits, and prompts unlike it (ood.py:
    Arena-Hard creative writing / coding / math, summaries). Measured, never
    used to choose the floor."""
    from serve_app.lab.outcomes.ood import ood_prompts

    sets = dict(known)
    for name, prompts in ood_prompts(datasets).items():
        sets[name] = features.embed(prompts, work / "emb", progress, encoder)[0]
    return {name: round(float(np.mean(success.topk(e, memory, 1)[0][:, 0] >= floor)), 4) for name, e in sets.items()}
