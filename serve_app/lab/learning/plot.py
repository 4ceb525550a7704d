"""The replay's picture: APGR and strong share against outcomes seen."""

from __future__ import annotations

from pathlib import Path

STYLES = {"learning": ("C0", "-"), "no exploration": ("C1", "--"), "live correction only": ("C2", "-."),
          "adversary (tenant scope)": ("C3", ":"), "adversary (shared scope)": ("C4", ":")}


def curves_png(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4.5))
    base = next(iter(result["runs"].values()))
    for ax, key, label in ((ax1, "apgr", "APGR (test prompts, mean over deployments)"),
                           (ax2, "share_95", "strong share for 95% of strong accuracy")):
        ax.axhline(base[key][0], color="grey", lw=1, label="no learning (shipped model)")
        for name, r in result["runs"].items():
            color, ls = STYLES.get(name, ("k", "-"))
            ax.plot(r["outcomes"], r[key], color=color, ls=ls, marker="o", ms=3, label=name)
        ax.set_xlabel("outcomes seen (this tenant)")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    ax1.legend(fontsize=8)
    fig.suptitle(f"triage bench learning: {len(result['deployments'])} deployments, split {result['split']}, "
                 f"quality target {result['quality_target']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
