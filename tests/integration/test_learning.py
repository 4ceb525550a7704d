"""Learning from outcomes through real HTTP on a real Serve app (/l):
feedback (auth, idempotency, bad input, tenant isolation, pending, the
header form, rate limits), implicit outcomes, and a restart of the memory's
replica. What was recorded is read back from the outcome log, the file
`triage learn` reads."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.integration.conftest import TENANT_KEYS, kill_replica

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def client(learning_url):
    with httpx.Client(base_url=learning_url, timeout=60) as c:
        yield c


def key(tenant):
    return {"authorization": f"Bearer {TENANT_KEYS[tenant]}"}


def ask(client, tenant="acme", rid=None, **headers):
    h = {**key(tenant), **({"x-request-id": rid} if rid else {}), **headers}
    r = client.post("/v1/chat/completions", headers=h,
                    json={"model": "auto", "messages": [{"role": "user", "content": f"What is a good name for a cat? {uuid.uuid4().hex[:6]}"}]})
    return r


def rate(client, tenant, rid, outcome, **extra):
    return client.post("/v1/feedback", headers=key(tenant), json={"request_id": rid, "outcome": outcome, **extra})


def log_lines(rid=None) -> list[dict]:
    import os

    folder = Path(os.environ["TRIAGE_TEST_CACHE_DIR"]) / "learning"
    lines = [json.loads(x) for p in sorted(folder.glob("outcomes-*.jsonl")) for x in p.read_text().splitlines()]
    return [x for x in lines if rid is None or x["request_id"] == rid]


def until_logged(rid, n=1, timeout_s=30.0) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        lines = log_lines(rid)
        if len(lines) >= n:
            return lines
        time.sleep(0.2)
    return log_lines(rid)


def test_a_tenant_rates_its_own_answer_once_however_often_it_says_so(client):
    r = ask(client)
    assert r.status_code == 200, r.text
    rid = r.headers["x-triage-request-id"]
    first = rate(client, "acme", rid, "bad", reason="wrong name")
    assert first.status_code == 200 and first.json()["request_id"] == rid
    assert first.json()["status"] in ("applied", "pending")  # the record may still be on its way
    (line,) = until_logged(rid)
    assert line["outcome"] == 0.0 and line["source"] == "explicit" and line["reason"] == "wrong name"
    assert line["tenant"] == "acme" and line["vector_f16"] and "text" not in line
    again = rate(client, "acme", rid, "bad", reason="wrong name")
    assert again.json()["status"] == "applied"
    time.sleep(0.5)
    assert len(log_lines(rid)) == 1  # repeating it changed nothing


def test_another_tenant_can_neither_rate_nor_see_a_request(client):
    rid = ask(client, "acme").headers["x-triage-request-id"]
    until_logged(rid, 0)
    time.sleep(0.5)
    r = rate(client, "globex", rid, "bad")
    assert r.status_code == 200 and r.json()["status"] == "pending"  # as for an id it never sent
    time.sleep(1.0)
    assert log_lines(rid) == []
    assert rate(client, "acme", rid, "good").json()["status"] == "applied"
    (line,) = until_logged(rid)
    assert line["tenant"] == "acme" and line["outcome"] == 1.0


def test_feedback_needs_the_tenants_key(client):
    r = client.post("/v1/feedback", json={"request_id": "x", "outcome": "good"})
    assert r.status_code == 401 and r.json()["error"]["type"]
    r = client.post("/v1/feedback", json={"request_id": "x", "outcome": "good"}, headers={"authorization": "Bearer no"})
    assert r.status_code == 401


@pytest.mark.parametrize("body, param", [
    ({"outcome": "good"}, "request_id"),
    ({"request_id": "r1", "outcome": "meh"}, "outcome"),
    ({"request_id": "r1", "outcome": 1.5}, "outcome"),
    ({"request_id": "r1", "outcome": "good", "better_tier": "huge"}, "better_tier"),
    ({"request_id": "r1", "outcome": "good", "reason": "x" * 1001}, "reason"),
    ({"request_id": "r 1", "outcome": "good"}, "request_id"),
    ({"request_id": "r1", "outcome": "good", "stars": 5}, "stars"),
])
def test_bad_feedback_names_the_field(client, body, param):
    r = client.post("/v1/feedback", json=body, headers=key("acme"))
    assert r.status_code == 400, r.text
    assert r.json()["error"]["param"] == param


def test_feedback_that_is_not_json_is_a_client_error(client):
    r = client.post("/v1/feedback", content=b"request_id=r1", headers={**key("acme"), "content-type": "text/plain"})
    assert r.status_code in (400, 415) and r.json()["error"]["message"]


def test_feedback_before_the_request_is_kept_and_applied(client):
    rid = f"early-{uuid.uuid4().hex[:8]}"
    assert rate(client, "acme", rid, 0.25).json()["status"] == "pending"
    assert ask(client, "acme", rid=rid).status_code == 200
    (line,) = until_logged(rid)
    assert line["outcome"] == 0.25 and line["source"] == "explicit"


def test_the_header_rates_an_earlier_answer_on_the_next_request(client):
    rid = ask(client, "acme").headers["x-triage-request-id"]
    r = ask(client, "acme", **{"x-triage-feedback": f"{rid}=bad"})
    assert r.status_code == 200
    (line,) = until_logged(rid)
    assert line["outcome"] == 0.0
    bad = ask(client, "acme", **{"x-triage-feedback": "no-equals-sign"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "x-triage-feedback"


def test_no_model_answering_is_recorded_as_a_bad_outcome(client):
    rid = f"fails-{uuid.uuid4().hex[:8]}"
    r = client.post("/v1/chat/completions", headers={**key("acme"), "x-request-id": rid},
                    json={"model": "always-fails", "messages": [{"role": "user", "content": "hello"}]})
    assert r.status_code >= 500
    (line,) = until_logged(f"{rid}/attempt-0")  # one record per model that failed
    assert line["outcome"] == 0.0 and line["source"] == "failure" and line["model"] == "always-fails"


def test_feedback_is_rate_limited_per_tenant(client):
    codes = [rate(client, "initech", f"burst-{i}", "good").status_code for i in range(60)]
    assert codes[:40] == [200] * 40 and 429 in codes[40:]  # learning_router.yaml: burst 40, 1/s
    r = rate(client, "initech", "burst-x", "good")
    assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
    assert rate(client, "globex", "other-tenant", "good").status_code == 200  # its own bucket


def test_acknowledged_feedback_survives_a_restart_of_the_memory(client, ray_session):

    rid = f"restart-{uuid.uuid4().hex[:8]}"
    assert rate(client, "acme", rid, "bad").json()["status"] == "pending"  # acknowledged, not yet applied
    kill_replica("triage-learning", "OutcomeMemory")
    # Serve starts a new replica on the same shard; records sent meanwhile are lost (fire-and-forget).
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert ask(client, "acme", rid=rid).status_code == 200
        if until_logged(rid, timeout_s=3):
            break
    (line,) = log_lines(rid)
    assert line["outcome"] == 0.0 and line["source"] == "explicit"
