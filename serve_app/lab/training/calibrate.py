"""`triage calibrate --data prompts.jsonl --max-share lrm=0.2`.

Fits `policy.tier_bias` so that, on a sample of an operator's prompts, the
classifier sends at most the given share of traffic to each capped tier: the
same idea as RouteLLM calibrating its threshold to a target share of strong
calls. The policy adds the bias to the tier log-probabilities before the
argmax, so a negative bias moves borderline prompts to the neighbour tiers.
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


def run(data: str, caps_args: list[str], out: str | None, model: str | None = None) -> int:
    from serve_app.classifier.heads import DEFAULT_MODEL
    from serve_app.lab.training.evaluate import BATCH, ModelPredictor
    from serve_app.lab.training.train import read_jsonl

    caps = parse_caps(caps_args)
    prompts = [r["prompt"] for r in read_jsonl(Path(data))]
    if not prompts:
        print(f"{data}: no prompts")
        return 2
    predictor = ModelPredictor(model or DEFAULT_MODEL)
    probs = np.stack([p["tier_probs"] for start in range(0, len(prompts), BATCH)
                      for p in predictor.predict(prompts[start:start + BATCH])])
    # Same floor as policy.choose_tier, so the mix here is the mix served.
    logp = np.log(np.clip(probs, 1e-9, 1.0))
    bias = fit_bias(logp, caps)
    before, after = tier_mix(logp, {}), tier_mix(logp, bias)
    print(f"{len(prompts)} prompts; caps {caps}")
    print(f"{'tier':<5} {'before':>7} {'after':>7}")
    for t in TIERS:
        print(f"{t:<5} {before[t]:>7.1%} {after[t]:>7.1%}")
    print("\nadd to the router config:\npolicy:\n  tier_bias:")
    for t, b in bias.items():
        print(f"    {t}: {b}")
    if out:
        Path(out).write_text(json.dumps({"prompts": len(prompts), "caps": caps, "tier_bias": bias,
                                         "mix_before": before, "mix_after": after}, indent=2) + "\n")
        print(f"wrote {out}")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Fit policy.tier_bias to cap tier shares on a prompt sample.")
    p.add_argument("--data", required=True, help="JSONL with a `prompt` per line")
    p.add_argument("--max-share", action="append", required=True, metavar="TIER=SHARE", help="e.g. lrm=0.2 (repeatable)")
    p.add_argument("--out", default=None)
    p.add_argument("--model", default=None)
    a = p.parse_args(argv)
    try:
        return run(a.data, a.max_share, a.out, a.model)
    except ValueError as e:
        print(f"{p.prog}: {e}", file=sys.stderr)
        return 2
