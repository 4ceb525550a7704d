"""The HTTP edge without Ray: EdgeMiddleware on a small Starlette app, request
ids, and the classifier's fail-closed verdict when it does not answer."""

from __future__ import annotations

import asyncio

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse, StreamingResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from serve_app.auth import AdminKey, TenantResolver
from serve_app.classifier.remote import RemoteClassifier
from serve_app.config.schema import AuthConfig, PolicyConfig
from serve_app.edge import EdgeMiddleware, EdgeState, request_id
from serve_app.errors import ClassifierUnavailable, ClientError
from serve_app.metrics import ERRORS, MemoryMetrics
from serve_app.policy import RequestFacts, decide
from tests.unit.factories import config


def app(tenants: dict | None = None) -> tuple[TestClient, MemoryMetrics]:
    async def ok(request):
        return JSONResponse({"rid": request.state.request_id, "tenant": request.state.tenant})

    async def boom(request):
        raise RecursionError("maximum recursion depth exceeded")

    async def client_fault(request):
        raise ClientError("bad field", param="x")

    async def breaks_mid_stream(request):
        async def body():
            yield b"data: 1\n\n"
            raise RuntimeError("stream broke")
        return StreamingResponse(body(), media_type="text/event-stream")

    async def live(request):
        return JSONResponse({"status": "alive"})

    routes = [Route("/ok", ok), Route("/boom", boom), Route("/client", client_fault),
              Route("/stream", breaks_mid_stream), Route("/health/live", live), Route("/health", ok),
              Route("/admin/x", ok)]
    star = Starlette(routes=routes)
    star.add_middleware(EdgeMiddleware)
    env = {f"KEY_{t.upper()}": f"key-{t}" for t in (tenants or {})}
    metrics = MemoryMetrics()
    star.state.edge = EdgeState(TenantResolver(AuthConfig(tenants={t: f"KEY_{t.upper()}" for t in tenants or {}}),
                                               environ=env),
                                AdminKey("ADMIN", environ={"ADMIN": "adm"}), metrics)
    return TestClient(star, raise_server_exceptions=False), metrics


def test_any_exception_is_an_openai_shaped_500_with_the_request_id():
    client, metrics = app()
    r = client.get("/boom", headers={"x-request-id": "abc-1"})
    assert r.status_code == 500 and r.headers["content-type"].startswith("application/json")
    err = r.json()["error"]
    assert err["type"] == "internal_error" and "abc-1" in err["message"] and "RecursionError" in err["message"]
    assert r.headers["x-triage-request-id"] == "abc-1"
    assert metrics.counts[(ERRORS, "RecursionError")] == 1


def test_triage_errors_keep_their_status_and_field():
    client, _ = app()
    r = client.get("/client")
    assert r.status_code == 400 and r.json()["error"]["param"] == "x"


def test_a_stream_that_breaks_after_its_first_byte_is_logged_not_rewritten():
    client, metrics = app()
    r = client.get("/stream")
    assert r.status_code == 200 and r.text.startswith("data: 1")
    assert metrics.counts[(ERRORS, "RuntimeError")] == 1


@pytest.mark.parametrize("header, kept", [
    ("abc-123", True), ("A.b:c_d-1", True), ("x" * 128, True),
    ("x" * 129, False), ("x" * 8000, False), ("caf\u00e9", False), ("a b", False), ("", False), ("<script>", False),
])
def test_request_ids_are_kept_only_when_short_and_plain(header, kept):
    rid = request_id(header)
    assert (rid == header) is kept
    assert rid and len(rid) <= 128


def test_non_ascii_and_oversized_request_ids_are_replaced_not_echoed():
    client, _ = app()
    for bad in ("\u00e9\u00e8", "y" * 8000):
        r = client.get("/ok", headers={"x-request-id": bad.encode("utf-8")})
        assert r.status_code == 200 and r.json()["rid"].startswith("req-") and len(r.json()["rid"]) < 64


def test_with_tenants_every_route_needs_a_key_but_liveness():
    client, _ = app(tenants={"acme": None})
    assert client.get("/health/live").status_code == 200
    for path in ("/ok", "/health", "/admin/x", "/nowhere"):
        r = client.get(path)
        assert r.status_code == 401 and r.json()["error"]["param"] == "authorization", path
    r = client.get("/ok", headers={"authorization": "Bearer key-acme"})
    assert r.status_code == 200 and r.json()["tenant"] == "acme"
    assert client.get("/ok", headers={"authorization": "key-acme"}).status_code == 401
    assert client.get("/health", headers={"authorization": "Bearer adm"}).status_code == 200
    assert client.get("/admin/x", headers={"authorization": "Bearer key-acme"}).status_code == 401
    assert client.get("/admin/x", headers={"authorization": "Bearer adm"}).status_code == 200


class StuckHandle:
    """A classifier replica that never answers (or fails), as seen through its handle."""

    def __init__(self, fail: bool = False):
        self.classify = self
        self.fail = fail

    def remote(self, text, tenant="default"):
        async def never():
            if self.fail:
                raise RuntimeError("replica died")
            await asyncio.sleep(60)
        return never()


@pytest.mark.parametrize("fail", [False, True])
async def test_no_classifier_verdict_fails_closed(fail):
    policy = PolicyConfig()
    clf = RemoteClassifier.over_handle(StuckHandle(fail), policy, timeout_s=0.05)
    signals = await asyncio.wait_for(clf.classify("hello"), 5)
    assert signals.degraded and signals.sensitive and signals.jailbreak_prob == 1.0
    clean = await RemoteClassifier.over_handle(StuckHandle(fail), PolicyConfig(unclassified_jailbreak="assume_clean"),
                                   0.05).classify("x")
    assert clean.jailbreak_prob == 0.0 and clean.sensitive


async def test_a_blocking_router_refuses_unclassified_requests_with_503():
    flag = config()
    signals = await RemoteClassifier.over_handle(StuckHandle(True), flag.policy, 0.05).classify("x")
    decision = decide(signals, RequestFacts(), flag)  # flag: served locally, flagged
    assert decision.jailbreak and decision.sensitive
    block = config(policy={"jailbreak_action": "block"})
    with pytest.raises(ClassifierUnavailable) as exc:
        decide(signals, RequestFacts(), block)
    assert exc.value.status == 503
