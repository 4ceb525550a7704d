"""OpenAI wire models.

Tolerant of unknown fields (extra="allow"): a field Triage does not know is
passed through to the engines untouched. Only what routing depends on is
checked, and a bad field becomes a ClientError naming it.
"""

from __future__ import annotations

import json
import time
import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from serve_app.errors import ClientError, PayloadTooLarge

Role = Literal["system", "developer", "user", "assistant", "tool", "function"]

# Upper bound for token counts a client may ask for: far above any model's
# context, low enough that nobody sends 1e20 to an engine.
MAX_TOKENS_BOUND = 10_000_000
# JSON nesting a request may have. OpenAI bodies nest a handful of levels
# (tools' JSON schemas a few more); deeper input is an attack on the parser.
MAX_JSON_DEPTH = 64


class Wire(BaseModel):
    model_config = ConfigDict(extra="allow")


class ContentPart(Wire):
    """One part of a message's content list; unknown part types pass through."""

    type: str = Field(min_length=1, strict=True)
    text: str | None = Field(None, strict=True)

    @model_validator(mode="after")
    def _text_part_has_text(self):
        if self.type == "text" and self.text is None:
            raise ValueError("a content part of type 'text' needs a 'text' string")
        return self


class ToolSpec(Wire):
    """A tool the model may call; its schema passes through untouched."""

    type: str = Field(min_length=1, strict=True)


IMAGE_PARTS = ("image_url", "input_image")
# OpenAI's file content parts (chat: "file"; Responses-style: "input_file").
FILE_PARTS = ("file", "input_file")
CODE_FENCE = "```"


def _is_document_url(part: ContentPart) -> bool:
    """A scanned document sent as an image part: a PDF data URL or file URL."""
    url = part.model_extra.get("image_url")
    url = url.get("url") if isinstance(url, dict) else url
    return isinstance(url, str) and (url.startswith("data:application/pdf") or url.lower().endswith(".pdf"))


class ChatMessage(Wire):
    role: Role
    content: str | list[ContentPart] | None = None
    name: str | None = Field(None, strict=True)

    def text(self) -> str:
        """The message's text; image and audio parts contribute nothing."""
        if self.content is None:
            return ""
        if isinstance(self.content, str):
            return self.content
        return "\n".join(p.text or "" for p in self.content if p.type == "text")

    def features(self) -> set[str]:
        """What capability rules look at (config capabilities): images, documents, code blocks."""
        found: set[str] = set()
        for part in self.content if isinstance(self.content, list) else ():
            if part.type in FILE_PARTS or (part.type == "image_url" and _is_document_url(part)):
                found.add("document")
            elif part.type in IMAGE_PARTS:
                found.add("image")
        if CODE_FENCE in self.text():
            found.add("code")
        return found


# The fields Triage reads are typed strictly (no "yes" -> True, no 2.5 -> 2):
# what the router interprets must mean one thing. The rest passes through.
StrictInt = Annotated[int, Field(strict=True)]


class ChatRequest(Wire):
    model: str = Field("auto", min_length=1, strict=True)
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = Field(False, strict=True)
    n: StrictInt = Field(1, ge=1)
    max_tokens: StrictInt | None = Field(None, ge=1, le=MAX_TOKENS_BOUND)
    max_completion_tokens: StrictInt | None = Field(None, ge=1, le=MAX_TOKENS_BOUND)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: StrictInt | None = None
    user: str | None = Field(None, strict=True)
    tools: list[ToolSpec] | None = None
    response_format: dict | None = None
    stream_options: dict | None = None
    reasoning_effort: str | None = Field(None, strict=True)
    chat_template_kwargs: dict | None = None

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
        """The conversation as one text for classification: every turn, in
        order, with its role. A lone user turn is its bare text: the
        classifier, its outcome memory and its cuts were trained on bare
        prompts, and the role tag alone moved the fine-tuned encoder's vectors
        below the outcome-support floor (every request lost its estimates)."""
        if len(self.messages) == 1 and self.messages[0].role == "user":
            return self.messages[0].text()
        return "\n".join(f"{m.role}: {m.text()}" for m in self.messages)

    def features(self) -> frozenset[str]:
        return frozenset().union(*(m.features() for m in self.messages))

    def wire(self, model: str) -> dict:
        """The request as engines receive it, with the concrete model name."""
        body = self.model_dump(exclude_none=True)
        body["model"] = model
        return body


class CompletionRequest(Wire):
    model: str = Field("auto", min_length=1, strict=True)
    prompt: str | list[str]
    stream: bool = Field(False, strict=True)
    n: StrictInt = Field(1, ge=1)
    max_tokens: StrictInt | None = Field(None, ge=1, le=MAX_TOKENS_BOUND)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    seed: StrictInt | None = None
    stream_options: dict | None = None

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

    def features(self) -> frozenset[str]:
        return frozenset({"code"}) if CODE_FENCE in self.prompt else frozenset()

    def wire(self, model: str) -> dict:
        body = self.model_dump(exclude_none=True)
        body["model"] = model
        return body


def _depth_ok(raw: bytes, limit: int) -> bool:
    """Bracket depth outside strings, counted before json.loads (which would
    recurse into any depth and raise RecursionError)."""
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return True  # the common case, at C speed: too few brackets to be too deep
    depth, in_str, escaped = 0, False, False
    for b in raw:
        if in_str:
            if escaped:
                escaped = False
            elif b == 0x5C:  # backslash
                escaped = True
            elif b == 0x22:  # quote
                in_str = False
        elif b == 0x22:
            in_str = True
        elif b in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return False
        elif b in (0x5D, 0x7D):
            depth -= 1
    return True


def parse_body(raw: bytes, kind: type[Wire], max_bytes: int) -> Wire:
    """Bytes from the client -> a validated request, or a ClientError naming the field."""
    if len(raw) > max_bytes:
        raise PayloadTooLarge(f"request body is {len(raw)} bytes; the limit is {max_bytes}")
    if not _depth_ok(raw, MAX_JSON_DEPTH):
        raise ClientError(f"request body nests deeper than {MAX_JSON_DEPTH} levels", code="too_deep")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ClientError(f"request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ClientError("request body must be a JSON object")
    try:
        return kind.model_validate(data)
    except ValidationError as exc:
        err, path = _most_specific(exc.errors())
        loc = ".".join(str(p) for p in path)
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


def _most_specific(errors: list[dict]) -> tuple[dict, list]:
    """The error to report, with union branch tags ('str', 'list[ContentPart]')
    dropped from its path: of a union's failed branches, the one that got
    furthest into the value says what is wrong with it."""
    def path(err: dict) -> list:
        return [p for p in err["loc"] if isinstance(p, int) or not _is_type_tag(p)]

    best = max(errors, key=lambda e: len(path(e)))
    return best, path(best)


def _is_type_tag(part: str) -> bool:
    return "[" in part or part in ("str", "int", "float", "bool", "dict", "list", "none") or part[:1].isupper()


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
