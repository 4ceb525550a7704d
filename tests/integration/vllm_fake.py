"""FAKE engine for Ray Serve LLM: no vLLM engine, no weights. For tests only.

`FakeLLMEngine` implements Ray Serve LLM's engine protocol
(`ray.llm._internal.serve.core.engine.protocol.LLMEngine`) and is put in
place of vLLM through LLMServer's engine-class hook: the
`RAYLLM_VLLM_ENGINE_CLS` environment variable that
`LLMServer._get_default_engine_class` reads in the replica (ray 2.60,
ray/llm/_internal/serve/core/server/llm_server.py; "used for testing or
escape-hatch for patching purposes"). The test router config sets it in the
model's `runtime_env`, so Triage's own `build_app` path is what is tested.

It answers like Ray Serve LLM's VLLMEngine does: a response object for a
non-streamed call, `data: {...}\\n\\n` strings ending with `data: [DONE]` for
a stream, an `ErrorResponse` for an error. The prompt picks the behaviour:
"fail 503" / "fail 400" / "fail 504" (an ErrorResponse with that code),
"engine dead" (vLLM's EngineDeadError), "break mid-stream" (an error event
after the first chunk), "slow" (1.5 s before answering).
"""

from __future__ import annotations

import asyncio
import json
import re
import time

from ray.llm._internal.serve.core.configs.openai_api_models import (
    ChatCompletionResponse,
    CompletionResponse,
    ErrorResponse,
)
from ray.llm._internal.serve.core.engine.protocol import LLMEngine

ENGINE_CLS = f"{__name__}:FakeLLMEngine"


class FakeLLMEngine(LLMEngine):
    def __init__(self, llm_config):
        self.model_id = llm_config.model_id

    async def start(self):
        return None

    def routing_stats(self) -> dict:
        return {}

    async def resolve_lora(self, lora_model):
        raise NotImplementedError("the fake engine has no LoRA")

    async def reset_prefix_cache(self) -> None:
        return None

    async def embeddings(self, request, raw_request_info=None):
        raise NotImplementedError("the fake engine has no embeddings")
        yield  # pragma: no cover

    async def transcriptions(self, request, raw_request_info=None):
        raise NotImplementedError("the fake engine has no transcriptions")
        yield  # pragma: no cover

    async def chat(self, request, raw_request_info=None):
        prompt = request.messages[-1]["content"]
        async for item in self._answer(request, prompt, chat=True):
            yield item

    async def completions(self, request, raw_request_info=None):
        async for item in self._answer(request, str(request.prompt), chat=False):
            yield item

    async def _answer(self, request, prompt: str, chat: bool):
        if "slow" in prompt:
            await asyncio.sleep(1.5)
        if m := re.search(r"fail (\d{3})", prompt):
            yield ErrorResponse(error={"message": f"fake failure {m[1]}", "type": "FakeError",
                                       "code": int(m[1])})
            return
        if "engine dead" in prompt:
            from vllm.v1.engine.exceptions import EngineDeadError

            raise EngineDeadError("fake: engine core died")
        text = f"fake vllm ({self.model_id}) heard: {prompt}"
        if request.stream:
            async for line in self._sse(text, chat, broken="break mid-stream" in prompt):
                yield line
        elif chat:
            yield ChatCompletionResponse(**_body(self.model_id, text, chat=True))
        else:
            yield CompletionResponse(**_body(self.model_id, text, chat=False))

    async def _sse(self, text: str, chat: bool, broken: bool):
        words = text.split(" ")
        for i, word in enumerate(words):
            piece = word if i == 0 else " " + word
            choice = ({"index": 0, "delta": {"content": piece}, "finish_reason": None} if chat
                      else {"index": 0, "text": piece, "finish_reason": None})
            yield _data({"id": "fake-1", "object": "chat.completion.chunk" if chat else "text_completion",
                         "created": int(time.time()), "model": self.model_id, "choices": [choice]})
            if broken:  # vLLM sends a failure after output started as an error event
                yield _data({"error": {"message": "fake failure mid-stream", "type": "FakeError", "code": 500}})
                yield "data: [DONE]\n\n"
                return
        last = ({"index": 0, "delta": {}, "finish_reason": "stop"} if chat
                else {"index": 0, "text": "", "finish_reason": "stop"})
        yield _data({"id": "fake-1", "object": "chat.completion.chunk" if chat else "text_completion",
                     "created": int(time.time()), "model": self.model_id, "choices": [last]})
        yield "data: [DONE]\n\n"


def _data(event: dict) -> str:
    return f"data: {json.dumps(event)}\n\n"


def _body(model: str, text: str, chat: bool) -> dict:
    n = len(text.split())
    choice = ({"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
              if chat else {"index": 0, "text": text, "finish_reason": "stop"})
    return {"id": "fake-1", "object": "chat.completion" if chat else "text_completion",
            "created": int(time.time()), "model": model, "choices": [choice],
            "usage": {"prompt_tokens": 1, "completion_tokens": n, "total_tokens": n + 1}}
