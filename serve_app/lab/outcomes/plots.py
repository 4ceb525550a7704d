"""PNG figures: weak/strong pair curves and the cost/quality curve of the decision."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from serve_app.lab.training import routing_eval

MIN_GAP = 0.05


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def pick_panels(res: dict, per_unit: int = 2) -> list[tuple[str, dict]]:
    """Per benchmark (pooled units skipped): the seen pair and the unseen pair with the largest gap."""
    out = []
    for unit, es in res.items():
        if unit.endswith("(pooled)"):
            continue
        ok = [e for e in es if e["gap"] >= MIN_GAP]
        for kinds in (("seen",), ("unseen", "weak-unseen")):
            cand = sorted((e for e in ok if e["kind"] in kinds), key=lambda e: -e["gap"])
            out.extend((unit, e) for e in cand[:1])
    return out[: per_unit * len(res)]


def pair_grid(res: dict, path: Path, names: list[str]) -> None:
    panels = pick_panels(res)
    if not panels:
        return
    plt = _plt()
    cols = 3
    rows = (len(panels) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5.2 * cols, 3.8 * rows), squeeze=False)
    for ax, (unit, e) in zip(axes.ravel(), panels):
        summary = {"strong_accuracy": e["strong_accuracy"],
                   "routers": {n: {"curve": e["curves"][n], "apgr": e["routers"][n]["apgr"]}
                               for n in [*names, "random", "oracle"] if n in e["curves"]}}
        routing_eval.curves_png(summary, path, f"{unit} n={e['n']}\n{e['pair']} [{e['kind']}]", ax=ax)
    for ax in axes.ravel()[len(panels):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def decision_png(decision: dict, path: Path) -> None:
    """Relative quality against relative cost as the quality target sweeps 0..1; the
    default target, v1's tier head and the decision oracle marked."""
    plt = _plt()
    sets = list(decision["curves"])
    cols = 3
    rows = (len(sets) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), sets):
        c = decision["curves"][name]
        best = c["always_top"]
        x = np.array([p["relative_cost"] for p in c["curve"]])
        y = np.array([p["relative_quality"] for p in c["curve"]])
        ax.plot(x, y, "-", label="success model, target 0..1")
        at = decision["at_default"].get(name)
        if at:
            for key, marker, label in (("router", "o", f"default target {decision['default_target']}"),
                                       ("v1_tier_head", "s", "v1 tier head"), ("oracle", "*", "oracle at default")):
                ax.plot(at[key]["cost"] / best["cost"], at[key]["quality"] / best["quality"], marker, label=label)
            for k, v in at.items():
                if k.startswith("always_"):
                    ax.plot(v["cost"] / best["cost"], v["quality"] / best["quality"], "x", color="grey")
                    ax.annotate(k.removeprefix("always_"), (v["cost"] / best["cost"], v["quality"] / best["quality"]),
                                fontsize=7, color="grey")
        ax.axhline(0.95, color="grey", lw=0.5)
        ax.set_xlabel("cost relative to always-top tier")
        ax.set_ylabel("quality relative to that tier")
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    for ax in axes.ravel()[len(sets):]:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


CARD_PANELS = (("routing:gsm8k", "codegemma-7b -> llama-3.3-nemotron-super-49b-v1"),
               ("routing:arc_challenge", "llama-3.1-8b-instruct -> llama-3.1-nemotron-51b-instruct"),
               ("mmlu_pro:psychology", "Meta-Llama-3_1-8B-Instruct -> Meta-Llama-3_1-70B-Instruct"),
               ("mmlu_pro:scibench", "Meta-Llama-3_1-8B-Instruct -> Meta-Llama-3_1-70B-Instruct"))


def card_png(res: dict, decision: dict, path: Path) -> None:
    """The model card's figure: four held-out unseen pairs and the val cost/quality curve (small file)."""
    plt = _plt()
    fig, axes = plt.subplots(1, 5, figsize=(22, 3.8))
    for ax, (unit, pair) in zip(axes, CARD_PANELS):
        e = next((e for e in res.get(unit, []) if e["pair"] == pair), None)
        if e is None:
            ax.axis("off")
            continue
        summary = {"strong_accuracy": e["strong_accuracy"],
                   "routers": {n: {"curve": e["curves"][n], "apgr": e["routers"][n]["apgr"]}
                               for n in ("v1 difficulty", "blend", "random", "oracle")}}
        routing_eval.curves_png(summary, path, f"{unit}\n{pair} n={e['n']}", ax=ax)
    c = decision["curves"]["val (all)"]
    ax = axes[-1]
    ax.plot([p["relative_cost"] for p in c["curve"]], [p["relative_quality"] for p in c["curve"]], "-",
            label="success model, target 0..1")
    at = decision["at_default"]["val (all)"]
    top = c["always_top"]
    for key, marker, label in (("router", "o", f"target {decision['default_target']}"), ("v1_tier_head", "s", "v1 tier head")):
        ax.plot(at[key]["cost"] / top["cost"], at[key]["quality"] / top["quality"], marker, label=label)
    ax.set_xlabel("cost relative to always-top tier")
    ax.set_ylabel("quality relative to always-top")
    ax.set_title("validation: cost / quality of the decision", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=55)
    plt.close(fig)
