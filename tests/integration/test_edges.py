"""What a hostile or careless client can send, over real HTTP: never a 5xx,
never plain text, always a JSON error naming what is wrong.

- hand-written hostile bodies and headers, each found by attacking a running router;
- schemathesis: requests generated from the app's own OpenAPI schema;
- auth on every route when tenants are configured (the cache app has two);
- the decision log, read where the README says it is.
"""

from __future__ import annotations

import glob
import json
import time
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.integration.conftest import ADMIN_KEY, TENANT_KEYS

CHAT = "/v1/chat/completions"
HI = [{"role": "user", "content": "hi"}]
JSON = {"content-type": "application/json"}


@pytest.fixture
def fuzz(fuzz_url):
    with httpx.Client(base_url=fuzz_url, timeout=60) as client:
        yield client


def _json_error(r: httpx.Response) -> dict:
    assert r.headers["content-type"].startswith("application/json"), r.text[:200]
    return r.json()["error"]


HOSTILE = [
    # (name, body bytes, headers, status, param)
    ("5000 nested brackets", b"[" * 5000, JSON, 400, None),
    ("deep object in a field", json.dumps({"messages": HI}).encode()[:-1] + b', "x": ' + b'{"a":' * 200 +
     b"1" + b"}" * 200 + b"}", JSON, 400, None),
    ("stream as a string", json.dumps({"messages": HI, "stream": "yes"}).encode(), JSON, 400, "stream"),
    ("tools as a string", json.dumps({"messages": HI, "tools": "x"}).encode(), JSON, 400, "tools"),
    ("max_tokens 1e20", b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e20}', JSON, 400,
     "max_tokens"),
    ("content part without type", json.dumps({"messages": [{"role": "user", "content": [{"text": "hi"}]}]}).encode(),
     JSON, 400, "messages.0.content.0.type"),
    ("JSON sent as text/plain", json.dumps({"messages": HI}).encode(), {"content-type": "text/plain"}, 415,
     "content-type"),
    ("no content type", json.dumps({"messages": HI}).encode(), {}, 415, "content-type"),
    ("a JSON array", b"[1, 2]", JSON, 400, None),
    ("invalid UTF-8", b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}', JSON, 400, None),
    ("lone surrogate", b'{"messages": [{"role": "user", "content": "\\ud800"}]}', JSON, None, None),
    ("NaN temperature", b'{"messages": [{"role": "user", "content": "hi"}], "temperature": NaN}', JSON, 400,
     "temperature"),
    ("empty body", b"", JSON, 400, None),
    ("null model", json.dumps({"messages": HI, "model": None}).encode(), JSON, 400, "model"),
    ("number as model", json.dumps({"messages": HI, "model": 5}).encode(), JSON, 400, "model"),
]


