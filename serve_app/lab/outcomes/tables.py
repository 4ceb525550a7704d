"""Markdown tables of a research run (research.py writes them to <out>/tables.md)."""

from __future__ import annotations

import json
from pathlib import Path

ROUTERS = ("v1 difficulty", "head", "knn", "blend", "blend (gain)", "random", "oracle")
MIN_GAP = 0.05


def _share(v) -> str:
    return "-" if v is None else f"{v * 100:.0f}%"


def pair_rows(res: dict, pooled: bool = False, routers=ROUTERS) -> list[str]:
    head = "| set | pair [kind] | n | weak / strong acc | " + " | ".join(routers) + " |"
    lines = [head, "|" + "---|" * (4 + len(routers))]
    for unit, es in res.items():
        if unit.endswith("(pooled)") != pooled:
            continue
        for e in es:
            cells = []
            for r in routers:
                x = e["routers"].get(r)
                if x is None:
                    cells.append("")
                    continue
                sh = x["share_for_accuracy"]
                se = f"±{x['apgr_se']:.2f}" if x.get("apgr_se") else ""
                cells.append(f"{x['apgr']:.2f}{se} ({_share(sh['80%'])}/{_share(sh['90%'])}/{_share(sh['95%'])})")
            flag = "" if e["gap"] >= MIN_GAP else " (gap < 5 pts: not averaged)"
            lines.append(f"| {unit} | {e['pair']} [{e['kind']}]{flag} | {e['n']} | "
                         f"{e['weak_accuracy']:.3f} / {e['strong_accuracy']:.3f} | " + " | ".join(cells) + " |")
    return lines


def decision_rows(dec: dict) -> list[str]:
    lines = [f"quality_target default: {dec['default_target']} ({dec['rule']}); relative rule slack "
             f"{dec['relative_slack']}", "",
             "| set | n | router: quality / cost / mix | relative rule | v1 tier head | always top | always slm | oracle@target |",
             "|---|---|---|---|---|---|---|---|"]
    fmt = lambda r: f"{r['quality']:.3f} / {r['cost']:.1f}"  # noqa: E731
    for name, a in dec["at_default"].items():
        mix = " ".join(f"{t}{v * 100:.0f}" for t, v in a["router"]["mix"].items() if v)
        lines.append(f"| {name} | {a['n']} | {fmt(a['router'])} / {mix} | {fmt(a['relative_rule'])} | "
                     f"{fmt(a['v1_tier_head'])} | {fmt(a['always_top'])} | {fmt(a['always_slm'])} | {fmt(a['oracle'])} |")
    return lines


def render(out: Path) -> str:
    """The tables of the run written under `out`, as markdown."""
    lines: list[str] = []
    say = lines.append
    ho = json.loads((out / "heldout_pairs.json").read_text())
    val = json.loads((out / "val_choices.json").read_text())
    dec = json.loads((out / "decision.json").read_text())
    summ = json.loads((out / "summary.json").read_text())
    say("## Held-out benchmarks: APGR (± bootstrap SE) and strong share for 80/90/95% of strong accuracy\n")
    say("\n".join(pair_rows(ho)))
    say("\n## Held-out, pooled per source\n")
    say("\n".join(pair_rows(ho, pooled=True)))
    say("\n## Validation (choices were made here)\n")
    say("\n".join(pair_rows(val["pairs"])))
    say("\n## Mean within-benchmark APGR (pairs with gap >= 5 pts)\n")
    for split, kinds in summ["apgr_mean"].items():
        for kind, v in kinds.items():
            say(f"- {split} {kind}: " + ", ".join(f"{n} {x}" for n, x in v["within"].items() if x is not None))
    say("\n## Quality-target decision (realised quality = chosen tier's success over all its models; cost: "
          "slm 1, srm 2.5, llm 15, lrm 33)\n")
    say("\n".join(decision_rows(dec)))
    return "\n".join(lines) + "\n"
