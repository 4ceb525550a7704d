"""Configured engine settings -> an Engine instance: the one place that knows
every ModelServer backend; heavy backends are imported only when configured.
(Which deployment serves a model, ModelServer or Ray Serve LLM's, is decided
where the app is wired: serve_app/app.py.)"""

from __future__ import annotations

from serve_app.config.schema import ModelConfig


def make_engine(model: ModelConfig):
    kind = model.engine.type
    if kind == "dry_run":
        from serve_app.engines.dry_run import DryRunEngine

        return DryRunEngine(model.name, model.engine)
    if kind == "transformers":
        from serve_app.engines.transformers_engine import TransformersEngine

        return TransformersEngine(model.name, model.engine)
    if kind == "openai":
        from serve_app.engines.openai_engine import OpenAIEngine

        return OpenAIEngine(model.name, model.engine)
    raise ValueError(f"engine {kind!r} is not served by ModelServer (see serve_app.app.bind_model)")
