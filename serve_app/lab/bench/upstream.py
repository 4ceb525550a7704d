"""A fast, fake OpenAI-compatible upstream for gateway benchmarks.

`python -m serve_app.lab.bench.upstream --port N` serves, in its own process:

- `POST /v1/chat/completions`: one fixed short answer with a `usage` block;
  with `"stream": true`, Server-Sent Events (a role chunk, a content chunk,
  a finish chunk, a usage chunk when `stream_options.include_usage` asks for
  it) ending with `data: [DONE]`;
- `GET /v1/models`: one model;
- `GET /health`: 200.

It is a bare ASGI callable under uvicorn (uvloop and httptools where
installed, no access log): no framework, no routing table, so that its own
time per request stays far below a millisecond and whatever a gateway in
front of it adds is the gateway's.
"""

from __future__ import annotations

import argparse
import json
import time

MODEL = "bench-upstream"
ANSWER = "The capital of Australia is Canberra."
PROMPT_TOKENS, COMPLETION_TOKENS = 20, 8
USAGE = {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS,
         "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS}
JSON_HEADERS = [(b"content-type", b"application/json")]
SSE_HEADERS = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]


def chat_completion(model: str, created: int) -> dict:
    return {
        "id": "chatcmpl-bench", "object": "chat.completion", "created": created, "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER},
                     "logprobs": None, "finish_reason": "stop"}],
        "usage": USAGE,
    }


def chat_chunks(model: str, created: int, include_usage: bool) -> list[dict]:
    """The events of one streamed answer, without the closing [DONE]."""
    def chunk(delta: dict, finish: str | None) -> dict:
        return {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": created,
                "model": model, "choices": [{"index": 0, "delta": delta, "logprobs": None,
                                             "finish_reason": finish}]}

    events = [chunk({"role": "assistant", "content": ""}, None), chunk({"content": ANSWER}, None),
              chunk({}, "stop")]
    if include_usage:
        events.append({"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": created,
                       "model": model, "choices": [], "usage": USAGE})
    return events


def sse(events: list[dict]) -> bytes:
    return b"".join(b"data: " + json.dumps(e).encode() + b"\n\n" for e in events) + b"data: [DONE]\n\n"


def models_list() -> dict:
    return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "bench"}]}


def error(message: str) -> dict:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}


async def app(scope, receive, send) -> None:
    """The whole server: one ASGI callable."""
    if scope["type"] != "http":  # served with lifespan="off": nothing else arrives
        return
    method, path = scope["method"], scope["path"]
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if method == "POST" and path == "/v1/chat/completions":
        await _chat(body, send)
    elif method == "GET" and path == "/v1/models":
        await _send(send, 200, JSON_HEADERS, json.dumps(models_list()).encode())
    elif method == "GET" and path == "/health":
        await _send(send, 200, JSON_HEADERS, b"{}")
    else:
        await _send(send, 404, JSON_HEADERS, json.dumps(error(f"no route {method} {path}")).encode())


async def _chat(body: bytes, send) -> None:
    try:
        request = json.loads(body)
        if not isinstance(request, dict):
            raise ValueError
    except ValueError:
        await _send(send, 400, JSON_HEADERS, json.dumps(error("body is not a JSON object")).encode())
        return
    model = str(request.get("model") or MODEL)
    created = int(time.time())
    if request.get("stream"):
        include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        await _send(send, 200, SSE_HEADERS, sse(chat_chunks(model, created, include_usage)))
    else:
        await _send(send, 200, JSON_HEADERS, json.dumps(chat_completion(model, created)).encode())


async def _send(send, status: int, headers: list, payload: bytes) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": headers + [(b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m serve_app.lab.bench.upstream",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    a = p.parse_args(argv)
    import uvicorn

    uvicorn.run(app, host=a.host, port=a.port, log_level="warning", access_log=False,
                lifespan="off", loop="auto", http="auto")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
