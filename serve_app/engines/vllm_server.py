"""Ray Serve LLM's `LLMServer`, answering the calls Triage makes of a model.

`TriageLLMServer` is an `LLMServer` (same engine start, health check, Serve
placement and autoscaling) that also implements the ModelDeployment protocol
(engines/base.py: `answer`, `answer_stream`, `ready`) with the dicts
`ModelServer` takes and returns.
The ingress calls it through `RemoteModel` over one handle hop, like any
model; conversion and error mapping happen here, in the model's replica.

Importing this module imports `ray.serve.llm`, which needs vLLM (ray 2.60's
protocol models are vLLM's): `build_app` imports it only when a `vllm` model
is configured.
"""

from __future__ import annotations

from typing import AsyncIterator

from ray.serve.llm import LLMConfig, LLMServer, build_llm_deployment
from ray.serve.llm.openai_api_models import ChatCompletionRequest, CompletionRequest

from serve_app.config.schema import ModelConfig
from serve_app.engines.base import CallContext, Kind
from serve_app.engines.vllm_engine import (
    answer_body,
    deployment_name,
    error_from_exception,
    llm_config_kwargs,
    request_body,
    stream_events,
)
from serve_app.errors import UpstreamError

_REQUESTS = {"chat": ChatCompletionRequest, "completions": CompletionRequest}


def vllm_deployment(model: ModelConfig):
    """The bound Ray Serve LLM deployment of one `vllm` model: LLMServer's
    own deployment options (placement group, health checks) from the
    LLMConfig, named like every model deployment."""
    return build_llm_deployment(
        LLMConfig(**llm_config_kwargs(model)),
        deployment_cls=TriageLLMServer,
        bind_kwargs={"model": model.model_dump(mode="json")},
        override_serve_options={"name": deployment_name(model)},
    )


class TriageLLMServer(LLMServer):
    async def __init__(self, llm_config: LLMConfig, *, model: dict, engine_cls=None):
        self.config = ModelConfig.model_validate(model)
        self.name = self.config.name
        # engine_cls: LLMServer's engine injection point; None is vLLM (or the
        # class named by RAYLLM_VLLM_ENGINE_CLS, which the fake-engine tests use).
        await super().__init__(llm_config, engine_cls=engine_cls)

    # ModelDeployment (engines/base.py), beside LLMServer's own chat and
    # completions, which take its request objects and stay untouched.

    async def answer(self, kind: Kind, request: dict, ctx: CallContext | None = None) -> dict:
        return await self._unary(kind, request)

    async def answer_stream(self, kind: Kind, request: dict, ctx: CallContext | None = None) -> AsyncIterator[dict]:
        async for chunk in self._stream(kind, request):
            yield chunk

    async def ready(self) -> bool:
        await self.check_health()
        return True

    async def _unary(self, kind: str, request: dict) -> dict:
        try:
            gen = await self._run(kind, request, stream=False)
            try:
                async for answer in gen:
                    return answer_body(answer, self.name)
            finally:
                await gen.aclose()
        except Exception as exc:  # noqa: BLE001 - every failure becomes an UpstreamError
            raise error_from_exception(exc, self.name) from None
        raise UpstreamError(f"{self.name} gave no answer", model=self.name)

    async def _stream(self, kind: str, request: dict) -> AsyncIterator[dict]:
        try:
            gen = await self._run(kind, request, stream=True)
        except Exception as exc:  # noqa: BLE001
            raise error_from_exception(exc, self.name) from None
        try:
            async for item in gen:
                for event in stream_events(item, self.name):
                    yield event
        except UpstreamError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise error_from_exception(exc, self.name) from None
        finally:
            # Also when our consumer goes away: closing the engine's stream
            # aborts the request in vLLM.
            await gen.aclose()

    async def _run(self, kind: str, request: dict, *, stream: bool):
        req = _REQUESTS[kind].model_validate(request_body(request, self.config, stream=stream))
        method = LLMServer.chat if kind == "chat" else LLMServer.completions
        return await method(self, req)
