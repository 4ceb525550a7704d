"""The OutcomeMemory deployment: the Ray layer around learning/memory.py.

One replica with the embedded backend (one process owns the shard), any
number with the server backend. Its outcome log goes beside the store:
`<learning.path or <cache dir>/outcome-memory>/outcomes-<replica>.jsonl`.
"""

from __future__ import annotations

import os

from ray import serve

from serve_app.cache.stores import make_store
from serve_app.config.schema import LearningConfig
from serve_app.learning.memory import STORE_NAME, LearningMemory, outcome_folder
from serve_app.learning.records import OutcomeRecord
from serve_app.metrics import RayMetrics


@serve.deployment
class OutcomeMemory:
    async def __init__(self, config: dict, dim: int, space: str):
        self.config = LearningConfig.model_validate(config)
        self.store = make_store(self.config, dim, space, name=STORE_NAME)
        await self.store.start()
        folder = outcome_folder(self.config)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            replica = serve.get_replica_context().replica_id.unique_id
        except Exception:  # noqa: BLE001 - outside a replica
            replica = str(os.getpid())
        self.memory = LearningMemory(self.store, self.config, dim, folder / f"outcomes-{replica}.jsonl", RayMetrics())

    async def record(self, records: list[OutcomeRecord]) -> None:
        """A batch: the Ingress sends what its requests produced every few ms."""
        for r in records:
            await self.memory.record(r)

    async def rated_tenants(self) -> list[str]:
        return self.memory.rated_tenants()

    async def feedback(self, tenant: str, request_id: str, outcome: float, reason: str | None,
                       better_tier: str | None) -> str:
        return await self.memory.feedback(tenant, request_id, outcome, reason, better_tier)

    async def neighbours(self, scopes: list, vectors: list, k: int) -> list:
        return await self.memory.neighbours(scopes, vectors, k)

    async def ready(self) -> bool:
        return True

    async def __del__(self):
        # Also called when __init__ failed part way (e.g. another process
        # holds the embedded shard's folder): close what was opened.
        if hasattr(self, "memory"):
            self.memory.close()
        if hasattr(self, "store"):
            await self.store.close()