@pytest.mark.parametrize("name, body, headers, status, param", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_bodies_get_a_json_4xx(fuzz, name, body, headers, status, param):
    r = fuzz.post(CHAT, content=body, headers=headers)
    assert r.status_code < 500, (name, r.status_code, r.text[:300])
    if status is None:  # accepted or refused, as long as it is not a 5xx
        return
    assert r.status_code == status, (name, r.text[:300])
    err = _json_error(r)
    assert err["message"] and err["param"] == param
    assert r.headers["x-triage-request-id"]


@pytest.mark.parametrize("rid", ["\u00e9t\u00e9-\u2603", "y" * 8000, "a b", "<x>"])
def test_bad_request_ids_are_replaced_not_echoed(fuzz, rid):
    r = fuzz.post(CHAT, json={"messages": HI}, headers={"x-request-id": rid.encode("utf-8")})
    assert r.status_code == 200
    used = r.headers["x-triage-request-id"]
    assert used != rid and used.startswith("req-") and len(used) < 64


def test_a_good_request_id_is_kept(fuzz):
    r = fuzz.post(CHAT, json={"messages": HI}, headers={"x-request-id": "client-42.a:b"})
    assert r.status_code == 200 and r.headers["x-triage-request-id"] == "client-42.a:b"


def test_unknown_routes_and_methods_are_openai_shaped(fuzz):
    r = fuzz.get("/v1/nothing-here")
    assert r.status_code == 404 and _json_error(r)["code"] == "unknown_route"
    r = fuzz.get(CHAT)
    assert r.status_code == 405 and _json_error(r)["type"]


def test_non_ascii_admin_token_is_a_401_not_a_500(fuzz):
    r = fuzz.post("/admin/cache/flush", headers={"authorization": "Bearer \u00e9\u00e8\u2603".encode("utf-8")})
    assert r.status_code == 401 and _json_error(r)["param"] == "authorization"


# ------------------------------------------------------------------ auth everywhere


@pytest.mark.parametrize("method, path", [("GET", "/v1/models"), ("GET", "/health"), ("GET", "/docs"),
                                          ("GET", "/openapi.json"), ("POST", CHAT), ("POST", "/v1/completions"),
                                          ("GET", "/admin/cache/stats")])
def test_with_tenants_every_route_needs_a_key(cache_url, method, path):
    r = httpx.request(method, f"{cache_url}{path}", json={"messages": HI}, timeout=30)
    assert r.status_code == 401 and _json_error(r)["param"] == "authorization", (path, r.status_code)
    raw_key = httpx.request(method, f"{cache_url}{path}", json={"messages": HI}, timeout=30,
                            headers={"authorization": TENANT_KEYS["acme"]})
    assert raw_key.status_code == 401, f"{path}: a key without 'Bearer ' must not count"


def test_liveness_is_open_and_detail_takes_a_tenant_or_the_admin_key(cache_url):
    assert httpx.get(f"{cache_url}/health/live", timeout=30).json() == {"status": "alive"}
    for key in (TENANT_KEYS["acme"], ADMIN_KEY):
        r = httpx.get(f"{cache_url}/health", headers={"authorization": f"Bearer {key}"}, timeout=30)
        assert r.status_code in (200, 503) and "tiers" in r.json()
    r = httpx.get(f"{cache_url}/v1/models", headers={"authorization": f"Bearer {TENANT_KEYS['globex']}"}, timeout=30)
    assert r.status_code == 200 and r.json()["data"][0]["id"] == "auto"


# ------------------------------------------------------------------ decision log


def test_decision_log_is_a_jsonl_file_beside_the_replica_log(fuzz):
    """README, Observability: /tmp/ray/session_latest/logs/serve/triage_decisions_<replica>.jsonl."""
    rid = f"log-probe-{time.time_ns()}"
    assert fuzz.post(CHAT, json={"messages": HI}, headers={"x-request-id": rid}).status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for path in glob.glob("/tmp/ray/session_latest/logs/serve/triage_decisions_*.jsonl"):
            for line in Path(path).read_text().splitlines():
                entry = json.loads(line)
                if entry["request_id"] == rid:
                    assert entry["status"] == "ok" and entry["decision"]["tier"] in ("slm", "srm", "llm", "lrm")
                    return
        time.sleep(0.2)
    pytest.fail(f"no decision line for {rid}")


# ------------------------------------------------------------------ schemathesis


@pytest.fixture(scope="session")
def api_schema(fuzz_url):
    return schemathesis.openapi.from_url(f"{fuzz_url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_generated_requests_never_get_a_5xx(case, fuzz_url):
    """Bodies and headers generated from the app's own OpenAPI schema (valid
    and invalid): every answer is below 500, and every error is JSON."""
    response = case.call(base_url=fuzz_url, timeout=60)
    assert response.status_code < 500, f"{case.method} {case.path}: {response.status_code} {response.text[:500]}"
    if response.status_code >= 400:  # headers: lower-case names, list values
        assert response.headers["content-type"][0].startswith("application/json"), response.text[:300]
