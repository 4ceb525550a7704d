"""Reaching the semantic cache wherever it runs: the SemanticCache deployment
through its handle, or a CacheService in this Ingress replica
(`cache.placement: ingress`). A cache that fails is a miss: it is logged and
the request goes on to a model."""

from __future__ import annotations

import asyncio
import logging

from serve_app.cache.semantic import CacheHit, CacheQuery

log = logging.getLogger("triage.cache")


class RemoteCache:
    def __init__(self, target, lookup_timeout_s: float):
        """target: async lookup / put / invalidate / stats, as CacheService has them."""
        self.target = target
        self.lookup_timeout_s = lookup_timeout_s

    @classmethod
    def over_handle(cls, handle, lookup_timeout_s: float) -> "RemoteCache":
        """The SemanticCache deployment, through its Serve handle."""
        return cls(_HandleCalls(handle), lookup_timeout_s)

    async def lookup(self, q: CacheQuery) -> CacheHit | None:
        try:
            return await asyncio.wait_for(self.target.lookup(q), self.lookup_timeout_s)
        except asyncio.TimeoutError:
            log.warning("cache lookup took over %.0f ms; treated as a miss", self.lookup_timeout_s * 1000)
            return None
        except Exception as exc:  # noqa: BLE001 - any failure is a miss
            log.warning("cache lookup failed (%s: %s); treated as a miss", type(exc).__name__, exc)
            return None

    async def put(self, q: CacheQuery, model: str, response: dict) -> None:
        try:
            await self.target.put(q, model, response)
        except Exception as exc:  # noqa: BLE001 - a lost write costs one future miss
            log.warning("cache write failed (%s: %s)", type(exc).__name__, exc)

    async def invalidate(self, tenant: str | None, model: str | None) -> int:
        return await self.target.invalidate(tenant, model)

    async def stats(self) -> dict:
        return await self.target.stats()


class _HandleCalls:
    """The SemanticCache handle's methods as plain coroutines."""

    def __init__(self, handle):
        self.handle = handle

    async def lookup(self, q: CacheQuery) -> CacheHit | None:
        return await self.handle.lookup.remote(q)

    async def put(self, q: CacheQuery, model: str, response: dict) -> None:
        await self.handle.put.remote(q, model, response)

    async def invalidate(self, tenant: str | None, model: str | None) -> int:
        return await self.handle.invalidate.remote(tenant, model)

    async def stats(self) -> dict:
        return await self.handle.stats.remote()
