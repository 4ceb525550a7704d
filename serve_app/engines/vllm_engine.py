"""The `vllm` engine: a configured model served by Ray Serve LLM.

Triage does not run vLLM itself. Each `vllm` model becomes one Ray Serve LLM
deployment (`ray.serve.llm.LLMServer`, subclassed in `vllm_server.py` so that
it answers the same calls as `ModelServer`); the ingress reaches it through
the same `RemoteModel` as every other model, so fallback, breakers, streaming
and headers are unchanged.

This module is the part that needs neither Ray nor vLLM (unit-tested):
- `llm_config_kwargs`: a Triage model config -> `LLMConfig(**kwargs)`;
- request/answer conversion between Triage's dicts and Ray Serve LLM's
  objects and SSE strings;
- error mapping: Ray Serve LLM's `ErrorResponse`s, vLLM's stream error events
  and engine exceptions -> the `UpstreamError` family. Serve's own
  back-pressure (`max_queued_requests`) and dead replicas are mapped on the
  caller's side by `RemoteModel`, as for every model.
"""

from __future__ import annotations

import asyncio
import json

from serve_app.config.schema import ModelConfig
from serve_app.errors import ModelOverloaded, ModelTimeout, ModelUnavailable, UpstreamError

# engine_kwargs keys that have their own VllmEngine field (or are set by Ray
# Serve LLM from model_loading_config): one place per setting.
_OWN_FIELDS = ("model", "served_model_name", "tensor_parallel_size", "max_model_len",
               "gpu_memory_utilization")
# vLLM exceptions that mean the engine process is gone: the replica's health
# check fails next and Serve replaces it; meanwhile, try another model.
_DEAD_ENGINE = ("EngineDeadError",)
_MAX_MESSAGE = 500


def deployment_name(model: ModelConfig) -> str:
    return f"Model:{model.name}"


def served_name(model: ModelConfig) -> str:
    return model.engine.served_model_name or model.name


def uses_gpu(model: ModelConfig) -> bool:
    d = model.deployment
    return d.num_gpus > 0 or bool(d.accelerator_type)


def llm_config_kwargs(model: ModelConfig) -> dict:
    """Keyword arguments of `ray.serve.llm.LLMConfig` for one `vllm` model.

    - deployment: max_ongoing_requests, max_queued_requests, autoscaling
      (min/max/target/delays) or num_replicas, num_cpus and memory of the
      replica, from the model's `deployment` settings (as for ModelServer);
    - GPUs: `num_gpus` is per engine worker (fractions let small models share
      a GPU) and goes into the placement group, one bundle per
      tensor-parallel rank; `accelerator_type` pins the GPU kind. Without
      GPUs the engine runs on CPU (vLLM's CPU build);
    - engine: tensor_parallel_size, max_model_len, gpu_memory_utilization
      (GPU only) and `engine_kwargs` as given.
    """
    e, d = model.engine, model.deployment
    clash = sorted(set(e.engine_kwargs) & set(_OWN_FIELDS))
    if clash:
        raise ValueError(f"model {model.name!r}: engine_kwargs {clash} have their own "
                         "engine fields (model_source, served_model_name, ...); set them there")
    engine_kwargs: dict = {"tensor_parallel_size": e.tensor_parallel_size}
    if e.max_model_len:
        engine_kwargs["max_model_len"] = e.max_model_len
    if uses_gpu(model):
        engine_kwargs["gpu_memory_utilization"] = e.gpu_memory_utilization
    engine_kwargs.update(e.engine_kwargs)

    kwargs: dict = {
        "model_loading_config": {"model_id": served_name(model), "model_source": e.model_source},
        "engine_kwargs": engine_kwargs,
        "deployment_config": _deployment_config(model),
        # Triage re-yields every chunk over its own handle stream, so Ray Serve
        # LLM's 50 ms stream batching would only delay the first token.
        "experimental_configs": {"stream_batching_interval_ms": 0},
    }
    if e.runtime_env:
        kwargs["runtime_env"] = dict(e.runtime_env)
    if uses_gpu(model):
        if d.accelerator_type:
            kwargs["accelerator_type"] = d.accelerator_type
        kwargs["placement_group_config"] = {"bundle_per_worker": {"GPU": d.num_gpus or 1}}
    else:
        kwargs["accelerator_config"] = {"kind": "cpu"}
    return kwargs


