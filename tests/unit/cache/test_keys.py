"""Cache keys: conversation normalisation, request fingerprints, exact keys."""

from __future__ import annotations

import pytest

from serve_app.cache.keys import exact_key, fingerprint, normalise_conversation, normalise_text
from serve_app.protocol import ChatRequest

BASE = {"model": "auto", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.2}


def fp(**changes):
    body = dict(BASE, **changes)
    return fingerprint("chat", body, "slm")


# ------------------------------------------------------------- normalisation


@pytest.mark.parametrize("a, b", [
    ("What is 2+2?", "what is 2+2"),
    ("  What   is\n2+2 ?? ", "what is 2+2"),
    ("Don't stop", "do not stop"),
    ("I can't sleep", "i cannot sleep"),
    ("What’s the capital of France…", "what's the capital of france"),
    ("ＡＢＣ", "abc"),  # NFKC folds full-width letters
])
def test_same_text_normalises_alike(a, b):
    assert normalise_text(a) == normalise_text(b)


@pytest.mark.parametrize("a, b", [
    ("what is 2+2", "what is 2+3"),
    ("what is 2+2", "what is 2*2"),
    ("is it safe", "is it not safe"),
    ("what is 5!", "what is 5"),  # a factorial is not trailing noise
    ("x > 3", "x < 3"),
    ("the value is -5", "the value is 5"),
])
def test_meaning_survives_normalisation(a, b):
    assert normalise_text(a) != normalise_text(b)


def test_negation_is_kept_not_dropped():
    assert "not" in normalise_text("Isn't it safe?").split()


def test_conversation_is_role_tagged():
    text = normalise_conversation([{"role": "system", "content": "Be brief."},
                                   {"role": "user", "content": "What is 2+2?"}])
    assert text == "system: be brief\nuser: what is 2+2"


def test_system_prompt_changes_the_text():
    user = {"role": "user", "content": "Translate 'hello'"}
    a = normalise_conversation([{"role": "system", "content": "Answer in French."}, user])
    b = normalise_conversation([{"role": "system", "content": "Answer in German."}, user])
    assert a != b != normalise_conversation([user])


def test_earlier_turns_change_the_text():
    last = {"role": "user", "content": "And its population?"}
    a = normalise_conversation([{"role": "user", "content": "Capital of France?"},
                                {"role": "assistant", "content": "Paris."}, last])
    b = normalise_conversation([{"role": "user", "content": "Capital of Spain?"},
                                {"role": "assistant", "content": "Madrid."}, last])
    assert a != b


def test_prompt_and_chat_do_not_collide():
    assert normalise_conversation("hello") != normalise_conversation([{"role": "user", "content": "hello"}])
    assert normalise_conversation(["hello"]) == normalise_conversation("hello")


def test_images_are_part_of_the_text():
    def msg(url):
        return [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                             {"type": "image_url", "image_url": {"url": url}}]}]
    assert normalise_conversation(msg("http://a/1.png")) != normalise_conversation(msg("http://a/2.png"))
    assert "what is this" in normalise_conversation(msg("http://a/1.png"))


def test_tool_calls_are_part_of_the_text():
    def conv(args):
        return [{"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None,
                 "tool_calls": [{"id": "1", "type": "function",
                                 "function": {"name": "weather", "arguments": args}}]},
                {"role": "tool", "tool_call_id": "1", "content": "sunny"}]
    assert normalise_conversation(conv('{"city":"Paris"}')) != normalise_conversation(conv('{"city":"Rome"}'))


def test_accepts_protocol_messages():
    req = ChatRequest.model_validate(BASE)
    assert normalise_conversation(req.messages) == normalise_conversation(BASE["messages"])


# ------------------------------------------------------------- fingerprints


@pytest.mark.parametrize("change", [
    {"temperature": 0.9},
    {"top_p": 0.5},
    {"seed": 7},
    {"max_tokens": 10},
    {"max_completion_tokens": 10},
    {"stop": ["\n"]},
    {"n": 2},
    {"presence_penalty": 0.5},
    {"frequency_penalty": 0.5},
    {"logit_bias": {"50256": -100}},
    {"logprobs": True},
    {"top_logprobs": 3},
    {"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
    {"tool_choice": "required"},
    {"response_format": {"type": "json_object"}},
    {"some_future_field": "x"},  # unknown fields count: they might change the answer
    {"reasoning_effort": "high"},
])
def test_fields_that_change_the_answer_change_the_fingerprint(change):
    assert fp(**change) != fp()


@pytest.mark.parametrize("change", [
    {"stream": True},
    {"stream_options": {"include_usage": True}},
    {"user": "alice"},
    {"metadata": {"trace": "1"}},
    {"model": "something-else"},  # the resolved target stands in for it
    {"messages": [{"role": "user", "content": "other"}]},  # keyed by text, not fingerprint
    {"seed": None},  # None is absent
])
def test_fields_that_do_not_change_the_answer_keep_it(change):
    assert fp(**change) == fp()


def test_target_and_kind_change_it():
    assert fingerprint("chat", BASE, "slm") != fingerprint("chat", BASE, "llm")
    assert fingerprint("chat", BASE, "slm") != fingerprint("completions", BASE, "slm")


def test_key_order_and_number_form_do_not_matter():
    a = {"temperature": 1.0, "response_format": {"type": "json_schema", "json_schema": {"a": 1, "b": 2}}}
    b = {"response_format": {"json_schema": {"b": 2, "a": 1}, "type": "json_schema"}, "temperature": 1}
    assert fingerprint("chat", a, "m") == fingerprint("chat", b, "m")


def test_accepts_a_protocol_request():
    req = ChatRequest.model_validate(dict(BASE, seed=3, custom="x"))
    assert fingerprint("chat", req, "slm") == fingerprint("chat", dict(BASE, seed=3, custom="x"), "slm")


def test_fingerprint_is_sha256_hex():
    assert len(fp()) == 64 and int(fp(), 16) >= 0


# ------------------------------------------------------------- exact key


def test_exact_key_separates_tenant_fingerprint_and_text():
    key = exact_key("t1", "f", "user: hi")
    assert len(key) == 64
    assert key == exact_key("t1", "f", "user: hi")
    assert key != exact_key("t2", "f", "user: hi")
    assert key != exact_key("t1", "g", "user: hi")
    assert key != exact_key("t1", "f", "user: ho")
    # Parts cannot run into each other.
    assert exact_key("ab", "c", "x") != exact_key("a", "bc", "x")


def test_cache_view_rebuilds_the_normalised_conversation_from_the_classified_text():
    """The classifier classifies a lone user turn bare and longer chats with
    roles; the cache's vector is embedded from normalise_conversation's form."""
    from serve_app.cache.keys import cache_view, normalise_conversation
    from serve_app.protocol import ChatRequest

    for messages in ([{"role": "user", "content": "What is the Capital of France?"}],
                     [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "What is 2+2?"},
                      {"role": "assistant", "content": "4"}, {"role": "user", "content": "And 3 + 3?"}]):
        classified = ChatRequest.model_validate({"messages": messages}).prompt_text()
        assert cache_view(classified) == normalise_conversation(messages)
