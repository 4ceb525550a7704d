"""The app over real HTTP: answers, headers, streaming, fallback, privacy."""

import asyncio
import json

import httpx

HEADERS = ("x-triage-request-id", "x-triage-tier", "x-triage-domain", "x-triage-model",
           "x-triage-cache", "x-triage-fallbacks", "x-triage-overhead-ms", "x-triage-reasoning")


def ask(text, **kw):
    return {"model": "auto", "messages": [{"role": "user", "content": text}], **kw}


def test_openai_client_gets_an_answer_with_every_header(openai_client):
    raw = openai_client.chat.completions.with_raw_response.create(
        model="auto", messages=[{"role": "user", "content": "Prove that there are infinitely many primes."}],
        extra_headers={"x-triage-tier": "lrm"},
    )
    completion = raw.parse()
    assert completion.choices[0].message.content.startswith("[dry_run lrm-")
    for name in HEADERS:
        assert raw.headers.get(name), name
    assert raw.headers["x-triage-tier"] == "lrm" and raw.headers["x-triage-cache"] == "bypass"
    assert float(raw.headers["x-triage-overhead-ms"]) > 0


def test_classifier_routes_without_a_forced_tier(http):
    r = http.post("/v1/chat/completions", json=ask("Prove that the square root of 2 is irrational."))
    assert r.status_code == 200
    assert r.headers["x-triage-domain"] == "math"


def test_stream_is_sse_ending_with_done(http):
    with http.stream("POST", "/v1/chat/completions", json=ask("hello", stream=True),
                     headers={"x-triage-tier": "lrm"}) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        assert r.headers["x-triage-model"].startswith("lrm-")
        events = [line for line in r.iter_lines() if line]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


def test_openai_client_streams(openai_client):
    stream = openai_client.chat.completions.create(
        model="auto", messages=[{"role": "user", "content": "hi"}], stream=True,
        extra_headers={"x-triage-tier": "llm"})
    text = "".join(c.choices[0].delta.content or "" for c in stream)
    assert text.startswith("[dry_run llm-")


def test_completions_endpoint(openai_client):
    out = openai_client.completions.create(model="auto", prompt="Say hi", extra_headers={"x-triage-tier": "lrm"})
    assert out.choices[0].text.startswith("[dry_run lrm-")


def test_models_lists_auto_and_every_configured_model(http):
    ids = [m["id"] for m in http.get("/v1/models").json()["data"]]
    assert ids[0] == "auto"
    assert set(ids[1:]) == {"slm-flaky", "slm-backup", "srm-busy", "srm-backup", "llm-breaker",
                            "llm-backup", "lrm-cloud", "lrm-local", "vision-a", "vision-b", "smollm2-135m"}


def test_health_is_ready_with_every_tier(http):
    r = http.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready" and body["classifier"] is True
    assert all(body["tiers"][t] for t in ("slm", "srm", "llm", "lrm"))


def test_failing_model_falls_back(http):
    r = http.post("/v1/chat/completions", json=ask("hi"), headers={"x-triage-tier": "slm"})
    assert r.status_code == 200
    assert r.headers["x-triage-model"] == "slm-backup" and r.headers["x-triage-fallbacks"] == "1"


