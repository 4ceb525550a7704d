"""The Classifier deployment: the Ray layer around LocalClassifier (local.py).

Concurrent `classify` calls are batched by `@serve.batch`; the encoder runs in
a worker thread so the replica's event loop keeps accepting (and batching)
requests while a batch is encoded. All logic lives in local.py, pipeline.py
and the modules they use, which are tested without Ray. The default
placement: one replica batches for many Ingress replicas (and owns the GPU
where there is one); `classifier.placement: ingress` runs LocalClassifier
inside each Ingress replica instead.
"""

from __future__ import annotations

from ray import serve

from serve_app.classifier.local import LocalClassifier
from serve_app.config.schema import ClassifierConfig, LearningConfig
from serve_app.learning.adjust import Adjustments
from serve_app.metrics import RayMetrics
from serve_app.policy.signals import Signals

__all__ = ["Classifier"]


@serve.deployment
class Classifier:
    def __init__(self, config: dict, expected_dim: int | None = None, learning: dict | None = None, memory=None,
                 cache_vectors: bool = False):
        """learning, memory: the router's learning config and the OutcomeMemory
        handle, when learning is on (live correction of success estimates);
        cache_vectors: the cache is on (LocalClassifier)."""
        self._cfg = ClassifierConfig.model_validate(config)
        self._local = LocalClassifier(self._cfg, RayMetrics(), expected_dim,
                                      LearningConfig.model_validate(learning) if learning else None, memory,
                                      cache_vectors)
        self._apply_batching(self._cfg.batching.max_batch_size, self._cfg.batching.batch_wait_timeout_s)
        self._ready = True

    # ------------------------------------------------------------ requests

    async def classify(self, text: str, tenant: str = "default") -> Signals:
        return await self._classify_batch((text, tenant))

    # The decorator's sizes are placeholders: __init__ and reconfigure set the
    # configured ones through the batch handler's setters.
    @serve.batch(max_batch_size=16, batch_wait_timeout_s=0.002)
    async def _classify_batch(self, items: list[tuple[str, str]]) -> list[Signals]:
        return await self._local.classify_batch(items)

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
        adjustments = Adjustments.from_config(user_config.get("adjustments"), self._local.encoder.dim)
        current = self.batching()
        self._apply_batching(
            user_config.get("max_batch_size", current["max_batch_size"]),
            user_config.get("batch_wait_timeout_s", current["batch_wait_timeout_s"]),
        )
        self._local.adopt(adjustments)

    def adjustment_versions(self) -> dict[str, int]:
        return self._local.adjustments.versions()

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
