"""`triage bench chart RESULT.json ...`: draw (again) the chart beside a committed result.

Each bench writes its PNG when it runs; this redraws it from the JSON alone,
for results measured before their bench drew one, or after a chart changes.
The kind of result is read from the JSON, by the bench that wrote it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def chart_for(result: dict):
    """The plot(result, png_path) function of the bench that wrote `result`, or None."""
    from serve_app.lab.bench import cache_e2e, classifier_latency, report

    if result.get("benchmark") == "triage bench overhead":
        return report.plot
    if cache_e2e.is_result(result):
        return cache_e2e.plot
    if classifier_latency.is_result(result):
        return classifier_latency.plot
    return None


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="+", type=Path, help="result JSONs; each PNG is written beside its JSON")
    a = p.parse_args(argv)
    failed = 0
    for path in a.results:
        result = json.loads(path.read_text())
        plot = chart_for(result)
        if plot is None:
            print(f"{path}: not a result of overhead, cache-e2e or classifier-latency; skipped")
            failed += 1
            continue
        plot(result, str(path.with_suffix(".png")))
        print(f"{path} -> {path.with_suffix('.png')}")
    return 1 if failed else 0
