"""A remote OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp server, ...).

The request body goes upstream as the client sent it (unknown fields
included) with only `model` replaced by the remote name; answers come back
with `model` rewritten to the configured Triage name. Every failure becomes
one of the UpstreamError family so the router can tell "try elsewhere now"
(unavailable, overloaded, timeout) from "this model broke" (error).
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import AsyncIterator

import httpx

from serve_app.config.schema import OpenAIEngine as OpenAISettings
from serve_app.engines.base import CallContext
from serve_app.errors import ModelOverloaded, ModelTimeout, ModelUnavailable, UpstreamError

# A health probe must answer fast; it should not wait out a slow model.
HEALTH_TIMEOUT_S = 5.0
_MAX_ERROR_CHARS = 500


class OpenAIEngine:
    def __init__(self, name: str, settings: OpenAISettings, *,
                 transport: httpx.AsyncBaseTransport | None = None):
        self.name = name
        self.settings = settings
        self._transport = transport  # tests inject httpx.MockTransport here
        self._client: httpx.AsyncClient | None = None

    # ------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        # Nothing here may fail on a missing key or a down upstream: the
        # replica must come up and report the problem per call instead.
        if self._client is not None:
            return
        s = self.settings
        self._client = httpx.AsyncClient(
            base_url=s.base_url.rstrip("/") + "/",
            headers=dict(s.headers),
            # Per-read timeout = time allowed without a byte from upstream;
            # the overall first-byte deadline is enforced in _open().
            timeout=httpx.Timeout(s.timeout_s, connect=s.connect_timeout_s),
            transport=self._transport,
        )

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def check_health(self) -> None:
        """Raise ModelUnavailable when the endpoint cannot be reached.

        Any HTTP answer below 500 counts as reachable: 401 (the probe's key is
        judged per call, and some servers guard /models differently), 404
        (servers without /models) and 429 (busy is overload, handled per
        request, not a dead replica) all prove a live server. 5xx or no answer
        does not.
        """
        client = self._require_client()
        headers = {}
        key = os.environ.get(self.settings.api_key_env) if self.settings.api_key_env else None
        if key:
            headers["Authorization"] = f"Bearer {key}"
        timeout = min(HEALTH_TIMEOUT_S, self.settings.connect_timeout_s + self.settings.timeout_s)
        try:
            resp = await client.get("models", headers=headers, timeout=timeout)
        except httpx.HTTPError as exc:
            raise ModelUnavailable(f"{self._where()} unreachable: {_describe(exc)}",
                                   model=self.name) from None
        if resp.status_code >= 500:
            raise ModelUnavailable(f"{self._where()} health probe answered {resp.status_code}",
                                   model=self.name)

    # ---------------------------------------------------------------- calls

    async def chat(self, request: dict, ctx: CallContext | None = None) -> dict:
        return await self._call("chat/completions", request)

    def stream_chat(self, request: dict, ctx: CallContext | None = None) -> AsyncIterator[dict]:
        return self._stream("chat/completions", request)

    async def completions(self, request: dict, ctx: CallContext | None = None) -> dict:
        return await self._call("completions", request)

    def stream_completions(self, request: dict, ctx: CallContext | None = None) -> AsyncIterator[dict]:
        return self._stream("completions", request)

    # ----------------------------------------------------------------- core

    async def _call(self, path: str, request: dict) -> dict:
        # For a non-streamed answer the first byte is the whole answer, so the
        # deadline covers the body too.
        raw = await self._first_byte_deadline(self._fetch(path, request))
        try:
            body = json.loads(raw)
        except ValueError:
            raise UpstreamError(f"{self._where()} answered non-JSON: {raw[:200]!r}",
                                model=self.name) from None
        if not isinstance(body, dict) or "error" in body:
            raise UpstreamError(f"{self._where()} error: {_message(body)}", model=self.name)
        body["model"] = self.name
        return body

    async def _fetch(self, path: str, request: dict) -> bytes:
        resp = await self._open(path, request, stream=False)
        try:
            return await resp.aread()
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        finally:
            await resp.aclose()

    async def _stream(self, path: str, request: dict) -> AsyncIterator[dict]:
        resp, lines, event = await self._first_byte_deadline(self._open_stream(path, request))
        try:
            chunks = 0
            while event is not None:
                chunks += 1
                event["model"] = self.name
                yield event
                event = await self._next_event(lines, chunks)
        finally:
            # Also on an early close by our consumer: dropping the connection
            # is how OpenAI-compatible servers learn to stop generating.
            await resp.aclose()

    async def _open_stream(self, path: str, request: dict):
        """The response, its line iterator and the first event (None: empty stream)."""
        resp = await self._open(path, request, stream=True)
        try:
            lines = resp.aiter_lines()
            return resp, lines, await self._next_event(lines, 0)
        except BaseException:  # including the deadline's cancellation
            await resp.aclose()
            raise

    async def _next_event(self, lines: AsyncIterator[str], chunks: int) -> dict | None:
        """The next SSE data object, or None at [DONE] / a clean end."""
        try:
            async for line in lines:
                if not line.startswith("data:"):
                    continue  # blank separators, ": keep-alive" comments, event:/id: lines
                data = line[5:].strip()
                if data == "[DONE]":
                    return None
                try:
                    event = json.loads(data)
                except ValueError:
                    raise UpstreamError(f"{self._where()} sent a bad stream event: {data[:200]!r}",
                                        model=self.name) from None
                if not isinstance(event, dict) or "error" in event:
                    raise UpstreamError(f"{self._where()} stream error: {_message(event)}",
                                        model=self.name)
                return event
        except httpx.HTTPError as exc:
            if chunks == 0:
                raise self._transport_error(exc) from None
            # After output has gone out there is no falling back, whatever the cause.
            raise UpstreamError(f"{self._where()} stream broke after {chunks} chunks: "
                                f"{_describe(exc)}", model=self.name) from None
        # The connection ended without [DONE]: the stream was cut.
        raise UpstreamError(f"{self._where()} stream ended without [DONE] after {chunks} chunks",
                            model=self.name)

    async def _open(self, path: str, request: dict, *, stream: bool) -> httpx.Response:
        """Send the request; return a response with a 2xx status and an unread body."""
        client = self._require_client()
        body = dict(request)
        body["model"] = self.settings.remote_model
        # The method decides streaming, whatever the client's body said.
        body["stream"] = stream
        if not stream:
            body.pop("stream_options", None)
        headers = {}
        if self.settings.api_key_env:
            key = os.environ.get(self.settings.api_key_env)
            if not key:
                raise ModelUnavailable(
                    f"environment variable {self.settings.api_key_env} (the API key for "
                    f"{self.name!r}) is not set", model=self.name)
            headers["Authorization"] = f"Bearer {key}"
        req = client.build_request("POST", path, json=body, headers=headers)
        try:
            resp = await client.send(req, stream=True)
        except httpx.HTTPError as exc:
            raise self._transport_error(exc) from None
        if resp.status_code >= 400:
            try:
                raw = await resp.aread()
            except httpx.HTTPError:
                raw = b""
            finally:
                await resp.aclose()
            raise self._status_error(resp.status_code, _detail(raw))
        return resp

    async def _first_byte_deadline(self, coro):
        # httpx's read timeout restarts on every byte; this bounds the whole
        # wait for the first byte (a slow trickle of headers included).
        s = self.settings
        try:
            return await asyncio.wait_for(coro, s.connect_timeout_s + s.timeout_s)
        except asyncio.TimeoutError:  # the builtin TimeoutError from 3.11 on
            raise ModelTimeout(f"{self._where()} sent nothing within {s.timeout_s}s",
                               model=self.name) from None

    # --------------------------------------------------------------- errors

    def _status_error(self, status: int, detail: str) -> UpstreamError:
        msg = f"{self._where()} answered {status}" + (f": {detail}" if detail else "")
        if status in (429, 503):
            return ModelOverloaded(msg, model=self.name)
        if status in (408, 504):
            return ModelTimeout(msg, model=self.name)
        if status in (401, 403):
            # The operator's key is wrong or lacks access: no request can succeed.
            return ModelUnavailable(msg, model=self.name)
        return UpstreamError(msg, model=self.name)

    def _transport_error(self, exc: Exception) -> UpstreamError:
        where, what = self._where(), _describe(exc)
        if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
            # Refused, DNS failure or no route: the request never arrived.
            return ModelUnavailable(f"{where} unreachable: {what}", model=self.name)
        if isinstance(exc, httpx.PoolTimeout):
            # Our own connection pool is full: this replica is saturated.
            return ModelOverloaded(f"{where}: no free connection: {what}", model=self.name)
        if isinstance(exc, httpx.TimeoutException):
            return ModelTimeout(f"{where} timed out after {self.settings.timeout_s}s: {what}",
                                model=self.name)
        return UpstreamError(f"{where} failed: {what}", model=self.name)

    def _require_client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise ModelUnavailable(f"engine {self.name!r} is not started", model=self.name)
        return self._client

    def _where(self) -> str:
        return f"{self.name} ({self.settings.base_url})"


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _detail(raw: bytes) -> str:
    try:
        return _message(json.loads(raw))
    except ValueError:
        return raw.decode("utf-8", "replace").strip()[:_MAX_ERROR_CHARS]


def _message(body) -> str:
    """The human part of an OpenAI-style error body, or the body itself."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            return str(err.get("message") or err)[:_MAX_ERROR_CHARS]
        return str(err)[:_MAX_ERROR_CHARS]
    return str(body)[:_MAX_ERROR_CHARS]
