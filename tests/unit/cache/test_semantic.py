"""Cache plan and lookup logic over a real store (qdrant-client, in memory)."""

import numpy as np
import pytest

from serve_app.cache.plan import plan_cache
from serve_app.cache.semantic import CacheQuery, SemanticCacheCore
from serve_app.cache.stores.server import ServerStore
from serve_app.config.schema import CacheConfig
from serve_app.policy import Decision
from serve_app.protocol import StreamAssembler, body_to_chunks, chat_chunk, chat_response
from tests.unit.factories import signals

ON = CacheConfig(enabled=True)


def decision(tier="slm", sensitive=False, domain="general"):
    return Decision(targets=("m",), tier=tier, domain=domain, sensitive=sensitive, jailbreak=False, reason="")


def vec(seed, noise=0.0, base=None):
    rng = np.random.default_rng(seed)
    v = rng.normal(size=384) if base is None else base + noise * rng.normal(size=384)
    return tuple(float(x) for x in v / np.linalg.norm(v))


def sig(vector=None, sensitive=False):
    s = signals(sensitive=sensitive)
    return s.__class__(**{**s.__dict__, "embedding": vector or vec(0)})


WIRE = {"messages": [{"role": "user", "content": "What is the capital of France?"}], "temperature": 0}


def test_plan_bypasses_when_off_sensitive_or_without_embedding():
    assert not plan_cache(CacheConfig(), "chat", WIRE, decision(), sig(), "t", None, None).read
    assert not plan_cache(ON, "chat", WIRE, decision(sensitive=True), sig(), "t", None, None).write
    opted_in = CacheConfig(enabled=True, cache_sensitive=True)
    assert plan_cache(opted_in, "chat", WIRE, decision(sensitive=True), sig(), "t", None, None).read
    no_vec = signals()
    assert plan_cache(ON, "chat", WIRE, decision(), no_vec, "t", None, None).status_if_not_hit == "bypass"


def test_plan_controls():
    p = plan_cache(ON, "chat", WIRE, decision(), sig(), "t", "no-store", None)
    assert p.read and not p.write and p.status_if_not_hit == "miss"
    p = plan_cache(ON, "chat", WIRE, decision(), sig(), "t", "no-cache", None)
    assert not p.read and p.write and p.status_if_not_hit == "bypass"


def test_plan_keys_separate_tenants_tiers_and_models():
    keys = {
        plan_cache(ON, "chat", WIRE, decision(), sig(), "a", None, None).query.key,
        plan_cache(ON, "chat", WIRE, decision(), sig(), "b", None, None).query.key,
        plan_cache(ON, "chat", WIRE, decision(tier="lrm"), sig(), "a", None, None).query.key,
        plan_cache(ON, "chat", WIRE, decision(), sig(), "a", None, "model-x").query.key,
        plan_cache(ON, "chat", {**WIRE, "temperature": 1}, decision(), sig(), "a", None, None).query.key,
    }
    assert len(keys) == 5


@pytest.fixture
async def core():
    from qdrant_client import AsyncQdrantClient

    store = ServerStore(client=AsyncQdrantClient(location=":memory:"), purge_interval_s=None)
    await store.start()
    clock = [1000.0]
    yield SemanticCacheCore(store, CacheConfig(enabled=True, ttl_s=60, threshold=0.9), clock=lambda: clock[0]), clock
    await store.close()


def query(text, vector, tenant="t", fp="fp", domain="general"):
    return CacheQuery(tenant=tenant, fingerprint=fp, key=f"{tenant}|{fp}|{text}", text=text,
                      vector=vector, domain=domain)


ANSWER = chat_response("m", "Paris.")


async def test_exact_then_semantic_then_guarded(core):
    cache, _ = core
    base = np.array(vec(1))
    await cache.put(query("user: what is the capital of france", tuple(base)), "m", ANSWER)
    exact = await cache.lookup(query("user: what is the capital of france", tuple(base)))
    assert exact.hit.exact and exact.hit.similarity == 1.0 and exact.hit.response == ANSWER
    near = vec(2, noise=0.01, base=base)
    para = await cache.lookup(query("user: what is the capital city of france", near))
    assert para.hit is not None and not para.hit.exact and para.hit.similarity > 0.9
    other = await cache.lookup(query("user: what is the capital of spain", near))
    assert other.hit is None and other.rejected_by == ("entities",)


async def test_tenant_and_fingerprint_isolate(core):
    cache, _ = core
    v = vec(3)
    await cache.put(query("user: hello", v), "m", ANSWER)
    assert (await cache.lookup(query("user: hello", v, tenant="other"))).hit is None
    assert (await cache.lookup(query("user: hello", v, fp="other"))).hit is None


async def test_ttl_and_domain_threshold(core):
    cache, clock = core
    base = np.array(vec(4))
    await cache.put(query("user: tell me a joke about cats", tuple(base)), "m", ANSWER)
    loose = vec(5, noise=0.02, base=base)
    sim = float(np.dot(base, loose))
    assert 0.9 < sim < 0.999
    assert (await cache.lookup(query("user: tell me a cat joke", loose))).hit is not None
    cache.config = CacheConfig(enabled=True, threshold=0.9, domain_thresholds={"creative": 0.999})
    assert (await cache.lookup(query("user: tell me a cat joke", loose, domain="creative"))).hit is None
    clock[0] += 61
    assert (await cache.lookup(query("user: tell me a joke about cats", tuple(base)))).hit is None


def test_stream_assembly_round_trip():
    a = StreamAssembler()
    for chunk in [chat_chunk("m", "r", delta={"role": "assistant"}), chat_chunk("m", "r", delta={"content": "Par"}),
                  chat_chunk("m", "r", delta={"content": "is."}), chat_chunk("m", "r", delta={}, finish_reason="stop")]:
        a.add(chunk)
    body = a.body()
    assert body["choices"][0]["message"]["content"] == "Paris." and body["model"] == "m"
    replay = body_to_chunks(body)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in replay) == "Paris."
    assert replay[-1]["choices"][0]["finish_reason"] == "stop"


def test_unfinished_or_tool_call_streams_are_not_assembled():
    a = StreamAssembler()
    a.add(chat_chunk("m", "r", delta={"content": "Par"}))
    assert a.body() is None
    b = StreamAssembler()
    b.add(chat_chunk("m", "r", delta={"tool_calls": [{"index": 0}]}))
    b.add(chat_chunk("m", "r", delta={}, finish_reason="tool_calls"))
    assert b.body() is None


def test_plan_uses_the_cache_form_vector_when_the_classifier_made_one():
    import dataclasses

    classified = sig((1.0, 0.0, 0.0))
    assert plan_cache(ON, "chat", WIRE, decision(), classified, "t", None, None).query.vector == (1.0, 0.0, 0.0)
    both = dataclasses.replace(classified, cache_embedding=(0.0, 1.0, 0.0))
    assert plan_cache(ON, "chat", WIRE, decision(), both, "t", None, None).query.vector == (0.0, 1.0, 0.0)
