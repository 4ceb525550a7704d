"""RouterService with the meta-router and escalation, over in-process dry_run
engines and a real HTTP receiver for the webhook: no Ray."""

import json

import pytest

from serve_app.config.judgement import WebhookTarget
from serve_app.errors import EscalationUnavailable
from serve_app.escalation.webhook import Webhook
from serve_app.lab.escalation_receiver import Receiver
from serve_app.metrics import ESCALATIONS, META_ROUTER, MemoryMetrics
from serve_app.policy import Signals
from serve_app.report import DecisionLog
from serve_app.service import RequestMeta, RouterService
from tests.unit.factories import config, model
from tests.unit.test_service import InProcess, chat, collect, dry

ALL = ["slm", "srm", "llm", "lrm"]
# The tier head torn between slm and llm (margin 0.03): the meta-router is asked.
UNSURE = Signals(tier_probs={"slm": 0.40, "srm": 0.05, "llm": 0.37, "lrm": 0.18}, domain_probs={"general": 1.0})
CLEAR = Signals(tier_probs={"slm": 0.85, "srm": 0.05, "llm": 0.05, "lrm": 0.05}, domain_probs={"general": 1.0})


def models(meta_locality="local"):
    return [model("small", ["slm", "srm"], cost=0.1), model("large", ["llm"], cost=1.0),
            model("meta", ["lrm"], cost=5.0, locality=meta_locality)]


def service(sig, meta_engine, *, webhook=None, meta_locality="local", log_dir=None, privacy=None, **sections):
    sections.setdefault("policy", {"meta_router": {"enabled": True, "model": "meta", "tier_margin": 0.05,
                                                   "timeout_s": 0.2}})
    if log_dir is not None:
        sections["ingress"] = {"decision_log": {"destination": "file", "path": str(log_dir)}}
    cfg = config(models(meta_locality), **sections)

    async def classify(text, tenant="default"):
        return sig

    metrics = MemoryMetrics()
    engines = {"small": dry("small"), "large": dry("large"), "meta": meta_engine}
    log = DecisionLog(cfg.ingress.decision_log, "t") if log_dir is not None else None
    svc = RouterService(cfg, classify, {n: InProcess(e) for n, e in engines.items()}, metrics,
                        webhook=webhook, decision_log=log, privacy=privacy)
    return svc, metrics


META = RequestMeta(request_id="r1")


async def test_unsure_requests_take_the_meta_routers_choice(tmp_path):
    svc, metrics = service(UNSURE, dry("meta", reply="llm"), log_dir=tmp_path)
    routed = await svc.route("chat", chat("tell me about rivers"), META)
    assert routed.decision.tier == "llm" and routed.model == "large" and routed.decision.tier_source == "meta"
    h = routed.headers("r1")
    assert h["x-triage-meta-router"] == "changed tier=llm" and h["x-triage-tier-source"] == "meta"
    assert metrics.counts[(META_ROUTER, "changed")] == 1
    line = json.loads(next(tmp_path.glob("*.jsonl")).read_text().splitlines()[0])
    assert line["meta_router"]["asked"] == {"tier": ["slm", "llm"]} and line["meta_router"]["chosen"] == {"tier": "llm"}


async def test_clear_requests_never_reach_the_meta_router():
    meta = dry("meta", reply="llm")
    svc, metrics = service(CLEAR, meta)
    routed = await svc.route("chat", chat(), META)
    assert routed.decision.tier == "slm" and meta.calls == 0 and "x-triage-meta-router" not in routed.headers("r1")
    assert not any(k[0] == META_ROUTER for k in metrics.counts)


@pytest.mark.parametrize("engine, outcome", [
    (dry("meta", reply="slm"), "agreed"),
    (dry("meta", reply="the large one"), "unparsable"),
    (dry("meta", reply="lrm"), "unparsable"),  # a real label, but not one offered
    (dry("meta", reply="llm", latency_ms=1000), "timeout"),
    (dry("meta", fail={"mode": "error"}), "error"),
])
async def test_anything_but_a_clear_different_answer_keeps_the_classifiers_choice(engine, outcome):
    svc, metrics = service(UNSURE, engine)
    routed = await svc.route("chat", chat(), META)
    assert routed.decision.tier == "slm" and routed.model == "small" and routed.decision.tier_source == "classifier"
    assert routed.headers("r1")["x-triage-meta-router"].split()[0] == outcome
    assert metrics.counts[(META_ROUTER, outcome)] == 1


async def test_a_cloud_meta_router_never_sees_a_sensitive_request():
    from dataclasses import replace

    meta = dry("meta", reply="llm")
    svc, _ = service(replace(UNSURE, sensitive=True, sensitive_kinds=("email",)), meta, meta_locality="cloud")
    routed = await svc.route("chat", chat("mail jane@example.com"), META)
    assert meta.calls == 0 and routed.meta is None


