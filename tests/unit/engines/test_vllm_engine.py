"""The vllm engine's pure half: Triage config -> LLMConfig kwargs, wire
conversion and error mapping (serve_app/engines/vllm_engine.py). No Ray, no
vLLM: Ray Serve LLM itself reads these kwargs in
tests/integration/test_vllm_fake_engine.py (vLLM venv)."""

import asyncio
from types import SimpleNamespace

import pytest

from serve_app.config.schema import ModelConfig
from serve_app.engines.vllm_engine import (
    answer_body,
    deployment_name,
    error_from_body,
    error_from_exception,
    llm_config_kwargs,
    request_body,
    status_error,
    stream_events,
)
from serve_app.errors import ModelOverloaded, ModelTimeout, ModelUnavailable, UpstreamError


def vllm_model(engine=None, deployment=None, **kw) -> ModelConfig:
    return ModelConfig.model_validate({
        "name": "qwen-small", "tiers": ["slm"],
        "engine": {"type": "vllm", "model_source": "Qwen/Qwen2.5-0.5B-Instruct", **(engine or {})},
        "deployment": {"max_ongoing_requests": 24, "max_queued_requests": 48, "num_cpus": 2,
                       "autoscaling": {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 12,
                                       "upscale_delay_s": 10, "downscale_delay_s": 300},
                       **(deployment or {})},
        **kw,
    })


# ------------------------------------------------------------- LLMConfig


def test_deployment_settings_become_serve_options():
    dc = llm_config_kwargs(vllm_model(deployment={"memory_gb": 8}))["deployment_config"]
    assert dc["max_ongoing_requests"] == 24 and dc["max_queued_requests"] == 48
    assert dc["autoscaling_config"] == {"min_replicas": 1, "max_replicas": 4, "target_ongoing_requests": 12,
                                        "upscale_delay_s": 10, "downscale_delay_s": 300}
    assert dc["ray_actor_options"] == {"num_cpus": 2, "memory": 8 * 1024**3}
    assert "num_replicas" not in dc  # autoscaling and num_replicas exclude each other in Serve


def test_cpu_model_runs_on_vllms_cpu_backend():
    kw = llm_config_kwargs(vllm_model())
    assert kw["accelerator_config"] == {"kind": "cpu"}
    assert "accelerator_type" not in kw and "placement_group_config" not in kw
    # No GPU: gpu_memory_utilization would mean nothing.
    assert kw["engine_kwargs"] == {"tensor_parallel_size": 1}


def test_gpu_model_places_each_worker_on_a_gpu_fraction():
    kw = llm_config_kwargs(vllm_model(engine={"gpu_memory_utilization": 0.4},
                                      deployment={"num_gpus": 0.45, "accelerator_type": "L4"}))
    assert kw["accelerator_type"] == "L4"
    assert kw["placement_group_config"] == {"bundle_per_worker": {"GPU": 0.45}}
    assert "accelerator_config" not in kw
    assert kw["engine_kwargs"]["gpu_memory_utilization"] == 0.4
    # The GPUs live in the engine's placement group, not on the replica actor.
    assert kw["deployment_config"]["ray_actor_options"] == {"num_cpus": 2}


def test_tensor_parallel_gets_one_bundle_per_rank():
    kw = llm_config_kwargs(vllm_model(engine={"tensor_parallel_size": 4},
                                      deployment={"num_gpus": 1, "accelerator_type": "H100"}))
    assert kw["engine_kwargs"]["tensor_parallel_size"] == 4
    # Ray Serve LLM repeats bundle_per_worker tensor_parallel_size times.
    assert kw["placement_group_config"] == {"bundle_per_worker": {"GPU": 1}}


def test_accelerator_type_alone_means_one_gpu_per_worker():
    kw = llm_config_kwargs(vllm_model(deployment={"accelerator_type": "A10G"}))
    assert kw["placement_group_config"] == {"bundle_per_worker": {"GPU": 1}}


def test_engine_settings_and_names():
    m = vllm_model(engine={"served_model_name": "qwen2.5-0.5b", "max_model_len": 4096,
                           "engine_kwargs": {"enforce_eager": True, "dtype": "bfloat16"},
                           "runtime_env": {"env_vars": {"VLLM_CPU_KVCACHE_SPACE": "2"}}})
    kw = llm_config_kwargs(m)
    assert kw["model_loading_config"] == {"model_id": "qwen2.5-0.5b", "model_source": "Qwen/Qwen2.5-0.5B-Instruct"}
    assert kw["engine_kwargs"] == {"tensor_parallel_size": 1, "max_model_len": 4096,
                                   "enforce_eager": True, "dtype": "bfloat16"}
    assert kw["runtime_env"] == {"env_vars": {"VLLM_CPU_KVCACHE_SPACE": "2"}}
    assert kw["experimental_configs"] == {"stream_batching_interval_ms": 0}
    assert deployment_name(m) == "Model:qwen-small"
    # Without served_model_name vLLM serves under the Triage name.
    assert llm_config_kwargs(vllm_model())["model_loading_config"]["model_id"] == "qwen-small"


