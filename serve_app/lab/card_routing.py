"""The model card's outcome-routing sections (models with a success model):
the success model itself, routing on held-out benchmarks and model pairs
(`triage eval routing` JSON), and issue #10's targets beside the numbers."""

from __future__ import annotations

TARGETS = {"mcq": {"share95": 0.15, "apgr": 0.75}, "math": {"share95": 0.55, "apgr": 0.75}}
# Held-out benchmark families for issue #10's targets (export.py names the benchmarks).
FAMILIES = {"mcq": ("arc", "psychology", "scibench"), "math": ("gsm8k",)}


def _f(x, digits=3):
    return "-" if x is None else f"{x:.{digits}f}"


def _pct(v):
    return "-" if v is None else f"{v * 100:.0f}%"


def success_section(meta: dict, table_report: dict | None) -> list[str]:
    s = meta["success"]
    val = s.get("val", {})
    at = val.get("at_quality_target") or {}
    lines = ["## Per-tier success model (outcome routing)", "",
             "For each tier, P(a model of that tier answers this prompt well), from the same encoder pass as the "
             "other heads. The router sends a prompt to the cheapest tier whose estimate reaches "
             f"`policy.quality_target` (default **{s['quality_target']}**) and, if none does, to the cheapest tier "
             "within 20% of the best estimate (`policy.near_best`; `serve_app/policy/decide.py`).", "",
             f"- Head: the served features -> ReLU({s['hidden']}) -> one logit per tier (`heads.npz`, `success.*`), "
             "soft targets = the share of a tier's training models that answered well.",
             f"- Outcome memory: {s['memory']} ({'train rows of the outcome table: unit vectors + per-tier success'}), "
             f"searched in an in-process Qdrant edge shard; k = {s['knn']['k']} neighbours by cosine, a Beta prior of "
             f"strength {s['knn']['alpha']:g} around the head: p = (sum w y + {s['knn']['alpha']:g} head) / "
             f"(sum w + {s['knn']['alpha']:g}).",
             f"- Calibration: Platt per tier on val (a = {[round(a, 3) for a in s['platt']['a']]}, "
             f"b = {[round(b, 3) for b in s['platt']['b']]}); val log-loss {val.get('log_loss')}, ECE {val.get('ece')}.",
             f"- Prompts unlike anything with outcomes (nearest memory similarity below {s['support_floor']}: the "
             f"{s.get('support_percentile', 1):g}th percentile of val) get no estimate: their tier comes from the tier "
             "head, as in v1 (creative writing and summaries mostly `llm`, by its label rules). The decision log "
             "says which path decided." + (" Share of prompts with outcome support, measured: " + ", ".join(
                 f"{k} {v:.0%}" for k, v in s["coverage"].items()) + "." if s.get("coverage") else ""),
             f"- `quality_target` default {s['quality_target']}: {val.get('rule', '')}"
             + (f" (val: quality {at.get('quality', 0):.3f} vs always-strongest "
                f"{val.get('always_top', {}).get('quality', 0):.3f}, at {at.get('relative_cost', 0):.0%} of its cost)."
                if at else "."),
             f"- Sources: {', '.join(val.get('sources', []))}. AlpacaEval's instructions (CC BY-NC) are left out of the "
             "shipped model (`triage train --allow-noncommercial` adds them). Tier mapping of every model, with "
             "parameter-count sources: `serve_app/lab/outcomes/results/TIERS.md`.", ""]
    if table_report:
        lines += [f"Outcome table: {table_report.get('rows', '')} prompts; per source and split: "
                  f"`outcome_table_report.json`.", ""]
    return lines


def routing_section(label: str, r: dict) -> list[str]:
    lines = [f"**{label}** (`{r['file']}`, quality target {r['quality_target']}): APGR, then the strong share "
             "needed for 80/90/95% of the strong model's accuracy; 'at target' = what the served decision does.", "",
             "| benchmark · weak -> strong [pair] | n | weak / strong acc | success router | v1 difficulty | random | oracle | at target: strong share, % of strong acc |",
             "|---|---|---|---|---|---|---|---|"]
    for source, s in r["sources"].items():
        cell = lambda name: (lambda x: "-" if x is None else  # noqa: E731
                             f"{x['apgr']:.2f} ({'/'.join(_pct(x['strong_share_for_accuracy'][k]) for k in ('80%', '90%', '95%'))})")(
            s["routers"].get(name))
        t = s.get("at_target") or {}
        lines.append(f"| {source} [{s.get('pair_kind') or '-'}] | {s['n']} | {s['weak_accuracy']:.3f} / "
                     f"{s['strong_accuracy']:.3f} | {cell('success')} | {cell('difficulty (baseline)')} | "
                     f"{cell('random')} | {cell('oracle')} | {_pct(t.get('strong_share'))}, "
                     f"{_pct(t.get('of_strong_accuracy'))} |")
    lines += [""] + [f"- mean APGR over {m['sources']} {kind} units (strong >= 5 points better): "
                     + ", ".join(f"{k} {v:.3f}" for k, v in m.items() if k != "sources") for kind, m in r["mean"].items()]
    return lines + [""]


def targets_section(held: dict) -> list[str]:
    """Issue #10's targets on our own held-out benchmarks (the real check is on
    data this project does not have)."""
    lines = ["## Targets (issue #10), on this project's held-out benchmarks", "",
             "| family | target | measured (mean over held-out units) | met |", "|---|---|---|---|"]
    for family, benches in FAMILIES.items():
        units = [s for name, s in held["sources"].items() if name.split(" ·")[0].split(":")[-1] in benches
                 or any(b in name.split(" ·")[0] for b in benches)]
        units = [u for u in units if u["strong_accuracy"] - u["weak_accuracy"] >= 0.05 and "success" in u["routers"]]
        if not units:
            continue
        apgr = sum(u["routers"]["success"]["apgr"] for u in units) / len(units)
        shares = [u["routers"]["success"]["strong_share_for_accuracy"]["95%"] for u in units]
        share = sum(x for x in shares if x is not None) / max(1, len([x for x in shares if x is not None]))
        want = TARGETS[family]
        lines.append(f"| {family} ({', '.join(benches)}; {len(units)} pairs) | APGR >= {want['apgr']} | {apgr:.3f} | "
                     f"{'yes' if apgr >= want['apgr'] else '**no**'} |")
        lines.append(f"| {family} | strong share for 95% <= {want['share95']:.0%} | {share:.0%} | "
                     f"{'yes' if share <= want['share95'] else '**no**'} |")
    return lines + [""]
