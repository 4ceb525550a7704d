"""dry_run: a model that answers with the routing decision instead of text.

A product feature, not a test hack: operators point Triage at dry_run models
to see where traffic would go, and load tests use it as a model of fixed
latency. It can also inject failures (for fallback drills) and record every
prompt it receives (for privacy audits).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import AsyncIterator

from serve_app.config.schema import DryRunEngine as DryRunSettings
from serve_app.engines.base import CallContext
from serve_app.errors import ModelOverloaded, ModelTimeout, ModelUnavailable, UpstreamError
from serve_app.protocol import chat_chunk, chat_response, completion_chunk, completion_response, new_id

_FAILURES = {
    "error": UpstreamError,
    "unavailable": ModelUnavailable,
    "overloaded": ModelOverloaded,
    "timeout": ModelTimeout,
}


class DryRunEngine:
    def __init__(self, name: str, settings: DryRunSettings):
        self.name = name
        self.settings = settings
        self.calls = 0

    async def start(self) -> None:
        return None

    async def check_health(self) -> None:
        return None

    async def chat(self, request: dict, ctx: CallContext) -> dict:
        text = await self._answer(request, ctx)
        return chat_response(self.name, text, prompt_tokens=_words(request), completion_tokens=len(text.split()))

    async def stream_chat(self, request: dict, ctx: CallContext) -> AsyncIterator[dict]:
        text = await self._answer(request, ctx, streaming=True)
        rid = new_id("chatcmpl")
        yield chat_chunk(self.name, rid, delta={"role": "assistant"})
        self._maybe_break_stream()
        for part in _split(text, self.settings.stream_chunks):
            yield chat_chunk(self.name, rid, delta={"content": part})
        yield chat_chunk(self.name, rid, delta={}, finish_reason="stop")

    async def completions(self, request: dict, ctx: CallContext) -> dict:
        text = await self._answer(request, ctx)
        return completion_response(self.name, text, prompt_tokens=_words(request), completion_tokens=len(text.split()))

    async def stream_completions(self, request: dict, ctx: CallContext) -> AsyncIterator[dict]:
        text = await self._answer(request, ctx, streaming=True)
        rid = new_id("cmpl")
        for i, part in enumerate(_split(text, self.settings.stream_chunks)):
            yield completion_chunk(self.name, rid, text=part)
            if i == 0:
                self._maybe_break_stream()
        yield completion_chunk(self.name, rid, text="", finish_reason="stop")

    async def _answer(self, request: dict, ctx: CallContext, streaming: bool = False) -> str:
        self.calls += 1
        if self.settings.record_prompts_to:
            await asyncio.to_thread(self._record, request, ctx)
        if self.settings.latency_ms:
            await asyncio.sleep(self.settings.latency_ms / 1000)
        if self._failing() and not (streaming and self.settings.fail.mid_stream):
            self._raise()
        if self.settings.reply is not None:
            return self.settings.reply
        d = ctx.decision
        return (
            f"[dry_run {self.name}] tier={d.get('tier')} domain={d.get('domain')} "
            f"sensitive={d.get('sensitive')} reason: {d.get('reason', '')}"
        )

    def _failing(self) -> bool:
        fail = self.settings.fail
        return fail is not None and (fail.first_n is None or self.calls <= fail.first_n)

    def _maybe_break_stream(self) -> None:
        if self._failing() and self.settings.fail.mid_stream:
            self._raise()

    def _raise(self):
        mode = self.settings.fail.mode
        raise _FAILURES[mode](f"dry_run model {self.name} injected a {mode} failure", model=self.name)

    def _record(self, request: dict, ctx: CallContext) -> None:
        line = json.dumps({"request_id": ctx.request_id, "model": self.name, "request": request})
        # O_APPEND keeps concurrent replicas' lines whole.
        fd = os.open(self.settings.record_prompts_to, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)


def _words(request: dict) -> int:
    if "messages" in request:
        return sum(len(str(m.get("content", "")).split()) for m in request["messages"])
    return len(str(request.get("prompt", "")).split())


def _split(text: str, parts: int) -> list[str]:
    words = text.split(" ")
    size = max(1, -(-len(words) // parts))
    return [" ".join(words[i:i + size]) + (" " if i + size < len(words) else "")
            for i in range(0, len(words), size)]
