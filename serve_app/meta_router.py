"""The LLM meta-router, I/O half: ask the configured model the questions of
policy/meta.py, within policy.meta_router.timeout_s.

It never fails a request: a timeout, an error or an answer that is not one
of the offered labels leaves the classifier's choice standing, and the
report says which it was (decision log, x-triage-meta-router header,
triage_meta_router_total).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

from serve_app.config.schema import RouterConfig
from serve_app.engines.base import CallContext
from serve_app.fallback import ModelCaller
from serve_app.policy import meta
from serve_app.policy.signals import Decision, RequestFacts, Signals


@dataclass
class MetaReport:
    """What the meta-router was asked and said, for the log and the header."""

    model: str
    asked: dict[str, list[str]]
    answers: dict[str, str] = field(default_factory=dict)  # kind -> raw answer (first 40 chars)
    chosen: dict[str, str] = field(default_factory=dict)  # kind -> parsed label
    outcome: str = "unparsable"  # agreed | changed | unparsable | timeout | error
    ms: float = 0.0

    def header(self) -> str:
        """`changed tier=lrm`, `agreed tier=slm domain=math`, `timeout`."""
        return " ".join([self.outcome] + [f"{k}={v}" for k, v in sorted(self.chosen.items())])

    def summary(self) -> dict:
        return {"model": self.model, "asked": self.asked, "answers": self.answers, "chosen": self.chosen,
                "outcome": self.outcome, "ms": round(self.ms, 2)}


class MetaRouter:
    def __init__(self, config: RouterConfig, models: Mapping[str, ModelCaller],
                 clock: Callable[[], float] = time.perf_counter):
        self.config = config
        self.settings = config.policy.meta_router
        self.models = models
        self.clock = clock

    def questions(self, signals: Signals, decision: Decision, facts: RequestFacts) -> list[meta.Question]:
        """What to ask for this request ([] on the common path). A cloud
        meta-router never sees a request kept off cloud models."""
        s = self.settings
        if not s.enabled or s.model not in self.models:
            return []
        if (decision.sensitive or decision.uncertain) and self.config.model(s.model).locality == "cloud":
            return []
        target = facts.quality_target if facts.quality_target is not None else self.config.policy.quality_target
        return meta.questions(signals, decision, facts, target, s)

    async def consult(self, text: str, qs: list[meta.Question], decision: Decision,
                      request_id: str) -> MetaReport:
        report = MetaReport(self.settings.model, {q.kind: list(q.options) for q in qs})
        started = self.clock()
        try:
            answers = await asyncio.wait_for(
                asyncio.gather(*(self._ask(text, q, decision, request_id) for q in qs)),
                self.settings.timeout_s)
        except asyncio.TimeoutError:
            report.outcome = "timeout"
        except Exception:
            # Whatever went wrong with the meta-router, the request goes on as classified.
            report.outcome = "error"
        else:
            for q, raw in zip(qs, answers):
                report.answers[q.kind] = raw[:40]
                label = meta.parse(raw, q)
                if label is not None:
                    report.chosen[q.kind] = label
            current = {"tier": decision.tier, "domain": decision.domain}
            if report.chosen:
                same = all(current[k] == v for k, v in report.chosen.items())
                report.outcome = "agreed" if same else "changed"
        report.ms = (self.clock() - started) * 1000
        return report

    async def _ask(self, text: str, q: meta.Question, decision: Decision, request_id: str) -> str:
        name = self.settings.model
        body = {"model": name, "messages": meta.prompt(text, q, self.settings),
                "max_tokens": self.settings.max_tokens, "temperature": 0.0}
        ctx = CallContext(request_id=f"{request_id}/meta-{q.kind}", model=name, decision=decision.summary())
        answer = await self.models[name].unary("chat", body, ctx)
        return (answer.get("choices") or [{}])[0].get("message", {}).get("content") or ""
