"""The request path after parsing, in five steps: check, classify, decide,
answer from the cache or call the models with fallback, report.

Everything here works over injected async callables (the classifier, one
caller per model, the cache), so it runs in unit tests without Ray. The
ingress builds it with Serve handles; nothing here knows HTTP. The steps'
details live beside it: fallback.py (calling candidates), relay.py
(streams), report.py (metrics and the decision log).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from dataclasses import dataclass, replace
from typing import AsyncIterator, Awaitable, Callable, Mapping, Protocol

from serve_app.cache.plan import BYPASS, CachePlan, plan_cache
from serve_app.cache.semantic import CacheHit, CacheQuery
from serve_app.config.schema import RouterConfig
from serve_app.engines.base import Kind
from serve_app.errors import ERROR, TIMEOUT, ClientError, ShedBeforeWork, TriageError
from serve_app.escalation import answer as escalation
from serve_app.escalation.webhook import Webhook
from serve_app.fallback import Answer, FallbackCaller, ModelCaller
from serve_app.learning.records import OutcomeRecord
from serve_app.meta_router import MetaReport, MetaRouter
from serve_app.policy import Decision, RequestFacts, Signals, decide
from serve_app.policy.decide import explores, possible_targets, refuse_before_work
from serve_app.policy.escalate import trigger as escalation_trigger
from serve_app.policy.reasoning import client_switch
from serve_app.relay import relay, replay
from serve_app.report import DecisionLog, Reporter


class PrivacyCheck(Protocol):
    """serve_app/privacy/guard.py: check -> Findings, or None (no verdict: fail closed)."""

    async def check(self, text: str): ...
    async def redact(self, body: dict): ...


class OutcomeSink(Protocol):
    """learning/remote.py: takes a record without waiting, never raises."""

    def record(self, record: OutcomeRecord) -> None: ...


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
    quality_target: float | None = None  # x-triage-quality: 0..1
    escalate: bool = False  # x-triage-escalate: true


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
    status: int = 200  # 202: escalated with escalation.respond "ticket"
    meta: MetaReport | None = None  # the meta-router was consulted
    ticket: str | None = None  # escalated to a person

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
            **({"x-triage-success": self.decision.success_header()} if self.decision.success_header() else {}),
            **({"x-triage-cache-similarity": f"{self.similarity:.4f}"} if self.similarity is not None else {}),
            # Which learned version (`triage learn`) adjusted the estimate, and when the request explored.
            **({"x-triage-learned-version": str(int(self.decision.scores["adjustment"]))}
               if self.decision.scores.get("adjustment") else {}),
            **({"x-triage-tier-source": self.decision.tier_source}
               if self.decision.tier_source in ("explore", "meta") else {}),
            **({"x-triage-meta-router": self.meta.header()} if self.meta is not None else {}),
            **({"x-triage-escalation": self.ticket} if self.ticket is not None else {}),
        }


class RouterService:
    def __init__(self, config: RouterConfig, classify: Callable[[str, str], Awaitable[Signals]],
                 models: Mapping[str, ModelCaller], metrics, *,
                 cache: CacheClient | None = None, decision_log: DecisionLog | None = None,
                 privacy: PrivacyCheck | None = None, learning: OutcomeSink | None = None,
                 webhook: Webhook | None = None, clock: Callable[[], float] = time.perf_counter,
                 breaker_clock: Callable[[], float] = time.monotonic):
        self.config = config
        self.classify = classify
        self.cache = cache
        self.privacy = privacy
        self.learning = learning
        self.webhook = webhook
        self.metrics = metrics
        self.clock = clock
        self.caller = FallbackCaller(config, models, metrics, clock, breaker_clock)
        self.meta_router = MetaRouter(config, models, clock)
        self.reporter = Reporter(metrics, decision_log)
        # Cache writes run after the answer is sent; keep them referenced.
        self._writes: set[asyncio.Task] = set()

    async def route(self, kind: Kind, req, meta: RequestMeta) -> Routed:
        """kind: "chat" or "completions"; req: a parsed protocol request."""
        t0 = self.clock()
        decision = signals = None
        privacy: dict = {}  # what the privacy steps found (types, never values)
        stages = Laps(self.clock, t0)
        # What the decision log reports beside the decision (empty entries left out);
        # stages_ms: where the router's time went.
        log: dict = {"stages_ms": stages.ms, "privacy": privacy}
        try:
            text = req.prompt_text()
            self._check_limits(req, text)                                   # 1. check
            facts = self._facts(kind, req, meta)
            self._shed_if_hopeless(facts)
            stages.lap("check")
            classified = await self.classify(text, meta.tenant)             # 2. classify
            stages.lap("classify")
            decision, signals = await self._decide(text, classified, facts, privacy)  # 3. decide
            stages.lap("decide")
            decision, signals, consulted = await self._consult(text, classified, signals, facts, decision,
                                                               meta, privacy, log)
            if consulted:
                stages.lap("meta_router")
            trig = escalation_trigger(decision, signals, meta.escalate, self.config.escalation)
            if trig is not None:                                            # (to a person)
                return await self._escalate(kind, req, text, meta, decision, trig, consulted, t0, log)
            plan = self._plan(kind, req, meta, decision, signals)
            if plan.read:                                                   # 4. cache
                hit = await self.cache.lookup(plan.query)
                stages.lap("cache")
                if hit is not None:
                    return self._from_cache(req, meta, decision, hit, t0, consulted, log)
            redaction = await self._redact(req, decision, privacy)
            answer = await self.caller.call(kind, req, meta.request_id,     # 5. models
                                            decision, redaction)
            stages.lap("models")  # model time included: the header's overhead excludes it
            return self._answered(req, meta, decision, signals, plan, answer, t0, consulted, log)
        except TriageError as err:                                         # 6. report
            attempts = getattr(err, "attempts", [])
            self._report(meta, decision, "none", attempts, self.clock() - t0, _status(err), error=err, log=log)
            if attempts and signals is not None:  # no model could answer: implicit bad outcomes
                self._learn(meta, signals, decision, None, attempts, "error")
            raise

    async def _decide(self, text: str, signals: Signals, facts: RequestFacts,
                      privacy: dict) -> tuple[Decision, Signals]:
        """decide(), with the privacy detector's verdict where a cloud model is
        among the candidates (and only there: every-local requests skip it).
        The detector includes the classifier's quick validators, with context,
        so for such requests its verdict replaces theirs. `privacy` collects
        what the decision log reports (types, never values)."""
        loads = self.caller.loads()
        if self.privacy is None:
            return decide(signals, facts, self.config, loads), signals
        unchecked = replace(signals, sensitive=False, sensitive_kinds=()) if signals.sensitive else signals
        opened = decide(unchecked, facts, self.config, loads)
        if not any(self.config.model(t).locality == "cloud" for t in opened.targets):
            return (decide(signals, facts, self.config, loads) if signals.sensitive else opened), signals
        started = self.clock()
        findings = await self.privacy.check(text)
        privacy["check_ms"] = round((self.clock() - started) * 1000, 2)
        if findings is None:
            checked = replace(signals, sensitive=True, sensitive_kinds=("privacy_unavailable",))
        else:
            checked = replace(signals, sensitive=findings.sensitive, sensitive_kinds=findings.kinds,
                              redactable=findings.sensitive)
        privacy["kinds"] = list(checked.sensitive_kinds)
        return decide(checked, facts, self.config, loads), checked

    async def _consult(self, text: str, classified: Signals, signals: Signals, facts: RequestFacts,
                       decision: Decision, meta: RequestMeta, privacy: dict, log: dict,
                       ) -> tuple[Decision, Signals, MetaReport | None]:
        """The LLM meta-router, where the classifier's scores left the choice
        open (policy/meta.py). Its choice is decided again from the start,
        privacy check included: a new tier may bring a cloud candidate."""
        questions = self.meta_router.questions(signals, decision, facts)
        if not questions:
            return decision, signals, None
        report = await self.meta_router.consult(text, questions, decision, meta.request_id)
        self.metrics.meta_router(report.outcome, report.ms / 1000)
        log["meta_router"] = report.summary()
        if report.outcome != "changed":
            return decision, signals, report
        chosen = replace(facts, meta_tier=report.chosen.get("tier"), meta_domain=report.chosen.get("domain"))
        decision, signals = await self._decide(text, classified, chosen, privacy)
        return decision, signals, report

    async def _escalate(self, kind: Kind, req, text: str, meta: RequestMeta, decision: Decision,
                        trig: tuple[str, str], consulted: MetaReport | None, t0: float, log: dict) -> Routed:
        """Hand the request to a person: the webhook must take it (with its
        retries) before the client is told so; otherwise a 503 says nothing was queued."""
        cfg = self.config.escalation
        why, reason = trig
        ticket = escalation.new_ticket()
        log["escalation"] = {"ticket": ticket, "trigger": why, "reason": reason}
        withheld = not cfg.include_sensitive_text and await self._private(text, decision)
        body = escalation.payload(ticket, tenant=meta.tenant, request_id=meta.request_id, kind=kind, trigger=why,
                                  reason=reason, decision=decision, body=req.model_dump(exclude_none=True),
                                  withheld=withheld)
        try:
            delivery = await self.webhook.deliver(ticket, body)
        except TriageError:
            self.metrics.escalation(trigger=why, result="failed")
            raise
        self.metrics.escalation(trigger=why, result="delivered")
        log["escalation"]["attempts"] = delivery.attempts
        status, answer = escalation.client_body(kind, ticket, reason, cfg)
        overhead = self.clock() - t0
        routed = Routed(decision=decision, model=escalation.MODEL, attempts=[], overhead_ms=overhead * 1000,
                        status=status, meta=consulted, ticket=ticket)
        if req.stream and status == 200:
            routed.stream = replay(answer)
        else:
            routed.body = answer
        self._report(meta, decision, escalation.MODEL, [], overhead, "escalated", log=log)
        return routed

    async def _private(self, text: str, decision: Decision) -> bool:
        """Whether a request leaving for the escalation webhook is private. The
        decision's verdict has the privacy detector in it only when a cloud
        model was a candidate; the webhook is outside too, so it runs here
        otherwise (no verdict: private, fail closed)."""
        if decision.sensitive or decision.uncertain or self.privacy is None:
            return decision.sensitive or decision.uncertain
        findings = await self.privacy.check(text)
        return findings is None or findings.sensitive

    async def _redact(self, req, decision: Decision, privacy: dict):
        if not decision.redact:
            return None
        redaction = await self.privacy.redact(req.model_dump(exclude_none=True))
        privacy["redacted"] = dict(redaction.counts)  # entity type -> spans; never the values
        return redaction

    def _shed_if_hopeless(self, facts: RequestFacts) -> None:
        """Shed before work: a request no verdict can route (a budget no model
        fits) is refused before classifying; and when every model this request
        could be sent to would be skipped (breakers open, or full and pushing
        back), the 503 is answered now. Not that one with the cache on: a
        cached answer needs no model."""
        refuse_before_work(facts, self.config)
        if self.cache is None and (skipped := self.caller.hopeless(possible_targets(facts, self.config))):
            raise ShedBeforeWork(skipped, None)

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

    def _facts(self, kind: Kind, req, meta: RequestMeta) -> RequestFacts:
        return RequestFacts(model=req.model, tenant=meta.tenant, forced_tier=meta.forced_tier,
                            features=req.features(),
                            latency_class=meta.latency_class, max_cost_per_mtok=meta.max_cost_per_mtok,
                            reasoning=meta.reasoning, quality_target=meta.quality_target,
                            client_reasoning=client_switch(req.model_dump(exclude_none=True), self.config),
                            chat=kind == "chat", explore=self.learning is not None
                            and explores(meta.request_id, self.config.learning.explore))

    def _plan(self, kind: Kind, req, meta: RequestMeta, decision: Decision, signals: Signals) -> CachePlan:
        if self.cache is None:
            return BYPASS
        explicit = None if req.model == "auto" else req.model
        wire = req.model_dump(exclude_none=True)
        if decision.reasoning != "none":
            # A thinking answer is a different answer: part of the fingerprint.
            wire["x_triage_reasoning"] = decision.reasoning
        return plan_cache(self.config.cache, kind, wire, decision, signals,
                          meta.tenant, meta.cache_control, explicit)

    def _from_cache(self, req, meta: RequestMeta, decision: Decision, hit: CacheHit, t0: float,
                    consulted: MetaReport | None, log: dict) -> Routed:
        overhead = self.clock() - t0
        routed = Routed(decision=decision, model=hit.model, attempts=[], overhead_ms=overhead * 1000,
                        cache="hit", similarity=hit.similarity, meta=consulted)
        if req.stream:
            routed.stream = replay(hit.response)
        else:
            routed.body = hit.response
        self._report(meta, decision, hit.model, [], overhead, "ok", cache="hit", log=log)
        return routed

    def _answered(self, req, meta: RequestMeta, decision: Decision, signals: Signals, plan: CachePlan,
                  answer: Answer, t0: float, consulted: MetaReport | None, log: dict) -> Routed:
        overhead = self.clock() - t0 - answer.model_wait_s
        routed = Routed(decision=decision, model=answer.model, attempts=answer.attempts,
                        overhead_ms=overhead * 1000, cache=plan.status_if_not_hit, meta=consulted)
        if not req.stream:
            answer.release()
            routed.body = answer.body
            self._store_later(plan, answer.model, answer.body)
            self._report(meta, decision, answer.model, answer.attempts, overhead, "ok", cache=routed.cache,
                         log=log)
            self._learn(meta, signals, decision, answer.model, answer.attempts, "ok")
            return routed

        def done(status: str, body: dict | None) -> None:
            answer.release()
            if status == "ok":
                self._store_later(plan, answer.model, body)
            elif status == "error":
                self.caller.stream_broke(answer.model)
            self._report(meta, decision, answer.model, answer.attempts, overhead, status, cache=routed.cache,
                         log=log)
            self._learn(meta, signals, decision, answer.model, answer.attempts, status,
                        "broken_stream" if status == "error" else None)

        routed.stream = relay(answer.first, answer.chunks, done)
        # A stream nobody iterates never runs its finally: release on collection.
        weakref.finalize(routed.stream, answer.release)
        return routed

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

    def _learn(self, meta: RequestMeta, signals: Signals, decision: Decision, model: str | None, attempts: list,
               status: str, implicit: str | None = None) -> None:
        """Record the route for learning (serve_app/learning/): the embedding,
        never the text (none at all for sensitive requests unless configured).
        Implicit bad outcomes: each model that failed or timed out on the
        request (a fallback answered, or nobody did) and a stream that broke.
        A model that was busy or unreachable says nothing about the prompt."""
        if self.learning is None or status == "cancelled":
            return
        private = decision.sensitive or decision.uncertain
        vector = signals.embedding if (not private or self.config.learning.store_sensitive_embeddings) else None
        base = signals.success_base or signals.success_prior or {}

        def record(rid: str, name: str, st: str, outcome: float | None, source: str | None) -> None:
            served = self.config.model(name)
            tier = decision.tier if served is None or decision.tier in served.tiers else served.tiers[0]
            self.learning.record(OutcomeRecord(
                request_id=rid, tenant=meta.tenant, tier=tier, model=name, domain=decision.domain,
                created_at=time.time(), expires_at=0.0, vector=vector, predicted=decision.scores.get(f"success.{tier}"),
                base=base.get(tier), status=st, fallbacks=len(attempts), outcome=outcome, source=source))

        for i, (name, reason) in enumerate(attempts):
            if reason in (ERROR, TIMEOUT):
                record(f"{meta.request_id}/attempt-{i}", name, "error", 0.0, "failure")
        if model is not None:
            record(meta.request_id, model, status, 0.0 if implicit else None, implicit)

    def _report(self, meta: RequestMeta, decision: Decision | None, model: str, attempts: list,
                overhead_s: float, status: str, error: TriageError | None = None, cache: str = "bypass",
                log: dict | None = None) -> None:
        self.reporter.request(meta.request_id, meta.tenant, decision, model, attempts, overhead_s, status,
                              error=error, cache=cache, **{k: v for k, v in (log or {}).items() if v})


class Laps:
    """Milliseconds per stage of one request, for the decision log."""

    def __init__(self, clock: Callable[[], float], start: float):
        self.clock = clock
        self.last = start
        self.ms: dict[str, float] = {}

    def lap(self, stage: str) -> None:
        now = self.clock()
        self.ms[stage] = round((now - self.last) * 1000, 3)
        self.last = now


def _status(err: TriageError) -> str:
    if isinstance(err, ShedBeforeWork):
        return "shed"
    return "client_error" if err.status < 500 else "error"
