"""Pictures for `triage bench profile`: a flame graph SVG per replica, one PNG bar chart.

The flame graphs are drawn here from py-spy's raw (collapsed) stacks, so one
py-spy run per replica gives both the picture and the numbers. Each frame is
coloured by the stage its own file belongs to (profile_stages.STAGE_RULES);
hover a frame for its full name and sample count.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from serve_app.lab.bench.profile_stages import COLOURS, NATIVE_UNDER, STAGE_RULES, STAGES, Stack, frame_stage

ROW, FONT, CHAR_W, PAD = 16, 11, 6.6, 10
_PATH = re.compile(r"^(.*) \((.*?)(?::(\d+))?\)$")


def short_frame(frame: str) -> str:
    """"fn (/…/site-packages/ray/serve/handle.py:12)" -> "fn (ray/serve/handle.py:12)"."""
    m = _PATH.match(frame)
    if not m:
        return frame
    fn, path, line = m.groups()
    for marker in ("site-packages/", "dist-packages/"):
        if marker in path:
            path = path.rsplit(marker, 1)[1]
            break
    else:
        if "/serve_app/" in path:
            path = "serve_app/" + path.rsplit("/serve_app/", 1)[1]
        elif re.search(r"/lib/python3\.\d+/", path):
            path = re.split(r"/lib/python3\.\d+/", path)[-1]
    return f"{fn} ({path}:{line})" if line else f"{fn} ({path})"


def _tree(stacks: list[Stack], comms: dict[int, str]) -> dict:
    root: dict = {"n": 0, "kids": {}}
    for s in stacks:
        node = root
        node["n"] += s.count
        label = s.thread or (f"{s.tid} ({comms[s.tid]})" if s.tid in comms else s.tid)
        for frame in (f"thread: {label}", *s.frames):
            node = node["kids"].setdefault(frame, {"n": 0, "kids": {}})
            node["n"] += s.count
    return root


def flamegraph_svg(stacks: list[Stack], title: str, comms: dict[int, str] | None = None, width: int = 1400) -> str:
    """A classic flame graph (root at the bottom, children sorted by name); `comms`
    names threads without a Python name (tid -> OS thread name)."""
    root = _tree(stacks, comms or {})
    total = root["n"] or 1
    rects: list[tuple[float, int, float, str, str, int]] = []  # x, depth, w, name, colour, samples

    def walk(node: dict, name: str, x: float, depth: int) -> int:
        w = (width - 2 * PAD) * node["n"] / total
        if w < 0.3:
            return depth
        stage = frame_stage(name) if depth > 1 else None
        stage = None if stage in NATIVE_UNDER else stage
        colour = COLOURS.get(stage) if stage else ("#dddddd" if depth <= 1 else "#fdd49e")
        rects.append((x, depth, w, name, colour, node["n"]))
        deepest, cx = depth, x
        for kid_name in sorted(node["kids"]):
            kid = node["kids"][kid_name]
            deepest = max(deepest, walk(kid, kid_name, cx, depth + 1))
            cx += (width - 2 * PAD) * kid["n"] / total
        return deepest

    depth = walk(root, "all", PAD, 0)
    legend = [name for name, _, _ in STAGE_RULES if name not in NATIVE_UNDER]  # the colours frames get
    per_line = max(1, (width - 2 * PAD) // 190)
    top, legend_h = 40, 18 * (-(-len(legend) // per_line)) + 8
    height = top + (depth + 1) * ROW + legend_h + PAD
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'font-family="Verdana, sans-serif" font-size="{FONT}">',
           '<rect width="100%" height="100%" fill="#ffffff"/>',
           f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="15">{html.escape(title)}</text>',
           f'<text x="{PAD}" y="34" fill="#555">{total} samples; width = share of samples; '
           'colour = stage of the frame\'s own file (tan: no rule); hover for detail</text>']
    base = top + depth * ROW
    for x, d, w, name, colour, n in rects:
        y = base - d * ROW
        label = name if d <= 1 else short_frame(name)
        tip = html.escape(f"{label} - {n} samples ({100 * n / total:.1f}%)")
        out.append(f'<g><title>{tip}</title><rect x="{x:.2f}" y="{y}" width="{w:.2f}" height="{ROW - 1}" '
                   f'fill="{colour}" rx="2"/>')
        chars = int((w - 4) / CHAR_W)
        if chars >= 3:
            text = label if len(label) <= chars else label[: chars - 2] + ".."
            out.append(f'<text x="{x + 2:.2f}" y="{y + ROW - 4}">{html.escape(text)}</text>')
        out.append("</g>")
    for i, stage in enumerate(legend):
        lx, ly = PAD + (i % per_line) * 190, base + ROW + 16 + 18 * (i // per_line)
        out.append(f'<rect x="{lx}" y="{ly - 10}" width="10" height="10" fill="{COLOURS[stage]}"/>'
                   f'<text x="{lx + 14}" y="{ly}">{html.escape(stage)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_flamegraph(path: Path, stacks: list[Stack], title: str, comms: dict[int, str] | None = None) -> None:
    path.write_text(flamegraph_svg(stacks, title, comms))


def bar_chart(path: Path, rows: list[dict], title: str) -> None:
    """Stacked horizontal bars: CPU ms per request by process (rows) and stage (segments).

    Each row: {"name", "stages": {stage: ms}}; a row without stages gets one
    grey "not profiled" bar of its "ms".
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r["name"] for r in rows][::-1]
    fig, ax = plt.subplots(figsize=(11, 0.45 * len(rows) + 2.2))
    left = [0.0] * len(rows)
    seen = set()
    for stage in (*STAGES, "not profiled"):
        widths = []
        for r in rows[::-1]:
            stages = r.get("stages")
            widths.append(stages.get(stage, 0.0) if stages else (r["ms"] if stage == "not profiled" else 0.0))
        if not any(widths):
            continue
        colour = COLOURS.get(stage, "#f4f4f4")
        ax.barh(names, widths, left=left, color=colour, edgecolor="white" if stage in COLOURS else "#999999",
                linewidth=0.5, hatch=None if stage in COLOURS else "///", label=stage if stage not in seen else None)
        seen.add(stage)
        left = [a + b for a, b in zip(left, widths)]
    for i, total in enumerate(left):
        ax.text(total, i, f" {total:.2f}", va="center", fontsize=8)
    ax.set_xlabel("CPU ms per routed request")
    ax.set_title(title, fontsize=10)
    ax.set_xlim(0, max(left or [1]) * 1.15)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)
