"""Where an int8 encoder run spends its time, by ONNX Runtime op, with the
session Triage runs (onnx_encoder.SESSION) against ORT's default fusions.

`triage bench encoder-ops [--model triage-router-v3] --out loadtest/results/encoder_ops.json`

One ~200-token prompt cut to the model's token budget, batch 1, one thread,
as a Classifier replica runs it. For each session: p50 wall time of the run
alone (no tokenising, heads or validators), then per-op-type time from
ORT's profiler in a second, profiled session (the profiler adds its own
overhead, so op shares are the point, not their sum). Also the embedding
cosine between the two sessions on the latency bench's prompts: what
changing the graph does to the vectors. Run it with nothing else on the
cores; it writes JSON and a PNG.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from serve_app.classifier.heads import DEFAULT_MODEL
from serve_app.lab.bench.figure import saved_figure

SESSIONS = {"triage": None, "ort default": []}  # None: onnx_encoder.SESSION's disabled optimizers


def _feed(row: list[int]) -> dict:
    ids = np.asarray([row], dtype=np.int64)
    return {"input_ids": ids, "attention_mask": np.ones_like(ids)}


def _p50_ms(session, feed: dict, runs: int) -> float:
    for _ in range(10):
        session.run(None, feed)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        session.run(None, feed)
        times.append((time.perf_counter() - t0) * 1000)
    return round(float(np.percentile(times, 50)), 2)


def _op_ms(model_file: Path, disabled, feed: dict, runs: int) -> dict[str, float]:
    from serve_app.classifier.onnx_encoder import open_session

    session = open_session(model_file, 1, disabled_optimizers=disabled, profile=True)
    for _ in range(runs):
        session.run(None, feed)
    trace = session.end_profiling()
    try:
        events = json.loads(Path(trace).read_text())
    finally:
        os.remove(trace)
    per_op: dict[str, float] = defaultdict(float)
    for e in events:
        if e.get("cat") == "Node" and e["name"].endswith("_kernel_time"):
            per_op[e["args"]["op_name"]] += e["dur"] / 1000 / runs
    return {k: round(v, 3) for k, v in sorted(per_op.items(), key=lambda kv: -kv[1])}


def measure(model: str, runs: int) -> dict:
    from serve_app.classifier.heads import RouterHeads, resolve_model_dir
    from serve_app.classifier.onnx_encoder import MODEL_FILE, OnnxEncoder, mean_pool, open_session
    from serve_app.lab.bench.classifier_latency import prompts_by_size

    heads = RouterHeads.load(resolve_model_dir(model))
    model_dir = Path(heads.encoder_dir())
    encoder = OnnxEncoder.from_dir(model_dir, heads.encoder_settings["max_tokens"])
    prompts = [p for texts in prompts_by_size().values() for p in texts]
    rows, _, _ = encoder._rows(prompts)
    long_row = max(rows, key=len)
    result = {"model": model, "tokens": len(long_row), "runs": runs, "sessions": {}}
    vectors = {}
    for name, disabled in SESSIONS.items():
        session = open_session(model_dir / MODEL_FILE, 1, disabled_optimizers=disabled)
        feeds = [_feed(r) for r in rows]
        vectors[name] = np.concatenate([mean_pool(session.run(None, f)[0], f["attention_mask"]) for f in feeds])
        result["sessions"][name] = {"p50_ms": _p50_ms(session, _feed(long_row), runs),
                                    "op_ms": _op_ms(model_dir / MODEL_FILE, disabled, _feed(long_row), runs)}
        print(f"{name}: p50 {result['sessions'][name]['p50_ms']} ms for {len(long_row)} tokens")
    cos = (vectors["triage"] * vectors["ort default"]).sum(axis=1)
    result["cosine_between_sessions"] = {"min": round(float(cos.min()), 5), "mean": round(float(cos.mean()), 6),
                                         "texts": len(rows)}
    return result


def plot(result: dict, path: str) -> None:
    ops = list(dict.fromkeys(op for s in result["sessions"].values() for op in list(s["op_ms"])[:10]))
    with saved_figure(path, f"{result['model']}: one {result['tokens']}-token run, time by ONNX Runtime op "
                            "(profiled, one thread)", figsize=(10, 5)) as (_, ax):
        y = np.arange(len(ops))
        for i, (name, s) in enumerate(result["sessions"].items()):
            ax.barh(y + i * 0.4, [s["op_ms"].get(op, 0.0) for op in ops], height=0.4,
                    label=f"{name} (run p50 {s['p50_ms']} ms)")
        ax.set_yticks(y + 0.2, ops)
        ax.invert_yaxis()
        ax.set_xlabel("ms per run")
        ax.legend()


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=DEFAULT_MODEL, help="model name or directory (its int8 encoder)")
    p.add_argument("--runs", type=int, default=200)
    p.add_argument("--out", default="loadtest/results/encoder_ops.json")
    a = p.parse_args(argv)
    result = measure(a.model, a.runs)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    png = str(Path(a.out).with_suffix(".png"))
    plot(result, png)
    print(f"embedding cosine between sessions: min {result['cosine_between_sessions']['min']}, "
          f"mean {result['cosine_between_sessions']['mean']}")
    print(f"wrote {a.out} and {png}")
    return 0
