"""The Classifier deployment: the Ray layer around the pure classifier modules.

Concurrent `classify` calls are batched by `@serve.batch`; the encoder runs in
a worker thread so the replica's event loop keeps accepting (and batching)
requests while a batch is encoded. All logic lives in encoder.py,
exemplars.py and sensitive.py, which are tested without Ray.
"""

from __future__ import annotations

import asyncio
import logging
import time

from ray import serve

from serve_app.classifier.exemplars import (
    ExemplarScorer,
    build_scorer,
    load_default_exemplars,
    merge_exemplars,
    signals_from_scores,
)
from serve_app.classifier.sensitive import detect_sensitive
from serve_app.config.schema import TIERS, ClassifierConfig
from serve_app.errors import ConfigError, ConfigProblem
from serve_app.metrics import RayMetrics
from serve_app.policy.signals import Signals

logger = logging.getLogger("ray.serve")

__all__ = ["Classifier", "classify_texts", "signals_from_scores"]


def classify_texts(encoder, scorer: ExemplarScorer, texts: list[str]) -> list[Signals]:
    """Encode, score and check one batch; blocking, so run it off the event loop.

    Sensitive data is searched in the full texts: the encoder may cut the
    middle of a long prompt, and a card number there must still count.
    """
    batch = encoder.encode(texts)
    scores = scorer.score(batch.embeddings)
    kinds = [detect_sensitive(t) for t in texts]
    return signals_from_scores(scores, batch.embeddings, batch.tokens, batch.truncated, kinds)


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


@serve.deployment
class Classifier:
    def __init__(self, config: dict):
        from serve_app.classifier.encoder import make_encoder

        self._cfg = ClassifierConfig.model_validate(config)
        started = time.perf_counter()
        self._encoder = make_encoder(self._cfg.backend, self._cfg.encoder, self._cfg.max_tokens,
                                     self._cfg.torch_threads)
        # Exemplars are embedded once per replica, at start, in one batch.
        embed = lambda texts: self._encoder.encode(texts).embeddings  # noqa: E731
        self._scorer = build_scorer(embed, _exemplar_set(self._cfg), self._cfg.temperature)
        self._apply_batching(self._cfg.batching.max_batch_size, self._cfg.batching.batch_wait_timeout_s)
        self._metrics = RayMetrics()
        self._ready = True
        logger.info(
            "classifier ready in %.1fs: %d tiers, %d domains, encoder %s",
            time.perf_counter() - started,
            len(self._scorer.tier_labels),
            len(self._scorer.domain_labels),
            self._encoder.path,
        )

    # ------------------------------------------------------------ requests

    async def classify(self, text: str) -> Signals:
        return await self._classify_batch(text)

    # The decorator's sizes are placeholders: __init__ and reconfigure set the
    # configured ones through the batch handler's setters.
    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.002)
    async def _classify_batch(self, texts: list[str]) -> list[Signals]:
        started = time.perf_counter()
        out = await asyncio.to_thread(classify_texts, self._encoder, self._scorer, list(texts))
        self._metrics.classifier_batch(len(texts), time.perf_counter() - started)
        return out

    # ----------------------------------------------------------- lifecycle

    def reconfigure(self, user_config: dict) -> None:
        """Live batching changes: {"max_batch_size": int, "batch_wait_timeout_s": float}."""
        user_config = user_config or {}
        unknown = set(user_config) - {"max_batch_size", "batch_wait_timeout_s"}
        if unknown:
            raise ValueError(f"unknown classifier user_config keys: {sorted(unknown)}")
        current = self.batching()
        self._apply_batching(
            user_config.get("max_batch_size", current["max_batch_size"]),
            user_config.get("batch_wait_timeout_s", current["batch_wait_timeout_s"]),
        )

    def _apply_batching(self, max_batch_size: int, batch_wait_timeout_s: float) -> None:
        if int(max_batch_size) < 1 or float(batch_wait_timeout_s) < 0:
            raise ValueError("max_batch_size must be >= 1 and batch_wait_timeout_s >= 0")
        self._classify_batch.set_max_batch_size(int(max_batch_size))
        self._classify_batch.set_batch_wait_timeout_s(float(batch_wait_timeout_s))
        # Kept here too: the batch handler's getters are private API.
        self._batching = {"max_batch_size": int(max_batch_size), "batch_wait_timeout_s": float(batch_wait_timeout_s)}

    def batching(self) -> dict:
        """The batching settings in force (for tests and the status endpoint)."""
        return dict(self._batching)

    async def check_health(self) -> None:
        # Serve calls this every few seconds; it must stay cheap, so it checks
        # state rather than running the model.
        if not getattr(self, "_ready", False):
            raise RuntimeError("classifier not initialised")

    async def ready(self) -> bool:
        return bool(getattr(self, "_ready", False))
