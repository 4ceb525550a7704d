"""A fast, fake OpenAI-compatible upstream for benchmarks (a labelled fake:
the "model" behind it is a fixed answer).

`triage bench upstream --port N [--record FILE]` serves, in its own process:

- `POST /v1/chat/completions`: one fixed short answer with a `usage` block;
  with `"stream": true`, Server-Sent Events (a role chunk, a content chunk,
  a finish chunk, a usage chunk when `stream_options.include_usage` asks for
  it) ending with `data: [DONE]`;
- `POST /v1/completions`: the same answer as a text completion (streamed too);
- `GET /v1/models`: one model;
- `GET /health`: 200.

With `--record FILE` every request body it receives is appended to FILE as
one JSON line, written before the answer: what a cloud provider would have
seen (the privacy benchmark counts what reached it). With `--echo` the
answer is the request's last user message (or prompt) instead of the fixed
text, so a test can see what a client gets back from a redacted call.

It is a bare ASGI callable under uvicorn (uvloop and httptools where
installed, no access log): no framework, no routing table, so that its own
time per request stays far below a millisecond and whatever a gateway in
front of it adds is the gateway's.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

MODEL = "bench-upstream"
ANSWER = "The capital of Australia is Canberra."
PROMPT_TOKENS, COMPLETION_TOKENS = 20, 8
USAGE = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
         "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS}
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


def chat_completion(model: str, created: int, answer: str = ANSWER) -> dict:
    return {
        "id": "chatcmpl-bench", "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": USAGE,
    }


def chat_chunks(model: str, created: int, include_usage: bool, answer: str = ANSWER) -> list[dict]:
    """The events of one streamed answer, without the closing [DONE]."""
    def chunk(delta: dict, finish: str | None) -> dict:
        return {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": created,
                "model": model, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                             "finish_reason": finish}]}

    # Seven-character pieces: a client sees the answer arrive in parts (and a
    # placeholder split across chunks, in the redaction tests).
    events = [chunk({"role": "assistant", "content": ""}, None),
              *(chunk({"content": answer[i:i + 7]}, None) for i in range(0, len(answer), 7)), chunk({}, "stop")]
    if include_usage:
        events.append({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": [], "usage": USAGE})
    return events


def text_completion(model: str, created: int, answer: str = ANSWER) -> dict:
    return {"id": "cmpl-bench", "object": "text_completion", "created": created, "model": model,
            "choices": [{"index": 0, "text": answer, "logprobs": None, "finish_reason": "stop"}], "usage": USAGE}


def text_chunks(model: str, created: int, answer: str = ANSWER) -> list[dict]:
    def chunk(text: str, finish: str | None) -> dict:
        return {"id": "cmpl-bench", "object": "text_completion", "created": created, "model": model,
                "choices": [{"index": 0, "text": text, "logprobs": None, "finish_reason": finish}]}

    return [chunk(answer, None), chunk("", "stop")]


def sse(events: list[dict]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


def models_list() -> dict:
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}]}


def error(message: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


def make_app(record: Path | None = None, echo: bool = False):
    """The whole server: one ASGI callable (recording every body to `record`;
    answering with the request's own text when `echo`)."""
    sink = record.open("a", encoding="utf-8", buffering=1) if record else None

    async def app(scope, receive, send) -> None:
        if scope["type"] != "http":  # served with lifespan="off": nothing else arrives
            return
        method, path = scope["method"], scope["path"]
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        if method == "POST" and path in ("/v1/chat/completions", "/v1/completions"):
            if sink is not None:
                sink.write(json.dumps({"path": path, "body": body.decode("utf-8", "replace")}) + "\n")
            await _answer(path, body, send, echo)
        elif method == "GET" and path == "/v1/models":
            await _send(send, 200, JSON_HEADERS, json.dumps(models_list()).encode())
        elif method == "GET" and path == "/health":
            await _send(send, 200, JSON_HEADERS, b"{}")
        else:
            await _send(send, 404, JSON_HEADERS, json.dumps(error(f"no route {method} {path}")).encode())

    return app


app = make_app()  # no recording: what the gateway benchmark serves


def _echo(request: dict) -> str:
    if isinstance(request.get("prompt"), str):
        return request["prompt"]
    users = [m.get("content") for m in request.get("messages") or () if m.get("role") == "user"]
    return users[-1] if users and isinstance(users[-1], str) else ANSWER


async def _answer(path: str, body: bytes, send, echo: bool = False) -> None:
    try:
        request = json.loads(body)
        if not isinstance(request, dict):
            raise ValueError
    except ValueError:
        await _send(send, 400, JSON_HEADERS, json.dumps(error("body is not a JSON object")).encode())
        return
    model = str(request.get("model") or MODEL)
    created = int(time.time())
    chat = path == "/v1/chat/completions"
    text = _echo(request) if echo else ANSWER
    if request.get("stream"):
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        events = chat_chunks(model, created, include_usage, text) if chat else text_chunks(model, created, text)
        await _send(send, 200, SSE_HEADERS, sse(events))
    else:
        answer = chat_completion(model, created, text) if chat else text_completion(model, created, text)
        await _send(send, 200, JSON_HEADERS, json.dumps(answer).encode())


async def _send(send, status: int, headers: list, payload: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--record", type=Path, default=None, help="append every request body here (JSONL)")
    p.add_argument("--echo", action="store_true", help="answer with the request's last user message")
    a = p.parse_args(argv)
    import uvicorn

    uvicorn.run(make_app(a.record, a.echo), host=a.host, port=a.port, log_level="warning", access_log=False,
                lifespan="off", loop="auto", http="auto")
    return 0

