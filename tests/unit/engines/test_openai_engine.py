"""OpenAIEngine against httpx.MockTransport, and once against a real (fake) server."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from serve_app.config.schema import OpenAIEngine as Settings
from serve_app.engines.openai_engine import OpenAIEngine
from serve_app.errors import ModelOverloaded, ModelTimeout, ModelUnavailable, UpstreamError

KEY_ENV = "TRIAGE_TEST_UPSTREAM_KEY"
CHAT = {"model": "cloud-a", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5,
        "some_unknown_field": {"kept": True}}


def settings(**kw) -> Settings:
    base = {"type": "openai", "base_url": "http://upstream.test/v1", "remote_model": "gpt-x",
            "api_key_env": KEY_ENV, "connect_timeout_s": 1.0, "timeout_s": 2.0}
    return Settings(**{**base, **kw})


def answer(model="gpt-x", text="hello") -> dict:
    return {"id": "c1", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                         "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}}


def chunk(text=None, finish=None) -> dict:
    delta = {"content": text} if text is not None else {}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "gpt-x",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def sse_body(events: list, done: bool = True) -> bytes:
    out = b": keep-alive comment\n\n"
    for e in events:
        out += b"data: " + json.dumps(e).encode() + b"\n\n"
    return out + (b"data: [DONE]\n\n" if done else b"")


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv(KEY_ENV, "sk-test-123")


async def engine_with(handler, **kw) -> OpenAIEngine:
    eng = OpenAIEngine("cloud-a", settings(**kw), transport=httpx.MockTransport(handler))
    await eng.start()
    return eng


# --------------------------------------------------------------- MockTransport


async def test_chat_rewrites_model_and_sends_bearer_key():
    seen = {}

    def handler(request: httpx.Request):
        seen["url"] = str(request.url)
        seen["auth"] = request.headers.get("authorization")
        seen["custom"] = request.headers.get("x-org")
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, json=answer())

    eng = await engine_with(handler, headers={"x-org": "acme"})
    body = await eng.chat(dict(CHAT, stream=True))
    assert body["model"] == "cloud-a"
    assert body["choices"][0]["message"]["content"] == "hello"
    assert seen["url"] == "http://upstream.test/v1/chat/completions"
    assert seen["auth"] == "Bearer sk-test-123"
    assert seen["custom"] == "acme"
    assert seen["body"]["model"] == "gpt-x"
    assert seen["body"]["stream"] is False  # the method decides, not the body
    assert seen["body"]["some_unknown_field"] == {"kept": True}  # passed through
    await eng.close()


async def test_completions_path():
    def handler(request):
        assert request.url.path == "/v1/completions"
        return httpx.Response(200, json={"object": "text_completion", "model": "gpt-x",
                                         "choices": [{"index": 0, "text": "x"}]})

    eng = await engine_with(handler)
    body = await eng.completions({"model": "cloud-a", "prompt": "p"})
    assert body["model"] == "cloud-a" and body["choices"][0]["text"] == "x"


async def test_stream_parses_sse_until_done():
    def handler(request):
        assert json.loads(request.content)["stream"] is True
        events = [chunk("Hel"), chunk("lo"), chunk(finish="stop")]
        # Anything after [DONE] must be ignored.
        return httpx.Response(200, content=sse_body(events) + b"data: {\"late\": 1}\n\n",
                              headers={"content-type": "text/event-stream"})

    eng = await engine_with(handler)
    got = [c async for c in eng.stream_chat(CHAT)]
    assert [c["model"] for c in got] == ["cloud-a"] * 3
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in got) == "Hello"
    assert got[-1]["choices"][0]["finish_reason"] == "stop"


async def test_stream_cut_without_done_is_upstream_error():
    def handler(request):
        return httpx.Response(200, content=sse_body([chunk("Hel")], done=False))

    eng = await engine_with(handler)
    got = []
    with pytest.raises(UpstreamError, match="without \\[DONE\\]"):
        async for c in eng.stream_chat(CHAT):
            got.append(c)
    assert len(got) == 1


@pytest.mark.parametrize("status,exc", [
    (429, ModelOverloaded), (503, ModelOverloaded), (504, ModelTimeout), (408, ModelTimeout),
    (500, UpstreamError), (401, ModelUnavailable),
])
async def test_status_mapping(status, exc):
    eng = await engine_with(lambda r: httpx.Response(status, json={"error": {"message": "nope"}}))
    with pytest.raises(exc) as info:
        await eng.chat(CHAT)
    assert type(info.value) is exc
    assert info.value.model == "cloud-a"
    with pytest.raises(exc):
        [c async for c in eng.stream_chat(CHAT)]


async def test_bad_request_keeps_upstream_message():
    body = {"error": {"message": "max_tokens is too large: 99999", "type": "invalid_request_error"}}
    eng = await engine_with(lambda r: httpx.Response(400, json=body))
    with pytest.raises(UpstreamError) as info:
        await eng.chat(CHAT)
    assert type(info.value) is UpstreamError
    assert "max_tokens is too large" in info.value.message and "400" in info.value.message


async def test_connect_error_is_unavailable():
    def handler(request):
        raise httpx.ConnectError("connection refused", request=request)

    eng = await engine_with(handler)
    with pytest.raises(ModelUnavailable, match="unreachable"):
        await eng.chat(CHAT)
    with pytest.raises(ModelUnavailable):
        await eng.check_health()


async def test_read_timeout_is_timeout():
    def handler(request):
        raise httpx.ReadTimeout("timed out", request=request)

    eng = await engine_with(handler)
    with pytest.raises(ModelTimeout):
        await eng.chat(CHAT)
    with pytest.raises(ModelTimeout):
        [c async for c in eng.stream_chat(CHAT)]


async def test_first_byte_deadline_is_timeout():
    async def handler(request):  # neither httpx timeout fires: the deadline must
        await asyncio.sleep(1.0)
        return httpx.Response(200, json=answer())

    eng = await engine_with(handler, connect_timeout_s=0.1, timeout_s=0.2)
    # Without the deadline the handler's 200 would arrive after 1 s and no error be raised.
    with pytest.raises(ModelTimeout, match="within"):
        await eng.chat(CHAT)


async def test_consumer_closing_stream_closes_upstream_response():
    closed = asyncio.Event()

    class Body(httpx.AsyncByteStream):
        async def __aiter__(self):
            for i in range(100):
                yield b"data: " + json.dumps(chunk(str(i))).encode() + b"\n\n"

        async def aclose(self):
            closed.set()

    eng = await engine_with(lambda r: httpx.Response(200, stream=Body()))
    stream = eng.stream_chat(CHAT)
    assert (await anext(stream))["choices"][0]["delta"]["content"] == "0"
    await stream.aclose()
    assert closed.is_set()


async def test_missing_key_env_is_unavailable_naming_the_variable(monkeypatch):
    monkeypatch.delenv(KEY_ENV)
    eng = await engine_with(lambda r: httpx.Response(200, json=answer()))  # start() must not fail
    with pytest.raises(ModelUnavailable, match=KEY_ENV):
        await eng.chat(CHAT)


async def test_no_key_configured_sends_no_auth_header():
    def handler(request):
        assert "authorization" not in request.headers
        return httpx.Response(200, json=answer())

    eng = await engine_with(handler, api_key_env=None)
    assert (await eng.chat(CHAT))["model"] == "cloud-a"


@pytest.mark.parametrize("status,healthy", [(200, True), (401, True), (404, True), (502, False)])
async def test_health_probe(status, healthy):
    def handler(request):
        assert request.method == "GET" and request.url.path == "/v1/models"
        return httpx.Response(status, json={})

    eng = await engine_with(handler)
    if healthy:
        await eng.check_health()
    else:
        with pytest.raises(ModelUnavailable):
            await eng.check_health()


async def test_not_started_is_unavailable():
    eng = OpenAIEngine("cloud-a", settings())
    with pytest.raises(ModelUnavailable, match="not started"):
        await eng.chat(CHAT)


# ------------------------------------------- a fake upstream over real HTTP


class _FakeUpstream(BaseHTTPRequestHandler):
    """A tiny OpenAI-compatible server: only what the tests below need."""

    protocol_version = "HTTP/1.1"  # keep-alive + chunked, like real servers

    def log_message(self, *args):  # keep pytest output clean
        pass

    def do_GET(self):
        self._json(200, {"object": "list", "data": [{"id": "gpt-x"}]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        if self.headers.get("authorization") != "Bearer sk-test-123":
            return self._json(401, {"error": {"message": "bad key"}})
        prompt = body["messages"][-1]["content"]
        if prompt == "sleep":
            time.sleep(1.5)
        if not body.get("stream"):
            return self._json(200, answer(model=body["model"], text=f"echo {prompt}"))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for piece in ("echo", " ", prompt):
            self._chunk(b"data: " + json.dumps(chunk(piece)).encode() + b"\n\n")
            if prompt == "break":  # die mid-stream, without the final chunk
                self.wfile.flush()
                self.close_connection = True
                return
            time.sleep(0.01)
        self._chunk(b": comment\n\n")
        self._chunk(b"data: " + json.dumps(chunk(finish="stop")).encode() + b"\n\ndata: [DONE]\n\n")
        self._chunk(b"")

    def _chunk(self, data: bytes):
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _json(self, status, obj):
        raw = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        try:
            self.wfile.write(raw)
        except OSError:  # the client gave up first (the timeout test): expected
            pass


@pytest.fixture(scope="module")
def fake_upstream():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeUpstream)  # port 0: a free port
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


async def test_real_http_fake_upstream(fake_upstream):
    eng = OpenAIEngine("cloud-a", settings(base_url=fake_upstream, timeout_s=0.5))
    await eng.start()
    await eng.check_health()
    msg = {"role": "user", "content": "ping"}
    body = await eng.chat({"messages": [msg]})
    assert body["model"] == "cloud-a" and body["choices"][0]["message"]["content"] == "echo ping"

    got = [c async for c in eng.stream_chat({"messages": [msg]})]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in got) == "echo ping"
    assert got[-1]["choices"][0]["finish_reason"] == "stop"
    assert {c["model"] for c in got} == {"cloud-a"}

    with pytest.raises(ModelTimeout):  # the server sleeps past timeout_s
        await eng.chat({"messages": [{"role": "user", "content": "sleep"}]})
    with pytest.raises(UpstreamError, match="after 1 chunks"):  # dies after the first chunk
        [c async for c in eng.stream_chat({"messages": [{"role": "user", "content": "break"}]})]
    await eng.close()


async def test_real_http_refused_port_is_unavailable():
    import socket

    with socket.socket() as s:  # a port that was free a moment ago: nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    eng = OpenAIEngine("cloud-a", settings(base_url=f"http://127.0.0.1:{port}/v1"))
    await eng.start()
    with pytest.raises(ModelUnavailable):
        await eng.chat(CHAT)
    with pytest.raises(ModelUnavailable):
        await eng.check_health()
    await eng.close()
