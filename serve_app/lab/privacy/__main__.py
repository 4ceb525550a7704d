"""Command line for the privacy tooling.

    python -m serve_app.lab.privacy corpus   --datasets /work/shared/datasets --out runs/privacy/corpus.jsonl
    python -m serve_app.lab.privacy evaluate --corpus runs/privacy/corpus.jsonl --split bench --out runs/privacy/bench.json
    python -m serve_app.lab.privacy synth    --datasets /work/shared/datasets --out runs/privacy/synth.json
    python -m serve_app.lab.privacy abstracts --datasets /work/shared/datasets --range 600:1000 --out runs/privacy/abstracts.json
    python -m serve_app.lab.privacy latency  --corpus runs/privacy/corpus.jsonl --out runs/privacy/latency.json

`--settings` takes a JSON object of PrivacySettings fields (e.g. '{"ner": false}').
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _detector(settings_json: str | None):
    from serve_app.privacy.detector import PrivacyDetector
    from serve_app.privacy.settings import PrivacySettings

    return PrivacyDetector(PrivacySettings.model_validate(json.loads(settings_json or "{}")))


def _summary(report: dict) -> str:
    lines = [f"split={report['split']} sensitive {report['sensitive']['detected']}/{report['sensitive']['count']} "
             f"detected, clean false alarms {report['clean']['false_alarms']}/{report['clean']['count']}, "
             f"latency p50 {report['latency']['p50_ms']} ms p99 {report['latency']['p99_ms']} ms"]
    for name, form in report["forms"].items():
        if form["sensitive"]:
            lines.append(f"  {name:28s} {form['detected']:4d}/{form['count']:<4d} missed {form['missed']}")
        else:
            lines.append(f"  {name:28s} clean {form['count']:4d}  false alarms {form['false_alarms']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m serve_app.lab.privacy")
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("corpus", help="write the labelled corpus (JSONL)")
    c.add_argument("--datasets", type=Path, required=True)
    c.add_argument("--out", type=Path, required=True)
    c.add_argument("--seed", type=int, default=None)
    for name in ("evaluate", "latency"):
        p = sub.add_parser(name)
        p.add_argument("--corpus", type=Path, required=True)
        p.add_argument("--out", type=Path, required=True)
        p.add_argument("--settings", default=None)
        if name == "evaluate":
            p.add_argument("--split", choices=["train", "bench", "all"], default="bench")
    s = sub.add_parser("synth", help="evaluate on presidio_synth/synth_dataset_v2.json (README labels)")
    s.add_argument("--datasets", type=Path, required=True)
    s.add_argument("--out", type=Path, required=True)
    s.add_argument("--settings", default=None)
    a = sub.add_parser("abstracts", help="false alarms on PubMedQA abstracts (clean, long, medical)")
    a.add_argument("--datasets", type=Path, required=True)
    a.add_argument("--range", default="600:1000", help="slice of the seeded shuffle, start:stop")
    a.add_argument("--out", type=Path, required=True)
    a.add_argument("--settings", default=None)
    args = parser.parse_args(argv)

    from serve_app.lab.privacy import corpus, evaluate

    if args.command == "corpus":
        rows = corpus.build(args.datasets, **({} if args.seed is None else {"seed": args.seed}))
        corpus.write(rows, args.out)
        print(f"wrote {len(rows)} rows to {args.out}")
        return
    detector = _detector(args.settings)
    if args.command == "evaluate":
        report = evaluate.evaluate(detector, evaluate.load(args.corpus), None if args.split == "all" else args.split)
        print(_summary(report))
    elif args.command == "abstracts":
        start, stop = (int(x) for x in args.range.split(":"))
        rows = evaluate.pubmed_abstract_rows(args.datasets / "pubmedqa" / "ori_pqal.json", start, stop)
        report = evaluate.evaluate(detector, rows, split=None)
        print(_summary(report))
    elif args.command == "synth":
        rows = evaluate.synth_rows(args.datasets / "presidio_synth" / "synth_dataset_v2.json")
        report = evaluate.evaluate(detector, rows, split=None)
        print(_summary(report))
    else:
        report = evaluate.latency(detector, evaluate.load(args.corpus))
        print(json.dumps(report, indent=1))
    evaluate.write(report, args.out)


if __name__ == "__main__":
    main()
