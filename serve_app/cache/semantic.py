"""The cache's decision logic over any Store: exact match first, then the
nearest neighbours above the domain's threshold, each checked by the guards.

No Ray, no HTTP: the deployment wraps it, unit tests drive it directly.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

from serve_app.cache.guards import check
from serve_app.cache.types import CacheEntry, CacheFilter, Store

# Candidates examined per lookup: the best one may be rejected by a guard
# while a slightly less similar one is a true paraphrase.
CANDIDATES = 4


@dataclass(frozen=True)
class CacheQuery:
    tenant: str
    fingerprint: str
    key: str  # exact key: tenant + fingerprint + normalised text
    text: str  # normalised conversation
    vector: tuple[float, ...]
    domain: str


@dataclass(frozen=True)
class CacheHit:
    response: dict
    model: str
    similarity: float
    exact: bool


@dataclass(frozen=True)
class LookupResult:
    hit: CacheHit | None
    # Guards that turned candidates down during this lookup, in order.
    rejected_by: tuple[str, ...] = ()


class SemanticCacheCore:
    def __init__(self, store: Store, config, clock: Callable[[], float] = time.time):
        self.store = store
        self.config = config  # CacheConfig
        self.clock = clock

    def threshold(self, domain: str) -> float:
        return self.config.domain_thresholds.get(domain, self.config.threshold)

    async def lookup(self, q: CacheQuery) -> LookupResult:
        now = self.clock()
        exact = await self.store.get(q.key, now)
        # The key hashes tenant and fingerprint; checking them again costs
        # nothing and makes a cross-tenant hit impossible even on a collision.
        if exact is not None and exact.tenant == q.tenant and exact.fingerprint == q.fingerprint:
            return LookupResult(CacheHit(exact.response, exact.model, 1.0, exact=True))
        flt = CacheFilter(tenant=q.tenant, fingerprint=q.fingerprint)
        candidates = await self.store.query(q.vector, flt, self.threshold(q.domain), CANDIDATES, now)
        rejected: list[str] = []
        for c in candidates:
            guard = check(q.text, c.entry.text, self.config.guards)
            if guard is None:
                return LookupResult(CacheHit(c.entry.response, c.entry.model, c.score, exact=False),
                                    tuple(rejected))
            rejected.append(guard)
        return LookupResult(None, tuple(rejected))

    async def put(self, q: CacheQuery, model: str, response: dict) -> None:
        now = self.clock()
        await self.store.upsert(CacheEntry(
            id=q.key, vector=q.vector, tenant=q.tenant, fingerprint=q.fingerprint, model=model,
            domain=q.domain, text=q.text, response=response, created_at=now,
            expires_at=now + self.config.ttl_s,
        ))
