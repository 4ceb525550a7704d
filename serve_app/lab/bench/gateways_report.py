"""`triage bench gateways`: the summary, the table and the PNG from the result JSON.

Pure functions of the result dict (no processes, no network), so the
numbers can be recomputed from a saved JSON file.
"""

from __future__ import annotations

import math

from serve_app.lab.bench.figure import saved_figure

BASELINE = "direct"
C1_SHORT, C1_LONG, C16_SHORT, C16_LONG = "~20@c1", "~200@c1", "~20@c16", "~200@c16"


def load_key(prompt: str, concurrency: int) -> str:
    return f"{prompt}@c{concurrency}"


def _loads(gateway: dict) -> dict[str, dict]:
    return {load_key(row["prompt"], row["concurrency"]): row for row in gateway.get("loads", [])}


def _get(row: dict | None, key: str):
    return None if row is None else row.get(key)


def _sub(a, b):
    return None if a is None or b is None else round(a - b, 3)


def _ratio(a, b):
    return None if a is None or not b else round(a / b, 3)


def summarize(result: dict) -> list[dict]:
    """One row per gateway: the headline numbers, "added" against the direct baseline.

    added_p50_ms = gateway p50 - direct p50 on the same load (c=1); the
    baseline is the first gateway named `direct`.
    """
    gateways = result.get("gateways", [])
    base = next((_loads(g) for g in gateways if g["name"] == BASELINE), {})
    rows = []
    for g in gateways:
        loads = _loads(g)
        row = {"name": g["name"], "label": g.get("label", g["name"]), "ok": not g.get("error")}
        for key in (C1_SHORT, C1_LONG):
            cur, ref = loads.get(key), base.get(key)
            row[f"{key}.p50_ms"] = _get(cur, "p50_ms")
            row[f"{key}.p99_ms"] = _get(cur, "p99_ms")
            row[f"{key}.added_p50_ms"] = _sub(_get(cur, "p50_ms"), _get(ref, "p50_ms"))
            row[f"{key}.added_p99_ms"] = _sub(_get(cur, "p99_ms"), _get(ref, "p99_ms"))
        for key in (C16_SHORT, C16_LONG):
            cur, ref = loads.get(key), base.get(key)
            row[f"{key}.rps"] = _get(cur, "throughput_rps")
            row[f"{key}.p50_ms"] = _get(cur, "p50_ms")
            row[f"{key}.rps_vs_direct"] = _ratio(_get(cur, "throughput_rps"), _get(ref, "throughput_rps"))
        for key in (C16_SHORT, C16_LONG):
            row[f"{key}.gateway_cpu_ms"] = _get(_get(loads.get(key), "cpu"), "gateway_ms_per_request")
        row["errors"] = sum(sum((l.get("errors") or {}).values()) for l in g.get("loads", []))
        rows.append(row)
    return rows


def compare(rows: list[dict], subject: str = "triage", prefix: str = "litellm") -> list[dict]:
    """`subject` against each gateway whose name starts with `prefix`: c=1 added p50
    difference (ms; negative = subject adds less) and c=16 req/s ratio (>1 = subject serves more)."""
    by_name = {r["name"]: r for r in rows}
    s = by_name.get(subject)
    if s is None:
        return []
    out = []
    for r in rows:
        if not r["name"].startswith(prefix):
            continue
        out.append({
            "against": r["name"],
            "c1_short_added_p50_diff_ms": _sub(s[f"{C1_SHORT}.added_p50_ms"], r[f"{C1_SHORT}.added_p50_ms"]),
            "c1_long_added_p50_diff_ms": _sub(s[f"{C1_LONG}.added_p50_ms"], r[f"{C1_LONG}.added_p50_ms"]),
            "c16_short_rps_ratio": _ratio(s[f"{C16_SHORT}.rps"], r[f"{C16_SHORT}.rps"]),
            "c16_long_rps_ratio": _ratio(s[f"{C16_LONG}.rps"], r[f"{C16_LONG}.rps"]),
        })
    return out


