"""The SemanticCache deployment: one store, the guards, the cache metrics.

With the embedded backend it must run as a single replica (one process owns
the shard directory); with the server backend it scales out freely.
"""

from __future__ import annotations

import time

from ray import serve

from serve_app.cache.semantic import CacheQuery, SemanticCacheCore
from serve_app.cache.stores import make_store
from serve_app.cache.types import CacheFilter
from serve_app.config.schema import CacheConfig
from serve_app.metrics import RayMetrics


@serve.deployment
class SemanticCache:
    async def __init__(self, config: dict, dim: int, space: str):
        """dim, space: the classifier's embeddings (classifier/encoder.py:
        embedding_space), whose vectors are the cache's keys."""
        self.config = CacheConfig.model_validate(config)
        self.store = make_store(self.config, dim, space)
        await self.store.start()
        self.core = SemanticCacheCore(self.store, self.config)
        self.metrics = RayMetrics()
        self._evictions_seen = 0

    async def lookup(self, q: CacheQuery):
        started = time.perf_counter()
        result = await self.core.lookup(q)
        self.metrics.cache_lookup("hit" if result.hit else "miss", time.perf_counter() - started,
                                  result.rejected_by)
        return result.hit

    async def put(self, q: CacheQuery, model: str, response: dict) -> None:
        await self.core.put(q, model, response)
        stats = await self.store.stats()
        self.metrics.cache_write(stats.evictions - self._evictions_seen)
        self._evictions_seen = stats.evictions

    async def invalidate(self, tenant: str | None = None, model: str | None = None) -> int:
        return await self.store.delete(CacheFilter(tenant=tenant, model=model))

    async def stats(self) -> dict:
        s = await self.store.stats()
        return {"backend": self.config.backend, "entries": s.entries, "evictions": s.evictions, **s.extra}

    async def ready(self) -> bool:
        return True

    async def __del__(self):
        await self.store.close()
