"""One request through the real SmolLM2-135M engine (CPU, a few seconds)."""


def test_smollm2_answers_through_the_router(openai_client):
    raw = openai_client.chat.completions.with_raw_response.create(
        model="smollm2-135m", messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=24, temperature=0)
    answer = raw.parse().choices[0].message.content
    assert "Paris" in answer
    assert raw.headers["x-triage-model"] == "smollm2-135m"


def test_smollm2_streams_through_the_router(openai_client):
    stream = openai_client.chat.completions.create(
        model="smollm2-135m", messages=[{"role": "user", "content": "What is the capital of France?"}],
        max_tokens=24, temperature=0, stream=True)
    assert "Paris" in "".join(c.choices[0].delta.content or "" for c in stream)
