"""The HTTP edge around every route: request ids, the auth gate, one catch-all error path.

`EdgeMiddleware` (pure ASGI, so streams pass through untouched) does, for
every request:
- the request id: a client's `x-request-id` if it is 1-128 characters of
  [A-Za-z0-9._:-], else a fresh one; routes read it from `scope["state"]`;
- auth: with tenants configured, every route needs a tenant key except the
  liveness probe (`/health/live`); `/health` also takes the admin key;
  `/admin/*` always needs the admin key;
- errors: a `TriageError` becomes its OpenAI-shaped body; anything else
  becomes a 500 with the same shape and the request id, a metric and a log
  line. Nothing reaches a client as plain text. After a response has started
  the status cannot change: the error is logged and counted.

With ingress.py, the only module that knows HTTP.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.responses import JSONResponse

from serve_app.auth import AdminKey, TenantResolver
from serve_app.errors import ClientError, NotFound, TriageError

log = logging.getLogger("ray.serve.triage.edge")

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
OPEN_PATHS = ("/health/live",)
JSON_TYPES = ("application/json",)


class InternalError(TriageError):
    """Anything unexpected: the router's fault, said without leaking internals."""

    status = 500
    type = "internal_error"
    code = "internal_error"


@dataclass
class EdgeState:
    """What the middleware needs from the Ingress replica (set in its __init__)."""

    tenants: TenantResolver
    admin: AdminKey
    metrics: object


def request_id(header: str | None) -> str:
    if header and REQUEST_ID.match(header):
        return header
    return f"req-{uuid.uuid4().hex[:16]}"


def error_response(err: TriageError, rid: str) -> JSONResponse:
    headers = {"x-triage-request-id": rid}
    if err.status in (429, 503):
        headers["retry-after"] = "1"
    return JSONResponse(err.body(), status_code=err.status, headers=headers)


def require_json(headers: Headers) -> None:
    media = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media not in JSON_TYPES and not media.endswith("+json"):
        raise UnsupportedMediaType(f"send the body as JSON with content-type: application/json (got {media or 'none'!r})",
                                   param="content-type")


class UnsupportedMediaType(ClientError):
    status = 415
    code = "unsupported_media_type"


class EdgeMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = Headers(scope=scope)
        rid = request_id(headers.get("x-request-id"))
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def tracked(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            self._gate(scope, headers)
            await self.app(scope, receive, tracked)
        except TriageError as err:
            await self._fail(err, rid, started, scope, receive, send)
        except Exception as exc:  # noqa: BLE001 - the one catch-all
            log.exception("request %s failed: %s", rid, type(exc).__name__)
            state = getattr(scope["app"].state, "edge", None)
            if state is not None:
                state.metrics.error(type=type(exc).__name__)
            await self._fail(InternalError(f"internal error ({type(exc).__name__}); request id {rid}"), rid,
                             started, scope, receive, send)

    def _gate(self, scope, headers: Headers) -> None:
        state: EdgeState | None = getattr(scope["app"].state, "edge", None)
        if state is None:
            raise InternalError("the ingress is not initialised")
        path = _route_path(scope)
        scope["state"]["tenant"] = None  # no tenant: open, admin and operator calls
        if path in OPEN_PATHS:
            return
        auth = headers.get("authorization")
        if path.startswith("/admin/"):
            state.admin.check(auth)
        elif not (path == "/health" and state.admin.allows(auth)):
            scope["state"]["tenant"] = state.tenants.tenant(auth)

    async def _fail(self, err: TriageError, rid: str, started: bool, scope, receive, send) -> None:
        if started:
            log.warning("request %s: %s after the response started", rid, err.message)
            return
        await error_response(err, rid)(scope, receive, send)


def not_found(path: str) -> NotFound:
    return NotFound(f"no route {path}; see GET /v1/models and the README's API table", code="unknown_route")


def _route_path(scope) -> str:
    """The path inside this app (Serve mounts apps under a route prefix)."""
    path, root = scope.get("path", ""), scope.get("root_path", "")
    if root and path.startswith(root):
        return path[len(root):] or "/"
    return path
