"""OpenAI wire models.

Tolerant of unknown fields (extra="allow"): a field Triage does not know is
passed through to the engines untouched. Only what routing depends on is
checked, and a bad field becomes a ClientError naming it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from serve_app.errors import ClientError, PayloadTooLarge

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]


class Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class ChatMessage(Wire):
    role: Role
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None

    def text(self) -> str:
        """The message's text; image and audio parts contribute nothing."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.get("text", "") for p in self.content if p.get("type") == "text")

    def has_image(self) -> bool:
        return isinstance(self.content, list) and any(
            p.get("type") in ("image_url", "input_image") for p in self.content
        )


class ChatRequest(Wire):
    model: str = "auto"
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    n: int = Field(1, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: int | None = None
    user: str | None = None

    @field_validator("messages")
    @classmethod
    def _content_present(cls, messages: list[ChatMessage]):
        for i, m in enumerate(messages):
            empty = m.content is None or (isinstance(m.content, (str, list)) and len(m.content) == 0)
            # Assistant turns may carry only tool calls; every other turn needs content.
            if empty and not (m.role == "assistant" and m.model_extra.get("tool_calls")):
                raise ValueError(f"messages.{i}.content must not be empty")
        return messages

    def prompt_text(self) -> str:
        """The conversation as one text for classification: every turn, in order."""
        return "\n".join(f"{m.role}: {m.text()}" for m in self.messages)

    def has_image(self) -> bool:
        return any(m.has_image() for m in self.messages)

    def wire(self, model: str) -> dict:
        """The request as engines receive it, with the concrete model name."""
        body = self.model_dump(exclude_none=True)
        body["model"] = model
        return body


class CompletionRequest(Wire):
    model: str = "auto"
    prompt: str | list[str]
    stream: bool = False
    n: int = Field(1, ge=1)
    max_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: int | None = None

    @field_validator("prompt")
    @classmethod
    def _prompt_present(cls, prompt):
        if isinstance(prompt, list):
            if len(prompt) != 1:
                raise ValueError("exactly one prompt is supported per request")
            prompt = prompt[0]
        if not prompt.strip():
            raise ValueError("prompt must not be empty")
        return prompt

    def prompt_text(self) -> str:
        return self.prompt

    def has_image(self) -> bool:
        return False

    def wire(self, model: str) -> dict:
        body = self.model_dump(exclude_none=True)
        body["model"] = model
        return body


def parse_body(raw: bytes, kind: type[Wire], max_bytes: int) -> Wire:
    """Bytes from the client -> a validated request, or a ClientError naming the field."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"request body is {len(raw)} bytes; the limit is {max_bytes}")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ClientError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ClientError("request body must be a JSON object")
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = f"'{loc}' is required"
        elif err["type"] == "literal_error":
            msg = f"'{loc}': {msg} (got {err.get('input')!r})"
        elif not msg.startswith(loc):
            msg = f"'{loc}': {msg}"
        # A field validator on `messages` already names the element it refers to.
        param = msg.split(" ", 1)[0] if msg.startswith("messages.") else loc
        raise ClientError(msg, param=param) from None


# ----------------------------------------------------------------- responses


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:24]}"


def chat_response(model: str, text: str, *, finish_reason: str = "stop",
                  prompt_tokens: int = 0, completion_tokens: int = 0, rid: str | None = None) -> dict:
    return {
        "id": rid or new_id("chatcmpl"),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": text},
            "finish_reason": finish_reason,
        }],
        "usage": usage(prompt_tokens, completion_tokens),
    }


def chat_chunk(model: str, rid: str, *, delta: dict, finish_reason: str | None = None) -> dict:
    return {
        "id": rid,
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def completion_response(model: str, text: str, *, finish_reason: str = "stop",
                        prompt_tokens: int = 0, completion_tokens: int = 0) -> dict:
    return {
        "id": new_id("cmpl"),
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": None}],
        "usage": usage(prompt_tokens, completion_tokens),
    }


def completion_chunk(model: str, rid: str, *, text: str, finish_reason: str | None = None) -> dict:
    return {
        "id": rid,
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "text": text, "finish_reason": finish_reason, "logprobs": None}],
    }


def usage(prompt_tokens: int, completion_tokens: int) -> dict:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def sse(obj: dict) -> bytes:
    return b"data: " + json.dumps(obj, separators=(",", ":")).encode() + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


# ------------------------------------------------ stored answers <-> streams


def body_to_chunks(body: dict) -> list[dict]:
    """A complete response as the chunks a streaming client expects (cache hits)."""
    model, rid = body.get("model", ""), body.get("id") or new_id("chatcmpl")
    choice = body["choices"][0]
    finish = choice.get("finish_reason") or "stop"
    if body.get("object") == "text_completion":
        return [completion_chunk(model, rid, text=choice.get("text", "")),
                completion_chunk(model, rid, text="", finish_reason=finish)]
    message = choice.get("message", {})
    return [chat_chunk(model, rid, delta={"role": "assistant"}),
            chat_chunk(model, rid, delta={"content": message.get("content") or ""}),
            chat_chunk(model, rid, delta={}, finish_reason=finish)]


class StreamAssembler:
    """Collects a stream's chunks into the complete body, to cache it once the
    stream has ended normally."""

    def __init__(self):
        self.parts: list[str] = []
        self.finish_reason: str | None = None
        self.model = ""
        self.kind = "chat"

    def add(self, chunk: dict) -> None:
        if self.kind == "uncacheable":
            return
        self.model = chunk.get("model", self.model)
        if chunk.get("object") == "text_completion":
            self.kind = "completions"
        for choice in chunk.get("choices", []):
            if self.kind == "completions":
                self.parts.append(choice.get("text") or "")
            else:
                delta = choice.get("delta") or {}
                if delta.get("tool_calls"):
                    # Tool-call streams are not reassembled; never cache them.
                    self.finish_reason = None
                    self.parts = []
                    self.kind = "uncacheable"
                    return
                self.parts.append(delta.get("content") or "")
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]

    def body(self) -> dict | None:
        """The complete response, or None if the stream never finished."""
        if self.finish_reason is None or self.kind == "uncacheable":
            return None
        text = "".join(self.parts)
        if self.kind == "completions":
            return completion_response(self.model, text, finish_reason=self.finish_reason)
        return chat_response(self.model, text, finish_reason=self.finish_reason)
