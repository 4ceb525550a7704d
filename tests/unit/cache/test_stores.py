"""The Store contract, run against both backends.

embedded: a Qdrant edge shard in tmp_path. server: ServerStore over
qdrant-client's local mode (":memory:"), which speaks the server's client API.
Background maintenance is off (intervals None) so every purge is explicit.
"""

from __future__ import annotations

import asyncio
import math
import time
import zlib

import numpy as np
import pytest

from serve_app.cache.stores import evict_batch, make_store, point_id
from serve_app.cache.types import CacheEntry, CacheFilter

DIM = 16
NOW = time.time()

# Local mode says payload indexes do nothing there; ServerStore creates them
# for a real server.
pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")


def unit(seed: int, dim: int = DIM) -> tuple[float, ...]:
    v = np.random.default_rng(seed).standard_normal(dim)
    return tuple(float(x) for x in v / np.linalg.norm(v))


def near(vec: tuple[float, ...], cos: float, seed: int = 99) -> tuple[float, ...]:
    """A unit vector at cosine `cos` from the unit vector `vec`."""
    v = np.array(vec)
    r = np.random.default_rng(seed).standard_normal(len(v))
    r -= r.dot(v) * v
    r /= np.linalg.norm(r)
    w = cos * v + math.sqrt(1 - cos**2) * r
    return tuple(float(x) for x in w)


def entry(id: str, vector=None, *, tenant="t1", fingerprint="fp1", model="m1",
          created_at=NOW, ttl=3600.0, answer="hello") -> CacheEntry:
    return CacheEntry(
        id=id, vector=vector or unit(zlib.crc32(id.encode())), tenant=tenant, fingerprint=fingerprint,
        model=model, domain="general", text=f"text of {id}",
        response={"choices": [{"message": {"content": answer}}], "usage": {"total_tokens": 3}},
        created_at=created_at, expires_at=created_at + ttl,
    )


def new_store(backend: str, path, max_entries: int = 1000):
    if backend == "embedded":
        from serve_app.cache.stores.embedded import EmbeddedStore

        return EmbeddedStore(str(path), dim=DIM, max_entries=max_entries,
                             purge_interval_s=None, flush_interval_s=None)
    from qdrant_client import AsyncQdrantClient

    from serve_app.cache.stores.server import ServerStore

    return ServerStore(client=AsyncQdrantClient(location=":memory:"), dim=DIM,
                       max_entries=max_entries, purge_interval_s=None)


@pytest.fixture(params=["embedded", "server"])
def backend(request):
    return request.param


@pytest.fixture
async def store(backend, tmp_path):
    s = new_store(backend, tmp_path / "cache")
    await s.start()
    yield s
    await s.close()


async def test_upsert_then_get_returns_the_entry(store):
    e = entry("k1")
    await store.upsert(e)
    got = await store.get("k1", now=NOW)
    assert got is not None
    assert (got.id, got.tenant, got.fingerprint, got.model, got.text) == ("k1", "t1", "fp1", "m1", "text of k1")
    assert got.response == e.response
    assert got.expires_at == pytest.approx(e.expires_at)
    assert np.allclose(got.vector, e.vector, atol=1e-5)  # unit vectors survive cosine normalisation
    assert await store.get("missing", now=NOW) is None


async def test_query_finds_the_entry_with_its_similarity(store):
    e = entry("k1")
    await store.upsert(e)
    hits = await store.query(e.vector, CacheFilter(tenant="t1", fingerprint="fp1"), 0.9, 5, NOW)
    assert [h.entry.id for h in hits] == ["k1"]
    assert hits[0].score == pytest.approx(1.0, abs=1e-4)


async def test_another_tenant_never_sees_an_entry_even_with_the_same_vector(store):
    e = entry("k1", tenant="alice")
    await store.upsert(e)
    assert await store.query(e.vector, CacheFilter(tenant="bob", fingerprint="fp1"), 0.0, 5, NOW) == []
    hits = await store.query(e.vector, CacheFilter(tenant="alice", fingerprint="fp1"), 0.0, 5, NOW)
    assert [h.entry.id for h in hits] == ["k1"]


async def test_another_fingerprint_or_model_misses(store):
    e = entry("k1")
    await store.upsert(e)
    assert await store.query(e.vector, CacheFilter(tenant="t1", fingerprint="fp2"), 0.0, 5, NOW) == []
    assert await store.query(e.vector, CacheFilter(tenant="t1", fingerprint="fp1", model="m2"), 0.0, 5, NOW) == []
    hits = await store.query(e.vector, CacheFilter(tenant="t1", fingerprint="fp1", model="m1"), 0.0, 5, NOW)
    assert len(hits) == 1


