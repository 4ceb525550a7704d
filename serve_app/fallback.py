"""Step 5 of the request path: call the decided candidates in order until one answers.

A candidate is skipped when it is not deployed or its circuit breaker is
open, and given up on when it fails before its first byte (unavailable,
overloaded, timeout, error). The caller gets the answer together with what
was given up on; when every candidate fails, `AllCandidatesFailed` carries
that list. Load (in-flight counts, back-pressure) is tracked here because
this is where calls start and end.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable, Mapping, Protocol

from serve_app.config.schema import RouterConfig
from serve_app.engines.base import CallContext, Kind
from serve_app.errors import CIRCUIT_OPEN, OVERLOADED, UNAVAILABLE, AllCandidatesFailed, ModelTimeout, UpstreamError
from serve_app.policy import Decision
from serve_app.policy.breaker import CircuitBreakers
from serve_app.policy.load import LoadTracker, ModelLoad, capacity
from serve_app.policy.reasoning import apply_reasoning
from serve_app.privacy.redaction import RedactedRequest
from serve_app.privacy.restore import ChunkRestorer, restore_response


class ModelCaller(Protocol):
    def unary(self, kind: Kind, request: dict, ctx: CallContext) -> Awaitable[dict]: ...
    def stream(self, kind: Kind, request: dict, ctx: CallContext) -> AsyncIterator[dict]: ...


@dataclass
class Answer:
    """The first candidate that answered: a complete body, or a stream's first
    chunk and the rest. `release` frees its load slot (call it once, when the
    answer is done)."""

    model: str
    attempts: list[tuple[str, str]]  # (model, fallback reason) given up on, in order
    model_wait_s: float  # time spent waiting on models, failed ones included
    release: Callable[[], None]
    body: dict | None = None
    first: dict | None = None
    chunks: AsyncIterator[dict] | None = None


class FallbackCaller:
    def __init__(self, config: RouterConfig, models: Mapping[str, ModelCaller], metrics,
                 clock: Callable[[], float] = time.perf_counter,
                 breaker_clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.models = models
        self.metrics = metrics
        self.clock = clock
        cb = config.policy.circuit_breaker
        self.breakers = CircuitBreakers(cb.failure_threshold, cb.cooldown_s, breaker_clock)
        # In-flight calls and back-pressure per model, seen from this replica.
        self.load = LoadTracker(config.policy.load.overload_half_life_s, breaker_clock)
        self.capacities = {m.name: capacity(m, config.ingress.deployment) for m in config.models}

    def loads(self) -> Mapping[str, ModelLoad] | None:
        """What the load-aware choice reads (None when it is off)."""
        return self.load.snapshot(self.capacities) if self.config.policy.load.enabled else None

    def hopeless(self, possible: list[str]) -> list[tuple[str, str]] | None:
        """(model, reason) for each of the `possible` candidates when every
        one would be skipped right now: its breaker open with no probe due, or
        this replica holding its whole capacity share in flight after a recent
        back-pressure rejection. Then no decision can find a model, and the
        request is refused before the classifier spends anything on it. None
        otherwise (also when a possible model is not deployed: that is for the
        fallback to report)."""
        skipped = []
        for name in possible:
            if name not in self.models:
                return None
            if self.breakers.blocked(name):
                skipped.append((name, CIRCUIT_OPEN))
            elif self.load.saturated(name, self.capacities[name]):
                skipped.append((name, OVERLOADED))
            else:
                return None
        return skipped or None

    async def call(self, kind: Kind, req, request_id: str, decision: Decision,
                   redaction: RedactedRequest | None = None) -> Answer:
        """`redaction`: the request with its sensitive spans replaced, sent to
        the models in decision.redact (their answers come back restored)."""
        attempts: list[tuple[str, str]] = []
        last: UpstreamError | None = None
        waited = 0.0
        for busy in decision.busy:  # counted where a model is called, not on cache hits
            self.metrics.load_spill(model=busy)
        for name in decision.targets:
            if name not in self.models:
                self._give_up(attempts, name, UNAVAILABLE)
                continue
            if not self.breakers.allow(name):
                self._give_up(attempts, name, CIRCUIT_OPEN)
                continue
            mapping = redaction.mapping if redaction is not None and name in decision.redact else None
            wire = {**redaction.body, "model": name} if mapping is not None else req.wire(name)
            # Each candidate gets its own family's switch (or none).
            sent = apply_reasoning(wire, decision.reasoning, self.config.model(name).reasoning)
            started = self.clock()
            release = self.load.acquire(name)
            try:
                answer = await self._send(kind, req.stream, name, wire, decision, request_id)
            except BaseException as exc:  # release on cancellation too
                release()
                if not isinstance(exc, UpstreamError):
                    raise
                waited += self.clock() - started
                self.breakers.failure(name)
                if exc.reason == OVERLOADED:
                    self.load.overloaded(name)
                self._give_up(attempts, name, exc.reason)
                last = exc
                continue
            took = self.clock() - started
            self.breakers.success(name)
            self.metrics.model_latency(took, model=name)
            if sent:
                self.metrics.reasoning(model=name, mode=sent)
            out = Answer(model=name, attempts=attempts, model_wait_s=waited + took, release=release)
            if req.stream:
                out.first, out.chunks = answer
                if mapping:
                    restorer = ChunkRestorer(mapping)
                    out.first, out.chunks = restorer.restore(out.first), _restored(out.chunks, restorer)
            else:
                out.body = restore_response(answer, mapping) if mapping else answer
            return out
        raise AllCandidatesFailed(attempts, last)

    def stream_broke(self, model: str) -> None:
        """A stream failed after its first byte: no fallback then, but it counts."""
        self.breakers.failure(model)

    async def _send(self, kind: Kind, stream: bool, name: str, wire: dict, decision: Decision, request_id: str):
        """One call: the body, or (first chunk, the rest) of a stream."""
        ctx = CallContext(request_id=request_id, model=name, decision=decision.summary())
        timeout = self.config.model(name).timeout_s
        if stream:
            chunks = self.models[name].stream(kind, wire, ctx)
            return await _first(chunks, timeout, name), chunks
        return await _within(self.models[name].unary(kind, wire, ctx), timeout, name)

    def _give_up(self, attempts: list, model: str, reason: str) -> None:
        attempts.append((model, reason))
        self.metrics.fallback(model=model, reason=reason)


async def _restored(chunks: AsyncIterator[dict], restorer: ChunkRestorer) -> AsyncIterator[dict]:
    """A redacted call's stream with the placeholders put back (one split
    across chunks included: the restorer holds back a possible prefix)."""
    try:
        async for chunk in chunks:
            yield restorer.restore(chunk)
        for chunk in restorer.flush():
            yield chunk
    finally:
        await chunks.aclose()


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
