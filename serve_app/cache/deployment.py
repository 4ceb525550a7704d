"""The SemanticCache deployment (`cache.placement: deployment`): a
CacheService (service.py) behind a Serve handle.

With the embedded backend it must run as a single replica (one process owns
the shard directory); with the server backend it scales out freely.
"""

from __future__ import annotations

from ray import serve

from serve_app.cache.semantic import CacheHit, CacheQuery
from serve_app.cache.service import CacheService
from serve_app.config.schema import CacheConfig
from serve_app.metrics import RayMetrics


@serve.deployment
class SemanticCache:
    async def __init__(self, config: dict, dim: int, space: str):
        """dim, space: the classifier's embeddings (classifier/encoder.py:
        embedding_space), whose vectors are the cache's keys."""
        self.service = CacheService(CacheConfig.model_validate(config), dim, space, RayMetrics())
        await self.service.start()

    async def lookup(self, q: CacheQuery) -> CacheHit | None:
        return await self.service.lookup(q)

    async def put(self, q: CacheQuery, model: str, response: dict) -> None:
        await self.service.put(q, model, response)

    async def invalidate(self, tenant: str | None = None, model: str | None = None) -> int:
        return await self.service.invalidate(tenant, model)

    async def stats(self) -> dict:
        return await self.service.stats()

    async def ready(self) -> bool:
        return True

    async def __del__(self):
        await self.service.close()
