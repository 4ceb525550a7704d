"""One outcome table from the three sources: splits and per-tier success.

Split rules (decided before any model was fitted):
- held out whole (`split="heldout"`, never trained on, never used for a
  choice): HELDOUT_BENCHMARKS and, inside MMLU-Pro, HELDOUT_CATEGORIES;
- validation (`split="val"`): VAL_PERCENT of the remaining rows by a stable
  hash of their group (one group per question), used for every choice;
- the rest is `train` (and, after the choices, the outcome memory).

Per tier, `success[tier]` is the mean score of the tier's *training* models
(eval-only models excluded, see tiers.py), with a tier the source lacks
imputed from the next weaker one (IMPUTE_FROM, listed in `imputed`): the
training target. `success_all` includes every model of the tier and is never
imputed (NaN / JSON null where no model of the tier scored the prompt): the
truth for evaluation.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from serve_app.lab.outcomes import tiers
from serve_app.lab.outcomes.loaders import LOADERS
from serve_app.lab.training.dataset import near_key

# A grade-school math set and two multiple-choice knowledge sets of other
# origins, plus one MMLU-Pro subject with no neighbour subject in training.
HELDOUT_BENCHMARKS = ("routing:gsm8k", "routing:arc_challenge", "mmlu_pro:scibench")
HELDOUT_CATEGORIES = {"mmlu_pro": ("psychology",)}
VAL_PERCENT = 15


def heldout_set(row: dict) -> str | None:
    if row["benchmark"] in HELDOUT_BENCHMARKS:
        return row["benchmark"]
    if row["category"] in HELDOUT_CATEGORIES.get(row["source"], ()):
        return f"{row['source']}:{row['category']}"
    return None


def is_val(group: str, percent: int = VAL_PERCENT) -> bool:
    return int(hashlib.sha1(group.encode()).hexdigest()[:8], 16) % 100 < percent


def tier_success(source: str, scores: dict, include_eval_only: bool = False) -> dict[str, float | None]:
    out = {}
    for t in tiers.TIERS:
        vals = [scores[m] for m in tiers.tier_models(source, t, include_eval_only) if scores.get(m) is not None]
        out[t] = float(np.mean(vals)) if vals else None
    return out


# A tier with no model on a source (srm on AlpacaEval, lrm on routing_outcomes)
# takes the success of the next weaker tier there: a small reasoning model is
# assumed no better than a small model at open-ended writing, and the strongest
# tier no worse than the large one (a lower bound). Training targets only:
# evaluation always uses the measured tiers (`success_all`, NaN where none).
IMPUTE_FROM = {"srm": "slm", "lrm": "llm"}


def impute(success: dict[str, float | None]) -> tuple[dict[str, float | None], list[str]]:
    out, done = dict(success), []
    for t, src in IMPUTE_FROM.items():
        if out[t] is None and out[src] is not None:
            out[t] = out[src]
            done.append(t)
    return out, done


def dedup(rows: list[dict]) -> tuple[list[dict], Counter]:
    """First row per near-duplicate key (case, spacing, punctuation ignored)."""
    seen, kept, dropped = set(), [], Counter()
    for r in rows:
        k = near_key(r["prompt"])
        if not k or k in seen:
            dropped[r["benchmark"]] += 1
            continue
        seen.add(k)
        kept.append(r)
    return kept, dropped


def finish(rows: list[dict]) -> list[dict]:
    for r in rows:
        held = heldout_set(r)
        r["split"] = "heldout" if held else ("val" if is_val(r["group"]) else "train")
        r["eval_set"] = held or r["benchmark"]
        r["success"], r["imputed"] = impute(tier_success(r["source"], r["scores"]))
        r["success_all"] = tier_success(r["source"], r["scores"], include_eval_only=True)
    return rows


def build(datasets: Path, sources=tuple(LOADERS)) -> tuple[list[dict], dict]:
    raw = [r for s in sources for r in LOADERS[s](Path(datasets))]
    rows, dropped = dedup(raw)
    rows = finish(rows)
    return rows, report(rows, dropped)


def success_matrix(rows: list[dict], key: str = "success") -> np.ndarray:
    return np.array([[np.nan if r[key][t] is None else r[key][t] for t in tiers.TIERS] for r in rows], np.float64)


def report(rows: list[dict], dropped: Counter) -> dict:
    per = defaultdict(lambda: Counter())
    succ = defaultdict(list)
    for r in rows:
        per[r["eval_set"] if r["split"] == "heldout" else r["benchmark"]][r["split"]] += 1
        succ[r["benchmark"]].append([np.nan if r["success"][t] is None else r["success"][t] for t in tiers.TIERS])
    mean = {b: {t: (None if np.all(np.isnan(m[:, i])) else round(float(np.nanmean(m[:, i])), 4))
                for i, t in enumerate(tiers.TIERS)} for b, m in ((b, np.array(v)) for b, v in succ.items())}
    return {"rows": len(rows), "splits": dict(Counter(r["split"] for r in rows)),
            "per_benchmark": {b: dict(c) for b, c in sorted(per.items())},
            "near_duplicates_dropped": dict(dropped), "mean_tier_success": mean,
            "heldout_benchmarks": list(HELDOUT_BENCHMARKS), "heldout_categories": HELDOUT_CATEGORIES,
            "val_percent": VAL_PERCENT}


def write(rows: list[dict], rep: dict, out: Path) -> None:
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "outcomes.jsonl").open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    np.save(out / "tier_success.npy", success_matrix(rows))
    np.save(out / "tier_success_all.npy", success_matrix(rows, "success_all"))
    (out / "table_report.json").write_text(json.dumps(rep, indent=2) + "\n", encoding="utf-8")


def read(out: Path) -> list[dict]:
    with (Path(out) / "outcomes.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]
