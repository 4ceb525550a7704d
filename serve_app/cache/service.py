"""The semantic cache as an object in whatever process holds it: the
SemanticCache deployment (deployment.py, `cache.placement: deployment`, the
default) or each Ingress replica (`cache.placement: ingress`).

It owns the store, the guarded lookup (semantic.py) and the cache metrics,
so both placements count lookups, guard rejections, writes and evictions the
same way. Callers reach it through cache/remote.py, which turns a slow or
failing cache into a miss.
"""

from __future__ import annotations

import time

from serve_app.cache.semantic import CacheHit, CacheQuery, SemanticCacheCore
from serve_app.cache.stores import make_store
from serve_app.cache.types import CacheFilter
from serve_app.config.schema import CacheConfig


class CacheService:
    def __init__(self, config: CacheConfig, dim: int, space: str, metrics):
        """dim, space: the classifier's embeddings (classifier/encoder.py:
        embedding_space), whose vectors are the cache's keys. Call
        `await start()` before use."""
        self.config = config
        self.store = make_store(config, dim, space)
        self.core = SemanticCacheCore(self.store, config)
        self.metrics = metrics
        self._evictions_seen = 0

    async def start(self) -> None:
        await self.store.start()

    async def lookup(self, q: CacheQuery) -> CacheHit | None:
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

    async def close(self) -> None:
        await self.store.close()
