"""No sensitive request reaches a cloud model, over real HTTP through the
served app, watched at a recording cloud endpoint.

The issue's leak forms (hand-written, never used to tune anything) go five
ways each: tier header llm; tier header lrm, streamed; the cloud model named;
named and streamed; /v1/completions. Clean prompts, cheaper on the cloud
model, must reach it. Redaction mode sends placeholders and restores them.
"""

from __future__ import annotations

import json

import httpx
import pytest

from tests.unit.privacy.fixtures.holdout_prompts import CLEAN, SENSITIVE

WAYS = [
    ("/v1/chat/completions", {"x-triage-tier": "llm"}, "auto", False),
    ("/v1/chat/completions", {"x-triage-tier": "lrm"}, "auto", True),
    ("/v1/chat/completions", {}, "cloud-cheap", False),
    ("/v1/chat/completions", {}, "cloud-cheap", True),
    ("/v1/completions", {}, "auto", False),
]


def _send(url: str, prompt: str, path: str, headers: dict, model: str, stream: bool) -> httpx.Response:
    body = {"model": model, "prompt": prompt} if path == "/v1/completions" else \
        {"model": model, "messages": [{"role": "user", "content": prompt}], "stream": stream}
    return httpx.post(url + path, json=body, headers=headers, timeout=120)


def _recorded(record) -> str:
    return record.read_text(encoding="utf-8") if record.exists() else ""


# A sample of each form of the hand-written set keeps the run short; every
# one of them is covered by the unit tests of the detector.
LEAKS = SENSITIVE[::3]


@pytest.mark.parametrize("prompt", LEAKS, ids=[p[:40] for p in LEAKS])
def test_sensitive_prompts_never_reach_the_cloud_any_way(privacy_url, recorder, prompt):
    _, record = recorder
    for path, headers, model, stream in WAYS:
        r = _send(privacy_url, prompt, path, headers, model, stream)
        assert r.status_code == 200, r.text
        # Local, or (tier llm) the cloud model configured for redaction: never unredacted.
        assert r.headers["x-triage-model"] in ("local", "cloud-redact"), (path, model, stream)
    recorded = _recorded(record)
    assert json.dumps(prompt)[1:-1] not in recorded and prompt not in recorded


def test_clean_prompts_reach_the_cheaper_cloud_model(privacy_url, recorder):
    _, record = recorder
    kept_local = []
    for prompt in CLEAN[:12]:
        r = _send(privacy_url, prompt, "/v1/chat/completions", {}, "auto", False)
        assert r.status_code == 200
        if r.headers["x-triage-model"] == "local":
            kept_local.append(prompt)
    assert len(kept_local) <= 1, kept_local  # the issue allows 3% false alarms
    assert any(json.dumps(p)[1:-1] in _recorded(record) for p in CLEAN[:12] if p not in kept_local)


@pytest.mark.parametrize("stream", [False, True])
def test_redaction_mode_sends_placeholders_and_the_client_gets_values(privacy_url, recorder, stream):
    _, record = recorder
    prompt = "Greta Holm, 54, has stage 3 pancreatic cancer. Draft a letter to her employer requesting leave."
    before = len(_recorded(record).splitlines())
    r = _send(privacy_url, prompt, "/v1/chat/completions", {}, "cloud-redact", stream)
    assert r.status_code == 200 and r.headers["x-triage-model"] == "cloud-redact"
    new = "\n".join(_recorded(record).splitlines()[before:])
    assert "Greta" not in new and "Holm" not in new and "<PERSON_1>" in new and "pancreatic cancer" in new
    # The echoing endpoint answered with the placeholders; the client reads the values.
    if stream:
        text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                       for line in r.text.splitlines() if line.startswith("data: {"))
    else:
        text = r.json()["choices"][0]["message"]["content"]
    assert text == prompt
