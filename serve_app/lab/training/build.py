"""Build the labelled training set: `triage data build`.

Writes train.jsonl, val.jsonl, heldout.jsonl and report.json to --out and
prints progress per source and the label counts per head.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from . import dataset
from .sources import NOT_LOADED, SOURCES, Source


def collect(root: Path, sources: tuple[Source, ...], allow_noncommercial: bool,
            log=print) -> tuple[list[dict], dict]:
    """Load every source, dropping non-commercial rows unless allowed."""
    rows: list[dict] = []
    excluded: dict[str, dict] = {name: {"rows": None, "reason": why} for name, why in NOT_LOADED.items()}
    for src in sources:
        t0 = time.perf_counter()
        loaded = nc = 0
        try:
            for row in src.load(root):
                loaded += 1
                # Held-out sources are evaluation only: no text of theirs ships
                # in a model, so their licence flag does not exclude them.
                if row.pop("noncommercial") and not (allow_noncommercial or src.heldout):
                    nc += 1
                    continue
                rows.append(row)
        except FileNotFoundError as exc:
            excluded[src.name] = {"rows": None, "reason": f"missing file: {exc.filename}"}
            log(f"  {src.name:<18} missing ({exc.filename})")
            continue
        if nc:
            excluded[f"{src.name} (non-commercial rows)"] = {
                "rows": nc, "reason": "non-commercial or unverified licence; pass --allow-noncommercial"}
        log(f"  {src.name:<18} {loaded - nc:>6} rows  ({nc} non-commercial dropped)  {time.perf_counter() - t0:.1f}s")
    return rows, excluded


def build(root: Path, out: Path, allow_noncommercial: bool = False, val_percent: int = 10,
          sources: tuple[Source, ...] = SOURCES, log=print) -> dict:
    log(f"[1/4] loading sources from {root}")
    rows, excluded = collect(root, sources, allow_noncommercial, log)
    log(f"[2/4] dedup {len(rows)} rows")
    stats: dict = {}
    rows = dataset.dedup(rows, stats)
    log(f"      kept {len(rows)}")
    log("[3/4] split (grouped, held-out sources apart)")
    heldout = {s.name for s in sources if s.heldout}
    splits = dataset.split(rows, heldout, val_percent)
    out.mkdir(parents=True, exist_ok=True)
    log(f"[4/4] writing to {out}")
    for name, split_rows in splits.items():
        n = dataset.write_jsonl(out / f"{name}.jsonl", split_rows)
        log(f"      {name}.jsonl  {n} rows")
        routing = [{"id": r["id"], "prompt": r["prompt"], "weak_correct": r["weak_correct"],
                    "strong_correct": r["strong_correct"]} for r in split_rows
                   if r.get("weak_correct") is not None and r.get("strong_correct") is not None]
        if routing and name != "train":
            n = dataset.write_jsonl(out / f"routing_{name}.jsonl", routing, fields=tuple(routing[0]))
            log(f"      routing_{name}.jsonl  {n} outcome rows")
    report = dataset.build_report(splits, stats, excluded)
    report["args"] = {"datasets": str(root), "allow_noncommercial": allow_noncommercial,
                      "val_percent": val_percent, "heldout_sources": sorted(heldout)}
    (out / "report.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    return report


def _print_counts(report: dict) -> None:
    for head in dataset.HEADS:
        print(f"\n{head}:")
        for split_name, per_head in report["labels"].items():
            counts = "  ".join(f"{k}={v}" for k, v in per_head[head].items())
            print(f"  {split_name:<8} {counts}")


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__)
    p.add_argument("--datasets", type=Path, required=True, help="root of ../shared/datasets")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--allow-noncommercial", action="store_true",
                   help="include CC BY-NC and licence-unclear rows (not for a commercial model)")
    p.add_argument("--val-percent", type=int, default=10)
    args = p.parse_args(argv)
    t0 = time.perf_counter()
    report = build(args.datasets, args.out, args.allow_noncommercial, args.val_percent)
    _print_counts(report)
    print(f"\nsplits: {report['split_sizes']}  ({time.perf_counter() - t0:.1f}s)")
    return 0
