"""Per-prompt cost of the success estimate on top of v1's classifier pass.

`python -m serve_app.lab.outcomes.latency --artifact build/routing_research/artifact --reps 300`

Batch 1, as a Classifier replica runs it: v1's full predict (int8 encoder on
one thread, heads, validators) on ~20/~200/~500-token prompts, then what the
success model adds for the same prompt: the success head, the outcome-memory
lookup (Qdrant edge, HNSW), the Beta blend and Platt.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from serve_app.bench.classifier_latency import prompts_by_size
from serve_app.lab.outcomes import memory, success


def _p(times) -> dict:
    t = np.array(times) * 1000
    return {"p50_ms": round(float(np.percentile(t, 50)), 3), "p99_ms": round(float(np.percentile(t, 99)), 3)}


def load_head(artifact: Path, spec: dict):
    with np.load(artifact / "success_head.npz") as z:
        w = {k.removeprefix("head."): z[k] for k in z.files}
    return success.MLPHeads(**w) if spec["head"] == "MLPHeads" else success.LinearHeads(**w)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--artifact", default="build/routing_research/artifact")
    ap.add_argument("--reps", type=int, default=300)
    ap.add_argument("--out", default="build/routing_research/latency.json")
    a = ap.parse_args(argv)
    from serve_app.training.evaluate import ModelPredictor

    art = Path(a.artifact)
    spec = json.loads((art / "success_model.json").read_text())
    head = load_head(art, spec)
    with np.load(art / "outcome_memory.npz") as z:
        vecs, succ = z["vectors"].astype(np.float32), z["success"].astype(np.float64)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    tmp = Path(tempfile.mkdtemp(prefix="outcome-memory-"))
    mem = memory.OutcomeMemory(tmp)
    t0 = time.perf_counter()
    mem.build(vecs, succ, ["memory"] * len(vecs))
    build_s = time.perf_counter() - t0
    knn, platt = spec["knn"], success.Platt(np.array(spec["platt"]["a"]), np.array(spec["platt"]["b"]))
    predictor = ModelPredictor("triage-router-v1")
    encoder = predictor.encoder
    report = {"memory_points": mem.count(), "memory_build_s": round(build_s, 2), "sizes": {}}
    for size, texts in prompts_by_size().items():
        for t in texts[:3]:
            predictor.predict([t])
        v1_t, enc_t, head_t, knn_t = [], [], [], []
        for i in range(a.reps):
            text = texts[i % len(texts)]
            t0 = time.perf_counter()
            predictor.predict([text])
            v1_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            batch = encoder.encode([text])
            enc_t.append(time.perf_counter() - t0)
            x = np.concatenate([batch.embeddings, np.log1p(np.asarray(batch.tokens, np.float32))[:, None] / 8], 1)
            t0 = time.perf_counter()
            prior = head.predict(x)[0]
            head_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            p = memory.estimate(mem, batch.embeddings[0], prior, knn["k"], knn["alpha"], knn["floor"])
            platt(p[None, :])
            knn_t.append(time.perf_counter() - t0)
        added = np.array(head_t) + np.array(knn_t)
        report["sizes"][f"~{size} tokens"] = {"v1_classifier": _p(v1_t), "encoder_only": _p(enc_t),
                                              "success_head": _p(head_t), "memory_lookup_blend_platt": _p(knn_t),
                                              "added_by_success_model": _p(added),
                                              "v1_plus_success_model": _p(np.array(v1_t) + added)}
        print(size, json.dumps(report["sizes"][f"~{size} tokens"]), flush=True)
    mem.close()
    shutil.rmtree(tmp, ignore_errors=True)
    Path(a.out).write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