async def test_threshold_is_inclusive_of_closer_and_excludes_farther(store):
    base = unit(1)
    await store.upsert(entry("close", near(base, 0.95, seed=2)))
    await store.upsert(entry("far", near(base, 0.80, seed=3)))
    flt = CacheFilter(tenant="t1", fingerprint="fp1")
    hits = await store.query(base, flt, 0.9, 5, NOW)
    assert [h.entry.id for h in hits] == ["close"]
    assert hits[0].score == pytest.approx(0.95, abs=1e-3)
    both = await store.query(base, flt, 0.7, 5, NOW)
    assert [h.entry.id for h in both] == ["close", "far"]  # best first
    assert len(await store.query(base, flt, 0.7, 1, NOW)) == 1  # limit


async def test_expired_entries_are_invisible_then_purged(store):
    old = entry("old", created_at=NOW - 100, ttl=50)  # expired at NOW - 50
    await store.upsert(old)
    await store.upsert(entry("fresh"))
    assert await store.get("old", now=NOW) is None
    assert await store.get("old", now=NOW - 60) is not None  # not yet expired then
    assert await store.query(old.vector, CacheFilter(tenant="t1", fingerprint="fp1"), 0.99, 5, NOW) == []
    assert await store.purge_expired(NOW) == 1
    assert (await store.stats()).entries == 1
    assert await store.get("fresh", now=NOW) is not None


async def test_upsert_with_the_same_id_replaces(store):
    await store.upsert(entry("k1", unit(5), answer="first"))
    await store.upsert(entry("k1", unit(6), answer="second"))
    assert (await store.stats()).entries == 1
    got = await store.get("k1", now=NOW)
    assert got.response["choices"][0]["message"]["content"] == "second"
    hits = await store.query(unit(6), CacheFilter(tenant="t1", fingerprint="fp1"), 0.99, 5, NOW)
    assert [h.entry.id for h in hits] == ["k1"]


async def test_delete_by_tenant_and_by_model_returns_counts(store):
    for i in range(3):
        await store.upsert(entry(f"a{i}", tenant="alice", model="small"))
    for i in range(2):
        await store.upsert(entry(f"b{i}", tenant="bob", model="small"))
    await store.upsert(entry("b-big", tenant="bob", model="big"))
    assert await store.delete(CacheFilter(tenant="alice")) == 3
    assert await store.delete(CacheFilter(tenant="alice")) == 0
    assert await store.delete(CacheFilter(model="small")) == 2
    assert (await store.stats()).entries == 1
    assert await store.get("b-big", now=NOW) is not None
    assert await store.delete(CacheFilter()) == 1  # flush everything


async def test_size_bound_evicts_the_oldest_and_counts_them(backend, tmp_path):
    store = new_store(backend, tmp_path / "cache", max_entries=10)
    await store.start()
    try:
        for i in range(15):
            await store.upsert(entry(f"k{i:02d}", created_at=NOW + i))
        stats = await store.stats()
        assert stats.entries == 10
        assert stats.evictions == 5
        assert all([await store.get(f"k{i:02d}", now=NOW) is None for i in range(5)])
        assert all([await store.get(f"k{i:02d}", now=NOW) is not None for i in range(5, 15)])
    finally:
        await store.close()


async def test_embedded_entries_survive_close_and_reopen(tmp_path):
    path = tmp_path / "cache"
    first = new_store("embedded", path)
    await first.start()
    e = entry("k1")
    await first.upsert(e)
    await first.upsert(entry("k2", tenant="other"))
    await first.close()

    second = new_store("embedded", path)
    await second.start()
    try:
        assert (await second.stats()).entries == 2
        assert (await second.get("k1", now=NOW)).response == e.response
        hits = await second.query(e.vector, CacheFilter(tenant="t1", fingerprint="fp1"), 0.99, 5, NOW)
        assert [h.entry.id for h in hits] == ["k1"]
    finally:
        await second.close()


async def test_embedded_path_is_one_process_only(tmp_path):
    first = new_store("embedded", tmp_path / "cache")
    await first.start()
    second = new_store("embedded", tmp_path / "cache")
    try:
        with pytest.raises(RuntimeError, match="another process"):
            await second.start()
    finally:
        await first.close()


