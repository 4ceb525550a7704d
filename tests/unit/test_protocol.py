import json

import pytest

from serve_app.errors import ClientError, PayloadTooLarge
from serve_app.protocol import ChatRequest, CompletionRequest, parse_body


def body(obj):
    return json.dumps(obj).encode()


def user(content="hi"):
    return {"messages": [{"role": "user", "content": content}]}


@pytest.mark.parametrize(
    "raw, param, fragment",
    [
        (b"{not json", None, "not valid JSON"),
        (b"[1, 2]", None, "JSON object"),
        (body({}), "messages", "'messages' is required"),
        (body({"messages": []}), "messages", "at least 1"),
        (body({"messages": [{"role": "robot", "content": "x"}]}), "messages.0.role", "robot"),
        (body({"messages": [{"role": "user", "content": ""}]}), "messages.0.content", "must not be empty"),
        (body({"messages": [{"role": "system", "content": "s"}, {"role": "user"}]}), "messages.1.content", "empty"),
        (body({**user(), "n": 0}), "n", "greater than or equal to 1"),
        (body({**user(), "temperature": 3}), "temperature", "less than or equal to 2"),
        (body({**user(), "max_tokens": "many"}), "max_tokens", "integer"),
    ],
)
def test_bad_chat_bodies_name_the_field(raw, param, fragment):
    with pytest.raises(ClientError) as exc:
        parse_body(raw, ChatRequest, 10_000)
    assert exc.value.status == 400 and exc.value.param == param
    assert fragment in exc.value.message


def test_body_over_limit_is_413():
    with pytest.raises(PayloadTooLarge) as exc:
        parse_body(body(user("x" * 2000)), ChatRequest, 1024)
    assert exc.value.status == 413


def test_unknown_fields_pass_through_to_engines():
    req = parse_body(body({**user(), "logit_bias": {"50256": -100}, "tools": [{"type": "function"}]}),
                     ChatRequest, 10_000)
    wire = req.wire("m1")
    assert wire["model"] == "m1" and wire["logit_bias"] == {"50256": -100} and wire["tools"]


def test_prompt_text_keeps_every_turn_and_text_parts():
    req = ChatRequest.model_validate({"messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [{"type": "text", "text": "what is"},
                                     {"type": "image_url", "image_url": {"url": "data:x"}}]},
    ]})
    assert req.prompt_text() == "system: be brief\nuser: what is"
    assert req.features() == {"image"}


@pytest.mark.parametrize("content, expected", [
    ([{"type": "image_url", "image_url": {"url": "https://x/cat.png"}}], {"image"}),
    ([{"type": "image_url", "image_url": {"url": "data:application/pdf;base64,JVBER"}}], {"document"}),
    ([{"type": "file", "file": {"filename": "scan.pdf", "file_data": "JVBER"}}], {"document"}),
    ([{"type": "text", "text": "fix this\n```py\nprint(1\n```"}], {"code"}),
    ("plain question", set()),
])
def test_request_features_seen_by_capability_rules(content, expected):
    req = ChatRequest.model_validate({"messages": [{"role": "user", "content": content}]})
    assert req.features() == expected


def test_completion_features_see_code_fences_only():
    assert CompletionRequest.model_validate({"prompt": "```sql\nselect 1\n```"}).features() == {"code"}
    assert CompletionRequest.model_validate({"prompt": "hello"}).features() == frozenset()


def test_assistant_turn_with_only_tool_calls_is_valid():
    req = ChatRequest.model_validate({"messages": [
        {"role": "user", "content": "weather?"},
        {"role": "assistant", "content": None, "tool_calls": [{"id": "1", "type": "function"}]},
        {"role": "tool", "content": "sunny", "tool_call_id": "1"},
    ]})
    assert len(req.messages) == 3


@pytest.mark.parametrize("prompt, ok", [("hi", True), (["hi"], True), ("  ", False), (["a", "b"], False)])
def test_completion_prompt(prompt, ok):
    raw = body({"prompt": prompt})
    if ok:
        assert parse_body(raw, CompletionRequest, 10_000).prompt_text() == "hi"
    else:
        with pytest.raises(ClientError) as exc:
            parse_body(raw, CompletionRequest, 10_000)
        assert exc.value.param == "prompt"


def test_a_lone_user_turn_is_classified_as_its_bare_text():
    """The classifier was trained on bare prompts; a role tag shifts its features."""
    req = ChatRequest.model_validate({"model": "auto", "messages": [{"role": "user", "content": "What is 2+2?"}]})
    assert req.prompt_text() == "What is 2+2?"
    two = ChatRequest.model_validate({"model": "auto", "messages": [
        {"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}, {"role": "user", "content": "2+2?"}]})
    assert two.prompt_text() == "user: hi\nassistant: hello\nuser: 2+2?"
