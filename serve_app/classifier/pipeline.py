"""The classifier without Ray: configured scorer + one blocking batch step.

The Classifier deployment (deployment.py) wraps these in batching and a
worker thread; tests and offline tools call them directly.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace

from serve_app.classifier.exemplars import (
    ExemplarScorer,
    build_scorer,
    load_default_exemplars,
    merge_exemplars,
    signals_from_scores,
)
from serve_app.classifier.heads import RouterHeads, resolve_model_dir
from serve_app.classifier.trained import TrainedScorer
from serve_app.config.schema import TIERS, ClassifierConfig
from serve_app.errors import ConfigError, ConfigProblem
from serve_app.policy.signals import Signals
from serve_app.privacy.validators import detect_sensitive


def classify_texts(encoder, scorer: ExemplarScorer | TrainedScorer, texts: list[str],
                   cache_view: Callable[[str], str] | None = None) -> list[Signals]:
    """Encode, score and check one batch; blocking, so run it off the event loop.

    Sensitive data is searched in the full texts: the encoder may cut the
    middle of a long prompt, and a card number there must still count.
    cache_view (the cache is on): each text's cache form is embedded too,
    for Signals.cache_embedding (one more encoder pass per text).
    """
    batch = encoder.encode(texts)
    kinds = [detect_sensitive(t) for t in texts]
    if isinstance(scorer, TrainedScorer):
        out = scorer.signals(batch.embeddings, batch.tokens, batch.truncated, kinds)
    else:
        out = signals_from_scores(scorer.score(batch.embeddings), batch.embeddings, batch.tokens, batch.truncated, kinds)
    if cache_view is None:
        return out
    vectors = encoder.encode([cache_view(t) for t in texts]).embeddings
    return [replace(s, cache_embedding=tuple(float(v) for v in vec)) for s, vec in zip(out, vectors)]


def load_trained(cfg: ClassifierConfig) -> RouterHeads | None:
    """The configured artifact, checked against the encoder settings in force:
    heads trained on other features (backend, token budget) would be skewed."""
    if not cfg.model:
        return None
    try:
        heads = RouterHeads.load(resolve_model_dir(cfg.model))
    except FileNotFoundError as e:
        raise ConfigError("classifier", [ConfigProblem("classifier.model", str(e))]) from e
    enc = heads.encoder_settings
    wrong = [(k, enc[k], v) for k, v in (("backend", cfg.backend), ("max_tokens", cfg.max_tokens)) if enc.get(k) != v]
    if wrong or cfg.encoder:
        what = "; ".join(f"{k} is {v!r} but the model was trained with {t!r}" for k, t, v in wrong) or \
            "a custom encoder cannot feed heads trained on the packaged MiniLM"
        raise ConfigError("classifier", [ConfigProblem("classifier.model", f"{cfg.model}: {what} (retrain with `triage train`, or set classifier.model: null)")])
    return heads


def make_scorer(cfg: ClassifierConfig, embed) -> ExemplarScorer | TrainedScorer:
    exemplars = _exemplar_set(cfg)
    scorer = build_scorer(embed, exemplars, cfg.temperature)
    heads = load_trained(cfg)
    if heads is None:
        return scorer
    custom = [d for d in cfg.exemplars.domains if d not in heads.labels["domain"]]
    success = heads.success_model()
    return TrainedScorer(heads, scorer, custom, custom_jailbreak=bool(cfg.exemplars.jailbreak),
                         success=success, memory=load_outcome_memory(heads) if success else None)


def load_outcome_memory(heads: RouterHeads):
    """The model's outcome memory in an in-process Qdrant shard (outcomes/memory.py)."""
    from serve_app.convert_cache import default_cache_dir
    from serve_app.outcomes.memory import SeededMemory

    meta = heads.meta["success"]
    os.makedirs(default_cache_dir(), exist_ok=True)
    return SeededMemory.from_file(heads.directory / meta["memory"], tuple(meta["tiers"]), default_cache_dir())


def _exemplar_set(cfg: ClassifierConfig) -> dict:
    defaults = load_default_exemplars() if cfg.default_exemplars else {}
    try:
        merged = merge_exemplars(defaults, cfg.exemplars, cfg.default_exemplars)
    except ValueError as e:
        raise ConfigError("classifier", [ConfigProblem("classifier.exemplars", str(e))]) from e
    # Policy reads a probability for every tier, so each needs examples.
    missing = [t for t in TIERS if not merged["tiers"].get(t)]
    if missing:
        raise ConfigError(
            "classifier",
            [ConfigProblem(f"classifier.exemplars.tiers.{t}", "no examples (default_exemplars is off)") for t in missing],
        )
    return merged
