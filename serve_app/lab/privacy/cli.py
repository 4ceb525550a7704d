"""The privacy tooling as triage commands:

    triage data privacy   [--datasets DIR] --out build/privacy/corpus.jsonl     the labelled corpus
    triage eval privacy   --corpus build/privacy/corpus.jsonl --split bench --out loadtest/results/privacy_bench.json
    triage eval privacy   --synth [--datasets DIR] --out ...                    presidio_synth's sentences
    triage eval privacy   --abstracts 600:1000 [--datasets DIR] --out ...       PubMedQA abstracts (clean, long)
    triage bench privacy-latency --corpus build/privacy/corpus.jsonl --out ...  analyze() by prompt size

`--settings` takes a JSON object of PrivacySettings fields (e.g. '{"ner": false}').
The end-to-end benchmark through a served router is `triage bench privacy`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from serve_app.lab.paths import datasets_root


def _detector(settings_json: str | None):
    from serve_app.privacy.detector import PrivacyDetector
    from serve_app.privacy.settings import PrivacySettings

    return PrivacyDetector(PrivacySettings.model_validate(json.loads(settings_json or "{}")))


def summary(report: dict) -> str:
    lines = [f"split={report['split']} sensitive {report['sensitive']['detected']}/{report['sensitive']['count']} "
             f"detected, clean false alarms {report['clean']['false_alarms']}/{report['clean']['count']}, "
             f"latency p50 {report['latency']['p50_ms']} ms p99 {report['latency']['p99_ms']} ms"]
    for name, form in report["forms"].items():
        if form["sensitive"]:
            lines.append(f"  {name:28s} {form['detected']:4d}/{form['count']:<4d} missed {form['missed']}")
        else:
            lines.append(f"  {name:28s} clean {form['count']:4d}  false alarms {form['false_alarms']}")
    return "\n".join(lines)


def corpus_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Write the labelled privacy corpus (JSONL), split by template.")
    p.add_argument("--datasets", default=None, help="shared datasets root (default: $TRIAGE_DATASETS or ../shared/datasets)")
    p.add_argument("--out", type=Path, default=Path("build/privacy/corpus.jsonl"))
    p.add_argument("--seed", type=int, default=None)
    a = p.parse_args(argv)
    from serve_app.lab.privacy import corpus

    rows = corpus.build(datasets_root(a.datasets), **({} if a.seed is None else {"seed": a.seed}))
    corpus.write(rows, a.out)
    print(f"wrote {len(rows)} rows to {a.out}")
    return 0


def evaluate_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="The privacy detector on a labelled set: per form, detected, "
                                "missed, false alarms, latency.")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--corpus", type=Path, help="a corpus from `triage data privacy`")
    what.add_argument("--synth", action="store_true", help="presidio_synth/synth_dataset_v2.json (README labels)")
    what.add_argument("--abstracts", metavar="START:STOP", help="a slice of the seeded PubMedQA abstract shuffle")
    p.add_argument("--split", choices=["train", "bench", "all"], default="bench", help="with --corpus")
    p.add_argument("--datasets", default=None, help="with --synth / --abstracts")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--settings", default=None)
    a = p.parse_args(argv)
    from serve_app.lab.privacy import evaluate

    detector = _detector(a.settings)
    if a.corpus:
        report = evaluate.evaluate(detector, evaluate.load(a.corpus), None if a.split == "all" else a.split)
    elif a.synth:
        report = evaluate.evaluate(detector, evaluate.synth_rows(
            datasets_root(a.datasets) / "presidio_synth" / "synth_dataset_v2.json"), split=None)
    else:
        start, stop = (int(x) for x in a.abstracts.split(":"))
        report = evaluate.evaluate(detector, evaluate.pubmed_abstract_rows(
            datasets_root(a.datasets) / "pubmedqa" / "ori_pqal.json", start, stop), split=None)
    print(summary(report))
    evaluate.write(report, a.out)
    return 0


def latency_main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="PrivacyDetector.analyze latency by prompt size (CPU and wall).")
    p.add_argument("--corpus", type=Path, required=True)
    p.add_argument("--out", type=Path, default=Path("loadtest/results/privacy_latency.json"))
    p.add_argument("--settings", default=None)
    a = p.parse_args(argv)
    from serve_app.lab.privacy import evaluate

    report = evaluate.latency(_detector(a.settings), evaluate.load(a.corpus))
    print(json.dumps(report, indent=1))
    evaluate.write(report, a.out)
    return 0
