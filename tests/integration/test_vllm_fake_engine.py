"""The `vllm` engine on Ray Serve LLM, with a FAKE engine in place of vLLM.

Everything real but the engine: Triage's `build_app` binds Ray Serve LLM's
`LLMServer` (our `TriageLLMServer` subclass) for the `vllm` model, the
ingress reaches it through `RemoteModel`, and `LLMServer` runs
`tests/integration/vllm_fake.py`'s labelled fake engine, selected through
its engine-class hook (RAYLLM_VLLM_ENGINE_CLS, see that module).

Ray 2.60's `ray.serve.llm` cannot be imported without vLLM (or SGLang): its
protocol models are vLLM's, and `openai_api_models` raises ImportError
otherwise (it also needs pyarrow). So this module skips in the main test
environment and runs in the vLLM CPU venv of `tests/vllm_cpu/run.sh`.
"""

import asyncio
import json
from pathlib import Path

import httpx
import pytest

pytest.importorskip("ray.serve.llm", exc_type=ImportError,
                    reason="ray.serve.llm needs vLLM installed (ray 2.60 imports vLLM's protocol models); "
                           "runs in tests/vllm_cpu/run.sh's venv")

from serve_app.engines.base import CallContext  # noqa: E402
from serve_app.engines.remote import RemoteModel  # noqa: E402
from serve_app.errors import ModelOverloaded, ModelTimeout, ModelUnavailable, UpstreamError  # noqa: E402

HERE = Path(__file__).parent
APP, PREFIX, MODEL = "triage-vllm-fake", "/vf", "vllm-fake"
CTX = CallContext(request_id="t", model=MODEL)


@pytest.fixture(scope="module")
def vf_url(base_url) -> str:
    from ray import serve

    from serve_app.app import build_app

    serve.run(build_app({"config": str(HERE / "vllm_fake_router.yaml")}), name=APP, route_prefix=PREFIX)
    return f"{base_url}{PREFIX}"


@pytest.fixture(scope="module")
def remote(vf_url) -> RemoteModel:
    """The adapter the ingress uses, over the same deployment's handle."""
    from ray import serve

    return RemoteModel(MODEL, serve.get_deployment_handle(f"Model:{MODEL}", app_name=APP))


def chat(text, **kw):
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **kw}


def sse_events(r: httpx.Response) -> list[str]:
    return [line.removeprefix("data: ") for line in r.iter_lines() if line]


# --------------------------------------------------------- through the ingress


