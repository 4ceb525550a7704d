"""`triage eval routing --data FILE.jsonl --out routing.json`.

Outcome file rows: `prompt, weak_correct, strong_correct`. The router sends a
prompt to the strong model when its difficulty score is at least a threshold;
sweeping the threshold traces accuracy against the share of strong calls.
Reported, as RouteLLM defines them:
- PGR(share) = (acc - weak_acc) / (strong_acc - weak_acc), performance gap recovered;
- APGR = the area under PGR over the strong-call share (random router: 0.5);
- CPT(x) = the smallest strong share reaching PGR x; and, as the issue asks,
  the smallest share reaching x of the strong model's accuracy.
Random and oracle routers are computed on the same file.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

TARGETS = (0.8, 0.9, 0.95)


def curve(scores: np.ndarray, weak: np.ndarray, strong: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(strong share, accuracy) for every cut: the k highest scores go strong.

    Ties in score are sent together, as one threshold would send them.
    """
    n = len(scores)
    order = np.argsort(-scores, kind="stable")
    gain = (strong - weak)[order].astype(np.float64)
    acc = weak.mean() + np.r_[0.0, np.cumsum(gain)] / n
    shares = np.arange(n + 1) / n
    s = scores[order]
    keep = np.r_[True, np.r_[s[1:] != s[:-1], True]]  # cut only between distinct scores
    return shares[keep], acc[keep]


