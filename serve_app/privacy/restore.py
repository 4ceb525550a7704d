"""Placeholders back to the original values in a cloud model's answer.

Owns restoration in a complete OpenAI chat/completions body
(`restore_response`) and in a stream (`StreamRestorer` for text,
`ChunkRestorer` for OpenAI chunks). In a stream a placeholder may be split
across chunks ("<PER" + "SON_1>"): the restorer holds back only a tail that
is still the start of a known placeholder, and flushes it when the choice
finishes or the stream ends. Values restored inside tool-call arguments are
JSON-escaped, since arguments are JSON text. Pure: no Presidio needed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping


def _pattern(mapping: Mapping[str, str]) -> re.Pattern | None:
    if not mapping:
        return None
    return re.compile("|".join(re.escape(p) for p in sorted(mapping, key=len, reverse=True)))


def restore_text(text: str, mapping: Mapping[str, str], *, json_escape: bool = False) -> str:
    """`text` with every known placeholder replaced by its value; unknown ones stay as they are."""
    pattern = _pattern(mapping)
    if pattern is None or not text:
        return text
    if json_escape:
        return pattern.sub(lambda m: json.dumps(mapping[m.group()], ensure_ascii=False)[1:-1], text)
    return pattern.sub(lambda m: mapping[m.group()], text)


def restore_response(body: dict, mapping: Mapping[str, str]) -> dict:
    """A copy of a chat.completion or text_completion body with placeholders restored."""
    body = copy.deepcopy(body)
    for choice in body.get("choices") or ():
        if isinstance(choice.get("text"), str):
            choice["text"] = restore_text(choice["text"], mapping)
        message = choice.get("message")
        if isinstance(message, dict):
            _restore_message(message, mapping)
    return body


def _restore_message(message: dict, mapping: Mapping[str, str]) -> None:
    content = message.get("content")
    if isinstance(content, str):
        message["content"] = restore_text(content, mapping)
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and isinstance(part.get("text"), str):
                part["text"] = restore_text(part["text"], mapping)
    for key in ("refusal", "reasoning_content"):
        if isinstance(message.get(key), str):
            message[key] = restore_text(message[key], mapping)
    calls = [c.get("function") for c in message.get("tool_calls") or () if isinstance(c, dict)]
    calls.append(message.get("function_call"))
    for fn in calls:
        if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
            fn["arguments"] = restore_text(fn["arguments"], mapping, json_escape=True)


class StreamRestorer:
    """Incremental restore_text: feed text pieces, get restored text; flush at the end."""

    def __init__(self, mapping: Mapping[str, str], *, json_escape: bool = False):
        self._mapping = dict(mapping)
        self._pattern = _pattern(self._mapping)
        self._json = json_escape
        # Every proper prefix of every placeholder: a tail in here may still grow into one.
        self._prefixes = {p[:i] for p in self._mapping for i in range(1, len(p))}
        self._longest = max((len(p) for p in self._mapping), default=0)
        self._held = ""

    def feed(self, text: str) -> str:
        if self._pattern is None:
            return text
        buffer = self._held + text
        cut = len(buffer)
        for k in range(min(self._longest - 1, len(buffer)), 0, -1):
            if buffer[-k:] in self._prefixes:
                cut = len(buffer) - k
                break
        self._held = buffer[cut:]
        return restore_text(buffer[:cut], self._mapping, json_escape=self._json)

    def flush(self) -> str:
        held, self._held = self._held, ""
        return held


class ChunkRestorer:
    """Restores a stream of OpenAI chunks (chat.completion.chunk or text_completion).

    `restore(chunk)` returns a restored copy; text held back for a choice is
    emitted in that choice's finishing chunk. If the stream ends without one,
    `flush()` returns the chunks that carry what is left.
    """

    def __init__(self, mapping: Mapping[str, str]):
        self._mapping = dict(mapping)
        self._streams: dict[tuple, StreamRestorer] = {}
        self._last: dict | None = None

    def _stream(self, key: tuple) -> StreamRestorer:
        if key not in self._streams:
            self._streams[key] = StreamRestorer(self._mapping, json_escape=key[1] == "tool")
        return self._streams[key]

    def restore(self, chunk: dict) -> dict:
        chunk = copy.deepcopy(chunk)
        if not self._mapping:
            return chunk
        self._last = chunk
        for choice in chunk.get("choices") or ():
            index = choice.get("index", 0)
            finishing = choice.get("finish_reason") is not None
            delta = choice.get("delta")
            if isinstance(choice.get("text"), str):
                choice["text"] = self._apply((index, "text"), choice["text"], finishing)
            elif finishing and delta is None:
                tail = self._drain((index, "text"))
                if tail:
                    choice["text"] = tail
            if isinstance(delta, dict):
                self._restore_delta(index, delta, finishing)
        return chunk

    def _restore_delta(self, index: int, delta: dict, finishing: bool) -> None:
        if isinstance(delta.get("content"), str):
            delta["content"] = self._apply((index, "content"), delta["content"], finishing)
        elif finishing:
            tail = self._drain((index, "content"))
            if tail:
                delta["content"] = tail
        for call in delta.get("tool_calls") or ():
            fn = call.get("function") if isinstance(call, dict) else None
            if isinstance(fn, dict) and isinstance(fn.get("arguments"), str):
                key = (index, "tool", call.get("index", 0))
                fn["arguments"] = self._apply(key, fn["arguments"], False)
        if finishing:
            leftovers = [(key, self._drain(key)) for key in list(self._streams)
                         if key[0] == index and key[1] == "tool"]
            for (_, _, call_index), tail in leftovers:
                if tail:
                    delta.setdefault("tool_calls", []).append({"index": call_index, "function": {"arguments": tail}})

    def _apply(self, key: tuple, text: str, finishing: bool) -> str:
        stream = self._stream(key)
        out = stream.feed(text)
        return out + stream.flush() if finishing else out

    def _drain(self, key: tuple) -> str:
        stream = self._streams.get(key)
        return stream.flush() if stream else ""

    def flush(self) -> list[dict]:
        """Chunks carrying text still held when the stream ended without a finish_reason."""
        out = []
        for key in sorted(self._streams, key=str):
            tail = self._streams[key].flush()
            if not tail or self._last is None:
                continue
            chunk = {k: v for k, v in self._last.items() if k not in ("choices", "usage")}
            index = key[0]
            if key[1] == "text":
                choice = {"index": index, "text": tail, "finish_reason": None, "logprobs": None}
            elif key[1] == "content":
                choice = {"index": index, "delta": {"content": tail}, "finish_reason": None}
            else:
                choice = {"index": index, "delta": {"tool_calls": [{"index": key[2], "function": {"arguments": tail}}]},
                          "finish_reason": None}
            chunk["choices"] = [choice]
            out.append(chunk)
        return out