def escalation(url, **kw):
    return {"escalation": {"enabled": True, "webhook": {"url": url, "backoff_s": 0}, "domains": ["legal"], **kw}}


async def test_escalation_by_header_answers_in_openai_shape_with_the_ticket():
    with Receiver() as rx:
        svc, metrics = service(CLEAR, dry("meta"), webhook=Webhook(WebhookTarget(url=rx.url, backoff_s=0)),
                               **escalation(rx.url))
        routed = await svc.route("chat", chat("please get me a human"), RequestMeta("r2", tenant="acme",
                                                                                    escalate=True))
    ticket = routed.headers("r2")["x-triage-escalation"]
    assert routed.status == 200 and routed.model == "triage-escalation"
    assert ticket in routed.body["choices"][0]["message"]["content"]
    sent = rx.deliveries[0]["body"]
    assert sent["ticket"] == ticket and sent["tenant"] == "acme" and sent["trigger"] == "header"
    assert sent["request"]["messages"][0]["content"] == "please get me a human" and sent["text_withheld"] is False
    assert metrics.counts[(ESCALATIONS, "header", "delivered")] == 1


async def test_ticket_mode_is_a_202_and_sensitive_text_stays_out_of_the_webhook():
    from dataclasses import replace

    with Receiver() as rx:
        sig = replace(CLEAR, domain_probs={"legal": 0.9, "general": 0.1}, sensitive=True, sensitive_kinds=("person",))
        svc, _ = service(sig, dry("meta"), webhook=Webhook(WebhookTarget(url=rx.url, backoff_s=0)),
                         **escalation(rx.url, respond="ticket"))
        routed = await svc.route("chat", chat("my client John Doe, born 1970, is suing"), META)
    assert routed.status == 202 and routed.body["object"] == "triage.escalation"
    sent = rx.deliveries[0]["body"]
    assert sent["trigger"] == "domain" and sent["text_withheld"] is True and sent["request"] is None
    assert "John Doe" not in rx.deliveries[0]["raw"].decode()


async def test_a_streamed_escalation_is_an_sse_answer():
    with Receiver() as rx:
        svc, _ = service(CLEAR, dry("meta"), webhook=Webhook(WebhookTarget(url=rx.url, backoff_s=0)),
                         **escalation(rx.url))
        routed = await svc.route("chat", chat("human please", stream=True), RequestMeta("r3", escalate=True))
        chunks = b"".join(await collect(routed.stream)).decode()
    assert routed.ticket in chunks and chunks.rstrip().endswith("data: [DONE]")


async def test_an_escalation_the_queue_did_not_take_is_a_503_and_counted():
    with Receiver([500, 500]) as rx:
        svc, metrics = service(CLEAR, dry("meta"),
                               webhook=Webhook(WebhookTarget(url=rx.url, attempts=2, backoff_s=0)),
                               **escalation(rx.url))
        with pytest.raises(EscalationUnavailable):
            await svc.route("chat", chat(), RequestMeta("r4", escalate=True))
    assert len(rx.deliveries) == 2 and metrics.counts[(ESCALATIONS, "header", "failed")] == 1


async def test_small_and_large_models_untouched_when_escalated():
    small, large = dry("small"), dry("large")
    with Receiver() as rx:
        svc, _ = service(CLEAR, dry("meta"), webhook=Webhook(WebhookTarget(url=rx.url)), **escalation(rx.url))
        svc.caller.models = {"small": InProcess(small), "large": InProcess(large)}
        await svc.route("chat", chat(), RequestMeta("r5", escalate=True))
    assert small.calls == 0 and large.calls == 0


class Verdict:
    """The privacy detector's verdict, fixed (None: no verdict)."""

    def __init__(self, sensitive):
        self.sensitive = sensitive
        self.checked: list[str] = []

    async def check(self, text):
        self.checked.append(text)
        if self.sensitive is None:
            return None
        return type("Findings", (), {"sensitive": self.sensitive, "kinds": ("person",) if self.sensitive else ()})()


@pytest.mark.parametrize("verdict, withheld", [(True, True), (None, True), (False, False)])
async def test_the_detector_decides_what_leaves_for_the_webhook_when_no_cloud_model_made_it_run(verdict, withheld):
    # Every candidate is local, so routing never ran the detector; the webhook is outside, so escalation does.
    guard = Verdict(verdict)
    with Receiver() as rx:
        svc, _ = service(CLEAR, dry("meta"), webhook=Webhook(WebhookTarget(url=rx.url)), privacy=guard,
                         **escalation(rx.url))
        await svc.route("chat", chat("Dr. Ana Ruiz treats my knee"), RequestMeta("r6", escalate=True))
    sent = rx.deliveries[0]["body"]
    assert guard.checked == ["Dr. Ana Ruiz treats my knee"]
    assert sent["text_withheld"] is withheld and (sent["request"] is None) is withheld
