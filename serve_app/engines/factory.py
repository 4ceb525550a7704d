"""Configured engine settings -> an Engine instance, and a model config -> its
bound Serve deployment. The one place that knows every backend; heavy
backends are imported only when configured."""

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
    raise ValueError(f"engine {kind!r} is not served by ModelServer (see bind_model)")


def bind_model(model: ModelConfig):
    """The bound deployment that serves one configured model: Ray Serve LLM's
    server for `vllm`, ModelServer (around make_engine) for the rest."""
    if model.engine.type == "vllm":
        from serve_app.engines.vllm_server import vllm_deployment

        return vllm_deployment(model)
    from serve_app.engines.deployment import ModelServer

    return ModelServer.options(name=f"Model:{model.name}", **model.deployment.serve_options()).bind(
        model.model_dump(mode="json"))