@pytest.mark.parametrize("key", ["tensor_parallel_size", "max_model_len", "model", "served_model_name"])
def test_engine_kwargs_may_not_shadow_a_field(key):
    with pytest.raises(ValueError, match=key):
        llm_config_kwargs(vllm_model(engine={"engine_kwargs": {key: 2}}))


def test_vllm_model_must_state_autoscaling_targets():
    with pytest.raises(ValueError, match="target_ongoing_requests"):
        vllm_model(deployment={"autoscaling": {"min_replicas": 1, "max_replicas": 2}})


# ------------------------------------------------------------ wire conversion


def test_request_body_keeps_client_fields_and_sets_model_and_stream():
    req = {"model": "qwen-small", "messages": [], "temperature": 0.2, "stream_options": {"include_usage": True},
           "chat_template_kwargs": {"enable_thinking": False}, "some_new_field": 1}
    plain = request_body(req, vllm_model(engine={"served_model_name": "served"}), stream=False)
    assert plain["model"] == "served" and plain["stream"] is False and "stream_options" not in plain
    assert plain["chat_template_kwargs"] == {"enable_thinking": False} and plain["some_new_field"] == 1
    streamed = request_body(req, vllm_model(), stream=True)
    assert streamed["stream"] is True and streamed["stream_options"] == {"include_usage": True}
    assert req["model"] == "qwen-small"  # the caller's dict is not changed


class FakeResponse:
    """Stands in for a pydantic response object of Ray Serve LLM (a fake)."""

    def __init__(self, **body):
        self.body = body

    def model_dump(self, mode="python"):
        return dict(self.body)


class FakeErrorResponse:
    """Shaped like Ray Serve LLM's ErrorResponse: .error.{message,type,code} (a fake)."""

    def __init__(self, code, message="boom", kind="BadRequestError"):
        self.error = SimpleNamespace(message=message, type=kind, code=code)


def test_answer_body_renames_the_model():
    body = answer_body(FakeResponse(id="c1", model="served", choices=[]), "qwen-small")
    assert body == {"id": "c1", "model": "qwen-small", "choices": []}


def test_answer_body_raises_on_error_response():
    with pytest.raises(ModelOverloaded):
        answer_body(FakeErrorResponse(503), "m")
    with pytest.raises(UpstreamError, match="answered 400 BadRequestError: too long"):
        answer_body(FakeErrorResponse(400, "too long"), "m")


def test_stream_events_parse_batches_and_drop_done():
    item = ['data: {"id": "a", "model": "served", "choices": [{"delta": {"content": "Hi"}}]}\n\n',
            'data: {"id": "a", "model": "served", "choices": []}\n\ndata: [DONE]\n\n']
    events = stream_events(item, "qwen-small")
    assert [e["id"] for e in events] == ["a", "a"] and {e["model"] for e in events} == {"qwen-small"}
    assert stream_events("data: [DONE]\n\n", "m") == []


@pytest.mark.parametrize("item, error", [
    ('data: {"error": {"message": "x", "type": "T", "code": 503}}\n\n', ModelOverloaded),
    ('data: {"object": "error", "message": "x", "type": "T", "code": 400}\n\n', UpstreamError),
    ("data: {not json\n\n", UpstreamError),
    (12, UpstreamError),
])
def test_stream_error_events_raise(item, error):
    with pytest.raises(error):
        stream_events(item, "m")


def test_stream_error_response_object_raises():
    with pytest.raises(ModelTimeout):
        stream_events([FakeErrorResponse(504)], "m")


# ----------------------------------------------------------------- errors


@pytest.mark.parametrize("code, error", [
    (429, ModelOverloaded), (503, ModelOverloaded), (408, ModelTimeout), (504, ModelTimeout),
    (400, UpstreamError), (500, UpstreamError), (None, UpstreamError), ("bad", UpstreamError),
])
def test_status_codes_map_to_fallback_reasons(code, error):
    err = status_error(code, "msg", "m")
    assert type(err) is error and err.model == "m"


def test_dead_engine_in_an_error_answer_is_unavailable():
    err = error_from_body({"error": {"message": "EngineDeadError: EngineCore died", "type": "x", "code": 500}}, "m")
    assert type(err) is ModelUnavailable


def test_exceptions_map_to_fallback_reasons():
    class EngineDeadError(Exception):
        """Named like vLLM's (a fake)."""

    assert type(error_from_exception(EngineDeadError("core died"), "m")) is ModelUnavailable
    assert type(error_from_exception(asyncio.TimeoutError(), "m")) is ModelTimeout
    assert type(error_from_exception(RuntimeError("x"), "m")) is UpstreamError
    already = ModelOverloaded("busy", model="m")
    assert error_from_exception(already, "m") is already
