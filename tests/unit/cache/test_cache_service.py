"""CacheService (the cache in whatever process holds it) and RemoteCache (how
the Ingress reaches it): stored entries are found, metrics are counted the
same way in both placements, and a slow or failing cache is a miss."""

from __future__ import annotations

import asyncio

import pytest

from serve_app.cache.remote import RemoteCache
from serve_app.cache.semantic import CacheQuery
from serve_app.cache.service import CacheService
from serve_app.config.schema import CacheConfig
from serve_app.metrics import CACHE_LOOKUPS, CACHE_WRITES, MemoryMetrics
from tests.unit.cache.test_stores import DIM, near, unit


def query(text: str, vector, tenant: str = "acme") -> CacheQuery:
    return CacheQuery(tenant=tenant, fingerprint="fp", key=f"{tenant}|{text}", text=text, vector=vector,
                      domain="general")


@pytest.fixture
def service(tmp_path):
    cfg = CacheConfig(enabled=True, placement="ingress", path=str(tmp_path / "cache"), threshold=0.9)
    svc = CacheService(cfg, DIM, "test-space", MemoryMetrics())
    asyncio.run(svc.start())
    yield svc
    asyncio.run(svc.close())


def test_put_then_lookup_finds_the_entry_and_counts_it(service):
    v = unit(1)

    async def go():
        cache = RemoteCache(service, lookup_timeout_s=5)
        assert await cache.lookup(query("what is the capital of france", v)) is None
        await cache.put(query("what is the capital of france", v), "answerer", {"id": "x"})
        assert (await cache.stats())["entries"] == 1
        hit = await cache.lookup(query("what is the capital city of france", near(v, 0.97)))
        other = await cache.lookup(query("what is the capital of france", v, tenant="globex"))
        return hit, other

    hit, other = asyncio.run(go())
    assert hit is not None and hit.model == "answerer" and hit.response == {"id": "x"} and not hit.exact
    assert other is None  # another tenant never hits
    counts = service.metrics.counts
    assert counts[(CACHE_LOOKUPS, "hit")] == 1 and counts[(CACHE_LOOKUPS, "miss")] == 2
    assert counts[(CACHE_WRITES,)] == 1


def test_invalidate_drops_a_tenants_entries(service):
    async def go():
        await service.put(query("q one", unit(2)), "answerer", {"id": "1"})
        await service.put(query("q two", unit(3), tenant="globex"), "answerer", {"id": "2"})
        deleted = await service.invalidate(tenant="acme")
        return deleted, await service.lookup(query("q one", unit(2))), await service.stats()

    deleted, hit, stats = asyncio.run(go())
    assert deleted == 1 and hit is None and stats["entries"] == 1 and stats["backend"] == "embedded"


class _Slow:
    async def lookup(self, q):
        await asyncio.sleep(1)


class _Broken:
    async def lookup(self, q):
        raise RuntimeError("store gone")

    async def put(self, q, model, response):
        raise RuntimeError("store gone")


def test_a_slow_or_failing_cache_is_a_miss_and_a_lost_write_is_not_an_error():
    q = query("anything", unit(4))

    async def go():
        slow = await RemoteCache(_Slow(), lookup_timeout_s=0.05).lookup(q)
        broken = RemoteCache(_Broken(), lookup_timeout_s=1)
        return slow, await broken.lookup(q), await broken.put(q, "m", {})

    assert asyncio.run(go()) == (None, None, None)


def test_over_handle_calls_the_deployments_methods():
    calls = []

    class Method:
        def __init__(self, name):
            self.name = name

        def remote(self, *args):
            calls.append((self.name, args))

            async def result():
                return {"entries": 0} if self.name == "stats" else 3

            return result()

    class Handle:
        lookup, put, invalidate, stats = (Method(n) for n in ("lookup", "put", "invalidate", "stats"))

    cache = RemoteCache.over_handle(Handle(), lookup_timeout_s=1)
    assert asyncio.run(cache.invalidate("acme", None)) == 3
    assert asyncio.run(cache.stats()) == {"entries": 0}
    assert [name for name, _ in calls] == ["invalidate", "stats"]