def _f(x, width: int, digits: int = 1, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return f"{'-':>{width}}"
    return f"{x:>+{width}.{digits}f}" if sign else f"{x:>{width}.{digits}f}"


def table(result: dict) -> str:
    rows = summarize(result)
    tok = {k: v.get("tokens_mean") for k, v in result.get("prompts", {}).items()}
    lines = [
        f"gateways in front of one upstream (~20 = {tok.get('~20')} MiniLM tokens, ~200 = {tok.get('~200')})",
        f"{'':<26}{'c=1 ~20 tokens':^24}{'c=1 ~200':^16}{'c=16 req/s':^18}{'gw CPU ms/req':^16}",
        f"{'gateway':<26}{'p50':>8}{'p99':>8}{'added':>8}{'p50':>8}{'added':>8}"
        f"{'~20':>9}{'~200':>9}{'~20':>8}{'~200':>8}{'errors':>8}",
    ]
    for r in rows:
        if not r["ok"]:
            lines.append(f"  {r['label']:<24}failed: see the JSON's error")
            continue
        lines.append(
            f"  {r['label']:<24}{_f(r[f'{C1_SHORT}.p50_ms'], 8)}{_f(r[f'{C1_SHORT}.p99_ms'], 8)}"
            f"{_f(r[f'{C1_SHORT}.added_p50_ms'], 8, sign=True)}{_f(r[f'{C1_LONG}.p50_ms'], 8)}"
            f"{_f(r[f'{C1_LONG}.added_p50_ms'], 8, sign=True)}{_f(r[f'{C16_SHORT}.rps'], 9)}"
            f"{_f(r[f'{C16_LONG}.rps'], 9)}{_f(r[f'{C16_SHORT}.gateway_cpu_ms'], 8)}"
            f"{_f(r[f'{C16_LONG}.gateway_cpu_ms'], 8)}{r['errors']:>8}")
    lines += ["", *facts(result)]
    for subject in ("triage", "triage-ingress", "triage-ingress-haproxy"):
        comparisons = compare(rows, subject=subject)
        if not comparisons:
            continue
        lines.append("")
        lines.append(f"{subject + ' against':<26}{'c=1 added p50 diff ~20 / ~200':>32}{'c=16 req/s ratio ~20 / ~200':>30}")
        for c in comparisons:
            lines.append(f"  {c['against']:<24}{_f(c['c1_short_added_p50_diff_ms'], 16, sign=True)} ms"
                         f"{_f(c['c1_long_added_p50_diff_ms'], 9, sign=True)} ms"
                         f"{_f(c['c16_short_rps_ratio'], 19, 2)}x{_f(c['c16_long_rps_ratio'], 9, 2)}x")
    return "\n".join(lines)


def facts(result: dict) -> list[str]:
    """Per gateway: start-up, processes, idle CPU, the stream check, where ~20-token
    requests went; then how busy the rest of the machine was (noise)."""
    lines = [f"{'gateway':<26}{'start s':>8}{'procs':>7}{'idle CPU':>10}{'stream':>8}  routed (~20 tokens, c=1)"]
    others = []
    for g in result.get("gateways", []):
        check = g.get("check") or {}
        stream = None if not check else bool(check.get("stream_status") == 200 and check.get("stream_ended_with_done"))
        routed = _routed(_loads(g).get(C1_SHORT))
        idle = g.get("idle_cpu_pct_of_core")
        lines.append(f"  {g.get('label', g['name']):<24}{_f(g.get('startup_s'), 8)}"
                     f"{g.get('processes_at_start') or '-':>7}{(_f(idle, 8) + ' %') if idle is not None else '-':>10}"
                     f"{'-' if stream is None else ('ok' if stream else 'FAILED'):>8}  {routed}")
        others += [(row.get("cpu") or {}).get("others_ms_per_request") for row in g.get("loads", [])]
    others = sorted(x for x in others if x is not None)
    if others:
        lines.append(f"other processes on the machine used {others[0]:.1f}-{others[-1]:.1f} ms of CPU per request "
                     f"(median {others[len(others) // 2]:.1f}) during the loads (about 1 on a quiet machine)")
    return lines


def _routed(row: dict | None) -> str:
    labels = (row or {}).get("labels") or {}
    tiers = {k.split("=", 1)[1]: v for k, v in labels.items()
             if k.startswith(("tier=", "x-litellm-complexity-router-tier="))}
    return ", ".join(f"{k} {v}" for k, v in sorted(tiers.items(), key=lambda kv: -kv[1])) or "-"


def plot(result: dict, path: str) -> None:
    """Two panels, gateways only: added p50 at c=1 and req/s at c=16 (direct's in the title)."""
    rows = [r for r in summarize(result) if r["ok"]]
    gw = [r for r in rows if not r["name"].startswith(BASELINE)]  # direct and direct-end: baselines
    m = result.get("machine", {})
    title = (f"Gateways in front of one fast OpenAI-compatible upstream: {m.get('cores')} cores, "
             f"load avg at start {m.get('loadavg_at_start')}, {result.get('timestamp', '')}")
    with saved_figure(path, title, ncols=2, figsize=(13, 5.2)) as (_, (ax1, ax2)):
        _bars(ax1, gw, [(f"{C1_SHORT}.added_p50_ms", "~20 tokens"), (f"{C1_LONG}.added_p50_ms", "~200 tokens")], 1)
        ax1.set_title("added p50 latency at concurrency 1 (ms, vs direct)")
        # Direct would dwarf the gateways' bars: its numbers go in the title instead.
        _bars(ax2, gw, [(f"{C16_SHORT}.rps", "~20 tokens"), (f"{C16_LONG}.rps", "~200 tokens")], 0)
        base = next((r for r in rows if r["name"] == BASELINE), None)
        direct = "" if base is None else (f" (direct: {_f(base[f'{C16_SHORT}.rps'], 0, 0).strip()}"
                                          f" / {_f(base[f'{C16_LONG}.rps'], 0, 0).strip()})")
        ax2.set_title(f"requests per second at concurrency 16{direct}")


def _bars(ax, rows: list[dict], series: list[tuple[str, str]], digits: int) -> None:
    width = 0.8 / len(series)
    for i, (key, label) in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(rows))]
        ys = [r[key] if r[key] is not None else 0.0 for r in rows]
        bars = ax.bar(xs, ys, width, label=label)
        ax.bar_label(bars, labels=[_f(r[key], 0, digits).strip() if r[key] is not None else "-" for r in rows],
                     fontsize=8, padding=2)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels([r["label"] for r in rows], rotation=20, ha="right", fontsize=9)
    ax.legend(fontsize=9)
    ax.grid(axis="y", alpha=0.3)