def test_failing_model_falls_back_in_a_stream(http):
    with http.stream("POST", "/v1/chat/completions", json=ask("hi", stream=True),
                     headers={"x-triage-tier": "slm"}) as r:
        assert r.headers["x-triage-model"] == "slm-backup"
        lines = [line for line in r.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"


def test_overloaded_model_falls_back(base_url):
    """srm-busy takes 1.5 s per request, runs one and queues one: Serve's
    back-pressure rejects the rest, which must land on srm-backup."""

    async def burst():
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as c:
            return await asyncio.gather(*(
                c.post("/v1/chat/completions", json=ask(f"question {i}"), headers={"x-triage-tier": "srm"})
                for i in range(5)))

    responses = asyncio.run(burst())
    assert all(r.status_code == 200 for r in responses)
    models = [r.headers["x-triage-model"] for r in responses]
    assert "srm-busy" in models and "srm-backup" in models
    assert all(r.headers["x-triage-fallbacks"] == "1" for r in responses if r.headers["x-triage-model"] == "srm-backup")


def test_circuit_breaker_opens_and_recovers(http):
    """llm-breaker fails its first two calls only. After two failures the
    breaker opens: the third request skips it although it would now answer.
    After the 2 s cooldown a probe reaches it and it serves again."""
    import time

    def send():
        r = http.post("/v1/chat/completions", json=ask("write an essay"), headers={"x-triage-tier": "llm"})
        assert r.status_code == 200
        return r.headers["x-triage-model"]

    assert [send(), send()] == ["llm-backup", "llm-backup"]
    assert send() == "llm-backup"  # open: skipped without a call
    time.sleep(2.2)
    assert send() == "llm-breaker"  # probe succeeded: closed again
    assert send() == "llm-breaker"


def _recorded(record_file) -> str:
    return record_file.read_text() if record_file.exists() else ""


def test_sensitive_prompt_never_reaches_a_cloud_model(http, record_file):
    secret = "My card is 4111 1111 1111 1111, can you check my payment plan?"
    r = http.post("/v1/chat/completions", json=ask(secret), headers={"x-triage-tier": "lrm"})
    assert r.status_code == 200 and r.headers["x-triage-model"] == "lrm-local"
    # Not even when the client names the cloud model.
    r = http.post("/v1/chat/completions", json={**ask(secret), "model": "lrm-cloud"})
    assert r.status_code == 200 and r.headers["x-triage-model"] == "lrm-local"
    # Positive control: the same tier without private data goes to the cloud model and is recorded.
    # (The trained classifier's learned head flags "check my payment plan" itself as sensitive.)
    r = http.post("/v1/chat/completions", json=ask("How do payment plans usually work? ref-7731"),
                  headers={"x-triage-tier": "lrm"})
    assert r.headers["x-triage-model"] == "lrm-cloud"
    recorded = _recorded(record_file)
    assert "ref-7731" in recorded and "4111 1111 1111 1111" not in recorded


def test_explicit_model_bypasses_the_classifier_tier(http):
    r = http.post("/v1/chat/completions", json={**ask("hi"), "model": "lrm-local"})
    assert r.status_code == 200
    assert r.headers["x-triage-model"] == "lrm-local" and r.headers["x-triage-tier"] == "lrm"


def _recorded_request(record_file, marker: str) -> dict:
    for line in _recorded(record_file).splitlines():
        entry = json.loads(line)
        if marker in json.dumps(entry["request"].get("messages")):  # completions have a prompt
            return entry["request"]
    raise AssertionError(f"{marker} never reached lrm-cloud")


def test_reasoning_switch_reaches_the_model(http, record_file):
    """lrm-cloud has Qwen3's switch: the header's choice arrives as
    chat_template_kwargs.enable_thinking; a client's own value is left alone."""
    for mode, sent in (("on", True), ("off", False)):
        r = http.post("/v1/chat/completions", json=ask(f"Think about mode-{mode}-5521"),
                      headers={"x-triage-tier": "lrm", "x-triage-reasoning": mode})
        assert r.status_code == 200 and r.headers["x-triage-model"] == "lrm-cloud"
        assert r.headers["x-triage-reasoning"] == mode
        assert _recorded_request(record_file, f"mode-{mode}-5521")["chat_template_kwargs"] == {"enable_thinking": sent}
    own = {**ask("Think about client-own-5521"), "chat_template_kwargs": {"enable_thinking": False}}
    r = http.post("/v1/chat/completions", json=own, headers={"x-triage-tier": "lrm", "x-triage-reasoning": "on"})
    assert r.headers["x-triage-reasoning"] == "none"
    assert _recorded_request(record_file, "client-own-5521")["chat_template_kwargs"] == {"enable_thinking": False}
    r = http.post("/v1/chat/completions", json=ask("hi"), headers={"x-triage-reasoning": "maybe"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "x-triage-reasoning"


def _with_image(text):
    content = [{"type": "text", "text": text},
               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]
    return {"model": "auto", "messages": [{"role": "user", "content": content}]}


def test_saturated_model_is_passed_for_an_equal_one(base_url):
    """vision-a and vision-b are the only vision models, equally priced;
    vision-a takes 1.5 s and two requests at a time. A burst fills it and the
    rest go to vision-b up front (no fallback), saying why; once it is idle
    again, vision-a (first by name) is chosen again."""

    async def burst(n):
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as c:
            return await asyncio.gather(*(
                c.post("/v1/chat/completions", json=_with_image(f"what is in picture {i}?"),
                       headers={"x-triage-tier": "llm"})
                for i in range(n)))

    responses = asyncio.run(burst(5))
    assert all(r.status_code == 200 for r in responses)
    assert all(r.headers["x-triage-fallbacks"] == "0" for r in responses)
    models = [r.headers["x-triage-model"] for r in responses]
    # The first two to be routed fill vision-a; later ones see it full.
    assert models.count("vision-a") >= 2 and "vision-b" in models, models
    for r in responses:
        if r.headers["x-triage-model"] == "vision-b":
            text = r.json()["choices"][0]["message"]["content"]
            assert "load: vision-b preferred over vision-a (vision-a 2/2 in flight)" in text
    assert asyncio.run(burst(1))[0].headers["x-triage-model"] == "vision-a"


def test_success_estimates_reach_the_headers_and_the_quality_header_moves_the_tier(http):
    """No forced tier: the served model's per-tier success estimates decide and
    are reported; x-triage-quality changes the target for this request only."""
    mcq = ("Which of the following is a noble gas?\nA. Oxygen\nB. Nitrogen\nC. Argon\nD. Hydrogen")

    def route(quality=None):
        headers = {"x-triage-quality": quality} if quality is not None else {}
        r = http.post("/v1/chat/completions", json=ask(mcq), headers=headers)
        assert r.status_code == 200, r.text
        return r.headers

    h = route()
    estimates = dict(kv.split("=") for kv in h["x-triage-success"].split(","))
    assert set(estimates) == {"slm", "srm", "llm", "lrm"} and all(0 < float(v) < 1 for v in estimates.values())
    assert route("0")["x-triage-tier"] == "slm"  # every tier reaches 0: the cheapest
    # None reaches 1: the cheapest tier within policy.near_best (20%) of the
    # best estimate (the header rounds to 2 decimals: compare with slack).
    order = ["slm", "srm", "llm", "lrm"]
    floor = 0.8 * max(float(v) for v in estimates.values())
    chosen = route("1")["x-triage-tier"]
    assert float(estimates[chosen]) >= floor - 0.01
    assert all(float(estimates[t]) < floor + 0.01 for t in order[:order.index(chosen)])
    bad = http.post("/v1/chat/completions", json=ask(mcq), headers={"x-triage-quality": "2"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "x-triage-quality"
