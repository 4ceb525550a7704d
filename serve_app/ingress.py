"""The HTTP routes: FastAPI on a Serve ingress deployment.

With edge.py (request ids, auth gate, the catch-all error path), the only
module that knows HTTP. Routes parse bodies and headers and hand requests to
`RouterService`; every error leaves as an OpenAI-shaped body.
"""

# No `from __future__ import annotations` here: the Ingress class is pickled
# by value into its replicas, and FastAPI must see real `Request` objects in
# the route signatures, not strings it cannot resolve there.
import asyncio
import json
import logging
import time

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from ray import serve
from starlette.exceptions import HTTPException

from serve_app.auth import AdminKey, TenantResolver
from serve_app.cache.plan import CACHE_CONTROLS
from serve_app.cache.remote import RemoteCache
from serve_app.classifier.remote import RemoteClassifier
from serve_app.config.schema import TIERS, RouterConfig
from serve_app.edge import EdgeMiddleware, EdgeState, error_response, not_found, require_json
from serve_app.engines.remote import RemoteModel
from serve_app.errors import ClientError, NotFound, PayloadTooLarge, TriageError
from serve_app.escalation.webhook import Webhook
from serve_app.health import health_report
from serve_app.learning.adjust import Adjustments
from serve_app.learning.feedback import FeedbackRequest, RateLimited, TenantBuckets, parse_header
from serve_app.learning.remote import RemoteLearning
from serve_app.metrics import RayMetrics
from serve_app.protocol import ChatRequest, CompletionRequest, parse_body
from serve_app.report import DecisionLog
from serve_app.service import RequestMeta, RouterService


