"""`serve_app.app:build_app` — the import_path of every deployments/*.yaml.

Reads one router config and binds the whole application: the Classifier,
one deployment per configured model (ModelServer, or Ray Serve LLM's server
for `vllm` models: engines/factory.py), the SemanticCache when enabled
(and not placed in the Ingress), and the Ingress that receives their
handles through its constructor.
"""

from __future__ import annotations

import os

from serve_app.config import load_config
from serve_app.config.loader import load_config_text, resolve_path


def load_router_config(args: dict):
    """args.config_inline (the router YAML as text, as a generated RayService
    carries it), else args.config / TRIAGE_CONFIG (a path)."""
    if args.get("config_inline") is not None:
        return load_config_text(args["config_inline"], "args.config_inline")
    path = args.get("config") or os.environ.get("TRIAGE_CONFIG")
    if not path:
        raise ValueError("build_app needs args.config (a router config path), args.config_inline or TRIAGE_CONFIG")
    return load_config(resolve_path(path))


def build_app(args: dict):
    """args: {"config": path} or {"config_inline": YAML text}. Raises ConfigError if invalid."""
    # Validate before importing any Ray layer: a bad config fails fast, with
    # the same message as `triage validate`.
    cfg = load_router_config(args)

    from serve_app.classifier.deployment import Classifier
    from serve_app.classifier.encoder import classifier_space
    from serve_app.ingress import build_ingress

    clf = cfg.classifier
    # Read from the encoder's files, not assumed: the classifier checks it
    # against the model it loads, the cache sizes (and separates) its vectors by it.
    space = classifier_space(clf)
    learning, memory = _learning(cfg, space)
    classifier = None  # classifier.placement ingress: each Ingress replica runs it
    if clf.placement == "deployment":
        classifier = Classifier.options(
            name="Classifier",
            user_config=clf.batching.model_dump(),
            **clf.deployment.serve_options(),
        ).bind(clf.model_dump(mode="json"), space.dim, learning, memory, cfg.cache.enabled)

    models = {m.name: bind_model(m) for m in cfg.models}
    cache = None
    if cfg.cache.enabled and cfg.cache.placement == "deployment":  # ingress: each Ingress replica holds it
        from serve_app.cache.deployment import SemanticCache

        cache = SemanticCache.options(name="SemanticCache", **cfg.cache.deployment.serve_options()).bind(
            cfg.cache.model_dump(mode="json"), space.dim, space.id)
    return build_ingress().options(name="Ingress", **cfg.ingress.deployment.serve_options()).bind(
        cfg.model_dump(mode="json"), space, classifier, models, cache, memory
    )


def _learning(cfg, space) -> tuple:
    """(learning config, OutcomeMemory handle) for the Classifier's live
    correction and the Ingress' feedback route; (None, None) when learning is off.
    Bound once and handed to both: one deployment, one store."""
    if not cfg.learning.enabled:
        return None, None
    from serve_app.learning.deployment import OutcomeMemory

    memory = OutcomeMemory.options(name="OutcomeMemory", **cfg.learning.deployment.serve_options()).bind(
        cfg.learning.model_dump(mode="json"), space.dim, space.id)
    return cfg.learning.model_dump(mode="json"), memory


def bind_model(model):
    """The bound deployment that serves one configured model: Ray Serve LLM's
    server for `vllm`, ModelServer (around engines/factory.make_engine) for the rest."""
    if model.engine.type == "vllm":
        from serve_app.engines.vllm_server import vllm_deployment

        return vllm_deployment(model)
    from serve_app.engines.deployment import ModelServer

    return ModelServer.options(name=f"Model:{model.name}", **model.deployment.serve_options()).bind(
        model.model_dump(mode="json"))
