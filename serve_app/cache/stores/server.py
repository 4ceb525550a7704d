"""The server cache store: a Qdrant server shared by every cache replica.

Many replicas, one collection. Everything here must stay correct when several
replicas run it at once:

- start() creates the collection and payload indexes if missing. Two replicas
  starting together may both try; the loser's "already exists" error is
  recognised (by checking that the collection now exists) and ignored.
  Creating an index that exists is a no-op on the server.
- Size bound: the server has no cheap per-insert counter we own, so each
  replica counts (approximate count, an index statistic) every
  `check_every` of its own writes and, when over max_entries, deletes the
  oldest 1% by created_at. Replicas that check at the same moment may each
  delete a slice, so the store can dip ~1% per concurrent replica below the
  bound, and can exceed it by up to check_every writes per replica between
  checks. The bound is approximate by design; it exists to cap memory.
- TTL: expired entries are never returned (filters on expires_at); each
  replica also deletes expired entries every `purge_interval_s` (an
  idempotent filtered delete, harmless when replicas overlap).
- delete(): count-then-delete, so the returned count is exact unless other
  replicas write matching entries in between.

qdrant-client's local mode (location=":memory:" or path=) implements the
same API by brute force in Python; tests inject such a client.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Callable

from serve_app.cache.stores import (
    FLOAT_FIELDS,
    KEYWORD_FIELDS,
    entry_of,
    evict_batch,
    live_entry,
    point_id,
    stop_task,
    to_payload,
)
from serve_app.cache.types import CacheEntry, CacheFilter, StoreHit, StoreStats

log = logging.getLogger(__name__)


class ServerStore:
    def __init__(self, url: str | None = None, *, collection: str = "triage_cache", dim: int = 384,
                 max_entries: int = 100_000, api_key_env: str | None = None, client=None,
                 evict_fraction: float = 0.01, check_every: int | None = None,
                 purge_interval_s: float | None = 60.0, clock: Callable[[], float] = time.time):
        if client is None and not url:
            raise ValueError("ServerStore needs a url or a client")
        self.url = url
        self.collection = collection
        self.dim = dim
        self.max_entries = max_entries
        self.api_key_env = api_key_env
        self.evict_fraction = evict_fraction
        # Count once per ~0.1% of the bound: a count per insert would double
        # the server's write-path load for nothing.
        self.check_every = check_every or max(1, min(1000, max_entries // 1000))
        self.purge_interval_s = purge_interval_s
        self.clock = clock
        self._client = client
        self._owns_client = client is None
        self._m = None  # qdrant_client.models, imported in start()
        self._writes = 0
        self._evict_lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self.evictions = 0
        self.purged = 0

    @classmethod
    def from_config(cls, cfg, dim: int, space: str) -> ServerStore:
        return cls(cfg.url, collection=f"{cfg.collection}_{space}", dim=dim, max_entries=cfg.max_entries,
                   api_key_env=cfg.api_key_env)

    # ------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        from qdrant_client import AsyncQdrantClient, models

        self._m = models
        if self._client is None:
            key = os.environ.get(self.api_key_env) if self.api_key_env else None
            self._client = AsyncQdrantClient(url=self.url, api_key=key or None)
        await self._ensure_collection()
        if self.purge_interval_s:
            self._task = asyncio.create_task(self._purge_loop())

    async def _ensure_collection(self) -> None:
        m, c = self._m, self._client
        if not await c.collection_exists(self.collection):
            try:
                await c.create_collection(
                    self.collection,
                    vectors_config=m.VectorParams(size=self.dim, distance=m.Distance.COSINE),
                    # Every query filters on tenant: per-tenant graphs only
                    # (Qdrant's multitenancy layout), no global graph.
                    hnsw_config=m.HnswConfigDiff(m=0, payload_m=16),
                )
            except Exception:
                # Another replica won the race (409 on a server, ValueError
                # in local mode); anything else leaves no collection behind.
                if not await c.collection_exists(self.collection):
                    raise
        schemas = {name: m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD,
                                              is_tenant=name == "tenant" or None)
                   for name in KEYWORD_FIELDS}
        schemas.update({name: m.PayloadSchemaType.FLOAT for name in FLOAT_FIELDS})
        for name, schema in schemas.items():
            await c.create_payload_index(self.collection, name, field_schema=schema, wait=True)

    async def close(self) -> None:
        self._task = await stop_task(self._task)
        if self._client is not None and self._owns_client:
            await self._client.close()
            self._client = None

    # ------------------------------------------------------------ operations

    async def upsert(self, entry: CacheEntry) -> None:
        await self.upsert_many([entry])

    async def upsert_many(self, entries: list[CacheEntry]) -> None:
        m = self._m
        for e in entries:
            if len(e.vector) != self.dim:
                raise ValueError(f"vector has {len(e.vector)} dims, the store {self.dim}")
        points = [m.PointStruct(id=point_id(e.id), vector=list(e.vector), payload=to_payload(e))
                  for e in entries]
        await self._client.upsert(self.collection, points=points, wait=True)
        self._writes += len(entries)
        if self._writes >= self.check_every:
            self._writes = 0
            await self._evict()

    async def _evict(self) -> None:
        m, c = self._m, self._client
        async with self._evict_lock:  # one eviction at a time per replica
            total = (await c.count(self.collection, exact=False)).count
            n = evict_batch(total, self.max_entries, self.evict_fraction)
            if not n:
                return
            oldest, _ = await c.scroll(
                self.collection, limit=n, with_payload=False, with_vectors=False,
                order_by=m.OrderBy(key="created_at", direction=m.Direction.ASC),
            )
            if oldest:
                await c.delete(self.collection, wait=True,
                               points_selector=m.PointIdsList(points=[p.id for p in oldest]))
                self.evictions += len(oldest)

    async def get(self, id: str, now: float) -> CacheEntry | None:
        records = await self._client.retrieve(self.collection, ids=[point_id(id)],
                                              with_payload=True, with_vectors=True)
        return live_entry(records, id, now)

    async def query(self, vector: tuple[float, ...], flt: CacheFilter, threshold: float,
                    limit: int, now: float) -> list[StoreHit]:
        res = await self._client.query_points(
            self.collection, query=list(vector), query_filter=self._filter(flt, now),
            score_threshold=threshold, limit=limit, with_payload=True, with_vectors=True,
        )
        return [StoreHit(entry_of(p), float(p.score)) for p in res.points]

    async def delete(self, flt: CacheFilter) -> int:
        return await self._delete(self._filter(flt, None))

    async def _delete(self, flt) -> int:
        m, c = self._m, self._client
        n = (await c.count(self.collection, count_filter=flt, exact=True)).count
        if n:
            await c.delete(self.collection, points_selector=m.FilterSelector(filter=flt), wait=True)
        return n

    async def purge_expired(self, now: float) -> int:
        """Delete every entry with expires_at <= now; return how many."""
        m = self._m
        n = await self._delete(m.Filter(must=[m.FieldCondition(key="expires_at", range=m.Range(lte=now))]))
        self.purged += n
        return n

    async def stats(self) -> StoreStats:
        # Approximate: an index statistic, cheap enough to read after every
        # write (the deployment does), and exact anyway only for an instant.
        total = (await self._client.count(self.collection, exact=False)).count
        return StoreStats(entries=total, evictions=self.evictions, extra={
            "backend": "server", "collection": self.collection, "max_entries": self.max_entries,
            "expired_purged": self.purged, "evictions_scope": "this replica",
        })

    # -------------------------------------------------------------- internals

    def _filter(self, flt: CacheFilter, now: float | None):
        m = self._m
        must = [m.FieldCondition(key=key, match=m.MatchValue(value=value))
                for key, value in (("tenant", flt.tenant), ("fingerprint", flt.fingerprint),
                                   ("model", flt.model)) if value is not None]
        if now is not None:
            must.append(m.FieldCondition(key="expires_at", range=m.Range(gt=now)))
        return m.Filter(must=must)

    async def _purge_loop(self) -> None:
        while True:
            await asyncio.sleep(self.purge_interval_s)
            try:
                await self.purge_expired(self.clock())
            except Exception:  # the server may be briefly away; retry next tick
                log.exception("cache store purge failed")