async def test_background_maintenance_purges_expired_entries(backend, tmp_path):
    store = new_store(backend, tmp_path / "cache")
    store.purge_interval_s = 0.05
    if backend == "embedded":
        store.flush_interval_s = 0.05
    await store.start()
    try:
        await store.upsert(entry("old", created_at=time.time() - 100, ttl=50))
        await store.upsert(entry("fresh", created_at=time.time()))
        for _ in range(100):
            if (await store.stats()).entries == 1:
                break
            await asyncio.sleep(0.02)
        stats = await store.stats()
        assert stats.entries == 1 and stats.extra["expired_purged"] == 1
        assert await store.get("fresh", now=time.time()) is not None
    finally:
        await store.close()


async def test_embedded_background_optimize_runs_after_enough_changes(tmp_path):
    store = new_store("embedded", tmp_path / "cache")
    store.optimize_interval_s, store.optimize_min_changes = 0.05, 3
    await store.start()
    try:
        runs = store.optimize_runs  # one at start
        await store.upsert(entry("k1"))
        await asyncio.sleep(0.3)
        assert store.optimize_runs == runs  # 1 change < 3: not worth a freeze
        for i in range(2, 5):
            await store.upsert(entry(f"k{i}"))
        for _ in range(50):
            if store.optimize_runs > runs:
                break
            await asyncio.sleep(0.02)
        assert store.optimize_runs == runs + 1
        assert (await store.stats()).extra["changes_since_optimize"] == 0
    finally:
        await store.close()


async def test_server_start_is_idempotent_when_replicas_race():
    from qdrant_client import AsyncQdrantClient

    from serve_app.cache.stores.server import ServerStore

    client = AsyncQdrantClient(location=":memory:")
    a = ServerStore(client=client, dim=DIM, purge_interval_s=None)
    b = ServerStore(client=client, dim=DIM, purge_interval_s=None)
    await a.start()
    await a.upsert(entry("k1"))
    await b.start()  # collection exists: no error, no data loss
    assert await b.get("k1", now=NOW) is not None
    # A create that loses the race after the existence check is tolerated too.
    c = ServerStore(client=client, dim=DIM, purge_interval_s=None)
    c._m = __import__("qdrant_client").models
    c._client = client

    async def absent(_name):
        absent.calls += 1
        return absent.calls > 1  # "missing" first, then present after the failed create

    absent.calls = 0
    client.collection_exists = absent
    await c._ensure_collection()
    await client.close()


def test_make_store_picks_the_backend(tmp_path):
    from serve_app.cache.stores.embedded import EmbeddedStore
    from serve_app.cache.stores.server import ServerStore
    from serve_app.config.schema import CacheConfig

    emb = make_store(CacheConfig(path=str(tmp_path / "c"), max_entries=7), dim=8, space="d8-abc")
    assert isinstance(emb, EmbeddedStore) and (emb.dim, emb.max_entries) == (8, 7)
    srv = make_store(CacheConfig(backend="server", url="http://qdrant:6333", collection="x"), dim=384, space="s1")
    assert isinstance(srv, ServerStore) and (srv.url, srv.dim) == ("http://qdrant:6333", 384)


def test_each_embedding_space_has_its_own_store_location(tmp_path):
    """Vectors of another encoder are never compared with the stored ones:
    each embedding space gets its own shard directory or collection."""
    from serve_app.config.schema import CacheConfig

    a = make_store(CacheConfig(path=str(tmp_path / "c")), dim=384, space="d384-aaa")
    b = make_store(CacheConfig(path=str(tmp_path / "c")), dim=384, space="d384-bbb")
    assert a.path == str(tmp_path / "c" / "d384-aaa") != b.path
    srv = make_store(CacheConfig(backend="server", url="http://q:6333", collection="x"), dim=384, space="d384-aaa")
    assert srv.collection == "x_d384-aaa"


def test_point_ids_are_stable_uuids_and_eviction_batches_are_one_percent():
    assert point_id("abc") == point_id("abc") != point_id("abd")
    assert len(point_id("a" * 64)) == 36
    assert evict_batch(100, 100, 0.01) == 0
    assert evict_batch(100_001, 100_000, 0.01) == 1000
    assert evict_batch(15, 10, 0.01) == 5


def test_embedded_default_path_follows_the_cache_dir(tmp_path, monkeypatch):
    from serve_app.cache.stores.embedded import EmbeddedStore
    from serve_app.config.schema import CacheConfig

    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    store = EmbeddedStore.from_config(CacheConfig(enabled=True), 384, "d384-x")
    assert store.path == str(tmp_path / "semantic-cache" / "d384-x")