def _deployment_config(model: ModelConfig) -> dict:
    opts = model.deployment.serve_options()
    actor = opts["ray_actor_options"]
    # GPUs and the accelerator live in the engine's placement group, which
    # Ray Serve LLM builds and merges with the replica's own resources.
    actor.pop("num_gpus", None)
    actor.pop("accelerator_type", None)
    return opts


# ------------------------------------------------------------ wire conversion


def request_body(request: dict, model: ModelConfig, *, stream: bool) -> dict:
    """The body for vLLM: the client's fields as sent, with the served model
    name and the streaming flag the method decides."""
    body = dict(request)
    body["model"] = served_name(model)
    body["stream"] = stream
    if not stream:
        body.pop("stream_options", None)
    return body


def answer_body(answer, name: str) -> dict:
    """A non-streamed answer (a pydantic response object, or an error) as a dict."""
    raise_if_error(answer, name)
    body = answer.model_dump(mode="json") if hasattr(answer, "model_dump") else dict(answer)
    if "error" in body or body.get("object") == "error":
        raise error_from_body(body, name)
    body["model"] = name
    return body


def stream_events(item, name: str) -> list[dict]:
    """The chunks in one item of Ray Serve LLM's stream.

    Items are SSE strings (`data: {...}\\n\\n`, possibly several), lists of
    them (LLMServer's batches), or an `ErrorResponse`. `[DONE]` is dropped;
    an error event raises.
    """
    if isinstance(item, (list, tuple)):
        return [e for part in item for e in stream_events(part, name)]
    raise_if_error(item, name)
    if not isinstance(item, (str, bytes)):
        raise UpstreamError(f"{name}: unexpected stream item {type(item).__name__}", model=name)
    text = item.decode() if isinstance(item, bytes) else item
    events = []
    for line in text.splitlines():
        if not line.startswith("data:"):
            continue
        data = line[5:].strip()
        if data == "[DONE]":
            continue
        try:
            event = json.loads(data)
        except ValueError:
            raise UpstreamError(f"{name}: bad stream event {data[:200]!r}", model=name) from None
        if not isinstance(event, dict) or "error" in event or event.get("object") == "error":
            raise error_from_body(event, name)
        event["model"] = name
        events.append(event)
    return events


# ---------------------------------------------------------------- errors


def raise_if_error(item, name: str) -> None:
    """Raise the mapped error if `item` is Ray Serve LLM's `ErrorResponse`."""
    err = getattr(item, "error", None)
    if err is not None and hasattr(err, "message"):
        raise status_error(getattr(err, "code", None), getattr(err, "message", ""), name,
                           kind=getattr(err, "type", ""))


def error_from_body(body, name: str) -> UpstreamError:
    """An OpenAI/vLLM error body: `{"error": {...}}` or the flat `{"object": "error", ...}`."""
    err = body.get("error", body) if isinstance(body, dict) else body
    if not isinstance(err, dict):
        return UpstreamError(f"{name} error: {str(err)[:_MAX_MESSAGE]}", model=name)
    return status_error(err.get("code"), err.get("message", ""), name, kind=err.get("type", ""))


def status_error(code, message: str, name: str, *, kind: str = "") -> UpstreamError:
    """An error answer with an HTTP-like status -> its fallback reason.

    429/503: overloaded; 408/504: timeout; an engine that died: unavailable;
    anything else (400 included: another model may well take a prompt this
    one rejects, e.g. one longer than its max_model_len) is an error.
    """
    try:
        status = int(code)
    except (TypeError, ValueError):
        status = 500
    msg = f"{name} answered {status}" + (f" {kind}" if kind else "") + f": {str(message)[:_MAX_MESSAGE]}"
    if any(dead in f"{kind} {message}" for dead in _DEAD_ENGINE):
        return ModelUnavailable(msg, model=name)
    if status in (429, 503):
        return ModelOverloaded(msg, model=name)
    if status in (408, 504):
        return ModelTimeout(msg, model=name)
    return UpstreamError(msg, model=name)


def error_from_exception(exc: BaseException, name: str) -> UpstreamError:
    """An exception from LLMServer / the vLLM engine -> the UpstreamError family."""
    if isinstance(exc, UpstreamError):
        return exc
    what = f"{type(exc).__name__}: {str(exc)[:_MAX_MESSAGE]}" if str(exc) else type(exc).__name__
    if type(exc).__name__ in _DEAD_ENGINE:
        return ModelUnavailable(f"{name}: engine is dead ({what})", model=name)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return ModelTimeout(f"{name} timed out: {what}", model=name)
    return UpstreamError(f"{name} failed: {what}", model=name)
