"""Cache stores: the embedded Qdrant edge shard (default) and a Qdrant server.

Both backends keep the same payload, so an entry means the same thing
wherever it lives. Backends are imported lazily: importing this package must
not pull in qdrant_edge or qdrant_client (nothing happens at import time).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from typing import TYPE_CHECKING

from serve_app.cache.types import CacheEntry

if TYPE_CHECKING:
    from serve_app.cache.types import Store
    from serve_app.config.schema import VectorStoreSettings

# Payload fields that filters use; each gets a payload index.
KEYWORD_FIELDS = ("tenant", "fingerprint", "model")
FLOAT_FIELDS = ("expires_at", "created_at")


def make_store(cfg: VectorStoreSettings, dim: int, space: str, name: str = "semantic-cache") -> Store:
    """The store `cfg.backend` names, for vectors of `dim` from embedding space
    `space` (classifier/encoder.py: EmbeddingSpace), each space in a place of
    its own: `<path>/<space>/` (path defaults to `<cache dir>/<name>`) or
    collection `<collection>_<space>`. Call `await store.start()` before use."""
    if cfg.backend == "embedded":
        from serve_app.cache.stores.embedded import EmbeddedStore

        return EmbeddedStore.from_config(cfg, dim, space, name)
    if cfg.backend == "server":
        from serve_app.cache.stores.server import ServerStore

        return ServerStore.from_config(cfg, dim, space)
    raise ValueError(f"unknown cache backend {cfg.backend!r}")


def point_id(entry_id: str) -> str:
    """Qdrant accepts only unsigned ints and UUIDs as ids; entry ids are
    arbitrary strings (sha256 hex in practice), so hash them into a UUID.
    128 bits of sha256 make a collision practically impossible, and the
    original id is kept in the payload anyway."""
    return str(uuid.UUID(hex=hashlib.sha256(entry_id.encode()).hexdigest()[:32]))


def to_payload(entry: CacheEntry) -> dict:
    return {
        "id": entry.id,
        "tenant": entry.tenant,
        "fingerprint": entry.fingerprint,
        "model": entry.model,
        "domain": entry.domain,
        "text": entry.text,
        # A JSON string, not a nested object: Qdrant would otherwise walk
        # (and could index) every field of the answer body.
        "response": json.dumps(entry.response, separators=(",", ":")),
        "created_at": float(entry.created_at),
        "expires_at": float(entry.expires_at),
    }


def from_payload(payload: dict, vector) -> CacheEntry:
    return CacheEntry(
        id=payload["id"],
        vector=tuple(float(x) for x in (vector or ())),
        tenant=payload["tenant"],
        fingerprint=payload["fingerprint"],
        model=payload["model"],
        domain=payload["domain"],
        text=payload["text"],
        response=json.loads(payload["response"]),
        created_at=float(payload["created_at"]),
        expires_at=float(payload["expires_at"]),
    )


def evict_batch(count: int, max_entries: int, fraction: float) -> int:
    """How many oldest entries to drop once `count` exceeds the bound.

    Dropping a slice (1% by default) rather than exactly the overflow means
    the order-by scan and delete run once per ~1% of writes instead of on
    every insert at the bound.
    """
    if count <= max_entries:
        return 0
    return max(count - max_entries, int(max_entries * fraction), 1)


async def stop_task(task):
    """Cancel a background maintenance task and wait for it; returns None to
    assign back (`self._task = await stop_task(self._task)`)."""
    if task is not None:
        task.cancel()
        try:
            await task
        except asyncio.CancelledError:
            pass
    return None


def plain_vector(vector):
    """The default (unnamed) vector comes back as a list; named ones as a dict."""
    if isinstance(vector, dict):
        return vector.get("", next(iter(vector.values()), None))
    return vector


def entry_of(point) -> CacheEntry:
    """A stored point (payload + vector, from either Qdrant API) as an entry."""
    return from_payload(point.payload, plain_vector(point.vector))


def live_entry(records, id: str, now: float) -> CacheEntry | None:
    """The entry a by-id retrieve found, unless it expired or its id collides."""
    if not records:
        return None
    entry = entry_of(records[0])
    return entry if entry.expires_at > now and entry.id == id else None