def _body_schema(model) -> dict:
    """The OpenAPI request body of a route that parses its own body (to name
    the field at fault in OpenAI's error shape): documented, and what the
    schemathesis fuzz test generates requests from."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def build_ingress():
    """The Ingress deployment class. Built in a function so that importing
    this module creates nothing (no FastAPI app at import time)."""
    app = FastAPI(title="Triage", version="0.1.0")
    app.add_middleware(EdgeMiddleware)

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        # Unknown routes and methods: OpenAI's error shape too, not {"detail": ...}.
        err = not_found(request.url.path) if exc.status_code == 404 else \
            ClientError(str(exc.detail), code="method_not_allowed" if exc.status_code == 405 else None)
        err.status = exc.status_code
        return error_response(err, request.state.request_id)

    @serve.deployment
    @serve.ingress(app)
    class Ingress:
        async def __init__(self, config: dict, space, classifier, models: dict, cache=None, memory=None):
            """space: the classifier's EmbeddingSpace, read once by build_app
            (the classifier's vector size, the cache's keys)."""
            self.config = RouterConfig.model_validate(config)
            self.metrics = RayMetrics()
            self.classifier, self.local_classifier = _classifier(self.config, space, classifier, memory, self.metrics)
            self.models = {name: RemoteModel(name, h) for name, h in models.items()}
            self.cache, self.local_cache = await _semantic_cache(self.config, space, cache, self.metrics)
            log_cfg = self.config.ingress.decision_log
            self.decision_log = DecisionLog(log_cfg, _replica_name()) if log_cfg.destination != "off" else None
            self.learning = RemoteLearning(memory) if memory is not None else None
            limit = self.config.learning.feedback_limit
            self.feedback_limit = TenantBuckets(limit.per_second, limit.burst)
            esc = self.config.escalation
            self.service = RouterService(self.config, self.classifier.classify, self.models, self.metrics,
                                         cache=self.cache, decision_log=self.decision_log,
                                         privacy=_privacy_guard(self.config, self.metrics), learning=self.learning,
                                         webhook=Webhook(esc.webhook) if esc.enabled else None)
            app.state.edge = EdgeState(TenantResolver(self.config.auth), AdminKey(self.config.admin.key_env),
                                       self.metrics)
            self._health: tuple[float, int, dict] | None = None

        async def __del__(self):
            """cache.placement ingress: finish this replica's pending cache
            writes and close its store (the embedded shard flushes and frees
            its directory for the replica that replaces this one)."""
            local = getattr(self, "local_cache", None)  # None too if __init__ failed before it
            if local is not None:
                if hasattr(self, "service"):
                    await self.service.drain_writes()
                await local.close()

        def reconfigure(self, user_config: dict) -> None:
            """classifier.placement ingress: the learned adjustments `triage
            learn` promotes ({"adjustments": ...}, as the Classifier
            deployment takes them), put in force without a restart."""
            user_config = user_config or {}
            unknown = set(user_config) - {"adjustments"}
            if unknown:
                raise ValueError(f"unknown Ingress user_config keys: {sorted(unknown)}")
            if self.local_classifier is None:
                if user_config.get("adjustments"):
                    raise ValueError("adjustments go to the Classifier deployment (classifier.placement: deployment)")
                return
            # Validated before anything changes: a bad version leaves the old one in force.
            self.local_classifier.adopt(Adjustments.from_config(user_config.get("adjustments"),
                                                                self.local_classifier.encoder.dim))

        @app.post("/v1/chat/completions", openapi_extra=_body_schema(ChatRequest))
        async def chat(self, request: Request) -> Response:
            return await self._route(request, "chat", ChatRequest)

        @app.post("/v1/completions", openapi_extra=_body_schema(CompletionRequest))
        async def completions(self, request: Request) -> Response:
            return await self._route(request, "completions", CompletionRequest)

        @app.post("/v1/feedback", openapi_extra=_body_schema(FeedbackRequest))
        async def feedback(self, request: Request) -> dict:
            """Rate an answer: {"request_id", "outcome": "good"|"bad"|0..1, "reason"?, "better_tier"?}."""
            if self.learning is None:
                raise NotFound("learning from outcomes is not enabled in this router's config (learning.enabled)",
                               code="learning_disabled")
            require_json(request.headers)
            fb = parse_body(await _read_body(request, self.config.limits.max_body_bytes), FeedbackRequest,
                            self.config.limits.max_body_bytes)
            tenant = request.state.tenant or "default"
            self._limit(tenant)
            status = await self.learning.feedback(tenant, fb.request_id, fb.score, fb.reason, fb.better_tier)
            return {"request_id": fb.request_id, "status": status}

        def _limit(self, tenant: str) -> None:
            try:
                self.feedback_limit.take(tenant)
            except RateLimited:
                self.metrics.feedback(status="rate_limited")
                raise

        def _feedback_header(self, request: Request, tenant: str) -> None:
            """`x-triage-feedback: <request_id>=bad` on a later request rates an earlier answer."""
            value = request.headers.get("x-triage-feedback")
            if value is None:
                return
            rid, score = parse_header(value)
            if self.learning is None:
                raise NotFound("learning from outcomes is not enabled in this router's config (learning.enabled)",
                               param="x-triage-feedback", code="learning_disabled")
            self._limit(tenant)
            task = asyncio.create_task(self.learning.feedback(tenant, rid, score))
            task.add_done_callback(_log_failure)

        @app.get("/v1/models")
        async def list_models(self) -> dict:
            created = 0
            data = [{"id": "auto", "object": "model", "created": created, "owned_by": "triage",
                     "tiers": list(TIERS)}]
            for m in self.config.models:
                data.append({"id": m.name, "object": "model", "created": created, "owned_by": "triage",
                             "tiers": list(m.tiers), "locality": m.locality,
                             "capabilities": list(m.capabilities), "engine": m.engine.type})
            return {"object": "list", "data": data}

        @app.get("/health/live")
        async def live(self) -> dict:
            """Liveness: this replica answers HTTP. Open, says nothing else."""
            return {"status": "alive"}

        @app.get("/health")
        async def health(self) -> Response:
            """Readiness detail: classifier and one model per tier up (a tenant or the admin key)."""
            now = time.monotonic()
            if self._health is None or now - self._health[0] > self.config.ingress.health_ttl_s:
                status, body = await self._check_health()
                self._health = (now, status, body)
            _, status, body = self._health
            return JSONResponse(body, status_code=status)

        @app.post("/admin/cache/invalidate")
        async def cache_invalidate(self, request: Request) -> dict:
            """Body: {"tenant": ..., "model": ...}; both optional, at least one required."""
            cache = self._cache()
            require_json(request.headers)
            body = parse_json_object(await _read_body(request, self.config.limits.max_body_bytes))
            if not (body.get("tenant") or body.get("model")):
                raise ClientError("give tenant and/or model (use /admin/cache/flush to drop everything)",
                                  param="tenant")
            return {"deleted": await cache.invalidate(body.get("tenant"), body.get("model"))}

        @app.post("/admin/cache/flush")
        async def cache_flush(self) -> dict:
            return {"deleted": await self._cache().invalidate(None, None)}

        @app.get("/admin/cache/stats")
        async def cache_stats(self) -> dict:
            return await self._cache().stats()

        def _cache(self) -> RemoteCache:
            if self.cache is None:
                raise NotFound("the semantic cache is not enabled in this router's config", code="cache_disabled")
            return self.cache

        async def _check_health(self) -> tuple[int, dict]:
            names = list(self.models)
            results = await asyncio.gather(self.classifier.ready(),
                                           *(self.models[n].ready() for n in names))
            up = {n for n, ok in zip(names, results[1:]) if ok}
            return health_report(self.config, results[0], up)

        async def _route(self, request: Request, kind: str, wire_type) -> Response:
            rid = request.state.request_id
            meta = self._meta(request, rid)
            self._feedback_header(request, meta.tenant)
            require_json(request.headers)
            raw = await _read_body(request, self.config.limits.max_body_bytes)
            req = parse_body(raw, wire_type, self.config.limits.max_body_bytes)
            try:
                routed = await self.service.route(kind, req, meta)
            except TriageError as err:
                return error_response(err, rid)
            headers = routed.headers(rid)
            if routed.stream is not None:
                return StreamingResponse(routed.stream, media_type="text/event-stream", headers=headers)
            return JSONResponse(routed.body, status_code=routed.status, headers=headers)

        def _meta(self, request: Request, rid: str) -> RequestMeta:
            h = request.headers
            return RequestMeta(
                request_id=rid,
                tenant=request.state.tenant,
                forced_tier=h.get("x-triage-tier"),
                latency_class=_choice(h.get("x-triage-latency"), ("interactive", "batch"), "x-triage-latency"),
                max_cost_per_mtok=_number(h.get("x-triage-budget"), "x-triage-budget"),
                cache_control=_choice(h.get("x-triage-cache"), CACHE_CONTROLS, "x-triage-cache"),
                reasoning=_choice(h.get("x-triage-reasoning"), ("on", "off", "auto"), "x-triage-reasoning"),
                quality_target=_unit_number(h.get("x-triage-quality"), "x-triage-quality"),
                escalate=_choice(h.get("x-triage-escalate"), ("true", "false"), "x-triage-escalate") == "true",
            )

    return Ingress


def _log_failure(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        logging.getLogger("ray.serve.triage.learning").warning("header feedback not stored: %s", task.exception())


def _classifier(cfg: RouterConfig, space, handle, memory, metrics) -> tuple:
    """(classifier, LocalClassifier or None): the Classifier deployment's
    handle, or (classifier.placement: ingress) a LocalClassifier in this
    replica, with the live correction from the OutcomeMemory when learning
    is on; both behind the same fail-closed timeout."""
    clf = cfg.classifier
    if clf.placement == "deployment":
        return RemoteClassifier.over_handle(handle, cfg.policy, clf.timeout_s), None
    from serve_app.classifier.local import Batcher, LocalClassifier

    local = LocalClassifier(clf, metrics, space.dim, cfg.learning if memory is not None else None,
                            memory, cache_vectors=cfg.cache.enabled)
    batch = Batcher(local.classify_batch, clf.batching.max_batch_size)
    remote = RemoteClassifier(lambda text, tenant: batch((text, tenant)), _always_ready, cfg.policy, clf.timeout_s)
    return remote, local


async def _semantic_cache(cfg: RouterConfig, space, handle, metrics) -> tuple:
    """(cache, CacheService or None): None when the cache is off; the
    SemanticCache deployment's handle; or (cache.placement: ingress) a
    CacheService in this replica, started here. Both behind the same
    lookup timeout, a failure being a miss."""
    if not cfg.cache.enabled:
        return None, None
    if cfg.cache.placement == "deployment":
        return RemoteCache.over_handle(handle, cfg.cache.lookup_timeout_s), None
    from serve_app.cache.service import CacheService

    local = CacheService(cfg.cache, space.dim, space.id, metrics)
    await local.start()
    return RemoteCache(local, cfg.cache.lookup_timeout_s), local


async def _always_ready() -> bool:
    return True


def _privacy_guard(cfg: RouterConfig, metrics):
    """The privacy detector, only where it can matter: with a cloud model configured."""
    if not cfg.privacy.enabled or not any(m.locality == "cloud" for m in cfg.models):
        return None
    from serve_app.privacy.guard import PrivacyGuard

    return PrivacyGuard(cfg.privacy.detector, cfg.privacy.timeout_s, metrics)


def _replica_name() -> str:
    """This replica's unique id (names its decision-log file)."""
    try:
        return serve.get_replica_context().replica_id.unique_id
    except Exception:  # noqa: BLE001 - outside a replica (tests)
        return ""


def parse_json_object(raw: bytes) -> dict:
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        raise ClientError("body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ClientError("body must be a JSON object")
    return body


async def _read_body(request: Request, limit: int) -> bytes:
    """Read at most `limit`+1 bytes, so a huge body is refused without buffering it."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is {declared} bytes; the limit is {limit}")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"request body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _choice(value: str | None, allowed: tuple[str, ...], header: str) -> str | None:
    if value is None:
        return None
    if value not in allowed:
        raise ClientError(f"{header} must be one of {', '.join(allowed)} (got {value[:64]!r})", param=header)
    return value


def _number(value: str | None, header: str) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        raise ClientError(f"{header} must be a number (got {value[:64]!r})", param=header) from None
    if not number >= 0 or number == float("inf"):
        raise ClientError(f"{header} must be a finite number >= 0 (got {value[:64]!r})", param=header)
    return number


def _unit_number(value: str | None, header: str) -> float | None:
    number = _number(value, header)
    if number is not None and number > 1:
        raise ClientError(f"{header} must be between 0 and 1 (got {value[:64]!r})", param=header)
    return number
