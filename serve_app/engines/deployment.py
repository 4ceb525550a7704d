"""The tier deployment: one Ray Serve deployment per configured model.

It owns one engine and answers the router's calls (the ModelDeployment
protocol in engines/base.py). Engine
errors are `UpstreamError`s and cross the handle as such; Serve's own
back-pressure and replica failures are mapped on the caller's side
(`engines/remote.py`).
"""

from __future__ import annotations

from typing import AsyncIterator

from ray import serve

from serve_app.config.schema import ModelConfig
from serve_app.engines.base import CallContext, Kind
from serve_app.engines.factory import make_engine


@serve.deployment
class ModelServer:
    async def __init__(self, model: dict):
        self.config = ModelConfig.model_validate(model)
        self.engine = make_engine(self.config)
        await self.engine.start()

    # ModelDeployment (engines/base.py): the calls the router makes.

    async def answer(self, kind: Kind, request: dict, ctx: CallContext) -> dict:
        if kind == "chat":
            return await self.engine.chat(request, ctx)
        return await self.engine.completions(request, ctx)

    async def answer_stream(self, kind: Kind, request: dict, ctx: CallContext) -> AsyncIterator[dict]:
        chunks = self.engine.stream_chat(request, ctx) if kind == "chat" else \
            self.engine.stream_completions(request, ctx)
        async for chunk in chunks:
            yield chunk

    # No Serve `check_health` hook on purpose: a remote endpoint that is down or
    # a missing API key would make Serve restart this replica in a loop, which
    # fixes neither. Calls fail with ModelUnavailable (-> fallback) and /health
    # reports the model as down through `ready`.

    async def ready(self) -> bool:
        await self.engine.check_health()
        return True
