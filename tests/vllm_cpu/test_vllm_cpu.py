"""Real vLLM (CPU build) behind Triage: HTTP -> Ingress -> Ray Serve LLM -> vLLM.

SmolLM2-135M-Instruct, 2 cores: the engine starts in about a minute (most
of it Ray and vLLM imports), a short answer takes a few seconds.
"""

import json

import httpx

MODEL = "smollm2-vllm"
QUESTION = [{"role": "user", "content": "What is the capital of France?"}]


def test_chat_is_answered_by_vllm(vllm_url):
    r = httpx.post(f"{vllm_url}/v1/chat/completions", timeout=300, json={
        "model": "auto", "messages": QUESTION, "max_tokens": 24, "temperature": 0})
    assert r.status_code == 200, r.text
    assert r.headers["x-triage-model"] == MODEL and r.headers["x-triage-fallbacks"] == "0"
    body = r.json()
    assert body["model"] == MODEL
    assert "Paris" in body["choices"][0]["message"]["content"]
    # vLLM's own fields come through (usage counted by the engine).
    assert body["usage"]["completion_tokens"] > 0 and body["id"].startswith("chatcmpl-")


def test_chat_streams_from_vllm(vllm_url):
    with httpx.stream("POST", f"{vllm_url}/v1/chat/completions", timeout=300, json={
            "model": MODEL, "messages": QUESTION, "max_tokens": 24, "temperature": 0, "stream": True}) as r:
        assert r.status_code == 200 and r.headers["x-triage-model"] == MODEL
        events = [line.removeprefix("data: ") for line in r.iter_lines() if line]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len(chunks) > 3  # token by token, not one block
    assert "Paris" in "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)


def test_completions_from_vllm(vllm_url):
    r = httpx.post(f"{vllm_url}/v1/completions", timeout=300, json={
        "model": MODEL, "prompt": "The capital of France is", "max_tokens": 8, "temperature": 0})
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0]["text"].strip()
    assert r.headers["x-triage-model"] == MODEL


def test_a_prompt_over_max_model_len_is_a_model_error(vllm_url):
    """vLLM rejects it (400); with no other model to try, the client gets the
    upstream error, not a hang or a 500."""
    long_prompt = "word " * 3000  # > max_model_len 2048 tokens
    r = httpx.post(f"{vllm_url}/v1/chat/completions", timeout=300, json={
        "model": MODEL, "messages": [{"role": "user", "content": long_prompt}], "max_tokens": 8})
    assert r.status_code == 502, r.text
    assert MODEL in r.json()["error"]["message"]


def test_health_sees_the_engine(vllm_url):
    r = httpx.get(f"{vllm_url}/health", timeout=60)
    assert r.status_code == 200, r.text
