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


def run(data: str, out: str, model: str | None = None) -> int:
    from tqdm import tqdm

    from serve_app.classifier.heads import DEFAULT_MODEL
    from serve_app.training.evaluate import BATCH, ModelPredictor
    from serve_app.training.train import read_jsonl

    rows = [r for r in read_jsonl(Path(data))
            if r.get("weak_correct") is not None and r.get("strong_correct") is not None]
    if not rows:
        print(f"{data}: no rows with weak_correct and strong_correct")
        return 2
    predictor = ModelPredictor(model or DEFAULT_MODEL)
    scores = []
    for start in tqdm(range(0, len(rows), BATCH), desc="difficulty", unit="batch"):
        scores.extend(p["difficulty"] for p in predictor.predict([r["prompt"] for r in rows[start:start + BATCH]]))
    summary = summarize(scores, [r["weak_correct"] for r in rows], [r["strong_correct"] for r in rows])
    summary["file"] = str(data)
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    png = out_path.with_suffix(".png")
    curves_png(summary, png, f"{Path(data).name}: difficulty router vs random and oracle")
    summary["png"] = png.name
    out_path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(table(summary))
    print(f"wrote {out_path} and {png}")
    return 0
