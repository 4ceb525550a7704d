"""`serve_app.app:build_app` — the import_path of every deployments/*.yaml.

Reads one router config and binds the whole application: the Classifier,
one deployment per configured model (ModelServer, or Ray Serve LLM's server
for `vllm` models: engines/factory.py), the SemanticCache when enabled, and
the Ingress that receives their handles through its constructor.
"""

from __future__ import annotations

import os

from serve_app.config import load_config
from serve_app.config.loader import resolve_path


def build_app(args: dict):
    """args: {"config": path to a router config}. Raises ConfigError if invalid."""
    path = args.get("config") or os.environ.get("TRIAGE_CONFIG")
    if not path:
        raise ValueError("build_app needs args.config (a router config path) or TRIAGE_CONFIG")
    # Validate before importing any Ray layer: a bad config fails fast, with
    # the same message as `triage validate`.
    cfg = load_config(resolve_path(path))

    from serve_app.classifier.deployment import Classifier
    from serve_app.engines.factory import bind_model
    from serve_app.ingress import build_ingress

    clf = cfg.classifier
    classifier = Classifier.options(
        name="Classifier",
        user_config=clf.batching.model_dump(),
        **clf.deployment.serve_options(),
    ).bind(clf.model_dump(mode="json"))

    models = {m.name: bind_model(m) for m in cfg.models}
    cache = None
    if cfg.cache.enabled:
        from serve_app.cache.deployment import SemanticCache

        cache = SemanticCache.options(name="SemanticCache", **cfg.cache.deployment.serve_options()).bind(
            cfg.cache.model_dump(mode="json"))
    return build_ingress().options(name="Ingress", **cfg.ingress.deployment.serve_options()).bind(
        cfg.model_dump(mode="json"), classifier, models, cache
    )
