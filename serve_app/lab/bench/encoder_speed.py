"""Encoder backends side by side: latency, throughput and what int8 costs in routing.

    triage bench encoder-speed --out loadtest/results/encoder_speed.json

Speed: single-prompt latency (tokenisation included, as the classifier pays
it) for ~20-, ~200- and ~500-token prompts (the last cut to the token budget
head+tail), and batch-of-16 throughput with ~200-token prompts, for torch fp32
and ONNX int8 at 1 and 2 threads, one configuration after another in this
process. The int8 model is converted into a fresh temporary cache unless
--cache-dir is given, so the conversion time is measured too.

Accuracy: the shipped default exemplars (build_scorer) on a seeded sample of
labelled prompts from ../shared/datasets (label rules from its README, see
SOURCES), scored with each backend: tier and domain accuracy against the
labels, and how often int8's argmax agrees with fp32's. Judges nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from serve_app.lab.bench.measure import percentile
from serve_app.lab.bench.prompts import SHORT, TokenCounter, classified_text, long_prompt
from serve_app.lab.paths import datasets_root

# (backend, threads, ORT spin-waiting); see OnnxEncoder on spinning.
CONFIGS = (("torch", 1, False), ("torch", 2, False), ("onnx-int8", 1, False), ("onnx-int8", 2, False),
           ("onnx-int8", 2, True))
SIZES = (20, 200, 500)
BATCH = 16
WARMUP = 5

# MMLU-Pro category -> domain, from the datasets README.
MMLU_DOMAIN = {
    "biology": "science", "chemistry": "science", "physics": "science",
    "business": "financial", "economics": "financial", "computer science": "code",
    "engineering": "engineering", "health": "medical", "history": "humanities",
    "philosophy": "humanities", "psychology": "humanities", "law": "legal",
    "math": "math", "other": "general",
}
ARENA = {"creative_writing": ("llm", "creative"), "coding": ("lrm", "code"), "math": ("lrm", "math")}
BBH_LRM = {
    "tracking_shuffled_objects_five_objects", "tracking_shuffled_objects_seven_objects",
    "logical_deduction_five_objects", "logical_deduction_seven_objects", "dyck_languages",
    "multistep_arithmetic_two", "temporal_sequences", "web_of_lies", "geometric_shapes",
    "boolean_expressions",
}


def progress(msg: str) -> None:
    print(f"[encoder-speed] {msg}", file=sys.stderr, flush=True)


# ------------------------------------------------------------ labelled set


def _jsonl(path: Path):
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _gsm8k(root: Path) -> list[dict]:  # word problems: srm / math
    return [{"prompt": o["question"], "tier": "srm", "domain": "math"} for o in _jsonl(root / "gsm8k/train.jsonl")]


def _nq_open(root: Path) -> list[dict]:  # short factual lookups: slm / general
    return [{"prompt": o["question"], "tier": "slm", "domain": "general"}
            for o in _jsonl(root / "nq_open/NQ-open.dev.jsonl")]


def _mmlu_pro(root: Path) -> list[dict]:
    """Tier from the outcome-based proposal (README rule), domain from the category table."""
    base = root / "mmlu_pro_derived"
    with open(base / "mmlu_pro_tier_proposal.csv", encoding="utf-8") as fh:
        tiers = {r["question_id"]: r["proposed_tier"].lower() for r in csv.DictReader(fh)}
    out = []
    for o in _jsonl(base / "mmlu_pro_test_questions.jsonl"):
        options = "\n".join(f"{chr(65 + i)}. {opt}" for i, opt in enumerate(o["options"]))
        out.append({"prompt": f"{o['question']}\n{options}", "tier": tiers[str(o["question_id"])],
                    "domain": MMLU_DOMAIN[o["category"]]})
    return out


def _arena_hard(root: Path) -> list[dict]:
    return [{"prompt": o["prompt"], "tier": ARENA[o["subcategory"]][0], "domain": ARENA[o["subcategory"]][1]}
            for o in _jsonl(root / "arena_hard/arena_hard_v2.0_question.jsonl")]


def _bbh(root: Path) -> list[dict]:  # reasoning; lrm for the README's deep tasks, else srm
    out = []
    for f in sorted((root / "bbh").glob("*.json")):
        tier = "lrm" if f.stem in BBH_LRM else "srm"
        examples = json.loads(f.read_text(encoding="utf-8"))["examples"]
        out += [{"prompt": e["input"], "tier": tier, "domain": "reasoning"} for e in examples]
    return out


SOURCES = {"gsm8k": _gsm8k, "nq_open": _nq_open, "mmlu_pro": _mmlu_pro, "arena_hard": _arena_hard, "bbh": _bbh}


def labelled_prompts(root: Path, per_source: int = 100, seed: int = 0) -> list[dict]:
    """A seeded sample of `per_source` rows from each source, with its labels."""
    rng = random.Random(seed)
    rows = []
    for name, load in SOURCES.items():
        pool = load(root)
        rows += [{"source": name, **r} for r in rng.sample(pool, min(per_source, len(pool)))]
    return rows


# ----------------------------------------------------------------- speed


def _timed(fn, reps: int) -> list[float]:
    for _ in range(WARMUP):
        fn()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return out


def speed(encoder, prompts: dict[int, list[str]], batch: list[str], reps: int, batch_reps: int) -> dict:
    res = {}
    for size, texts in prompts.items():
        it = iter(range(10**9))
        ms = _timed(lambda: encoder.encode([texts[next(it) % len(texts)]]), reps)
        res[f"single_{size}"] = {"p50_ms": round(percentile(ms, 50), 2), "p99_ms": round(percentile(ms, 99), 2)}
    ms = _timed(lambda: encoder.encode(batch), batch_reps)
    res[f"batch_{BATCH}"] = {"p50_ms": round(percentile(ms, 50), 2),
                             "prompts_per_s": round(BATCH * len(ms) / (sum(ms) / 1e3), 1)}
    return res


def bench_prompts(counter: TokenCounter) -> tuple[dict[int, list[str]], list[str]]:
    """Texts as the router classifies them ("user: ..."), by approximate token count."""
    mid, long = long_prompt(200, counter), long_prompt(500, counter)
    prompts = {20: [classified_text(s) for s in SHORT], 200: [classified_text(mid)], 500: [classified_text(long)]}
    # Sixteen distinct ~200-token prompts: a short question leads the document.
    batch = [classified_text(f"{q} {mid}") for q in SHORT[:BATCH]]
    return prompts, batch


# -------------------------------------------------------------- accuracy


def routing(encoder, rows: list[dict]) -> dict:
    """Embeddings and argmax tier/domain of the default exemplar heads."""
    from serve_app.classifier.exemplars import build_scorer, load_default_exemplars

    scorer = build_scorer(lambda t: encoder.encode(t).embeddings, load_default_exemplars(), 0.05)
    texts = [classified_text(r["prompt"]) for r in rows]
    emb = np.concatenate([encoder.encode(texts[i:i + 32]).embeddings for i in range(0, len(texts), 32)])
    s = scorer.score(emb)
    return {"emb": emb, "tier": [s.tier_labels[i] for i in s.tier_probs.argmax(1)],
            "domain": [s.domain_labels[i] for i in s.domain_probs.argmax(1)]}


def accuracy_report(rows: list[dict], ref: dict, new: dict) -> dict:
    def acc(pred, head, idx):
        return round(100 * float(np.mean([pred[head][i] == rows[i][head] for i in idx])), 2)

    def agree(head, idx):
        return round(100 * float(np.mean([ref[head][i] == new[head][i] for i in idx])), 2)

    groups = {"all": range(len(rows))}
    for name in SOURCES:
        groups[name] = [i for i, r in enumerate(rows) if r["source"] == name]
    cos = (ref["emb"] * new["emb"]).sum(axis=1)
    out = {g: {"n": len(idx),
               "tier_acc_fp32": acc(ref, "tier", idx), "tier_acc_int8": acc(new, "tier", idx),
               "domain_acc_fp32": acc(ref, "domain", idx), "domain_acc_int8": acc(new, "domain", idx),
               "tier_agreement": agree("tier", idx), "domain_agreement": agree("domain", idx)}
           for g, idx in groups.items() if len(idx)}
    out["embedding_cosine"] = {"mean": round(float(cos.mean()), 5), "min": round(float(cos.min()), 5),
                               "p1": round(float(np.percentile(cos, 1)), 5)}
    return out


# ------------------------------------------------------------------- main


def run(out: str, reps: int, batch_reps: int, per_source: int, seed: int, max_tokens: int,
        cache_dir: str | None, skip_accuracy: bool, datasets: str | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    cache = cache_dir or tempfile.mkdtemp(prefix="triage-encoder-bench-")
    try:
        return _run(out, reps, batch_reps, per_source, seed, max_tokens, cache, skip_accuracy, datasets)
    finally:
        if not cache_dir:
            shutil.rmtree(cache, ignore_errors=True)


def _run(out: str, reps: int, batch_reps: int, per_source: int, seed: int, max_tokens: int, cache: str,
         skip_accuracy: bool, datasets: str | None) -> int:
    import torch

    from serve_app.classifier.onnx_encoder import OnnxEncoder, ensure_int8_model
    from serve_app.classifier.torch_encoder import TorchEncoder as Encoder

    progress(f"converting to int8 in {cache} (reused if already there)")
    t0 = time.perf_counter()
    model_dir = ensure_int8_model(None, cache)
    ensure_s = time.perf_counter() - t0
    fp32 = Encoder(None, max_tokens)
    int8 = {(n, spin): OnnxEncoder.from_dir(model_dir, max_tokens, threads=n, spin=spin)
            for _, n, spin in CONFIGS[2:]}
    prompts, batch = bench_prompts(TokenCounter())
    tokens = {size: fp32.encode(texts[:1]).tokens[0] for size, texts in prompts.items()}
    result = {"settings": {"max_tokens": fp32.max_tokens, "reps": reps, "batch": BATCH, "batch_reps": batch_reps,
                           "tokens": tokens, "cpus": os.cpu_count(), "platform": platform.platform(),
                           "torch": torch.__version__, "onnxruntime": __import__("onnxruntime").__version__},
              "conversion": {**(int8[1, False].conversion or {}), "ensure_seconds": round(ensure_s, 2)}, "speed": {}}
    for backend, threads, spin in CONFIGS:
        name = f"{backend}/{threads}t" + ("-spin" if spin else "")
        progress(f"speed: {name}")
        if backend == "torch":
            torch.set_num_threads(threads)
            enc = fp32
        else:
            enc = int8[threads, spin]
        result["speed"][name] = speed(enc, prompts, batch, reps, batch_reps)
    if not skip_accuracy:
        rows = labelled_prompts(datasets_root(datasets), per_source, seed)
        progress(f"accuracy: {len(rows)} labelled prompts, fp32 then int8")
        torch.set_num_threads(2)
        ref, new = routing(fp32, rows), routing(int8[2, False], rows)
        result["accuracy"] = {"per_source": per_source, "seed": seed, **accuracy_report(rows, ref, new)}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"\nwritten: {out}")
    return 0


def table(result: dict) -> str:
    t = {int(k): v for k, v in result["settings"]["tokens"].items()}  # JSON keys are strings
    head = (f"{'backend':16s}" + "".join(f"{f'~{s} tok ({t[s]})':>22s}" for s in SIZES)
            + f"{'batch16 p50':>13s}{'prompts/s':>11s}")
    lines = [head, f"{'':16s}" + f"{'p50 / p99 ms':>22s}" * len(SIZES)]
    for name, r in result["speed"].items():
        cells = "".join(f"{r[f'single_{s}']['p50_ms']:>13.2f} / {r[f'single_{s}']['p99_ms']:<6.2f}" for s in SIZES)
        b = r[f"batch_{BATCH}"]
        lines.append(f"{name:16s}{cells}{b['p50_ms']:>13.2f}{b['prompts_per_s']:>11.1f}")
    c = result["conversion"]
    lines.append(f"\nconversion: export {c.get('export_seconds')} s, quantise {c.get('quantize_seconds')} s, "
                 f"total {c.get('convert_seconds')} s; probe min cosine {c.get('probe_min_cosine')}")
    acc = result.get("accuracy")
    if acc:
        lines.append(f"\n{'source':12s}{'n':>5s}{'tier fp32':>11s}{'tier int8':>11s}{'agree':>8s}"
                     f"{'dom fp32':>10s}{'dom int8':>10s}{'agree':>8s}")
        for g, a in acc.items():
            if isinstance(a, dict) and "n" in a:
                lines.append(f"{g:12s}{a['n']:>5d}{a['tier_acc_fp32']:>11.1f}{a['tier_acc_int8']:>11.1f}"
                             f"{a['tier_agreement']:>8.1f}{a['domain_acc_fp32']:>10.1f}"
                             f"{a['domain_acc_int8']:>10.1f}{a['domain_agreement']:>8.1f}")
        lines.append(f"embedding cosine int8 vs fp32: {acc['embedding_cosine']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--out", default="loadtest/results/encoder_speed.json")
    p.add_argument("--reps", type=int, default=100, help="timed single-prompt encodes per size")
    p.add_argument("--batch-reps", type=int, default=15)
    # 300 a source: int8 flips ~5% of near-tie decisions both ways, so with
    # 100 a source the accuracy difference alone is noise of about a point.
    p.add_argument("--per-source", type=int, default=300, help="labelled prompts per dataset source")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--max-tokens", type=int, default=256, help="token budget (classifier.max_tokens)")
    p.add_argument("--cache-dir", default=None, help="reuse this cache (default: a fresh temp one)")
    p.add_argument("--skip-accuracy", action="store_true")
    p.add_argument("--datasets", default=None, help="shared datasets root (default: $TRIAGE_DATASETS or ../shared/datasets)")
    a = p.parse_args(argv)
    return run(a.out, a.reps, a.batch_reps, a.per_source, a.seed, a.max_tokens, a.cache_dir, a.skip_accuracy,
               a.datasets)
