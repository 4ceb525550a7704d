"""The printed table of `triage bench overhead`, built from its JSON result."""

from __future__ import annotations

import math

from serve_app.lab.bench.figure import saved_figure


def _ms(x) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.1f}"


def _delta(a, b) -> str:
    if a is None or b is None:
        return "-"
    return f"{a - b:+.1f}"


def table(result: dict) -> str:
    m, s = result["machine"], result["settings"]
    env = m["RAY_SERVE_THROUGHPUT_OPTIMIZED"] or "unset"
    lines = [
        "Triage router overhead: dry_run models (0 ms), HTTP on 127.0.0.1, "
        f"{s['requests']} requests per row after {s['warmup']} warm-up",
        f"{m['cores']} cores | Python {m['python']} | Ray {m['ray']} | "
        f"RAY_SERVE_THROUGHPUT_OPTIMIZED={env} | {result['timestamp']}",
        "",
        _http_block(result),
        "",
        _size_block(result),
    ]
    hop = result.get("handle_roundtrip")
    if hop:
        lines += ["", f"Handle round trip, driver -> Classifier.ready (no work): "
                      f"p50 {_ms(hop['p50_ms'])} ms, p99 {_ms(hop['p99_ms'])} ms"]
    cc = result.get("classifier_concurrent")
    if cc:
        lines.append(f"Classifier alone, ~20 tok, c={cc['concurrency']} closed loop (handle): "
                     f"p50 {_ms(cc['p50_ms'])} ms, p99 {_ms(cc['p99_ms'])} ms, {_ms(cc['throughput_rps'])} calls/s")
    errors = _errors(result)
    lines += ["", f"errors: {errors or 'none'} | total run {result['duration_s']:.0f} s"]
    return "\n".join(lines)


def _http_block(result: dict) -> str:
    head = (f"{'HTTP, router vs direct':<24}{'tokens':>7}{'conc':>5}{'p50 ms':>9}{'p99 ms':>9}"
            f"{'req/s':>9}{'hdr p50':>9}{'hdr p99':>9}")
    rows = [head]
    by: dict = {}
    for r in result["http"]:  # files from before the ~200-token load have no "prompt"
        by.setdefault((r.get("prompt", "~20"), r["concurrency"]), {})[r["target"]] = r
    for (size, conc), pair in by.items():
        tokens = f"{result['prompts'][size]['tokens_mean']:.0f}" if size in result["prompts"] else size
        router, direct = pair.get("router"), pair.get("direct")
        for name, r in (("router", router), ("direct", direct)):
            if r:
                rows.append(f"  {name:<22}{tokens:>7}{conc:>5}{_ms(r['p50_ms']):>9}{_ms(r['p99_ms']):>9}"
                            f"{_ms(r['throughput_rps']):>9}{_ms(r.get('header_overhead_p50_ms')):>9}"
                            f"{_ms(r.get('header_overhead_p99_ms')):>9}")
        if router and direct:
            ratio = (f"{router['throughput_rps'] / direct['throughput_rps']:.2f}x"
                     if router["throughput_rps"] and direct["throughput_rps"] else "-")
            rows.append(f"  {'router - direct':<22}{tokens:>7}{conc:>5}{_delta(router['p50_ms'], direct['p50_ms']):>9}"
                        f"{_delta(router['p99_ms'], direct['p99_ms']):>9}{ratio:>9}")
    return "\n".join(rows)


def _size_block(result: dict) -> str:
    head = (f"{'Prompt size (MiniLM tokens)':<28}{'classify p50':>13}{'p99':>8}"
            f"{'router p50':>12}{'hdr p50':>9}{'hdr p99':>9}")
    rows = [head]
    clf = {r["size"]: r for r in result["classifier"]}
    e2e = {r["size"]: r for r in result["router_by_size"]}
    budget = result["settings"]["classifier_token_budget"]
    for size, p in result["prompts"].items():
        tokens = p["tokens_mean"]
        label = f"{size} ({tokens:.0f}{' avg' if len(p['tokens']) > 1 else ''}"
        label += f", cut to {budget})" if p["max_tokens"] > budget else ")"
        c, r = clf.get(size, {}), e2e.get(size, {})
        rows.append(f"  {label:<26}{_ms(c.get('p50_ms')):>13}{_ms(c.get('p99_ms')):>8}"
                    f"{_ms(r.get('p50_ms')):>12}{_ms(r.get('header_overhead_p50_ms')):>9}"
                    f"{_ms(r.get('header_overhead_p99_ms')):>9}")
    return "\n".join(rows)


def _errors(result: dict) -> str:
    parts = []
    for group in ("http", "classifier", "router_by_size", "classifier_concurrent"):
        rows = result.get(group) or []
        for r in rows if isinstance(rows, list) else [rows]:
            if r.get("errors"):
                parts.append(f"{group}/{r.get('target', r.get('size'))}: {r['errors']}")
    return "; ".join(parts)


def plot(result: dict, path: str) -> None:
    """Two panels: p50 latency and req/s of the router and the direct path
    for each HTTP load (prompt size, concurrency), from result["http"]."""
    rows = {(r["target"], r["prompt"], r["concurrency"]): r for r in result.get("http", [])}
    loads = sorted({(p, c) for _, p, c in rows}, key=lambda x: (x[1], x[0]))
    names = [f"{p} tok, c={c}" for p, c in loads]
    s = result.get("settings", {})
    title = (f"triage bench overhead: placement {s.get('classifier_placement', '?')}"
             f"{', HAProxy' if s.get('haproxy') else ''} ({result.get('timestamp', '')})")
    with saved_figure(path, title, ncols=2, figsize=(11, 4)) as (_, axes):
        for ax, key, label in ((axes[0], "p50_ms", "p50 latency (ms)"), (axes[1], "throughput_rps", "requests/s")):
            for i, target in enumerate(("router", "direct")):
                values = [rows.get((target, p, c), {}).get(key, math.nan) for p, c in loads]
                ax.bar([x + (i - 0.5) * 0.38 for x in range(len(loads))], values, width=0.38, label=target)
            ax.set_xticks(range(len(loads)), names)
            ax.set_ylabel(label)
            ax.grid(axis="y", alpha=0.3)
            ax.legend()
