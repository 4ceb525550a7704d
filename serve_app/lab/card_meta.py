"""The model card's meta-router section, from `triage bench meta-router`'s
JSON (meta_router.json in the model directory)."""

from __future__ import annotations


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _row(name: str, arm: dict | None) -> str:
    if not arm:
        return f"| {name} | - | - | - | - |"
    lat = arm.get("latency_ms") or {}
    cost = f"{lat['p50']:.0f} / {lat['p99']:.0f}" if lat.get("p50") is not None else "-"
    return (f"| {name} | {_pct(arm['tier']['accuracy'])} | {_pct(arm['domain']['accuracy'])} | "
            f"{_pct(arm.get('consulted_share'))} | {cost} |")


def meta_router_section(r: dict | None) -> list[str]:
    if not r:
        return []
    chosen, default = r["heldout"]["chosen"], r["heldout"]["default"]
    lines = ["## Meta-router (policy.meta_router)", "",
             "Where the success estimates (or tier-head probabilities) leave more than one tier standing, the "
             "router can ask an LLM to choose among them (README \"When the classifier is unsure\"). Measured with "
             "`triage bench meta-router`: routed tier and domain accuracy against the labels, without the "
             "meta-router (`none`) and with SmolLM2-135M-Instruct (the CPU model), `oracle` (a labelled stand-in "
             "that answers the true label when it is offered: the ceiling a perfect meta-router reaches at these "
             "margins) and `constant` (always val's most common tier label, srm, when offered: a label-blind "
             "baseline). Margins chosen on the tuning split (val, "
             f"n={r['splits']['val']['n']}), reported on held-out sources (n={r['splits']['heldout']['n']}).", "",
             "Tuning split, tier accuracy by `tier_margin` (`domain_margin` 0):", "",
             "| tier_margin | asked | none | smollm2 | oracle | constant |", "|---|---|---|---|---|---|"]
    none_val = r["val"]["none"]["tier"]["accuracy"]
    for g in r["val"]["grid"]:
        if g["domain_margin"] != 0:
            continue
        lines.append(f"| {g['tier_margin']} | {_pct(g['smollm2']['consulted_share'])} | {_pct(none_val)} | "
                     f"{_pct(g['smollm2']['tier']['accuracy'])} | {_pct(g['oracle']['tier']['accuracy'])} | "
                     f"{_pct(g['constant']['tier']['accuracy'])} |")
    lines += ["", f"Chosen on val: tier_margin {r['chosen']['tier_margin']}, domain_margin "
              f"{r['chosen']['domain_margin']} ({r['chosen']['why']['tier_margin']}).", ""]
    for label, block in ((f"chosen margins ({chosen['tier_margin']} / {chosen['domain_margin']})", chosen),
                         (f"shipped default margins ({default['tier_margin']} / {default['domain_margin']})", default)):
        lines += [f"Held-out, {label}:", "",
                  "| arm | tier acc | domain acc | asked | meta-router ms p50 / p99 |", "|---|---|---|---|---|",
                  _row("none", {**r["heldout"]["none"], "consulted_share": None}),
                  _row("smollm2", block.get("smollm2")), _row("oracle", block.get("oracle")),
                  _row("constant", block.get("constant")), ""]
    pos = r["answers"].get("val_by_position", {})
    tier, dom = pos.get("tier", {}), pos.get("domain", {})
    lines += ["SmolLM2-135M makes tier routing **worse** on the tuning split at every margin; its small held-out "
              "gain is below the label-blind constant's (held-out tier labels are mostly srm), and it names the "
              f"last, most expensive option offered ({tier.get('named_last', 0)} of its {tier.get('parsed', 0)} "
              f"parsable answers to {tier.get('asked', 0)} val tier questions; {dom.get('parsed', 0)} of "
              f"{dom.get('asked', 0)} domain answers parsable). Not a meta-router for real traffic; the oracle column is "
              "what a capable model could add at each margin. Latency is the model call on this 2-core machine "
              f"with other jobs running (1-min load average median {r['answers']['load1_during_calls']['median']}). "
              "Curves: `meta_router.png`.", ""]
    return lines
