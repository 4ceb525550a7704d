"""Privacy on the request path, without Ray: the real detector (PrivacyGuard)
in front of in-process models that record what they receive and echo it back.

- the detector runs only when a cloud model is a candidate;
- its findings keep the request off cloud models; its clean verdict lets a
  prompt the quick validators flagged go to one; no verdict fails closed;
- the learned score's uncertain band keeps cloud models out;
- redaction mode: the cloud model sees placeholders only, and the client
  gets the values back, in JSON and in a stream split mid-placeholder.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from serve_app.metrics import PRIVACY_CHECKS, MemoryMetrics
from serve_app.privacy.guard import PrivacyGuard
from serve_app.privacy.settings import PrivacySettings
from serve_app.protocol import ChatRequest, chat_chunk, chat_response
from serve_app.report import DecisionLog
from serve_app.service import RequestMeta, RouterService
from tests.unit.factories import config, model, signals

LEAK = "My patient Jonathan Whitfield, 54, has stage 3 pancreatic cancer. Draft a letter to his employer."
CLEAN = "Write a short poem about the sea."


class Echo:
    """A model that records each request body and answers with its last user message."""

    def __init__(self):
        self.seen: list[dict] = []

    def _text(self, request):
        self.seen.append(request)
        return request["messages"][-1]["content"]

    async def unary(self, kind, request, ctx):
        return chat_response(request["model"], self._text(request))

    async def stream(self, kind, request, ctx):
        text = self._text(request)
        for i in range(0, len(text), 3):  # 3 characters a chunk: placeholders get split
            yield chat_chunk(request["model"], "c1", delta={"content": text[i:i + 3]})
        yield chat_chunk(request["model"], "c1", delta={}, finish_reason="stop")


class Unavailable:
    async def check(self, text):
        return None

    async def redact(self, body):
        raise AssertionError("never called without findings")


@pytest.fixture(scope="module")
def guard():
    return PrivacyGuard(PrivacySettings(), timeout_s=30.0, metrics=MemoryMetrics())


def service(guard, sig=None, tmp_path=None, models=None, **sections):
    local, cloud = Echo(), Echo()
    cfg = config(models or [model("local", ["slm", "srm", "llm", "lrm"], cost=5.0),
                            model("cloud", ["slm", "srm", "llm", "lrm"], locality="cloud", cost=0.1)], **sections)

    async def classify(text, tenant="default"):
        return sig or signals("slm")

    log = DecisionLog(cfg.ingress.decision_log.model_copy(update={"path": str(tmp_path)}), "r") if tmp_path else None
    svc = RouterService(cfg, classify, {"local": local, "cloud": cloud}, MemoryMetrics(), privacy=guard,
                        decision_log=log)
    return svc, local, cloud


def chat(text, **kw):
    return ChatRequest.model_validate({"messages": [{"role": "user", "content": text}], **kw})


async def test_a_leak_from_the_issue_stays_local(guard, tmp_path):
    svc, local, cloud = service(guard, tmp_path=tmp_path)
    routed = await svc.route("chat", chat(LEAK), RequestMeta(request_id="p1"))
    assert routed.model == "local" and not cloud.seen
    entry = json.loads((tmp_path / "triage_decisions_r.jsonl").read_text().splitlines()[-1])
    assert entry["privacy"]["kinds"] and entry["privacy"]["check_ms"] > 0
    assert "Whitfield" not in json.dumps(entry["privacy"])
    assert entry["decision"]["sensitive"] is True


async def test_clean_prompts_go_to_the_cheaper_cloud_model(guard):
    svc, local, cloud = service(guard)
    routed = await svc.route("chat", chat(CLEAN), RequestMeta(request_id="p2"))
    assert routed.model == "cloud" and len(cloud.seen) == 1


async def test_the_detector_replaces_the_quick_validators_verdict_for_cloud_candidates(guard):
    """The classifier's regex validators flag an address range; the detector
    (the same validators, with context) does not: the request may go to the cloud."""
    sig = dataclasses.replace(signals("slm"), sensitive=True, sensitive_kinds=("ip_address",))
    svc, local, cloud = service(guard, sig=sig)
    routed = await svc.route("chat", chat("What are IPv4 private address ranges, like 10.0.0.0/8?"),
                             RequestMeta(request_id="p3"))
    assert routed.model == "cloud"


async def test_every_candidate_local_skips_the_detector(guard):
    metrics = MemoryMetrics()
    g = PrivacyGuard.__new__(PrivacyGuard)
    g.__dict__.update(guard.__dict__, metrics=metrics)
    pool = [model("local", ["slm", "srm"], cost=5.0), model("cloud", ["llm", "lrm"], locality="cloud")]
    svc, _, cloud = service(g, models=pool, policy={"fallback": {"escalate": False, "downgrade": False}})
    await svc.route("chat", chat(LEAK), RequestMeta(request_id="p4", forced_tier="slm"))
    assert sum(n for k, n in metrics.counts.items() if k[0] == PRIVACY_CHECKS) == 0  # slm: local only
    await svc.route("chat", chat(CLEAN), RequestMeta(request_id="p4b", forced_tier="llm"))
    assert metrics.counts[(PRIVACY_CHECKS, "clean")] == 1 and cloud.seen


async def test_no_verdict_fails_closed():
    svc, local, cloud = service(Unavailable())
    routed = await svc.route("chat", chat(CLEAN), RequestMeta(request_id="p5"))
    assert routed.model == "local" and not cloud.seen
    assert "privacy_unavailable" in routed.decision.reason


@pytest.mark.parametrize("score, cloud_used", [(0.5, True), (0.985, True), (0.995, False), (0.9995, False)])
async def test_the_learned_scores_uncertain_band_keeps_cloud_out(guard, score, cloud_used):
    from serve_app.config.schema import PrivacyConfig

    band = PrivacyConfig()
    sig = dataclasses.replace(signals("slm"), sensitive_score=score)
    svc, local, cloud = service(guard, sig=sig)
    routed = await svc.route("chat", chat(CLEAN), RequestMeta(request_id="p6"))
    assert (routed.model == "cloud") is cloud_used
    assert routed.decision.uncertain is (band.uncertain <= score < band.sensitive)


@pytest.mark.parametrize("stream", [False, True])
async def test_redaction_sends_placeholders_and_restores_the_answer(guard, tmp_path, stream):
    svc, local, cloud = service(guard, tmp_path=tmp_path, privacy={"redaction": {"models": ["cloud"]}})
    routed = await svc.route("chat", chat(LEAK, stream=stream), RequestMeta(request_id="p7"))
    assert routed.model == "cloud" and routed.decision.redact == ("cloud",)
    sent = json.dumps(cloud.seen[-1])
    assert "Whitfield" not in sent and "<PERSON_1>" in sent and "pancreatic cancer" in sent  # kept: health data
    if stream:
        text = ""
        async for raw in routed.stream:
            for line in raw.decode().splitlines():
                if line.startswith("data: {"):
                    text += json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
    else:
        text = routed.body["choices"][0]["message"]["content"]
    assert text == LEAK  # the echo of placeholders, restored for the client
    entry = json.loads((tmp_path / "triage_decisions_r.jsonl").read_text().splitlines()[-1])
    assert entry["privacy"]["redacted"].get("PERSON") == 1 and "Whitfield" not in json.dumps(entry)


async def test_redaction_is_per_tenant_when_configured(guard):
    svc, local, cloud = service(guard, privacy={"redaction": {"tenants": ["acme"]}})
    acme = await svc.route("chat", chat(LEAK), RequestMeta(request_id="p8", tenant="acme"))
    other = await svc.route("chat", chat(LEAK), RequestMeta(request_id="p9", tenant="globex"))
    assert acme.model == "cloud" and other.model == "local"
