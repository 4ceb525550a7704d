"""PNG charts of one load run (matplotlib, Agg backend).

- latency.png: p50/p95/p99 over time for each Locust entry (POST = whole
  non-stream requests, STREAM = whole streams, TTFT = time to first token),
  from the full stats-history CSV (Locust's percentiles over a sliding window
  of the last ~10 s), plus requests/s and users;
- tiers.png: requests per x-triage-tier and per x-triage-model;
- cache.png: x-triage-cache hit/miss/bypass counts and the hit rate per second;
- status.png: responses per second by HTTP status (200 split by whether
  x-triage-fallbacks was above 0; "none" = no response: timeout, connection error).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

PERCENTILES = (("50%", "p50", "-"), ("95%", "p95", "--"), ("99%", "p99", ":"))
PANELS = (("POST", "non-stream requests"), ("STREAM", "streams, total time"), ("TTFT", "streams, time to first token"))


def write_charts(out: Path, history_csv: Path, summary: dict, tally: dict) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    title = f"{summary['host']}  mix={summary['mix']}  users={summary['users']}"
    written = []
    for name, draw in (("latency.png", lambda: _latency(plt, read_history(history_csv), title)),
                       ("tiers.png", lambda: _mix(plt, summary, title)),
                       ("cache.png", lambda: _cache(plt, summary, tally, title)),
                       ("status.png", lambda: status_chart(plt, tally, title))):
        fig = draw()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        written.append(name)
    return written


def read_history(path: Path) -> list[dict]:
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except (OSError, csv.Error):
        return []


def _series(rows: list[dict]) -> tuple[dict, list, list, list]:
    """{(type, name): [(t, {pct: ms})]}, and the Aggregated row's t, rps, users."""
    if not rows:
        return {}, [], [], []
    t0 = float(rows[0]["Timestamp"])
    by_entry: dict = defaultdict(list)
    agg_t, rps, users = [], defaultdict(float), {}
    for r in rows:
        t = float(r["Timestamp"]) - t0
        if r["Name"] == "Aggregated":
            agg_t.append(t)
            users[t] = _num(r["User Count"])
            continue
        if r["Type"] != "TTFT":
            rps[t] += _num(r["Requests/s"])
        values = {p: _num(r[p]) for p, _, _ in PERCENTILES if r.get(p) not in (None, "", "N/A")}
        if any(values.values()):  # Locust writes 0 for an empty window
            by_entry[(r["Type"], r["Name"])].append((t, values))
    ts = sorted(set(agg_t) | set(rps))
    return by_entry, ts, [rps.get(t, 0.0) for t in ts], [users.get(t, 0.0) for t in ts]


def _latency(plt, rows: list[dict], title: str):
    by_entry, ts, rps, users = _series(rows)
    panels = [(kind, label) for kind, label in PANELS if any(k == kind for k, _ in by_entry)] or [PANELS[0]]
    fig, axes = plt.subplots(len(panels) + 1, 1, figsize=(10, 2.8 * (len(panels) + 1)), sharex=True, squeeze=False)
    for ax, (kind, label) in zip(axes[:, 0], panels):
        for (k, name), points in sorted(by_entry.items()):
            if k != kind:
                continue
            for pct, short, style in PERCENTILES:
                xs = [t for t, v in points if pct in v]
                ax.plot(xs, [v[pct] for _, v in points if pct in v], style, label=f"{name} {short}")
        ax.set_ylabel("ms")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
        if ax.has_data():
            ax.legend(fontsize=8, ncol=3)
    ax = axes[-1, 0]
    ax.plot(ts, rps, color="tab:green", label="requests/s (TTFT entries excluded)")
    ax.set_ylabel("req/s")
    ax2 = ax.twinx()
    ax2.plot(ts, users, color="tab:gray", linestyle="--", label="users")
    ax2.set_ylabel("users")
    ax.set_xlabel("seconds since start")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax2.legend(loc="lower right", fontsize=8)
    fig.suptitle(f"Latency percentiles over time\n{title}", fontsize=11)
    fig.tight_layout()
    return fig


def _bar(ax, counts: dict, label: str) -> None:
    names = sorted(counts, key=lambda k: -counts[k])
    total = sum(counts.values()) or 1
    bars = ax.bar(names, [counts[n] for n in names], color="tab:blue")
    for bar, n in zip(bars, names):
        ax.annotate(f"{counts[n] / total:.0%}", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                    ha="center", va="bottom", fontsize=8)
    ax.set_title(label, fontsize=10)
    ax.set_ylabel("requests")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    if not names:
        ax.text(0.5, 0.5, "no header seen", ha="center", va="center", transform=ax.transAxes)


def _mix(plt, summary: dict, title: str):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    _bar(a, summary["tier_mix"], "x-triage-tier")
    _bar(b, summary["model_mix"], "x-triage-model")
    fig.suptitle(f"Routing mix\n{title}", fontsize=11)
    fig.tight_layout()
    return fig


def _cache(plt, summary: dict, tally: dict, title: str):
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    _bar(a, summary["cache"], f"x-triage-cache (hit rate {summary['cache_hit_rate']:.1%} of answers)")
    seconds = sorted(tally["per_second"], key=int)
    xs, rates = [], []
    for s in seconds:
        c = tally["per_second"][s]
        answered = sum(v for k, v in c.items() if k.startswith("cache_"))
        if answered:
            xs.append(int(s))
            rates.append(c.get("cache_hit", 0) / answered)
    b.plot(xs, rates, marker=".", color="tab:orange")
    b.set_ylim(-0.02, 1.02)
    b.set_xlabel("seconds since start")
    b.set_ylabel("hit rate")
    b.set_title("cache hits / answers, per second", fontsize=10)
    b.grid(alpha=0.3)
    fig.suptitle(f"Semantic cache\n{title}", fontsize=11)
    fig.tight_layout()
    return fig


def status_chart(plt, tally: dict, title: str):
    """Stacked bars: responses per second by status, 200s with a fallback apart."""
    seconds = sorted(tally["per_second"], key=int)
    xs = [int(s) for s in seconds]
    rows = [tally["per_second"][s] for s in seconds]
    statuses = sorted({k[len("status_"):] for r in rows for k in r if k.startswith("status_")},
                      key=lambda k: (k != "200", k))
    series = []
    for status in statuses:
        counts = [r.get(f"status_{status}", 0) for r in rows]
        if status == "200":
            with_fb = [r.get("ok_with_fallback", 0) for r in rows]
            series += [("200, no fallback", [c - f for c, f in zip(counts, with_fb)], "tab:green"),
                       ("200 after fallback", with_fb, "tab:olive")]
        else:
            color = "tab:orange" if status == "503" else "tab:red" if status == "none" else None
            series.append((status if status != "none" else "no response", counts, color))
    fig, ax = plt.subplots(figsize=(10, 4))
    bottom = [0] * len(xs)
    for label, counts, color in series:
        ax.bar(xs, counts, bottom=bottom, width=1.0, label=label, color=color)
        bottom = [b + c for b, c in zip(bottom, counts)]
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("responses / s")
    ax.grid(alpha=0.3, axis="y")
    if series:
        ax.legend(fontsize=8, loc="upper right")
    else:
        ax.text(0.5, 0.5, "no responses", ha="center", va="center", transform=ax.transAxes)
    ax.set_title(f"Responses by status\n{title}", fontsize=11)
    fig.tight_layout()
    return fig


def _num(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return 0.0
