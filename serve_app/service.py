"""The request path after parsing: classify, decide, call with fallback, report.

Everything here works over injected async callables (the classifier, one
caller per model), so it runs in unit tests without Ray. The ingress builds
it with Serve handles; nothing here knows HTTP.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import weakref
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, Mapping, Protocol

from serve_app.cache.plan import BYPASS, CachePlan, plan_cache
from serve_app.cache.semantic import CacheHit, CacheQuery
from serve_app.config.schema import RouterConfig
from serve_app.engines.base import CallContext
from serve_app.errors import (
    CIRCUIT_OPEN, OVERLOADED, UNAVAILABLE, AllCandidatesFailed, ClientError, ModelTimeout, TriageError,
    UpstreamError,
)
from serve_app.policy import Decision, RequestFacts, Signals, decide
from serve_app.policy.breaker import CircuitBreakers
from serve_app.policy.load import LoadTracker, capacity
from serve_app.policy.reasoning import apply_reasoning, client_switch
from serve_app.protocol import SSE_DONE, StreamAssembler, body_to_chunks, sse

decision_log = logging.getLogger("triage.decisions")


class ModelCaller(Protocol):
    def unary(self, kind: str, request: dict, ctx: CallContext) -> Awaitable[dict]: ...
    def stream(self, kind: str, request: dict, ctx: CallContext) -> AsyncIterator[dict]: ...


class CacheClient(Protocol):
    """Never raises: a failing cache is a miss, not a failed request."""

    async def lookup(self, q: CacheQuery) -> CacheHit | None: ...
    async def put(self, q: CacheQuery, model: str, response: dict) -> None: ...


@dataclass(frozen=True)
class RequestMeta:
    """Per-request facts from outside the body (headers, auth)."""

    request_id: str
    tenant: str = "default"
    forced_tier: str | None = None
    latency_class: str | None = None
    max_cost_per_mtok: float | None = None
    cache_control: str | None = None  # x-triage-cache: no-store | no-cache
    reasoning: str | None = None  # x-triage-reasoning: on | off | auto


@dataclass
class Routed:
    """A routed answer: a complete body, or an SSE byte stream already past its first chunk."""

    decision: Decision
    model: str
    attempts: list[tuple[str, str]]
    overhead_ms: float
    cache: str = "bypass"
    body: dict | None = None
    stream: AsyncIterator[bytes] | None = None
    similarity: float | None = None  # of a cache hit

    def headers(self, request_id: str) -> dict[str, str]:
        return {
            "x-triage-request-id": request_id,
            "x-triage-tier": self.decision.tier,
            "x-triage-domain": self.decision.domain,
            "x-triage-model": self.model,
            "x-triage-cache": self.cache,
            "x-triage-fallbacks": str(len(self.attempts)),
            "x-triage-overhead-ms": f"{self.overhead_ms:.2f}",
            "x-triage-reasoning": self.decision.reasoning,
            **({"x-triage-cache-similarity": f"{self.similarity:.4f}"} if self.similarity is not None else {}),
        }


class RouterService:
    def __init__(self, config: RouterConfig, classify: Callable[[str], Awaitable[Signals]],
                 models: Mapping[str, ModelCaller], metrics, *,
                 cache: CacheClient | None = None,
                 clock: Callable[[], float] = time.perf_counter,
                 breaker_clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.classify = classify
        self.models = models
        self.metrics = metrics
        self.cache = cache
        self.clock = clock
        # Cache writes run after the answer is sent; keep them referenced.
        self._writes: set[asyncio.Task] = set()
        cb = config.policy.circuit_breaker
        self.breakers = CircuitBreakers(cb.failure_threshold, cb.cooldown_s, breaker_clock)
        # In-flight calls and back-pressure per model, seen from this replica.
        self.load = LoadTracker(config.policy.load.overload_half_life_s, breaker_clock)
        self.capacities = {m.name: capacity(m, config.ingress.deployment) for m in config.models}

    async def route(self, kind: str, req, meta: RequestMeta) -> Routed:
        """kind: "chat" or "completions"; req: a parsed protocol request."""
        t0 = self.clock()
        decision = None
        try:
            text = req.prompt_text()
            self._check_limits(req, text)
            signals = await self.classify(text)
            facts = RequestFacts(model=req.model, forced_tier=meta.forced_tier,
                                 needs_vision=req.has_image(), latency_class=meta.latency_class,
                                 max_cost_per_mtok=meta.max_cost_per_mtok, reasoning=meta.reasoning,
                                 client_reasoning=client_switch(req.model_extra or {}, self.config),
                                 chat=kind == "chat")
            loads = self.load.snapshot(self.capacities) if self.config.policy.load.enabled else None
            decision = decide(signals, facts, self.config, loads)
            plan = self._plan(kind, req, meta, decision, signals)
            if plan.read:
                hit = await self.cache.lookup(plan.query)
                if hit is not None:
                    return self._from_cache(req, meta, decision, hit, t0)
            return await self._call(kind, req, meta, decision, plan, t0)
        except TriageError as err:
            self._report(meta, decision, model="none", attempts=getattr(err, "attempts", []),
                         overhead_s=self.clock() - t0, status=_status(err), error=err)
            raise

    def _check_limits(self, req, text: str) -> None:
        lim = self.config.limits
        if req.n > lim.max_n:
            raise ClientError(f"n={req.n} is not supported; at most {lim.max_n}", param="n")
        if len(text) > lim.max_prompt_chars:
            raise ClientError(f"the prompt is longer than {lim.max_prompt_chars} characters",
                              param="messages" if hasattr(req, "messages") else "prompt",
                              code="prompt_too_long")
        if hasattr(req, "messages") and len(req.messages) > lim.max_messages:
            raise ClientError(f"at most {lim.max_messages} messages per request", param="messages")

    def _plan(self, kind: str, req, meta: RequestMeta, decision: Decision, signals: Signals) -> CachePlan:
        if self.cache is None:
            return BYPASS
        explicit = None if req.model == "auto" else req.model
        wire = req.model_dump(exclude_none=True)
        if decision.reasoning != "none":
            # A thinking answer is a different answer: part of the fingerprint.
            wire["x_triage_reasoning"] = decision.reasoning
        return plan_cache(self.config.cache, kind, wire, decision, signals,
                          meta.tenant, meta.cache_control, explicit)

    def _from_cache(self, req, meta: RequestMeta, decision: Decision, hit: CacheHit, t0: float) -> Routed:
        overhead = self.clock() - t0
        routed = Routed(decision=decision, model=hit.model, attempts=[], overhead_ms=overhead * 1000,
                        cache="hit", similarity=hit.similarity)
        if req.stream:
            routed.stream = self._replay(hit.response)
        else:
            routed.body = hit.response
        self._report(meta, decision, hit.model, [], overhead, status="ok", cache="hit")
        return routed

    @staticmethod
    async def _replay(body: dict) -> AsyncIterator[bytes]:
        for chunk in body_to_chunks(body):
            yield sse(chunk)
        yield SSE_DONE

    def _store_later(self, plan: CachePlan, model: str, body: dict | None) -> None:
        if not plan.write or body is None:
            return
        task = asyncio.create_task(self.cache.put(plan.query, model, body))
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def drain_writes(self) -> None:
        """Wait for pending cache writes (shutdown, tests)."""
        while self._writes:
            await asyncio.gather(*list(self._writes), return_exceptions=True)

    async def _call(self, kind: str, req, meta: RequestMeta, decision: Decision, plan: CachePlan,
                    t0: float) -> Routed:
        attempts: list[tuple[str, str]] = []
        last: UpstreamError | None = None
        model_wait = 0.0
        for busy in decision.busy:  # counted where a model is called, not on cache hits
            self.metrics.load_spill(model=busy)
        for name in decision.targets:
            if name not in self.models:
                self._fallback(attempts, name, UNAVAILABLE)
                continue
            if not self.breakers.allow(name):
                self._fallback(attempts, name, CIRCUIT_OPEN)
                continue
            wire = req.wire(name)
            # Each candidate gets its own family's switch (or none).
            sent = apply_reasoning(wire, decision.reasoning, self.config.model(name).reasoning)
            started = self.clock()
            release = self.load.acquire(name)
            try:
                answer = await self._send(kind, req.stream, name, wire, decision, meta)
            except BaseException as exc:  # release on cancellation too
                release()
                if not isinstance(exc, UpstreamError):
                    raise
                model_wait += self.clock() - started
                self.breakers.failure(name)
                if exc.reason == OVERLOADED:
                    self.load.overloaded(name)
                self._fallback(attempts, name, exc.reason)
                last = exc
                continue
            waited = self.clock() - started
            model_wait += waited
            self.breakers.success(name)
            self.metrics.model_latency(waited, model=name)
            if sent:
                self.metrics.reasoning(model=name, mode=sent)
            overhead = self.clock() - t0 - model_wait
            routed = Routed(decision=decision, model=name, attempts=attempts, overhead_ms=overhead * 1000,
                            cache=plan.status_if_not_hit)
            if req.stream:
                routed.stream = self._relay(*answer, meta, routed, plan, release)
                # A stream nobody iterates never runs its finally: release on collection.
                weakref.finalize(routed.stream, release)
            else:
                release()
                routed.body = answer
                self._store_later(plan, name, answer)
                self._report(meta, decision, name, attempts, overhead, status="ok", cache=routed.cache)
            return routed
        raise AllCandidatesFailed(attempts, last)

    async def _send(self, kind: str, stream: bool, name: str, wire: dict, decision: Decision,
                    meta: RequestMeta):
        """One call: the body, or (first chunk, the rest) of a stream."""
        ctx = CallContext(request_id=meta.request_id, model=name, decision=decision.summary())
        timeout = self.config.model(name).timeout_s
        if stream:
            chunks = self.models[name].stream(kind, wire, ctx)
            return await _first(chunks, timeout, name), chunks
        return await _within(self.models[name].unary(kind, wire, ctx), timeout, name)

    async def _relay(self, first: dict, chunks: AsyncIterator[dict], meta: RequestMeta,
                     routed: Routed, plan: CachePlan, release: Callable[[], None]) -> AsyncIterator[bytes]:
        """The rest of a stream. After the first byte there is no silent switch:
        a failure ends the stream with an error event. Only a stream that
        ended normally is cached."""
        status = "ok"
        assembled = StreamAssembler()
        try:
            assembled.add(first)
            yield sse(first)
            async for chunk in chunks:
                assembled.add(chunk)
                yield sse(chunk)
            yield SSE_DONE
            self._store_later(plan, routed.model, assembled.body())
        except UpstreamError as err:
            status = "error"
            self.breakers.failure(routed.model)
            yield sse(err.body())
        finally:
            release()
            await chunks.aclose()
            self._report(meta, routed.decision, routed.model, routed.attempts,
                         routed.overhead_ms / 1000, status=status, cache=routed.cache)

    def _fallback(self, attempts: list, model: str, reason: str) -> None:
        attempts.append((model, reason))
        self.metrics.fallback(model=model, reason=reason)

    def _report(self, meta: RequestMeta, decision: Decision | None, model: str, attempts: list,
                overhead_s: float, status: str, error: TriageError | None = None,
                cache: str = "bypass") -> None:
        tier = decision.tier if decision else "none"
        domain = decision.domain if decision else "none"
        self.metrics.request(tier=tier, domain=domain, model=model, cache=cache, status=status)
        self.metrics.overhead(overhead_s, tier=tier)
        if error is not None:
            self.metrics.error(type=type(error).__name__)
        if self.config.ingress.decision_log:
            decision_log.info(json.dumps({
                "request_id": meta.request_id,
                "tenant": meta.tenant,
                "status": status,
                "model": model,
                "fallbacks": [{"model": m, "reason": r} for m, r in attempts],
                "overhead_ms": round(overhead_s * 1000, 2),
                "cache": cache,
                "decision": decision.summary() if decision else None,
                "error": error.message if error else None,
            }))


def _status(err: TriageError) -> str:
    return "client_error" if err.status < 500 else "error"


async def _within(call: Awaitable[dict], timeout: float, model: str) -> dict:
    try:
        return await asyncio.wait_for(call, timeout)
    except asyncio.TimeoutError:
        raise ModelTimeout(f"model {model} gave no answer within {timeout:g}s", model=model) from None


async def _first(chunks: AsyncIterator[dict], timeout: float, model: str) -> dict:
    """The first chunk of a stream, or an UpstreamError (and the stream closed)."""
    try:
        return await asyncio.wait_for(anext(chunks), timeout)
    except asyncio.TimeoutError:
        err: UpstreamError = ModelTimeout(f"model {model} sent nothing within {timeout:g}s", model=model)
    except StopAsyncIteration:
        err = UpstreamError(f"model {model} ended its stream without a chunk", model=model)
    except UpstreamError as exc:
        err = exc
    await chunks.aclose()
    raise err
