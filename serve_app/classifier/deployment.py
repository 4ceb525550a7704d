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

from serve_app.classifier.pipeline import classify_texts, make_scorer
from serve_app.config.schema import ClassifierConfig
from serve_app.errors import ConfigError, ConfigProblem
from serve_app.learning.adjust import Adjustments
from serve_app.metrics import RayMetrics
from serve_app.policy.signals import Signals

logger = logging.getLogger("ray.serve")

__all__ = ["Classifier"]


@serve.deployment
class Classifier:
    def __init__(self, config: dict, expected_dim: int | None = None, learning: dict | None = None, memory=None):
        """learning, memory: the router's learning config and the OutcomeMemory
        handle, when learning is on (live correction of success estimates)."""
        from serve_app.classifier.encoder import make_encoder

        self._cfg = ClassifierConfig.model_validate(config)
        started = time.perf_counter()
        self._encoder = make_encoder(self._cfg.backend, self._cfg.encoder, self._cfg.max_tokens,
                                     self._cfg.torch_threads)
        if expected_dim is not None and self._encoder.dim != expected_dim:
            # build_app read the size from the encoder's config; a model that
            # disagrees would feed the cache vectors of the wrong size.
            raise ConfigError("classifier", [ConfigProblem(
                "classifier.encoder", f"the encoder gives {self._encoder.dim}-dim embeddings, its config says "
                f"{expected_dim}")])
        # Exemplars are embedded once per replica, at start, in one batch.
        embed = lambda texts: self._encoder.encode(texts).embeddings  # noqa: E731
        self._scorer = make_scorer(self._cfg, embed)
        self._apply_batching(self._cfg.batching.max_batch_size, self._cfg.batching.batch_wait_timeout_s)
        self._adjustments = Adjustments()
        self._live = None
        if memory is not None:
            from serve_app.config.schema import LearningConfig
            from serve_app.learning.live import LiveCorrection

            self._live = LiveCorrection(memory, LearningConfig.model_validate(learning))
        self._metrics = RayMetrics()
        self._ready = True
        logger.info(
            "classifier ready in %.1fs: model %s, %d domains, encoder %s",
            time.perf_counter() - started,
            self._cfg.model or "exemplars only",
            len(self._scorer.domain_labels),
            self._encoder.path,
        )

    # ------------------------------------------------------------ requests

    async def classify(self, text: str, tenant: str = "default") -> Signals:
        return await self._classify_batch((text, tenant))

    # The decorator's sizes are placeholders: __init__ and reconfigure set the
    # configured ones through the batch handler's setters.
    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.002)
    async def _classify_batch(self, items: list[tuple[str, str]]) -> list[Signals]:
        started = time.perf_counter()
        tenants = [tenant for _, tenant in items]
        out = await asyncio.to_thread(classify_texts, self._encoder, self._scorer, [t for t, _ in items])
        out = self._adjustments.apply(out, tenants)
        if self._live is not None:
            out = await self._live.apply(out, tenants)
        self._metrics.classifier_batch(len(items), time.perf_counter() - started)
        return out

    # ----------------------------------------------------------- lifecycle

    def reconfigure(self, user_config: dict) -> None:
        """Live changes without a restart: batching ({"max_batch_size": int,
        "batch_wait_timeout_s": float}) and the learned adjustments that
        `triage learn` promotes ({"adjustments": {tenant or "*": {"version": int,
        "tiers": {tier: {"weights": [...], "bias": float}}}}}; absent: none)."""
        user_config = user_config or {}
        unknown = set(user_config) - {"max_batch_size", "batch_wait_timeout_s", "adjustments"}
        if unknown:
            raise ValueError(f"unknown classifier user_config keys: {sorted(unknown)}")
        # Validated before anything changes: a bad version leaves the old one in force.
        adjustments = Adjustments.from_config(user_config.get("adjustments"), self._encoder.dim)
        current = self.batching()
        self._apply_batching(
            user_config.get("max_batch_size", current["max_batch_size"]),
            user_config.get("batch_wait_timeout_s", current["batch_wait_timeout_s"]),
        )
        if adjustments.versions() != self._adjustments.versions():
            logger.info("learned adjustments in force: %s", adjustments.versions() or "none")
        self._adjustments = adjustments

    def adjustment_versions(self) -> dict[str, int]:
        return self._adjustments.versions()

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
