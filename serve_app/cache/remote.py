"""Calling the SemanticCache deployment. A cache that fails is a miss: it is
logged and the request goes on to a model."""

from __future__ import annotations

import asyncio
import logging

from serve_app.cache.semantic import CacheHit, CacheQuery

log = logging.getLogger("triage.cache")


class RemoteCache:
    def __init__(self, handle, lookup_timeout_s: float):
        self.handle = handle
        self.lookup_timeout_s = lookup_timeout_s

    async def lookup(self, q: CacheQuery) -> CacheHit | None:
        try:
            return await asyncio.wait_for(self.handle.lookup.remote(q), self.lookup_timeout_s)
        except asyncio.TimeoutError:
            log.warning("cache lookup took over %.0f ms; treated as a miss", self.lookup_timeout_s * 1000)
            return None
        except Exception as exc:  # noqa: BLE001 - any failure is a miss
            log.warning("cache lookup failed (%s: %s); treated as a miss", type(exc).__name__, exc)
            return None

    async def put(self, q: CacheQuery, model: str, response: dict) -> None:
        try:
            await self.handle.put.remote(q, model, response)
        except Exception as exc:  # noqa: BLE001 - a lost write costs one future miss
            log.warning("cache write failed (%s: %s)", type(exc).__name__, exc)

    async def invalidate(self, tenant: str | None, model: str | None) -> int:
        return await self.handle.invalidate.remote(tenant, model)

    async def stats(self) -> dict:
        return await self.handle.stats.remote()
