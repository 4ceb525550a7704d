"""RouterService records each route for learning: what, when, and never the
sensitive embedding (a stand-in OutcomeSink; the memory has its own tests)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from serve_app.errors import AllCandidatesFailed
from serve_app.metrics import MemoryMetrics
from serve_app.policy.decide import explores
from serve_app.service import RequestMeta, RouterService
from tests.unit.factories import config, model, signals
from tests.unit.test_service import InProcess, chat, collect, dry

SUCCESS = {"slm": 0.7, "srm": 0.75, "llm": 0.9, "lrm": 0.92}


class Sink:
    def __init__(self):
        self.records = []

    def record(self, record):
        self.records.append(record)


def service(engines, sig, **sections):
    models = [model(n, ["slm", "srm", "llm", "lrm"], cost=i) for i, n in enumerate(engines)]
    cfg = config(models, **sections)
    sink = Sink()

    async def classify(text, tenant="default"):
        return sig

    callers = {n: InProcess(e) for n, e in engines.items()}
    return RouterService(cfg, classify, callers, MemoryMetrics(), learning=sink), sink


def learned_signals(**kw):
    return replace(signals("slm", **kw), embedding=(0.6, 0.8), tier_success=dict(SUCCESS),
                   success_prior=dict(SUCCESS))


META = RequestMeta(request_id="r-42", tenant="acme")


async def test_an_answer_is_recorded_with_its_embedding_and_prediction():
    svc, sink = service({"a": dry("a")}, learned_signals())
    await svc.route("chat", chat(), META)
    (r,) = sink.records
    assert (r.request_id, r.tenant, r.model, r.status, r.outcome) == ("r-42", "acme", "a", "ok", None)
    assert r.vector == (0.6, 0.8) and r.predicted == pytest.approx(SUCCESS[r.tier])


async def test_sensitive_requests_are_recorded_without_their_embedding():
    svc, sink = service({"a": dry("a")}, learned_signals(sensitive=True, kinds=("email",)))
    await svc.route("chat", chat("mail me at x@example.com"), META)
    assert sink.records[0].vector is None


async def test_no_model_answering_is_an_implicit_failure():
    svc, sink = service({"a": dry("a", fail={"mode": "error"})}, learned_signals())
    with pytest.raises(AllCandidatesFailed):
        await svc.route("chat", chat(), META)
    (r,) = sink.records
    assert r.outcome == 0.0 and r.source == "failure" and r.model == "a" and r.request_id == "r-42/attempt-0"


async def test_a_fallback_records_the_failed_model_and_the_answer_separately():
    engines = {"a": dry("a", fail={"mode": "timeout"}), "b": dry("b"), "c": dry("c")}
    svc, sink = service(engines, learned_signals())
    await svc.route("chat", chat(), META)
    failed, answered = sink.records
    assert (failed.model, failed.outcome, failed.source) == ("a", 0.0, "failure")
    assert (answered.request_id, answered.model, answered.outcome) == ("r-42", "b", None)  # feedback rates this one


async def test_a_busy_model_says_nothing_about_the_prompt():
    svc, sink = service({"a": dry("a", fail={"mode": "overloaded"}), "b": dry("b")}, learned_signals())
    await svc.route("chat", chat(), META)
    assert [r.model for r in sink.records] == ["b"]


async def test_a_stream_recorded_when_it_ends_and_a_cancelled_one_never():
    svc, sink = service({"a": dry("a")}, learned_signals())
    routed = await svc.route("chat", chat(stream=True), META)
    assert sink.records == []  # not before the stream ran
    await collect(routed.stream)
    assert [r.status for r in sink.records] == ["ok"]

    routed = await svc.route("chat", chat(stream=True), RequestMeta(request_id="r-43", tenant="acme"))
    await routed.stream.__anext__()
    await routed.stream.aclose()  # the client went away
    assert [r.request_id for r in sink.records] == ["r-42"]


async def test_learned_evidence_shows_in_the_decision():
    sig = replace(learned_signals(), learned={"slm": 9.5})
    svc, _ = service({"a": dry("a")}, sig)
    routed = await svc.route("chat", chat(), META)
    assert routed.decision.scores["learned.slm"] == 9.5



async def test_only_a_learning_router_explores_and_the_draw_is_stable():
    ids = [f"req-{i}" for i in range(4000)]
    assert 0.08 < sum(explores(i, 0.1) for i in ids) / len(ids) < 0.12
    assert [explores(i, 0.1) for i in ids] == [explores(i, 0.1) for i in ids]
    assert not any(explores(i, 0.0) for i in ids)
    rid = next(i for i in ids if explores(i, 0.1))
    sig = replace(learned_signals(), tier_success={"slm": 0.2, "srm": 0.3, "llm": 0.9, "lrm": 0.95})
    svc, _ = service({"a": dry("a")}, sig, learning={"enabled": True, "explore": 0.1})
    routed = await svc.route("chat", chat(), RequestMeta(request_id=rid, tenant="acme"))
    assert routed.decision.tier == "srm" and routed.decision.tier_source == "explore"
    plain = RouterService(svc.config, svc.classify, svc.caller.models, MemoryMetrics())  # no learning sink
    assert (await plain.route("chat", chat(), RequestMeta(request_id=rid))).decision.tier == "llm"
