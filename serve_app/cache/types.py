"""Values that cross the cache's boundaries, and the store contract.

A store knows vectors, payload filters and expiry; it knows nothing about
guards or HTTP. Every entry carries its tenant and fingerprint, and every
query filters on both, so no hit can cross tenants or request settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class CacheEntry:
    id: str  # = exact key (sha256 hex): re-storing the same request overwrites
    vector: tuple[float, ...]
    tenant: str
    fingerprint: str  # hash of every request field that changes the answer
    model: str  # the model that answered (for invalidation by model)
    domain: str
    text: str  # the normalised conversation the vector was made from
    response: dict  # the complete OpenAI response body
    created_at: float
    expires_at: float


@dataclass(frozen=True)
class StoreHit:
    entry: CacheEntry
    score: float  # cosine similarity, 1.0 for an exact match


@dataclass(frozen=True)
class CacheFilter:
    """Conjunction of payload conditions; None means 'any'."""

    tenant: str | None = None
    fingerprint: str | None = None
    model: str | None = None


@dataclass
class StoreStats:
    entries: int = 0
    evictions: int = 0
    extra: dict = field(default_factory=dict)


class Store(Protocol):
    async def start(self) -> None:
        """Open/create the collection and its payload indexes."""

    async def upsert(self, entry: CacheEntry) -> None:
        """Insert or replace; evict the oldest entries beyond the size bound."""

    async def get(self, id: str, now: float) -> CacheEntry | None:
        """The unexpired entry with this exact key."""

    async def query(self, vector: tuple[float, ...], flt: CacheFilter, threshold: float,
                    limit: int, now: float) -> list[StoreHit]:
        """Unexpired entries matching `flt` with similarity >= threshold, best first."""

    async def delete(self, flt: CacheFilter) -> int:
        """Delete matching entries; return how many."""

    async def stats(self) -> StoreStats: ...

    async def close(self) -> None: ...
