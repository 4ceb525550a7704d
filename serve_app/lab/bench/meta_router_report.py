"""The printed table and the PNG of `triage bench meta-router` (from its JSON)."""

from __future__ import annotations

from pathlib import Path

ARM_LABELS = {"none": "none (classifier)", "smollm2": "smollm2", "smollm2_no_timeout": "smollm2, no timeout",
              "oracle": "oracle", "constant": "constant"}


def _acc(m: dict, head: str) -> str:
    a = m[head]["accuracy"]
    return f"{a:.1%}" if a is not None else "-"


def _row(name: str, m: dict) -> str:
    line = f"  {ARM_LABELS.get(name, name):<21}{_acc(m, 'tier'):>8}{_acc(m, 'domain'):>9}"
    if "consulted_share" not in m:
        return line
    o, lat = m["outcomes"], m.get("latency_ms")
    line += (f"{m['consulted_share']:>10.1%}{o['agreed']:>8}{o['changed']:>8}{o['unparsable']:>7}{o['timeout']:>8}")
    if name == "smollm2" and lat:
        line += f"{lat['p50']:>9.0f}{lat['p99']:>9.0f}"
    return line


HEADER = (f"  {'':<21}{'tier':>8}{'domain':>9}{'consulted':>10}{'agreed':>8}{'changed':>8}{'unpars':>7}"
          f"{'timeout':>8}{'p50 ms':>9}{'p99 ms':>9}")


def table(r: dict) -> str:
    s, ho, ch = r["settings"], r["heldout"], r["chosen"]
    n_ho, n_val = r["splits"]["heldout"]["n"], r["splits"]["val"]["n"]
    lines = [
        f"LLM meta-router: routed tier/domain accuracy vs labels ({s['classifier']}; meta-router {s['meta_model']}, "
        f"max_tokens {s['max_tokens']}, timeout {s['timeout_s']:g} s; {r['machine']['cpu_count']} CPUs)",
        "",
        f"val grid (tuning, n={n_val}): tier accuracy by tier_margin at domain_margin 0 / "
        "domain accuracy by domain_margin at the chosen tier_margin",
        f"  {'margin':<14}{'consulted':>10}{'none':>8}{'smollm2':>9}{'oracle':>8}{'constant':>9}",
    ]
    base = r["val"]["none"]
    for g in r["val"]["grid"]:
        if g["domain_margin"] == 0:
            lines.append(f"  tier {g['tier_margin']:<9g}{g['smollm2']['consulted_share']:>10.1%}"
                         f"{_acc(base, 'tier'):>8}{_acc(g['smollm2'], 'tier'):>9}{_acc(g['oracle'], 'tier'):>8}"
                         f"{_acc(g['constant'], 'tier'):>9}")
    for g in r["val"]["grid"]:
        if g["tier_margin"] == ch["tier_margin"]:
            lines.append(f"  domain {g['domain_margin']:<7g}{g['smollm2']['consulted_share']:>10.1%}"
                         f"{_acc(base, 'domain'):>8}{_acc(g['smollm2'], 'domain'):>9}{_acc(g['oracle'], 'domain'):>8}"
                         f"{_acc(g['constant'], 'domain'):>9}")
    lines += ["", f"chosen on val by smollm2: tier_margin {ch['tier_margin']:g} ({ch['why']['tier_margin']})",
              f"                          domain_margin {ch['domain_margin']:g} ({ch['why']['domain_margin']})"]
    for key, title in (("chosen", "chosen margins"), ("default", "shipped defaults")):
        h = ho[key]
        lines += ["", f"held-out (n={n_ho}), {title}: tier_margin {h['tier_margin']:g}, "
                      f"domain_margin {h['domain_margin']:g}", HEADER, _row("none", ho["none"])]
        lines += [_row(arm, h[arm]) for arm in ("smollm2", "smollm2_no_timeout", "oracle", "constant")]
    h = ho["chosen"]
    lines += ["", "held-out per source at the chosen margins: tier / domain accuracy, share consulted",
              f"  {'source':<19}{'n':>5}{'none':>15}{'smollm2':>15}{'oracle':>15}{'consulted':>10}"]
    for src, nm in ho["none_by_source"].items():
        sm, orc = h["by_source"]["smollm2"][src], h["by_source"]["oracle"][src]
        lines.append(f"  {src:<19}{nm['n']:>5}{_acc(nm, 'tier') + ' / ' + _acc(nm, 'domain'):>15}"
                     f"{_acc(sm, 'tier') + ' / ' + _acc(sm, 'domain'):>15}"
                     f"{_acc(orc, 'tier') + ' / ' + _acc(orc, 'domain'):>15}{sm['consulted_share']:>10.1%}")
    a = r["answers"]
    lines += ["", "most frequent SmolLM2 answers (held-out, chosen margins): "
              + ", ".join(f"{ans!r} x{n}" for ans, n in a["heldout_chosen_top"][:8]),
              f"calls made this run {a['calls_made_this_run']} (recorded before: {a['cached_before_run']}); "
              f"1-min load average during the calls {a['load1_during_calls']}; {r['duration_s']:.0f} s"]
    return "\n".join(lines)


def plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = ("none", "smollm2", "oracle", "constant")
    colours = {"none": "tab:grey", "smollm2": "tab:blue", "oracle": "tab:green", "constant": "tab:orange"}
    base, ch = r["val"]["none"], r["chosen"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))

    ax = axes[0]
    pts = [g for g in r["val"]["grid"] if g["domain_margin"] == 0]
    xs = [g["tier_margin"] for g in pts]
    for arm in arms:
        ys = [(base if arm == "none" else g[arm])["tier"]["accuracy"] * 100 for g in pts]
        ax.plot(xs, ys, marker="o", color=colours[arm], label=arm, ls="--" if arm == "none" else "-")
    share = [g["smollm2"]["consulted_share"] * 100 for g in pts]
    for x, y, s in zip(xs, [g["oracle"]["tier"]["accuracy"] * 100 for g in pts], share):
        ax.annotate(f"{s:.0f}% asked", (x, y), fontsize=7, textcoords="offset points", xytext=(3, 4))
    ax.axvline(ch["tier_margin"], color="black", lw=0.7, ls=":")
    ax.set_xlabel("tier_margin (domain_margin 0)")
    ax.set_ylabel("routed tier accuracy, %")
    ax.set_title(f"val (n={r['splits']['val']['n']}): tier")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)

    ax = axes[1]
    pts = [g for g in r["val"]["grid"] if g["tier_margin"] == ch["tier_margin"]]
    xs = [g["domain_margin"] for g in pts]
    for arm in ("none", "smollm2", "oracle"):  # constant gives no domain answers
        ys = [(base if arm == "none" else g[arm])["domain"]["accuracy"] * 100 for g in pts]
        ax.plot(xs, ys, marker="o", color=colours[arm], label=arm, ls="--" if arm == "none" else "-")
    ax.axvline(ch["domain_margin"], color="black", lw=0.7, ls=":")
    ax.set_xlabel(f"domain_margin (tier_margin {ch['tier_margin']:g})")
    ax.set_ylabel("routed domain accuracy, %")
    ax.set_title(f"val (n={r['splits']['val']['n']}): domain (smollm2 on none where the lines meet)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)

    ax = axes[2]
    groups = [("tier", "chosen"), ("domain", "chosen"), ("tier", "default"), ("domain", "default")]
    width = 0.2
    for i, arm in enumerate(arms):
        ys = [(r["heldout"]["none"] if arm == "none" else r["heldout"][key][arm])[head]["accuracy"] * 100
              for head, key in groups]
        bars = ax.bar([j + (i - 1.5) * width for j in range(len(groups))], ys, width, color=colours[arm],
                      label=arm)
        ax.bar_label(bars, fmt="%.1f", fontsize=6, rotation=90, padding=2)
    ax.set_xticks(range(len(groups)), [f"{head}\n{key} ({r['heldout'][key]['tier_margin']:g}/"
                                       f"{r['heldout'][key]['domain_margin']:g})" for head, key in groups], fontsize=8)
    ax.set_ylabel("accuracy, %")
    ax.set_ylim(0, 100)
    ax.set_title(f"held-out (n={r['splits']['heldout']['n']}), margins tier/domain")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")

    fig.suptitle("LLM meta-router: routed accuracy without (none) and with it", fontsize=11)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
