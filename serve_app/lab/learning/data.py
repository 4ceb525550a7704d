"""The replay's traffic: prompts with known outcomes of a weak and a strong
model, and what the shipped classifier says about each before any learning.

One *deployment* per weak/strong pair in a routing file (`triage data
routing` writes build/routing/routing_{val,heldout}.jsonl): a pool of two
tiers that receives every prompt the pair has outcomes for, its benchmarks
mixed. The classifier runs once per prompt (the serving pipeline:
classifier/pipeline.classify_texts with the default classifier config) and
its signals are cached beside the data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serve_app.config.schema import TIERS, ClassifierConfig
from serve_app.policy.signals import Signals

BATCH = 32


@dataclass
class Deployment:
    pair: str  # "<weak model> -> <strong model>"
    weak_tier: str
    strong_tier: str
    prompts: list[str]
    benchmarks: list[str]
    weak: np.ndarray  # 0/1 outcome of the weak model per prompt
    strong: np.ndarray

    @property
    def weak_model(self) -> str:
        return self.pair.split(" -> ")[0]

    @property
    def strong_model(self) -> str:
        return self.pair.split(" -> ")[1]

    @property
    def gap(self) -> float:
        return float(self.strong.mean() - self.weak.mean())


def deployments(path: Path) -> list[Deployment]:
    by_pair: dict[str, list[dict]] = {}
    with path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            if r.get("weak_correct") is None or r.get("strong_correct") is None:
                continue
            by_pair.setdefault(r["pair"], []).append(r)
    out = []
    for pair, rows in sorted(by_pair.items()):
        seen, keep = set(), []
        for r in rows:  # one outcome per prompt and pair
            if r["prompt"] not in seen:
                seen.add(r["prompt"])
                keep.append(r)
        out.append(Deployment(pair, keep[0]["weak_tier"], keep[0]["strong_tier"], [r["prompt"] for r in keep],
                              [r["benchmark"] for r in keep], np.array([r["weak_correct"] for r in keep], float),
                              np.array([r["strong_correct"] for r in keep], float)))
    return out


def signals_for(prompts: list[str], cache_dir: Path, cfg: ClassifierConfig | None = None,
                progress=None) -> dict[str, Signals]:
    """The classifier's signals per prompt (what routing starts from), cached
    by the prompts, the classifier config and what that config serves."""
    cfg = cfg or ClassifierConfig()
    prompts = sorted(set(prompts))
    key = hashlib.sha1(json.dumps([cfg.model_dump(mode="json"), served_by(cfg), prompts]).encode()).hexdigest()[:16]
    path = cache_dir / f"signals-{key}.npz"
    if not path.exists():
        _classify(prompts, cfg, path, progress)
    with np.load(path) as z:
        emb, success, prior = z["embedding"], z["tier_success"], z["success_prior"]
    return {p: Signals(tier_probs={}, domain_probs={"general": 1.0}, embedding=tuple(map(float, emb[i])),
                       tier_success=_tiers(success[i]), success_prior=_tiers(prior[i]))
            for i, p in enumerate(prompts)}


def served_by(cfg: ClassifierConfig) -> list[str]:
    """What the signals depend on beyond the config's text: the embedding
    space (encoder, backend, budget, session) and the trained model's files.
    A retrained model keeps its name, so its name alone would serve stale
    signals from the cache."""
    from serve_app.classifier.encoder import classifier_space
    from serve_app.models import resolve

    parts = [classifier_space(cfg).id]
    if cfg.model:
        model_dir = resolve(cfg.model)
        for f in sorted(model_dir.glob("*.npz")) + [model_dir / "model.json"]:
            parts.append(f"{f.name}:{hashlib.sha256(f.read_bytes()).hexdigest()[:16]}")
    return parts


def _tiers(row: np.ndarray) -> dict[str, float] | None:
    return None if np.isnan(row).all() else {t: float(v) for t, v in zip(TIERS, row)}


def _classify(prompts: list[str], cfg: ClassifierConfig, path: Path, progress) -> None:
    from serve_app.classifier.encoder import make_encoder, serving_encoder
    from serve_app.classifier.pipeline import classify_texts, make_scorer

    encoder = make_encoder(cfg.backend, serving_encoder(cfg), cfg.max_tokens, cfg.torch_threads)
    scorer = make_scorer(cfg, lambda texts: encoder.encode(texts).embeddings)
    emb = np.zeros((len(prompts), encoder.dim), np.float32)
    success = np.full((len(prompts), len(TIERS)), np.nan)
    prior = np.full((len(prompts), len(TIERS)), np.nan)
    steps = range(0, len(prompts), BATCH)
    for start in (progress(steps, desc="classify", unit="batch") if progress else steps):
        for i, s in enumerate(classify_texts(encoder, scorer, prompts[start:start + BATCH]), start):
            emb[i] = s.embedding
            if s.tier_success:
                success[i] = [s.tier_success[t] for t in TIERS]
            if s.success_prior:
                prior[i] = [s.success_prior[t] for t in TIERS]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, embedding=emb, tier_success=success, success_prior=prior)
    tmp.replace(path)
