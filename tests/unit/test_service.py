"""RouterService over dry_run engines called in-process: no Ray."""

import asyncio
import json

import pytest

from serve_app.config.schema import DryRunEngine as DryRunSettings
from serve_app.engines.dry_run import DryRunEngine
from serve_app.errors import AllCandidatesFailed, ClientError, NotFound, ShedBeforeWork, UpstreamError
from serve_app.metrics import FALLBACKS, REQUESTS, MemoryMetrics
from serve_app.protocol import ChatRequest, CompletionRequest
from serve_app.report import DecisionLog
from serve_app.service import RequestMeta, RouterService
from tests.unit.factories import config, model, signals


class InProcess:
    """A ModelCaller over an engine in this process (instead of a Serve handle)."""

    def __init__(self, engine):
        self.engine = engine

    def unary(self, kind, request, ctx):
        return (self.engine.chat if kind == "chat" else self.engine.completions)(request, ctx)

    def stream(self, kind, request, ctx):
        return (self.engine.stream_chat if kind == "chat" else self.engine.stream_completions)(request, ctx)


class BreaksMidStream(InProcess):
    async def _gen(self, kind, request, ctx):
        async for i, chunk in _enumerate(self.engine.stream_chat(request, ctx)):
            if i == 2:
                raise UpstreamError("connection dropped", model="a")
            yield chunk

    def stream(self, kind, request, ctx):
        return self._gen(kind, request, ctx)


async def _enumerate(it):
    i = 0
    async for x in it:
        yield i, x
        i += 1


def dry(name, **settings):
    return DryRunEngine(name, DryRunSettings(type="dry_run", **settings))


def service(engines, *, sig=None, models=None, **sections):
    names = list(engines)
    models = models or [model(n, ["slm", "srm", "llm", "lrm"], cost=i) for i, n in enumerate(names)]
    cfg = config(models, **sections)

    async def classify(text, tenant="default"):
        return sig or signals("slm")

    metrics = MemoryMetrics()
    callers = {n: (e if isinstance(e, InProcess) else InProcess(e)) for n, e in engines.items()}
    return RouterService(cfg, classify, callers, metrics), metrics


def chat(text="hello there", **kw):
    return ChatRequest.model_validate({"messages": [{"role": "user", "content": text}], **kw})


META = RequestMeta(request_id="r1")


async def collect(stream):
    return [part async for part in stream]


async def test_answer_and_headers():
    svc, metrics = service({"a": dry("a"), "b": dry("b")})
    routed = await svc.route("chat", chat(), META)
    assert routed.model == "a" and routed.body["choices"][0]["message"]["content"].startswith("[dry_run a]")
    h = routed.headers("r1")
    assert h["x-triage-tier"] == "slm" and h["x-triage-model"] == "a" and h["x-triage-fallbacks"] == "0"
    assert float(h["x-triage-overhead-ms"]) >= 0
    assert sum(v for k, v in metrics.counts.items() if k[0] == "triage_requests_total") == 1


async def test_error_falls_back_to_next_candidate():
    svc, metrics = service({"a": dry("a", fail={"mode": "error"}), "b": dry("b")})
    routed = await svc.route("chat", chat(), META)
    assert routed.model == "b" and routed.attempts == [("a", "error")]
    assert metrics.counts[(FALLBACKS, "a", "error")] == 1


@pytest.mark.parametrize("mode", ["unavailable", "overloaded", "timeout"])
async def test_each_failure_kind_falls_back_with_its_reason(mode):
    svc, _ = service({"a": dry("a", fail={"mode": mode}), "b": dry("b")})
    routed = await svc.route("chat", chat(), META)
    assert routed.attempts == [("a", mode)]


async def test_slow_model_times_out_and_falls_back():
    models = [model("slow", ["slm", "srm", "llm", "lrm"], timeout_s=0.05),
              model("b", ["slm", "srm", "llm", "lrm"], cost=1)]
    svc, _ = service({"slow": dry("slow", latency_ms=2000), "b": dry("b")}, models=models)
    routed = await svc.route("chat", chat(), META)
    assert routed.model == "b" and routed.attempts == [("slow", "timeout")]


async def test_all_failing_raises_with_every_attempt():
    svc, _ = service({"a": dry("a", fail={"mode": "error"}), "b": dry("b", fail={"mode": "unavailable"})})
    with pytest.raises(AllCandidatesFailed) as exc:
        await svc.route("chat", chat(), META)
    assert exc.value.attempts == [("a", "error"), ("b", "unavailable")]
    assert exc.value.status == 503  # the last failure's status


