"""Meta-router, capability routes and escalation over real HTTP through the
served app (tests/integration/judgement_router.yaml): dry_run models
(labelled fakes), the real classifier, a real webhook receiver."""

from __future__ import annotations

import base64

import httpx
import pytest

from serve_app.escalation.webhook import verify
from tests.integration.conftest import ESCALATION_SECRET

# Outcome routing gives this prompt per-tier success estimates (x-triage-success).
SUPPORTED = "A train travels 120 km in 2 hours and then 180 km in 3 hours. What is its average speed?"
MARGIN = 0.05  # policy.meta_router.tier_margin in judgement_router.yaml


def ask(url: str, content, headers: dict | None = None, stream: bool = False) -> httpx.Response:
    body = {"model": "auto", "messages": [{"role": "user", "content": content}], "stream": stream}
    return httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers or {}, timeout=60)


def estimates(url: str) -> dict[str, float]:
    r = ask(url, SUPPORTED)
    assert r.status_code == 200, r.text
    return {k: float(v) for k, v in (p.split("=") for p in r.headers["x-triage-success"].split(","))}


def far_target(s: dict[str, float]) -> float:
    """A quality target no estimate is within the margin of (rounding allowed for)."""
    return next(t / 100 for t in range(5, 96) if all(abs(t / 100 - v) > MARGIN + 0.02 for v in s.values()))


def test_meta_router_is_consulted_only_below_the_margin(judgement_url):
    s = estimates(judgement_url)
    clear = ask(judgement_url, SUPPORTED, {"x-triage-quality": f"{far_target(s):.2f}"})
    assert clear.status_code == 200 and "x-triage-meta-router" not in clear.headers
    assert clear.headers.get("x-triage-tier-source") != "meta"
    # Just above the slm estimate: slm misses the target by about 0.01, so it stands beside the chosen tier.
    close = ask(judgement_url, SUPPORTED, {"x-triage-quality": f"{s['slm'] + 0.01:.2f}"})
    assert close.status_code == 200
    consulted = close.headers["x-triage-meta-router"]
    assert consulted in ("changed tier=slm", "agreed tier=slm")
    # The stand-in meta-router always says slm, and slm is what answered.
    assert close.headers["x-triage-tier"] == "slm" and close.headers["x-triage-model"] == "small"
    if consulted.startswith("changed"):
        assert close.headers["x-triage-tier-source"] == "meta"


def test_meta_router_timeout_keeps_the_classifiers_choice(slow_meta_url):
    s = estimates(slow_meta_url)
    target = s["slm"] + 0.01
    r = ask(slow_meta_url, SUPPORTED, {"x-triage-quality": f"{target:.2f}"})
    assert r.status_code == 200 and r.headers["x-triage-meta-router"] == "timeout"
    assert r.headers.get("x-triage-tier-source") != "meta"
    assert float(r.headers["x-triage-overhead-ms"]) < 3000  # did not wait for the 3 s answer


IMAGE = [{"type": "text", "text": "What is in this picture?"},
         {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(b"png").decode()}}]
SENSITIVE_IMAGE = [{"type": "text", "text": "Patient Maria Lopez, DOB 04/12/1961, MRN 4471923: read her X-ray."},
                   IMAGE[1]]
SCAN = [{"type": "text", "text": "Summarise this scanned contract."},
        {"type": "file", "file": {"filename": "contract.pdf", "file_data": "JVBERi0xLjQK"}}]


def test_images_go_to_the_cheapest_vision_model(judgement_url):
    r = ask(judgement_url, IMAGE)
    assert r.status_code == 200 and r.headers["x-triage-model"] == "cloud-vision"


def test_sensitive_images_go_to_the_local_vision_model_only(judgement_url):
    for stream in (False, True):
        r = ask(judgement_url, SENSITIVE_IMAGE, stream=stream)
        assert r.status_code == 200, r.text
        assert r.headers["x-triage-model"] == "local-vision"


def test_scanned_documents_need_ocr_or_vision(judgement_url):
    r = ask(judgement_url, SCAN)
    assert r.status_code == 200 and r.headers["x-triage-model"] in ("cloud-vision", "local-vision")


def test_escalation_by_header_is_delivered_signed(judgement_url, escalation_receiver):
    before = len(escalation_receiver.deliveries)
    r = ask(judgement_url, "I want to talk to a person about my refund", {"x-triage-escalate": "true"})
    assert r.status_code == 200, r.text
    ticket = r.headers["x-triage-escalation"]
    assert r.json()["model"] == "triage-escalation" and ticket in r.json()["choices"][0]["message"]["content"]
    got = escalation_receiver.deliveries[before]
    h = got["headers"]
    assert got["body"]["ticket"] == ticket and got["body"]["trigger"] == "header"
    assert verify(ESCALATION_SECRET, h["x-triage-timestamp"], got["raw"], h["x-triage-signature"])
    assert got["body"]["request"]["messages"][0]["content"].startswith("I want to talk to a person")


def test_escalation_is_retried_until_the_receiver_takes_it(judgement_url, escalation_receiver):
    escalation_receiver.fail_next(500, 503)
    before = len(escalation_receiver.deliveries)
    r = ask(judgement_url, "escalate me please", {"x-triage-escalate": "true"})
    assert r.status_code == 200, r.text
    tries = escalation_receiver.deliveries[before:]
    assert [t["headers"]["x-triage-delivery-attempt"] for t in tries] == ["1", "2", "3"]
    assert {t["headers"]["x-triage-ticket"] for t in tries} == {r.headers["x-triage-escalation"]}


def test_an_escalation_nobody_took_is_a_503_json_error(judgement_url, escalation_receiver):
    escalation_receiver.fail_next(500, 500, 500)
    r = ask(judgement_url, "escalate me please", {"x-triage-escalate": "true"})
    assert r.status_code == 503
    assert r.json()["error"]["code"] == "escalation_unavailable"


def test_operator_domain_goes_to_a_person(judgement_url, escalation_receiver):
    before = len(escalation_receiver.deliveries)
    r = ask(judgement_url, "Can you sign off the load calculation for the steel beams of our footbridge?")
    assert r.status_code == 200, r.text
    assert r.headers["x-triage-domain"] == "structural_engineering" and "x-triage-escalation" in r.headers
    assert escalation_receiver.deliveries[before]["body"]["trigger"] == "domain"


@pytest.mark.parametrize("value", ["yes", "1"])
def test_a_bad_escalate_header_is_a_400_naming_it(judgement_url, value):
    r = ask(judgement_url, "hi", {"x-triage-escalate": value})
    assert r.status_code == 400 and r.json()["error"]["param"] == "x-triage-escalate"
