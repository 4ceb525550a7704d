"""Webhook delivery against a real HTTP receiver: signed, retried, final on a refusal."""

import json

import pytest

from serve_app.config.judgement import WebhookTarget
from serve_app.errors import EscalationUnavailable
from serve_app.escalation.webhook import Webhook, sign, verify
from serve_app.lab.escalation_receiver import Receiver


async def no_sleep(_s):
    return None


def hook(url, **kw):
    return Webhook(WebhookTarget(url=url, **kw), sleep=no_sleep)


async def test_delivery_is_signed_and_verifiable(monkeypatch):
    monkeypatch.setenv("ESC_SECRET", "s3cret")
    with Receiver() as rx:
        d = await hook(rx.url, secret_env="ESC_SECRET").deliver("esc-1", {"ticket": "esc-1", "x": 1})
    assert (d.attempts, d.status) == (1, 200)
    got = rx.deliveries[0]
    assert got["body"] == {"ticket": "esc-1", "x": 1} and got["headers"]["x-triage-ticket"] == "esc-1"
    h = got["headers"]
    assert verify("s3cret", h["x-triage-timestamp"], got["raw"], h["x-triage-signature"])
    assert not verify("other", h["x-triage-timestamp"], got["raw"], h["x-triage-signature"])
    assert not verify("s3cret", h["x-triage-timestamp"], got["raw"] + b" ", h["x-triage-signature"])


def test_old_timestamps_fail_verification():
    sig = sign("k", "1000", b"{}")
    assert verify("k", "1000", b"{}", sig, now=1100)
    assert not verify("k", "1000", b"{}", sig, now=1000 + 301)


async def test_server_errors_are_retried_with_the_same_ticket():
    with Receiver([500, 503, 429]) as rx:
        d = await hook(rx.url, attempts=4).deliver("esc-2", {"n": 1})
    assert d.attempts == 4 and len(rx.deliveries) == 4
    assert {x["headers"]["x-triage-ticket"] for x in rx.deliveries} == {"esc-2"}
    assert [x["headers"]["x-triage-delivery-attempt"] for x in rx.deliveries] == ["1", "2", "3", "4"]


async def test_backoff_doubles_between_attempts():
    waits = []

    async def record(s):
        waits.append(s)

    with Receiver([500, 500, 500]) as rx:
        await Webhook(WebhookTarget(url=rx.url, attempts=4, backoff_s=0.1), sleep=record).deliver("e", {})
    assert waits == [0.1, 0.2, 0.4]


async def test_a_refusal_is_final_and_raises():
    with Receiver([400]) as rx:
        with pytest.raises(EscalationUnavailable) as exc:
            await hook(rx.url, attempts=4).deliver("esc-3", {})
    assert len(rx.deliveries) == 1 and exc.value.status == 503 and "HTTP 400" in exc.value.message


async def test_unreachable_receiver_gives_up_after_every_attempt():
    with Receiver() as rx:
        url = rx.url
    with pytest.raises(EscalationUnavailable) as exc:
        await hook(url, attempts=3, timeout_s=0.5).deliver("esc-4", {})
    assert "3 attempts" in exc.value.message and exc.value.code == "escalation_unavailable"


def test_a_named_secret_that_is_not_set_fails_at_start(monkeypatch):
    monkeypatch.delenv("ESC_MISSING", raising=False)
    with pytest.raises(ValueError, match="ESC_MISSING"):
        Webhook(WebhookTarget(url="http://x", secret_env="ESC_MISSING"))


async def test_the_receiver_tool_refuses_bad_signatures_and_stores_good_ones(monkeypatch, tmp_path):
    out = tmp_path / "tickets.jsonl"
    monkeypatch.setenv("ESC_SECRET", "right")
    with Receiver(secret="right", out=out) as rx:
        await hook(rx.url, secret_env="ESC_SECRET").deliver("esc-ok", {"ticket": "esc-ok"})
        monkeypatch.setenv("ESC_SECRET", "wrong")
        with pytest.raises(EscalationUnavailable, match="HTTP 401"):
            await hook(rx.url, secret_env="ESC_SECRET").deliver("esc-bad", {"ticket": "esc-bad"})
    stored = [json.loads(line)["body"]["ticket"] for line in out.read_text().splitlines()]
    assert stored == ["esc-ok"]
