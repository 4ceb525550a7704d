"""Single-prompt classification latency of trained models, by prompt size.

`triage bench classifier-latency [--models triage-router-v2 other dirs] --out loadtest/results/classifier_latency.json`

What the Classifier replica does for one request at batch 1: tokenise with
head+tail truncation, run the int8 encoder on one thread, the heads and the
validators. ~20 / ~200 / ~500-token prompts as in the overhead benchmark.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from serve_app.classifier.heads import DEFAULT_MODEL
from serve_app.lab.bench.figure import saved_figure
from serve_app.lab.bench.prompts import SHORT, TokenCounter, classified_text, long_prompt

SIZES = (20, 200, 500)


def prompts_by_size() -> dict[int, list[str]]:
    count = TokenCounter()
    out = {20: [classified_text(p) for p in SHORT]}
    for size in SIZES[1:]:
        base = classified_text(long_prompt(size, count))
        # Vary the head so no cache anywhere can help.
        out[size] = [f"({i}) {base}" for i in range(len(SHORT))]
    return out


def measure(model: str, prompts: dict[int, list[str]], reps: int) -> dict:
    from serve_app.lab.training.evaluate import ModelPredictor

    predictor = ModelPredictor(model)
    result = {"max_tokens": predictor.heads.encoder_settings["max_tokens"]}
    for size, texts in prompts.items():
        for t in texts[:3]:
            predictor.predict([t])  # warm-up
        times = []
        for i in range(reps):
            t0 = time.perf_counter()
            predictor.predict([texts[i % len(texts)]])
            times.append((time.perf_counter() - t0) * 1000)
        result[f"~{size} tokens"] = {"p50_ms": round(float(np.percentile(times, 50)), 2),
                                     "p99_ms": round(float(np.percentile(times, 99)), 2), "n": reps}
    return result


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=[DEFAULT_MODEL], help="model names or directories")
    p.add_argument("--reps", type=int, default=200)
    p.add_argument("--out", default="loadtest/results/classifier_latency.json")
    a = p.parse_args(argv)
    prompts = prompts_by_size()
    report = {}
    for model in a.models:
        report[model] = measure(model, prompts, a.reps)
        row = "  ".join(f"{k}: p50 {v['p50_ms']:.1f} / p99 {v['p99_ms']:.1f} ms"
                        for k, v in report[model].items() if k.startswith("~"))
        print(f"{model} ({report[model]['max_tokens']} tokens)  {row}")
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    png = Path(a.out).with_suffix(".png")
    plot(report, str(png))
    print(f"wrote {a.out} and {png}")
    return 0


def is_result(result: dict) -> bool:
    """A JSON this bench wrote: model -> {"max_tokens", "~N tokens": {...}}."""
    return bool(result) and all(isinstance(v, dict) and "max_tokens" in v for v in result.values())


def plot(report: dict, path: str) -> None:
    """p50 per prompt size and model, p99 as a whisker."""
    sizes = [k for k in next(iter(report.values())) if k.startswith("~")]
    width = 0.8 / len(report)
    with saved_figure(path, "triage bench classifier-latency (1 thread)") as (_, ax):
        for i, (model, row) in enumerate(report.items()):
            xs = [j + (i - (len(report) - 1) / 2) * width for j in range(len(sizes))]
            p50 = [row[s]["p50_ms"] for s in sizes]
            p99 = [row[s]["p99_ms"] for s in sizes]
            ax.bar(xs, p50, width=width, label=f"{Path(model).name} ({row['max_tokens']} tokens)",
                   yerr=[[0] * len(p50), [b - a for a, b in zip(p50, p99)]], capsize=3)
        ax.set_xticks(range(len(sizes)), sizes)
        ax.set_ylabel("one-prompt classify latency (ms): p50, whisker to p99")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