def oracle_curve(weak: np.ndarray, strong: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Strong first where it alone is right, then where both are (no gain),
    # and last where only weak is right.
    return curve((strong - weak).astype(np.float64), weak, strong)


def pgr(acc: np.ndarray, weak_acc: float, strong_acc: float) -> np.ndarray:
    gap = strong_acc - weak_acc
    return (acc - weak_acc) / gap if gap else np.zeros_like(acc)


def apgr(shares: np.ndarray, acc: np.ndarray, weak_acc: float, strong_acc: float) -> float:
    """Area under the PGR curve, as a step-free (linear) interpolation."""
    p = pgr(acc, weak_acc, strong_acc)
    return float(np.sum((shares[1:] - shares[:-1]) * (p[1:] + p[:-1]) / 2))


def share_to_reach(shares: np.ndarray, values: np.ndarray, target: float) -> float | None:
    ok = np.nonzero(values >= target - 1e-12)[0]
    return float(shares[ok[0]]) if len(ok) else None


def summarize(scores, weak, strong) -> dict:
    return summarize_many({"difficulty": scores}, weak, strong)


def summarize_many(routers: dict, weak, strong) -> dict:
    """`summarize` for several routers on one outcome file (each: a difficulty
    score per row, highest goes strong first), plus random and oracle."""
    weak, strong = (np.asarray(a, dtype=np.float64) for a in (weak, strong))
    weak_acc, strong_acc = float(weak.mean()), float(strong.mean())
    out = {"n": int(len(weak)), "weak_accuracy": weak_acc, "strong_accuracy": strong_acc, "routers": {}}
    routers = {
        **{name: curve(np.asarray(s, dtype=np.float64), weak, strong) for name, s in routers.items()},
        # A fine grid, so share_to_reach finds the random router's share to 0.1%.
        "random": (np.linspace(0, 1, 1001), weak_acc + np.linspace(0, 1, 1001) * (strong_acc - weak_acc)),
        "oracle": oracle_curve(weak, strong),
    }
    for name, (sh, acc) in routers.items():
        p = pgr(acc, weak_acc, strong_acc)
        out["routers"][name] = {
            "apgr": apgr(sh, acc, weak_acc, strong_acc),
            "strong_share_for_accuracy": {f"{int(t * 100)}%": share_to_reach(sh, acc, t * strong_acc) for t in TARGETS},
            "strong_share_for_pgr": {f"{int(t * 100)}%": share_to_reach(sh, p, t) for t in TARGETS},
            "curve": {"share": [round(float(x), 5) for x in sh], "accuracy": [round(float(x), 5) for x in acc]},
        }
    return out


def curves_png(summary: dict, path: Path, title: str, ax=None) -> None:
    """Accuracy against strong share for every router in `summary` (random
    dashed, oracle dotted). With `ax`, draws into it and saves nothing."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    own = ax is None
    if own:
        fig, ax = plt.subplots(figsize=(6, 4.2))
    for name in summary["routers"]:
        style = {"random": "--", "oracle": ":"}.get(name, "-")
        c = summary["routers"][name]["curve"]
        ax.plot(np.array(c["share"]) * 100, np.array(c["accuracy"]) * 100, style,
                label=f"{name} (APGR {summary['routers'][name]['apgr']:.3f})")
    ax.axhline(summary["strong_accuracy"] * 95, color="grey", lw=0.6)
    ax.text(1, summary["strong_accuracy"] * 95 + 0.4, "95% of strong", fontsize=7, color="grey")
    ax.set_xlabel("calls to the strong model (%)")
    ax.set_ylabel("accuracy (%)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    if own:
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)


def table(summary: dict) -> str:
    lines = [f"n={summary['n']}  weak acc {summary['weak_accuracy']:.3f}  strong acc {summary['strong_accuracy']:.3f}",
             f"{'router':<11} {'APGR':>6}   strong share for 80/90/95% of strong acc   (for PGR 80/90/95%)"]
    fmt = lambda v: "  -  " if v is None else f"{v * 100:5.1f}%"  # noqa: E731
    for name, r in summary["routers"].items():
        a, p = r["strong_share_for_accuracy"], r["strong_share_for_pgr"]
        lines.append(f"{name:<11} {r['apgr']:>6.3f}   {fmt(a['80%'])} {fmt(a['90%'])} {fmt(a['95%'])}"
                     f"                       ({fmt(p['80%'])} {fmt(p['90%'])} {fmt(p['95%'])})")
    return "\n".join(lines)


def decided_tier(pred: dict, target: float) -> str:
    """The tier the serving policy picks without headers (policy/decide.py):
    by predicted success where the prompt has outcome support, else the tier
    classifier's argmax."""
    from serve_app.config.schema import PolicyConfig
    from serve_app.policy.decide import by_success

    NEAR_BEST = PolicyConfig().near_best

    if pred.get("supported"):
        return by_success(pred["tier_success"], target, NEAR_BEST)[0]
    return pred["tier"]


def at_target(preds: list[dict], rows: list[dict], target: float, weak_tier: str) -> dict:
    """What the served decision does to a weak/strong pair: a prompt goes strong
    when the tier decided at `target` is above the weak model's tier."""
    order = ("slm", "srm", "llm", "lrm")
    strong = np.array([order.index(decided_tier(p, target)) > order.index(r.get("weak_tier") or weak_tier)
                       for p, r in zip(preds, rows)])
    w = np.array([r["weak_correct"] for r in rows], float)
    s = np.array([r["strong_correct"] for r in rows], float)
    acc = float(np.where(strong, s, w).mean())
    return {"quality_target": target, "strong_share": round(float(strong.mean()), 4), "accuracy": round(acc, 4),
            "of_strong_accuracy": round(acc / s.mean(), 4) if s.mean() else None,
            "unsupported_share": round(float(np.mean([not p.get("supported", False) for p in preds])), 4)}


def evaluate_file(rows: list[dict], preds: list[dict], base: list[dict] | None, target: float | None,
                  weak_tier: str) -> dict:
    """Per `source` (all rows when there is none): APGR and strong shares of the
    success router, the baseline's difficulty router, random and oracle; the
    decision at the quality target."""
    groups: dict[str, list[int]] = {}
    for i, r in enumerate(rows):
        groups.setdefault(r.get("source") or "all", []).append(i)
    out: dict = {"sources": {}}
    for source, idx in groups.items():
        sub = [rows[i] for i in idx]
        routers = {}
        if "tier_success" in preds[0]:
            routers["success"] = [1 - preds[i]["tier_success"][rows[i].get("weak_tier") or weak_tier] for i in idx]
        else:  # a model without a success estimator routes by its difficulty head
            routers["difficulty (model)"] = [preds[i]["difficulty"] for i in idx]
        if base is not None:
            routers["difficulty (baseline)"] = [base[i]["difficulty"] for i in idx]
        summary = summarize_many(routers, [r["weak_correct"] for r in sub], [r["strong_correct"] for r in sub])
        summary["pair_kind"] = sub[0].get("pair_kind")
        if target is not None and "tier_success" in preds[0]:
            summary["at_target"] = at_target([preds[i] for i in idx], sub, target, weak_tier)
        out["sources"][source] = summary
    out["mean"] = _means(out["sources"])
    return out


def _means(sources: dict, min_gap: float = 0.05) -> dict:
    """Mean APGR per router over sources whose strong model is >= 5 points
    better (a smaller gap makes APGR noise), by pair kind."""
    means: dict = {}
    for kind in sorted({s.get("pair_kind") or "all" for s in sources.values()} | {"all"}):
        picked = [s for s in sources.values() if s["strong_accuracy"] - s["weak_accuracy"] >= min_gap
                  and kind in ("all", s.get("pair_kind") or "all")]
        if picked:
            means[kind] = {"sources": len(picked), **{name: round(float(np.mean([s["routers"][name]["apgr"]
                                                                                for s in picked])), 4)
                                                       for name in picked[0]["routers"]}}
    return means


def run(data: str, out: str, model: str | None = None, baseline: str | None = "triage-router-v1",
        quality_target: float | None = None, weak_tier: str = "slm") -> int:
    from tqdm import tqdm

    from serve_app.classifier.heads import DEFAULT_MODEL
    from serve_app.lab.training.evaluate import BATCH, ModelPredictor
    from serve_app.lab.training.train import read_jsonl

    rows = [r for r in read_jsonl(Path(data))
            if r.get("weak_correct") is not None and r.get("strong_correct") is not None]
    if not rows:
        print(f"{data}: no rows with weak_correct and strong_correct")
        return 2
    prompts = sorted({r["prompt"] for r in rows})

    def predict(name: str) -> list[dict]:
        predictor = ModelPredictor(name)
        by_prompt = {}
        for start in tqdm(range(0, len(prompts), BATCH), desc=name, unit="batch"):
            chunk = prompts[start:start + BATCH]
            by_prompt.update(zip(chunk, predictor.predict(chunk)))
        return [by_prompt[r["prompt"]] for r in rows], predictor.quality_target

    preds, model_target = predict(model or DEFAULT_MODEL)
    base = predict(baseline)[0] if baseline and baseline != (model or DEFAULT_MODEL) else None
    target = quality_target if quality_target is not None else model_target
    result = evaluate_file(rows, preds, base, target, weak_tier)
    result.update(file=str(data), model=model or DEFAULT_MODEL, baseline=baseline, quality_target=target)
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    png = out_path.with_suffix(".png")
    grid_png(result["sources"], png)
    result["png"] = png.name
    out_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(sources_table(result))
    print(f"wrote {out_path} and {png}")
    return 0


def grid_png(sources: dict, path: Path, cols: int = 3, most: int = 12) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(sources)[:most]
    rows = (len(names) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax, name in zip(axes.flat, names):
        curves_png(sources[name], path, name, ax=ax)
    for ax in list(axes.flat)[len(names):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def sources_table(result: dict) -> str:
    fmt = lambda v: "   - " if v is None else f"{v * 100:5.1f}"  # noqa: E731
    lines = [f"quality target {result.get('quality_target')}; strong share (%) for 80/90/95% of strong accuracy",
             f"{'source':<58} {'router':<22} {'APGR':>6} {'s80':>5} {'s90':>5} {'s95':>5}"]
    for source, s in result["sources"].items():
        for i, (name, r) in enumerate(s["routers"].items()):
            a = r["strong_share_for_accuracy"]
            label = f"{source[:56]} (n={s['n']})" if i == 0 else ""
            lines.append(f"{label:<58} {name:<22} {r['apgr']:>6.3f} {fmt(a['80%'])} {fmt(a['90%'])} {fmt(a['95%'])}")
        if "at_target" in s:
            t = s["at_target"]
            lines.append(f"{'':<58} {'at target':<22} strong {t['strong_share'] * 100:5.1f}%  "
                         f"accuracy {t['of_strong_accuracy'] * 100 if t['of_strong_accuracy'] else 0:5.1f}% of strong")
    for kind, m in result["mean"].items():
        lines.append(f"mean APGR over {m['sources']} {kind} sources (gap >= 5 pts): " +
                     ", ".join(f"{k} {v:.3f}" for k, v in m.items() if k != "sources"))
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Routing quality on a routing-outcome file: per source, "
                                "APGR and strong shares of the success router, the baseline, random and oracle.")
    p.add_argument("--data", required=True, help="JSONL: prompt, weak_correct, strong_correct[, source, weak_tier, ...]")
    p.add_argument("--out", required=True)
    p.add_argument("--model", default=None, help="model directory or shipped name (default: the served one)")
    p.add_argument("--baseline", default="triage-router-v1", help="compare with this model's difficulty ('' for none)")
    p.add_argument("--quality-target", type=float, default=None, help="default: the model's calibrated target")
    p.add_argument("--weak-tier", default="slm", help="tier of the weak model where rows do not say")
    a = p.parse_args(argv)
    return run(a.data, a.out, a.model, a.baseline or None, a.quality_target, a.weak_tier)
