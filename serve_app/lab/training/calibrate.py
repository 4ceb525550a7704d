"""`triage calibrate`: the routing settings for a traffic mix or a quality goal.

Two modes, each on a sample of prompts, each printing the settings to paste
into the router config and drawing the curve it chose from (PNG):

- `--max-share lrm=0.2 [--max-share llm=0.5]` (any prompt file): the highest
  `policy.quality_target` whose decisions keep every capped tier under its
  share (a higher target sends more traffic to larger tiers), and, for the
  prompts without outcome support (decided by the tier classifier), the
  least negative `policy.tier_bias` that does the same: the idea of RouteLLM
  calibrating its threshold to a share of strong calls;
- `--quality-target 0.95` (a routing-outcome file: weak_correct,
  strong_correct[, weak_tier]): the `policy.quality_target` with the fewest
  strong calls whose decisions keep 95% of the strong model's accuracy.

The policy adds tier_bias to the tier classifier's log-probabilities before
its argmax, so a negative bias moves borderline prompts to neighbour tiers.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np

from serve_app.config.schema import TIERS


def tier_mix(logp: np.ndarray, bias: dict[str, float]) -> dict[str, float]:
    b = np.array([bias.get(t, 0.0) for t in TIERS])
    choice = (logp + b).argmax(axis=1)
    return {t: float((choice == i).mean()) for i, t in enumerate(TIERS)}


def fit_bias(logp: np.ndarray, caps: dict[str, float], rounds: int = 20) -> dict[str, float]:
    """Smallest (least negative) bias per capped tier meeting every cap.

    Each cap is a monotone 1-D search (more negative bias, smaller share);
    caps interact through the argmax, so the searches repeat until stable.
    """
    unknown = set(caps) - set(TIERS)
    if unknown:
        raise ValueError(f"unknown tiers {sorted(unknown)}")
    bias = {t: 0.0 for t in caps}
    for _ in range(rounds):
        changed = False
        for tier, cap in caps.items():
            if tier_mix(logp, bias)[tier] <= cap + 1e-12:
                continue
            lo, hi = -50.0, bias[tier]  # share(lo) ~ 0 <= cap < share(hi)
            for _ in range(50):
                mid = (lo + hi) / 2
                if tier_mix(logp, {**bias, tier: mid})[tier] <= cap + 1e-12:
                    lo = mid
                else:
                    hi = mid
            # Rounded down (more negative), so the printed bias still meets the cap.
            bias[tier] = math.floor(lo * 1e4) / 1e4
            changed = True
        if not changed:
            break
    return bias


def parse_caps(items: list[str]) -> dict[str, float]:
    caps = {}
    for item in items:
        tier, _, share = item.partition("=")
        if tier not in TIERS or not share:
            raise ValueError(f"--max-share {item!r}: expected TIER=SHARE with TIER in {TIERS}")
        value = float(share)
        if not 0 <= value <= 1:
            raise ValueError(f"--max-share {item!r}: share must be within [0, 1]")
        caps[tier] = value
    return caps


TARGETS = np.round(np.linspace(0, 1, 101), 2)


def predict(data: str, model: str | None) -> tuple[list[dict], list[dict]]:
    from serve_app.classifier.heads import DEFAULT_MODEL
    from serve_app.lab.training.evaluate import BATCH, ModelPredictor
    from serve_app.lab.training.train import read_jsonl

    rows = [r for r in read_jsonl(Path(data)) if r.get("prompt")]
    predictor = ModelPredictor(model or DEFAULT_MODEL)
    preds = [p for start in range(0, len(rows), BATCH)
             for p in predictor.predict([r["prompt"] for r in rows[start:start + BATCH]])]
    return rows, preds


def decisions(preds: list[dict], target: float, bias: dict[str, float]) -> np.ndarray:
    """Tier index per prompt as served: by success where supported, else the
    biased tier classifier (policy/decide.py)."""
    from serve_app.config.schema import PolicyConfig
    from serve_app.policy.decide import by_success

    near_best = PolicyConfig().near_best
    b = np.array([bias.get(t, 0.0) for t in TIERS])
    out = []
    for p in preds:
        if p.get("supported"):
            out.append(TIERS.index(by_success(p["tier_success"], target, near_best)[0]))
        else:
            out.append(int((np.log(np.clip(p["tier_probs"], 1e-9, 1.0)) + b).argmax()))
    return np.array(out)


def mix(choice: np.ndarray) -> dict[str, float]:
    return {t: round(float((choice == i).mean()), 4) for i, t in enumerate(TIERS)}


def for_max_share(preds: list[dict], caps: dict[str, float]) -> dict:
    unsupported = [p for p in preds if not p.get("supported")]
    logp = np.log(np.clip(np.stack([p["tier_probs"] for p in unsupported]), 1e-9, 1.0)) if unsupported else None
    bias = fit_bias(logp, caps) if logp is not None else {}
    curve = [{"target": float(t), "mix": mix(decisions(preds, t, bias))} for t in TARGETS]
    ok = [c for c in curve if all(c["mix"][tier] <= cap + 1e-12 for tier, cap in caps.items())]
    chosen = max(ok, key=lambda c: c["target"]) if ok else None
    return {"caps": caps, "tier_bias": bias, "quality_target": chosen["target"] if chosen else None,
            "mix": chosen["mix"] if chosen else None, "curve": curve,
            "supported_share": round(1 - len(unsupported) / len(preds), 4)}


def for_quality(rows: list[dict], preds: list[dict], goal: float, weak_tier: str) -> dict:
    from serve_app.lab.training.routing_eval import at_target

    curve = [at_target(preds, rows, float(t), weak_tier) for t in TARGETS]
    ok = [c for c in curve if (c["of_strong_accuracy"] or 0) >= goal]
    chosen = min(ok, key=lambda c: (c["strong_share"], c["quality_target"])) if ok else None
    return {"goal": goal, "quality_target": chosen["quality_target"] if chosen else None, "at": chosen,
            "curve": curve}


def curve_png(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    if "goal" in result:
        xs = [c["strong_share"] * 100 for c in result["curve"]]
        ys = [(c["of_strong_accuracy"] or 0) * 100 for c in result["curve"]]
        ax.plot(xs, ys, "-o", ms=2, label="policy.quality_target 0 -> 1")
        ax.axhline(result["goal"] * 100, color="grey", lw=0.7, ls="--", label=f"goal {result['goal']:.0%}")
        if result["at"]:
            ax.plot([result["at"]["strong_share"] * 100], [result["at"]["of_strong_accuracy"] * 100], "r*", ms=12,
                    label=f"quality_target {result['quality_target']}")
        ax.set_xlabel("calls to the strong model (%)  [cost]")
        ax.set_ylabel("accuracy, % of the strong model's  [quality]")
    else:
        for tier in TIERS:
            ax.plot([c["target"] for c in result["curve"]], [c["mix"][tier] * 100 for c in result["curve"]], label=tier)
        if result["quality_target"] is not None:
            ax.axvline(result["quality_target"], color="red", lw=0.8, ls="--",
                       label=f"quality_target {result['quality_target']}")
        ax.set_xlabel("policy.quality_target")
        ax.set_ylabel("share of prompts (%)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(data: str, caps_args: list[str] | None, goal: float | None, out: str, model: str | None = None,
        weak_tier: str = "slm") -> int:
    rows, preds = predict(data, model)
    if not rows:
        print(f"{data}: no prompts")
        return 2
    if goal is not None:
        rows_ok = [r.get("weak_correct") is not None and r.get("strong_correct") is not None for r in rows]
        if not all(rows_ok):
            raise ValueError("--quality-target needs a routing-outcome file (weak_correct, strong_correct per row)")
        result = for_quality(rows, preds, goal, weak_tier)
        print(f"{len(rows)} prompts; goal: {goal:.0%} of the strong model's accuracy")
        if result["at"]:
            a = result["at"]
            print(f"cheapest setting: {a['strong_share']:.1%} strong calls, {a['of_strong_accuracy']:.1%} of strong accuracy")
    else:
        result = for_max_share(preds, parse_caps(caps_args))
        print(f"{len(rows)} prompts ({result['supported_share']:.0%} with outcome support); caps {result['caps']}")
        if result["mix"]:
            print("mix: " + ", ".join(f"{t} {v:.1%}" for t, v in result["mix"].items()))
    if result["quality_target"] is None:
        print("no setting reaches it on this sample")
    print("\nadd to the router config:\npolicy:")
    if result["quality_target"] is not None:
        print(f"  quality_target: {result['quality_target']}")
    if result.get("tier_bias"):
        print("  tier_bias:\n" + "\n".join(f"    {t}: {b}" for t, b in result["tier_bias"].items()))
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    curve_png(result, out_path.with_suffix(".png"))
    out_path.write_text(json.dumps({"data": data, "prompts": len(rows), **result}, indent=2) + "\n")
    print(f"wrote {out_path} and {out_path.with_suffix('.png')}")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--data", required=True, help="JSONL with a `prompt` per line (+ weak_correct/strong_correct "
                   "for --quality-target)")
    mode = p.add_mutually_exclusive_group(required=True)
    mode.add_argument("--max-share", action="append", metavar="TIER=SHARE", help="e.g. lrm=0.2 (repeatable)")
    mode.add_argument("--quality-target", type=float, metavar="FRACTION",
                      help="keep this fraction of the strong model's accuracy, e.g. 0.95")
    p.add_argument("--weak-tier", default="slm", help="the weak model's tier where rows do not say")
    p.add_argument("--out", default="loadtest/results/calibrate.json", help="JSON; the curve PNG goes beside it")
    p.add_argument("--model", default=None)
    a = p.parse_args(argv)
    try:
        return run(a.data, a.max_share, a.quality_target, a.out, a.model, a.weak_tier)
    except ValueError as e:
        print(f"{p.prog}: {e}", file=sys.stderr)
        return 2
