"""`triage data routing`: routing-outcome files for `triage eval routing`.

From the outcome table, one JSONL row per (prompt, weak/strong pair) in the
DESIGN's routing-outcome format plus what the evaluation groups by:
`{"id", "prompt", "weak_correct", "strong_correct", "source", "benchmark",
"pair", "pair_kind", "weak_tier", "strong_tier"}` with `source` =
"<benchmark> · <weak> -> <strong>". Two files:

- routing_heldout.jsonl: the benchmarks held out whole from training (table.py:
  heldout_set) with every pair of their source;
- routing_val.jsonl: the validation rows of the training benchmarks.

`pair_kind` says whether the pair's models entered training (seen) or not
(unseen, weak-unseen): the held-out model pairs.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from serve_app.lab.outcomes import pairs, table, tiers

MIN_GAP = 0.02  # a pair whose strong model is not better on a benchmark says nothing there


def export(datasets: Path, out: Path, log=print) -> dict[str, int]:
    rows, _ = table.build(datasets)
    counts = {}
    for split, name in (("heldout", "routing_heldout.jsonl"), ("val", "routing_val.jsonl")):
        kept = [r for r in rows if r["split"] == split]
        lines, per = [], Counter()
        for pair in pairs.PAIRS:
            by_bench: dict[str, list] = {}
            for r in kept:
                a, b = r["scores"].get(pair.weak), r["scores"].get(pair.strong)
                if r["source"] == pair.source and a is not None and b is not None:
                    by_bench.setdefault(r["eval_set"], []).append((r, a, b))
            for bench, items in by_bench.items():
                gap = sum(b for _, _, b in items) / len(items) - sum(a for _, a, _ in items) / len(items)
                if len(items) < pairs.MIN_ROWS or gap < MIN_GAP:
                    continue
                source = f"{bench} · {pair.name}"
                per[source] = len(items)
                lines += [json.dumps({"id": f"{r['id']}|{pair.name}", "prompt": r["prompt"],
                                      "weak_correct": round(float(a)), "strong_correct": round(float(b)),
                                      "source": source, "benchmark": bench, "pair": pair.name,
                                      "pair_kind": pair.kind, "weak_tier": pair.weak_tier,
                                      "strong_tier": tiers.tier_of(pair.source, pair.strong) or "llm"},
                                     ensure_ascii=False) for r, a, b in items]
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        counts[name] = len(lines)
        log(f"{out / name}: {len(lines)} rows, {len(per)} benchmark/pair units")
    return counts


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Routing-outcome files (held-out and val) from the outcome table.")
    p.add_argument("--datasets", default=None, help="shared datasets root (default: $TRIAGE_DATASETS or ../shared/datasets)")
    p.add_argument("--out", default="build/routing")
    a = p.parse_args(argv)
    from serve_app.lab.paths import datasets_root

    export(datasets_root(a.datasets), Path(a.out))
    return 0
