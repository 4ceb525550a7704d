"""The baseline of `triage bench overhead`: HTTP straight to one model.

A minimal FastAPI ingress that parses the JSON body and calls a ModelServer
handle's `chat` with a CallContext: the same deployment type, engine and
handle call the router makes, and nothing else (no validation, classifier,
policy, fallback, headers or decision log). The difference between the two
is the router's work.
"""

# No `from __future__ import annotations`: as in serve_app/ingress.py, the
# class is pickled by value and FastAPI must see a real `Request` type.
import json
import uuid

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from ray import serve

from serve_app.engines.base import CallContext


def build_direct_ingress():
    """The DirectIngress deployment class (built here: nothing at import time)."""
    app = FastAPI(title="Triage bench: direct baseline")

    @serve.deployment
    @serve.ingress(app)
    class DirectIngress:
        def __init__(self, model_name: str, model):
            self.model_name = model_name
            self.model = model

        @app.post("/v1/chat/completions")
        async def chat(self, request: Request) -> Response:
            body = json.loads(await request.body())
            body["model"] = self.model_name
            rid = request.headers.get("x-request-id") or f"req-{uuid.uuid4().hex[:16]}"
            ctx = CallContext(request_id=rid, model=self.model_name)
            answer = await self.model.answer.remote("chat", body, ctx)
            return JSONResponse(answer)

    return DirectIngress


def build_direct_app(config_path: str, model_name: str):
    """Bind DirectIngress -> its own ModelServer for `model_name` of the router config.

    Both deployments take the Serve options the router config gives its own
    Ingress and that model, so the two paths differ only in the code they run.
    """
    from serve_app.config import load_config
    from serve_app.engines.deployment import ModelServer

    cfg = load_config(config_path)
    model = cfg.model(model_name)
    if model is None:
        raise ValueError(f"{config_path} has no model {model_name!r}")
    server = ModelServer.options(name=f"Model:{model.name}", **model.deployment.serve_options()).bind(
        model.model_dump(mode="json")
    )
    ingress = build_direct_ingress().options(name="DirectIngress", **cfg.ingress.deployment.serve_options())
    return ingress.bind(model.name, server)
