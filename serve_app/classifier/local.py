"""The classifier as an object in whatever process holds it: the Classifier
deployment (deployment.py, the default placement) or the Ingress itself
(`classifier.placement: ingress`).

It owns the encoder, the scorer, the learned adjustments and the live
correction; `classify_batch` runs one batch off the event loop on one
dedicated thread (encodes are serial anyway: one text per ONNX run, and the
tokenizer is not safe to share across threads). `Batcher` gives the Ingress
placement what `@serve.batch` gives the deployment: requests that arrive
while a batch is encoded form the next one.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Awaitable, Callable

from serve_app.cache.keys import cache_view
from serve_app.classifier.pipeline import classify_texts, make_scorer
from serve_app.config.schema import ClassifierConfig, LearningConfig
from serve_app.errors import ConfigError, ConfigProblem
from serve_app.learning.adjust import Adjustments
from serve_app.policy.signals import Signals

logger = logging.getLogger("ray.serve")


class LocalClassifier:
    def __init__(self, cfg: ClassifierConfig, metrics, expected_dim: int | None = None,
                 learning: LearningConfig | None = None, memory=None, cache_vectors: bool = False):
        """learning, memory: the router's learning config and the OutcomeMemory
        handle, when learning is on (live correction of success estimates).
        cache_vectors: the semantic cache is on; embed each request's cache
        form too (cache.keys.cache_view)."""
        from serve_app.classifier.encoder import make_encoder, serving_encoder

        started = time.perf_counter()
        self.cfg = cfg
        self.metrics = metrics
        self.encoder = make_encoder(cfg.backend, serving_encoder(cfg), cfg.max_tokens, cfg.torch_threads)
        if expected_dim is not None and self.encoder.dim != expected_dim:
            # build_app read the size from the encoder's config; a model that
            # disagrees would feed the cache vectors of the wrong size.
            raise ConfigError("classifier", [ConfigProblem(
                "classifier.encoder", f"the encoder gives {self.encoder.dim}-dim embeddings, its config says "
                f"{expected_dim}")])
        # Exemplars are embedded once, at start, in one batch.
        self.scorer = make_scorer(cfg, lambda texts: self.encoder.encode(texts).embeddings)
        self._cache_view = cache_view if cache_vectors else None
        self.adjustments = Adjustments()
        self.live = None
        if memory is not None:
            from serve_app.learning.live import LiveCorrection

            self.live = LiveCorrection(memory, learning)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="classifier")
        logger.info("classifier ready in %.1fs: model %s, %d domains, encoder %s",
                    time.perf_counter() - started, cfg.model or "exemplars only",
                    len(self.scorer.domain_labels), self.encoder.path)

    def adopt(self, adjustments: Adjustments) -> None:
        """Put learned adjustments in force (`triage learn` promotes them
        through the user_config of the deployment that holds this
        classifier, which validates them first)."""
        if adjustments.versions() != self.adjustments.versions():
            logger.info("learned adjustments in force: %s", adjustments.versions() or "none")
        self.adjustments = adjustments

    async def classify_batch(self, items: list[tuple[str, str]]) -> list[Signals]:
        """items: (text, tenant) pairs; their Signals in the same order."""
        started = time.perf_counter()
        tenants = [tenant for _, tenant in items]
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(self._thread, classify_texts, self.encoder, self.scorer,
                                         [t for t, _ in items], self._cache_view)
        out = self.adjustments.apply(out, tenants)
        if self.live is not None:
            out = await self.live.apply(out, tenants)
        self.metrics.classifier_batch(len(items), time.perf_counter() - started)
        return out


class Batcher:
    """Calls made while a batch runs wait and go together in the next one
    (at most max_batch_size): `@serve.batch` with no wait, without Ray."""

    def __init__(self, run: Callable[[list], Awaitable[list]], max_batch_size: int):
        self.run = run
        self.max_batch_size = max_batch_size
        self._pending: list[tuple[object, asyncio.Future]] = []
        self._worker: asyncio.Task | None = None

    async def __call__(self, item):
        future = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch_size], self._pending[self.max_batch_size:]
            try:
                results = await self.run([item for item, _ in batch])
            except Exception as exc:  # every caller of the batch gets the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results):
                if not future.done():
                    future.set_result(result)
