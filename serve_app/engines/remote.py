"""Calling a tier deployment through its Serve handle.

Turns Serve's failure modes into the router's fallback reasons, so the
service layer sees only `UpstreamError`s:
- BackPressureError (max_queued_requests exceeded) -> overloaded;
- no replica / replica died -> unavailable;
- an engine's own UpstreamError passes through as itself.
"""

from __future__ import annotations

from typing import AsyncIterator

import ray.exceptions
from ray.serve.exceptions import BackPressureError, DeploymentUnavailableError, ReplicaUnavailableError

from serve_app.engines.base import CallContext, Kind
from serve_app.errors import ModelOverloaded, ModelUnavailable, UpstreamError


class RemoteModel:
    """unary/stream callables over one model's DeploymentHandle, which serves
    the ModelDeployment protocol (engines/base.py)."""

    def __init__(self, name: str, handle):
        self.name = name
        self.handle = handle
        self.stream_handle = handle.options(stream=True)

    async def unary(self, kind: Kind, request: dict, ctx: CallContext) -> dict:
        try:
            return await self.handle.answer.remote(kind, request, ctx)
        except Exception as exc:
            raise self._map(exc) from exc

    async def stream(self, kind: Kind, request: dict, ctx: CallContext) -> AsyncIterator[dict]:
        gen = self.stream_handle.answer_stream.remote(kind, request, ctx)
        try:
            async for chunk in gen:
                yield chunk
        except Exception as exc:
            raise self._map(exc) from exc
        finally:
            # A client that went away must not leave the model generating.
            gen.cancel()

    async def ready(self) -> bool:
        try:
            return bool(await self.handle.ready.remote())
        except Exception:  # noqa: BLE001 - any failure means not ready
            return False

    def _map(self, exc: Exception) -> UpstreamError:
        if isinstance(exc, UpstreamError):
            return exc
        if isinstance(exc, ray.exceptions.RayTaskError) and isinstance(exc.cause, UpstreamError):
            return exc.cause
        if isinstance(exc, BackPressureError):
            return ModelOverloaded(f"model {self.name} is at its queue limit", model=self.name)
        if isinstance(exc, (DeploymentUnavailableError, ReplicaUnavailableError,
                            ray.exceptions.ActorDiedError, ray.exceptions.ActorUnavailableError)):
            return ModelUnavailable(f"model {self.name} is unavailable: {type(exc).__name__}", model=self.name)
        return UpstreamError(f"model {self.name} failed: {type(exc).__name__}: {exc}", model=self.name)