async def test_all_overloaded_is_a_retryable_503():
    svc, _ = service({"a": dry("a", fail={"mode": "overloaded"})})
    with pytest.raises(AllCandidatesFailed) as exc:
        await svc.route("chat", chat(), META)
    assert exc.value.status == 503 and exc.value.code == "all_models_overloaded"


async def test_circuit_breaker_skips_then_recovers():
    clock = [0.0]
    svc, _ = service({"a": dry("a", fail={"mode": "error", "first_n": 2}), "b": dry("b")},
                     policy={"circuit_breaker": {"failure_threshold": 2, "cooldown_s": 10}})
    svc.caller.breakers.clock = lambda: clock[0]
    for _ in range(2):
        assert (await svc.route("chat", chat(), META)).attempts == [("a", "error")]
    routed = await svc.route("chat", chat(), META)
    assert routed.attempts == [("a", "circuit_open")] and routed.model == "b"
    clock[0] = 10
    routed = await svc.route("chat", chat(), META)
    assert routed.model == "a" and routed.attempts == []


async def test_stream_falls_back_before_first_byte():
    svc, _ = service({"a": dry("a", fail={"mode": "overloaded"}), "b": dry("b")})
    routed = await svc.route("chat", chat(stream=True), META)
    parts = await collect(routed.stream)
    assert routed.model == "b" and parts[-1] == b"data: [DONE]\n\n"
    chunks = [json.loads(p[6:]) for p in parts[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)
    assert text.startswith("[dry_run b]")


async def test_stream_failure_after_first_byte_ends_with_error_event():
    svc, metrics = service({"a": BreaksMidStream(dry("a")), "b": dry("b")})
    routed = await svc.route("chat", chat(stream=True), META)
    parts = await collect(routed.stream)
    assert routed.model == "a"  # no silent switch to b
    assert b"[DONE]" not in parts[-1]
    assert json.loads(parts[-1][6:])["error"]["message"] == "connection dropped"
    assert any(k[-1] == "error" for k in metrics.counts if k[0] == "triage_requests_total")


async def test_completions_route_and_stream():
    svc, _ = service({"a": dry("a")})
    req = CompletionRequest.model_validate({"prompt": "Say hi"})
    routed = await svc.route("completions", req, META)
    assert routed.body["object"] == "text_completion"
    req = CompletionRequest.model_validate({"prompt": "Say hi", "stream": True})
    parts = await collect((await svc.route("completions", req, META)).stream)
    assert parts[-1] == b"data: [DONE]\n\n"


async def test_limits_are_client_errors_before_any_model_call():
    engine = dry("a")
    svc, _ = service({"a": engine}, limits={"max_prompt_chars": 20})
    with pytest.raises(ClientError) as exc:
        await svc.route("chat", chat(n=2), META)
    assert exc.value.param == "n"
    with pytest.raises(ClientError) as exc:
        await svc.route("chat", chat("x" * 50), META)
    assert exc.value.code == "prompt_too_long"
    assert engine.calls == 0


async def test_sensitive_prompt_never_reaches_cloud_model(tmp_path):
    record = tmp_path / "cloud.jsonl"
    models = [model("cloud", ["slm", "srm", "llm", "lrm"], locality="cloud", cost=0),
              model("local", ["slm", "srm", "llm", "lrm"], cost=5)]
    engines = {"cloud": dry("cloud", record_prompts_to=str(record)), "local": dry("local")}
    svc, _ = service(engines, models=models, sig=signals(sensitive=True, kinds=["email"]))
    routed = await svc.route("chat", chat("mail me at a@b.com"), META)
    assert routed.model == "local" and not record.exists()


async def test_decision_log_is_one_json_line_per_request_in_its_file(tmp_path):
    cfg = config([model("a", ["slm", "srm", "llm", "lrm"])],
                 ingress={"decision_log": {"destination": "file", "path": str(tmp_path)}})

    async def classify(text, tenant="default"):
        return signals("slm")

    log = DecisionLog(cfg.ingress.decision_log, "replica-1")
    svc = RouterService(cfg, classify, {"a": InProcess(dry("a"))}, MemoryMetrics(), decision_log=log)
    await svc.route("chat", chat(), RequestMeta(request_id="r9", tenant="acme"))
    with pytest.raises(NotFound):
        await svc.route("chat", ChatRequest(model="nope", messages=[{"role": "user", "content": "x"}]),
                        RequestMeta(request_id="r10"))
    lines = (tmp_path / "triage_decisions_replica-1.jsonl").read_text().splitlines()
    first, second = (json.loads(line) for line in lines)
    assert first["request_id"] == "r9" and first["tenant"] == "acme" and first["model"] == "a"
    assert first["status"] == "ok" and first["decision"]["tier"] == "slm"
    assert second["request_id"] == "r10" and second["status"] == "client_error" and second["decision"] is None
    # Where the router's time went, per stage: the whole path for the answer, up to the failure for the error.
    assert list(first["stages_ms"]) == ["check", "classify", "decide", "models"]
    assert all(v >= 0 for v in first["stages_ms"].values())
    assert list(second["stages_ms"]) == ["check", "classify"]


async def test_concurrent_requests_are_independent():
    svc, _ = service({"a": dry("a", latency_ms=20)})
    results = await asyncio.gather(*(svc.route("chat", chat(f"q{i}"), META) for i in range(8)))
    assert all(r.model == "a" for r in results)


# ------------------------------------------------------------------ cache


class CoreCache:
    """The CacheClient contract over SemanticCacheCore in this process."""

    def __init__(self, core):
        self.core = core

    async def lookup(self, q):
        return (await self.core.lookup(q)).hit

    async def put(self, q, model, response):
        await self.core.put(q, model, response)


@pytest.fixture
async def cached_service():
    from qdrant_client import AsyncQdrantClient

    from serve_app.cache.semantic import SemanticCacheCore
    from serve_app.cache.stores.server import ServerStore
    from serve_app.config.schema import CacheConfig

    store = ServerStore(client=AsyncQdrantClient(location=":memory:"), purge_interval_s=None)
    await store.start()
    cfg = config([model("a", ["slm", "srm", "llm", "lrm"])], cache={"enabled": True})
    engine = BreaksMidStream(dry("a"))
    s = signals("slm")
    emb = tuple([1.0] + [0.0] * 383)

    async def classify(text, tenant="default"):
        return s.__class__(**{**s.__dict__, "embedding": emb})

    svc = RouterService(cfg, classify, {"a": engine}, MemoryMetrics(),
                        cache=CoreCache(SemanticCacheCore(store, CacheConfig(enabled=True))))
    yield svc
    await store.close()


async def test_second_request_is_a_hit(cached_service):
    first = await cached_service.route("chat", chat("what is 2+2"), META)
    await cached_service.drain_writes()
    second = await cached_service.route("chat", chat("what is 2+2"), META)
    assert (first.cache, second.cache) == ("miss", "hit")
    assert second.body == first.body and second.similarity == 1.0
    # Same embedding (the fake classifier gives one vector), different number: the guard says no.
    third = await cached_service.route("chat", chat("what is 2+3"), META)
    assert third.cache == "miss"


async def test_no_store_and_broken_streams_are_not_cached(cached_service):
    await cached_service.route("chat", chat("hello"), RequestMeta(request_id="r", cache_control="no-store"))
    await cached_service.drain_writes()
    assert (await cached_service.route("chat", chat("hello", stream=True), META)).cache == "miss"
    routed = await cached_service.route("chat", chat("hello", stream=True), META)
    await collect(routed.stream)  # BreaksMidStream: ends with an error event
    await cached_service.drain_writes()
    assert (await cached_service.route("chat", chat("hello"), META)).cache == "miss"


# ---------------------------------------------------------- reasoning mode


class Recording(InProcess):
    """Keeps every request body the model receives."""

    def __init__(self, engine):
        super().__init__(engine)
        self.requests = []

    def unary(self, kind, request, ctx):
        self.requests.append(request)
        return super().unary(kind, request, ctx)

    def stream(self, kind, request, ctx):
        self.requests.append(request)
        return super().stream(kind, request, ctx)


def thinking_pool():
    """Three lrm models with different switches, cheapest first."""
    return [model("qwen", ["lrm"], cost=0, reasoning={"style": "chat_template"}),
            model("oss", ["lrm"], cost=1, reasoning={"style": "reasoning_effort", "effort_on": "high"}),
            model("plain", ["slm", "srm", "llm", "lrm"], cost=2)]


def hard_math():
    from dataclasses import replace

    return replace(signals("lrm", domain="math"), difficulty=0.9)


async def test_each_candidate_gets_its_own_familys_switch():
    failing = {"mode": "error"}
    engines = {"qwen": Recording(dry("qwen", fail=failing)), "oss": Recording(dry("oss", fail=failing)),
               "plain": Recording(dry("plain"))}
    svc, metrics = service(engines, models=thinking_pool(), sig=hard_math())
    routed = await svc.route("chat", chat("prove it"), META)
    assert routed.model == "plain" and routed.headers("r1")["x-triage-reasoning"] == "on"
    assert engines["qwen"].requests[0]["chat_template_kwargs"] == {"enable_thinking": True}
    assert "reasoning_effort" not in engines["qwen"].requests[0]
    assert engines["oss"].requests[0]["reasoning_effort"] == "high"
    assert "chat_template_kwargs" not in engines["oss"].requests[0]
    plain = engines["plain"].requests[0]
    assert "chat_template_kwargs" not in plain and "reasoning_effort" not in plain
    # Counted per model only where a switch was sent to the model that answered.
    assert not [k for k in metrics.counts if k[0] == "triage_reasoning_total"]


async def test_header_forces_and_metrics_count_the_switch():
    engines = {n: Recording(dry(n)) for n in ("qwen", "oss", "plain")}
    svc, metrics = service(engines, models=thinking_pool(), sig=hard_math())
    routed = await svc.route("chat", chat("prove it"), RequestMeta(request_id="r", reasoning="off"))
    assert routed.model == "qwen" and routed.headers("r")["x-triage-reasoning"] == "off"
    assert engines["qwen"].requests[0]["chat_template_kwargs"] == {"enable_thinking": False}
    assert "reasoning=off (forced by header)" in routed.decision.reason
    assert metrics.counts[("triage_reasoning_total", "qwen", "off")] == 1
    routed = await svc.route("chat", chat("prove it", stream=True), META)
    await collect(routed.stream)
    assert engines["qwen"].requests[1]["chat_template_kwargs"] == {"enable_thinking": True}
    assert metrics.counts[("triage_reasoning_total", "qwen", "on")] == 1


async def test_clients_own_switch_is_never_overwritten():
    engines = {n: Recording(dry(n)) for n in ("qwen", "oss", "plain")}
    svc, _ = service(engines, models=thinking_pool(), sig=hard_math())
    req = chat("prove it", chat_template_kwargs={"enable_thinking": False})
    routed = await svc.route("chat", req, RequestMeta(request_id="r", reasoning="on"))
    assert routed.headers("r")["x-triage-reasoning"] == "none"
    assert engines["qwen"].requests[0]["chat_template_kwargs"] == {"enable_thinking": False}
    assert routed.decision.reasoning_why == "client set chat_template_kwargs.enable_thinking"


async def test_easy_requests_turn_thinking_off_and_completions_get_nothing():
    engines = {n: Recording(dry(n)) for n in ("qwen", "oss", "plain")}
    svc, _ = service(engines, models=thinking_pool(), sig=signals("lrm", domain="creative"))
    await svc.route("chat", chat("a poem"), META)
    assert engines["qwen"].requests[0]["chat_template_kwargs"] == {"enable_thinking": False}
    await svc.route("completions", CompletionRequest.model_validate({"prompt": "x"}), META)
    assert "chat_template_kwargs" not in engines["qwen"].requests[1]


# ------------------------------------------------------------- load-aware


def equal_pair(**a_deployment):
    return [model("a", ["slm", "srm", "llm", "lrm"], cost=1, deployment=a_deployment),
            model("b", ["slm", "srm", "llm", "lrm"], cost=1)]


def in_flight(svc):
    return {m: load.in_flight for m, load in svc.caller.load.snapshot(svc.caller.capacities).items()}


async def test_saturated_model_is_passed_for_an_equal_one():
    svc, metrics = service({"a": dry("a", latency_ms=100), "b": dry("b")},
                           models=equal_pair(max_ongoing_requests=2))
    results = await asyncio.gather(*(svc.route("chat", chat(f"q{i}"), META) for i in range(4)))
    assert [r.model for r in results] == ["a", "a", "b", "b"]
    assert all(r.attempts == [] for r in results)  # chosen up front, not by fallback
    assert "load: b preferred over a (a 2/2 in flight)" in results[2].decision.reason
    assert metrics.counts[("triage_load_spills_total", "a")] == 2
    assert in_flight(svc) == {"a": 0, "b": 0}
    assert (await svc.route("chat", chat("later"), META)).model == "a"


async def test_back_pressure_steers_away_until_it_decays():
    now = [0.0]
    svc, _ = service({"a": dry("a", fail={"mode": "overloaded", "first_n": 1}), "b": dry("b")},
                     models=equal_pair())
    svc.caller.load.clock = lambda: now[0]
    assert (await svc.route("chat", chat(), META)).attempts == [("a", "overloaded")]
    routed = await svc.route("chat", chat(), META)
    assert routed.model == "b" and routed.attempts == []
    assert "a recent back-pressure" in routed.decision.reason
    now[0] = 6.0  # past one half-life (5 s by default)
    assert (await svc.route("chat", chat(), META)).model == "a"


async def test_in_flight_is_released_by_streams_and_cancellation():
    import gc

    svc, _ = service({"a": dry("a", latency_ms=5000), "b": dry("b")}, models=equal_pair())
    task = asyncio.create_task(svc.route("chat", chat(), META))
    await asyncio.sleep(0.05)
    assert in_flight(svc)["a"] == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert in_flight(svc)["a"] == 0

    svc, _ = service({"a": dry("a"), "b": dry("b")}, models=equal_pair())
    routed = await svc.route("chat", chat(stream=True), META)
    assert in_flight(svc)["a"] == 1  # the replica is busy until the stream ends
    await collect(routed.stream)
    assert in_flight(svc)["a"] == 0
    routed = await svc.route("chat", chat(stream=True), META)
    del routed  # a stream nobody iterates (client gone before the body)
    gc.collect()
    assert in_flight(svc)["a"] == 0


async def test_every_breaker_open_sheds_before_classifying():
    calls = []
    svc, metrics = service({"a": dry("a", fail={"mode": "error"}), "b": dry("b", fail={"mode": "error"})},
                     policy={"circuit_breaker": {"failure_threshold": 1, "cooldown_s": 60}})
    inner = svc.classify

    async def counting(text, tenant="default"):
        calls.append(text)
        return await inner(text, tenant)

    svc.classify = counting
    with pytest.raises(AllCandidatesFailed):
        await svc.route("chat", chat("first"), META)  # opens both breakers
    with pytest.raises(AllCandidatesFailed) as exc:
        await svc.route("chat", chat("second"), META)
    assert calls == ["first"]  # the second request never reached the classifier
    assert exc.value.status == 503 and exc.value.attempts == [("a", "circuit_open"), ("b", "circuit_open")]
    assert metrics.counts[(REQUESTS, "none", "none", "none", "bypass", "shed")] == 1


async def test_a_forced_tier_sheds_when_its_models_are_blocked_though_others_are_fine():
    models = [model("a", ["slm"]), model("b", ["srm"], cost=1), model("big", ["llm", "lrm"], cost=9)]
    svc, metrics = service({"a": dry("a", fail={"mode": "error"}), "b": dry("b", fail={"mode": "error"}),
                            "big": dry("big")}, models=models,
                           policy={"circuit_breaker": {"failure_threshold": 1, "cooldown_s": 60},
                                   "fallback": {"max_attempts": 2, "downgrade": False}})
    forced = RequestMeta(request_id="r", forced_tier="slm")
    with pytest.raises(AllCandidatesFailed):
        await svc.route("chat", chat(), forced)  # a and b fail: both breakers open
    with pytest.raises(ShedBeforeWork) as exc:
        await svc.route("chat", chat(), forced)
    assert exc.value.attempts == [("a", "circuit_open"), ("b", "circuit_open")]
    # Unforced, the tier is the classifier's to choose, and 'big' could take it.
    assert svc.caller.hopeless(["a", "b", "big"]) is None


async def test_a_budget_no_model_fits_is_refused_before_classifying():
    calls = []
    models = [model("a", ["slm", "srm"], cost=1), model("b", ["llm", "lrm"], cost=9)]
    svc, _ = service({"a": dry("a"), "b": dry("b")}, models=models)
    inner = svc.classify

    async def counting(text, tenant="default"):
        calls.append(text)
        return await inner(text, tenant)

    svc.classify = counting
    with pytest.raises(ClientError) as exc:
        await svc.route("chat", chat("too cheap"), RequestMeta(request_id="r", max_cost_per_mtok=0.5))
    assert exc.value.code == "over_budget" and exc.value.param == "x-triage-budget" and calls == []
    # A budget one model fits is classified and routed within it.
    routed = await svc.route("chat", chat("fits"), RequestMeta(request_id="r2", max_cost_per_mtok=1))
    assert routed.model == "a" and calls == ["fits"]


async def test_one_model_still_open_means_no_shedding():
    svc, _ = service({"a": dry("a", fail={"mode": "error"}), "b": dry("b")},
                     policy={"circuit_breaker": {"failure_threshold": 1, "cooldown_s": 60}})
    assert (await svc.route("chat", chat(), META)).model == "b"
    assert svc.caller.breakers.is_open("a") and svc.caller.hopeless(["a", "b"]) is None
    assert (await svc.route("chat", chat(), META)).model == "b"


def test_a_shed_503_says_it_was_refused_before_classification():
    import pickle

    err = ShedBeforeWork([("a", "circuit_open")])
    assert err.status == 503 and err.code == "all_models_overloaded"
    assert err.message == "no model could answer (a: circuit_open); refused before classification"
    assert pickle.loads(pickle.dumps(err)).message == err.message
