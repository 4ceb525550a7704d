"""The fake upstream speaks the OpenAI shapes: in-process (ASGI) and as its own server process."""

from __future__ import annotations

import json
import sys

import httpx
import pytest

from serve_app.lab.bench import procs, upstream

BODY = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}


def _events(text: str) -> list[str]:
    return [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]


def _check_chat(body: dict, model: str) -> None:
    assert body["object"] == "chat.completion"
    assert body["model"] == model
    choice = body["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": upstream.ANSWER}
    assert choice["finish_reason"] == "stop"
    assert body["usage"]["total_tokens"] == body["usage"]["prompt_tokens"] + body["usage"]["completion_tokens"]


def _check_stream(text: str, usage: bool) -> None:
    data = _events(text)
    assert data[-1] == "[DONE]"
    chunks = [json.loads(d) for d in data[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    content = "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
    assert content == upstream.ANSWER
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "stop"
    assert any("usage" in c for c in chunks) == usage


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=upstream.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://upstream") as c:
        yield c


async def test_chat_json(client):
    r = await client.post("/v1/chat/completions", json=BODY)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    _check_chat(r.json(), "auto")


@pytest.mark.parametrize("usage", [False, True])
async def test_chat_stream(client, usage):
    body = {**BODY, "stream": True, **({"stream_options": {"include_usage": True}} if usage else {})}
    r = await client.post("/v1/chat/completions", json=body)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    _check_stream(r.text, usage)


async def test_models_health_and_errors(client):
    models = (await client.get("/v1/models")).json()
    assert models["object"] == "list" and models["data"][0]["id"] == upstream.MODEL
    assert (await client.get("/health")).status_code == 200
    bad = await client.post("/v1/chat/completions", content=b"not json")
    assert bad.status_code == 400 and "message" in bad.json()["error"]
    missing = await client.get("/v1/nothing")
    assert missing.status_code == 404 and "error" in missing.json()


def test_as_its_own_process(tmp_path):
    """`triage bench upstream --port N --record F`: JSON and stream over real HTTP, recorded, then stopped."""
    port = procs.free_port()
    gw = procs.start("upstream", [sys.executable, "-m", "serve_app", "bench", "upstream", "--port", str(port),
                                  "--record", str(tmp_path / "rec.jsonl")],
                     tmp_path / "upstream.log", env=None)
    try:
        url = f"http://127.0.0.1:{port}"
        procs.wait_http(gw, f"{url}/health", 30)
        _check_chat(httpx.post(f"{url}/v1/chat/completions", json=BODY).json(), "auto")
        with httpx.stream("POST", f"{url}/v1/chat/completions", json={**BODY, "stream": True}) as r:
            _check_stream(r.read().decode(), usage=False)
        done = httpx.post(f"{url}/v1/completions", json={"model": "m", "prompt": "secret 42"}).json()
        assert done["object"] == "text_completion" and done["choices"][0]["text"]
        assert gw.cpu_seconds() > 0
    finally:
        stopped = procs.stop(gw, grace_s=10)
    assert not gw.alive() and stopped["killed_after_grace"] == []
    recorded = [json.loads(line) for line in (tmp_path / "rec.jsonl").read_text().splitlines()]
    assert [r["path"] for r in recorded] == ["/v1/chat/completions"] * 2 + ["/v1/completions"]
    assert "secret 42" in recorded[-1]["body"]