def test_chat_is_answered_by_the_llm_server(vf_url):
    r = httpx.post(f"{vf_url}/v1/chat/completions", json=chat("hello there"), timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["x-triage-model"] == MODEL and r.headers["x-triage-fallbacks"] == "0"
    body = r.json()
    # The fake engine saw the served name; the client sees the Triage name.
    assert body["choices"][0]["message"]["content"] == "fake vllm (fake-served) heard: hello there"
    assert body["model"] == MODEL


def test_chat_stream_passes_through(vf_url):
    with httpx.stream("POST", f"{vf_url}/v1/chat/completions", json=chat("stream me", stream=True),
                      timeout=60) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = sse_events(r)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == \
        "fake vllm (fake-served) heard: stream me"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert {c["model"] for c in chunks} == {MODEL}


def test_completions_plain_and_streamed(vf_url):
    body = {"model": MODEL, "prompt": "complete this"}
    r = httpx.post(f"{vf_url}/v1/completions", json=body, timeout=60)
    assert r.status_code == 200 and r.json()["choices"][0]["text"].endswith("heard: complete this")
    with httpx.stream("POST", f"{vf_url}/v1/completions", json={**body, "stream": True}, timeout=60) as r:
        events = sse_events(r)
    assert events[-1] == "[DONE]"
    assert "".join(json.loads(e)["choices"][0]["text"] for e in events[:-1]).endswith("heard: complete this")


@pytest.mark.parametrize("prompt", ["fail 503", "fail 400", "fail 504", "engine dead"])
def test_engine_failure_falls_back(vf_url, prompt):
    r = httpx.post(f"{vf_url}/v1/chat/completions", json=chat(prompt), timeout=60)
    assert r.status_code == 200, r.text
    assert r.headers["x-triage-model"] == "backup" and r.headers["x-triage-fallbacks"] == "1"


def test_failure_before_the_first_chunk_falls_back_in_a_stream(vf_url):
    with httpx.stream("POST", f"{vf_url}/v1/chat/completions", json=chat("fail 503", stream=True),
                      timeout=60) as r:
        assert r.status_code == 200 and r.headers["x-triage-model"] == "backup"
        assert sse_events(r)[-1] == "[DONE]"


def test_failure_after_the_first_chunk_ends_the_stream_with_an_error(vf_url):
    with httpx.stream("POST", f"{vf_url}/v1/chat/completions", json=chat("break mid-stream", stream=True),
                      timeout=60) as r:
        assert r.status_code == 200 and r.headers["x-triage-model"] == MODEL
        events = [json.loads(e) for e in sse_events(r) if e != "[DONE]"]
    assert events[0]["choices"][0]["delta"]["content"] == "fake"
    assert "fake failure mid-stream" in events[-1]["error"]["message"]


def test_back_pressure_falls_back(vf_url):
    """One request at a time, a one-deep queue, 1.5 s each: Serve rejects the
    rest of a burst (BackPressureError), which lands on the backup."""

    async def burst():
        async with httpx.AsyncClient(timeout=60) as c:
            return await asyncio.gather(*(c.post(f"{vf_url}/v1/chat/completions", json=chat(f"slow {i}"))
                                          for i in range(5)))

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    models = [r.headers["x-triage-model"] for r in responses]
    assert MODEL in models and "backup" in models


# ------------------------------------------- the error mapping, reason by reason


@pytest.mark.parametrize("prompt, error", [
    ("fail 503", ModelOverloaded), ("fail 429", ModelOverloaded), ("fail 504", ModelTimeout),
    ("fail 400", UpstreamError), ("fail 500", UpstreamError), ("engine dead", ModelUnavailable),
])
def test_errors_map_to_fallback_reasons(remote, prompt, error):
    # What reaches the caller may be Ray's RayTaskError(<that error>) subclass:
    # the reason is what the service's fallback reads.
    with pytest.raises(error) as info:
        asyncio.run(remote.unary("chat", chat(prompt), CTX))
    assert info.value.reason == error.reason and info.value.model == MODEL

    async def first_chunk():
        async for chunk in remote.stream("chat", chat(prompt), CTX):
            return chunk

    with pytest.raises(error) as info:
        asyncio.run(first_chunk())
    assert info.value.reason == error.reason


def test_serve_back_pressure_is_overloaded(remote):
    async def burst():
        return await asyncio.gather(*(remote.unary("chat", chat(f"slow {i}"), CTX) for i in range(4)),
                                    return_exceptions=True)

    results = asyncio.run(burst())
    assert any(isinstance(r, dict) for r in results)
    assert any(isinstance(r, ModelOverloaded) for r in results), results


def test_ready_reports_the_engine_health(remote):
    assert asyncio.run(remote.ready()) is True


# ------------------------------- what Ray Serve LLM makes of a Triage config


def test_ray_serve_llm_places_a_gpu_model_as_configured(ray_session):
    """LLMConfig and LLMServer's own deployment options from a Triage GPU
    model: two tensor-parallel ranks on 0.5 of an L4 each, autoscaling."""
    from ray.serve.llm import LLMConfig

    from serve_app.config.schema import ModelConfig
    from serve_app.engines.vllm_engine import llm_config_kwargs
    from serve_app.engines.vllm_server import TriageLLMServer

    model = ModelConfig.model_validate({
        "name": "qwen", "tiers": ["slm"],
        "engine": {"type": "vllm", "model_source": "Qwen/Qwen2.5-0.5B-Instruct", "tensor_parallel_size": 2,
                   "gpu_memory_utilization": 0.4, "engine_kwargs": {"enable_prefix_caching": True}},
        "deployment": {"num_cpus": 1, "num_gpus": 0.5, "accelerator_type": "L4", "max_ongoing_requests": 32,
                       "max_queued_requests": 64,
                       "autoscaling": {"min_replicas": 1, "max_replicas": 3, "target_ongoing_requests": 16}}})
    cfg = LLMConfig(**llm_config_kwargs(model))
    engine = cfg.get_engine_config()
    assert engine.engine_kwargs["tensor_parallel_size"] == 2
    assert engine.engine_kwargs["enable_prefix_caching"] is True
    opts = TriageLLMServer.get_deployment_options(cfg)
    # The replica's CPU joins the first rank's bundle; each rank holds half an L4.
    assert opts["placement_group_bundles"] == [
        {"GPU": 0.5, "CPU": 1, "accelerator_type:L4": 0.001}, {"GPU": 0.5, "accelerator_type:L4": 0.001}]
    assert opts["max_ongoing_requests"] == 32 and opts["max_queued_requests"] == 64
    assert opts["autoscaling_config"]["target_ongoing_requests"] == 16
    assert opts["autoscaling_config"]["max_replicas"] == 3
    assert "num_gpus" not in opts["ray_actor_options"]


def test_every_vllm_model_of_the_shipped_configs_is_a_valid_llm_config(monkeypatch):
    """vLLM itself checks the engine_kwargs (an unknown one is an error)."""
    from ray.serve.llm import LLMConfig

    from serve_app.config import load_config
    from serve_app.engines.vllm_engine import llm_config_kwargs

    monkeypatch.setenv("TRIAGE_GPU_MODEL_A", "/models/a")
    monkeypatch.setenv("TRIAGE_GPU_MODEL_B", "/models/b")
    root = HERE.parent.parent
    checked = 0
    for path in sorted((root / "deployments" / "router").glob("*.yaml")) + [root / "tests/gpu/router.yaml"]:
        for model in load_config(path).models:
            if model.engine.type == "vllm":
                LLMConfig(**llm_config_kwargs(model)).get_engine_config()
                checked += 1
    assert checked > 0
