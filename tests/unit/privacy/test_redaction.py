"""Redaction (placeholders via presidio-anonymizer) and restoration in JSON bodies and streams."""

import json
from functools import partial

import pytest

from serve_app.privacy.findings import Finding, Findings
from serve_app.privacy.redaction import Placeholders, redact, redact_request
from serve_app.privacy.restore import ChunkRestorer, StreamRestorer, restore_response, restore_text
from serve_app.privacy.settings import RedactionSettings

TEXT = "Mail jane@x.io or jane@x.io, card 4111 1111 1111 1111; Jane has lupus."


def spans(text, *pairs):
    out = []
    for entity, value in pairs:
        start = text.index(value)
        out.append(Finding(entity, start, start + len(value), 0.9, "test"))
    return Findings(tuple(out))


def test_numbered_placeholders_same_value_same_placeholder():
    findings = spans(TEXT, ("EMAIL_ADDRESS", "jane@x.io"), ("CREDIT_CARD", "4111 1111 1111 1111"),
                     ("PERSON", "Jane"), ("HEALTH_DATA", "lupus"))
    second = TEXT.index("jane@x.io", TEXT.index("jane@x.io") + 1)
    findings = Findings(findings.items + (Finding("EMAIL_ADDRESS", second, second + 9, 0.9, "test"),))
    r = redact(TEXT, findings)
    assert r.text == ("Mail <EMAIL_ADDRESS_1> or <EMAIL_ADDRESS_1>, card <CREDIT_CARD_1>; "
                      "<PERSON_1> has lupus.")  # HEALTH_DATA is kept by default: the subject is gone
    assert r.mapping == {"<EMAIL_ADDRESS_1>": "jane@x.io", "<CREDIT_CARD_1>": "4111 1111 1111 1111",
                         "<PERSON_1>": "Jane"}
    assert r.kinds == ("CREDIT_CARD", "EMAIL_ADDRESS", "PERSON")
    assert r.counts == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1, "PERSON": 1}
    assert "jane@x.io" not in repr(r) and "4111" not in repr(r)
    assert restore_text(r.text, r.mapping) == TEXT


def test_numbering_follows_reading_order_and_style():
    text = "Ann met Bob, then Cy."
    findings = spans(text, ("PERSON", "Cy"), ("PERSON", "Ann"), ("PERSON", "Bob"))
    r = redact(text, findings, settings=RedactionSettings(placeholder="[[{entity}#{index}]]", keep=()))
    assert r.text == "[[PERSON#1]] met [[PERSON#2]], then [[PERSON#3]]."


def test_placeholder_already_in_text_is_skipped():
    text = "Literal <PERSON_1> and the real Bob."
    r = redact(text, spans(text, ("PERSON", "Bob")))
    assert r.text == "Literal <PERSON_1> and the real <PERSON_2>."
    assert restore_text(r.text, r.mapping) == "Literal <PERSON_1> and the real Bob."


def test_placeholders_repr_hides_values():
    table = Placeholders()
    table.get("PASSWORD", "hunter2")
    assert "hunter2" not in repr(table) and table.counts() == {"PASSWORD": 1}


def chat_body():
    return {
        "model": "auto", "temperature": 0.2,
        "messages": [
            {"role": "system", "content": "You write letters."},
            {"role": "user", "content": "Patient: Greta Holm"},
            {"role": "user", "content": [
                {"type": "text", "text": "She has stage 3 pancreatic cancer; reply to greta.holm@fjordmail.no"},
                {"type": "image_url", "image_url": {"url": "https://img.example/x.png"}}]},
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {
                "name": "send_mail", "arguments": json.dumps({"to": "greta.holm@fjordmail.no", "cc": ["Greta Holm"]})}}]},
            {"role": "tool", "tool_call_id": "c1", "content": "sent to greta.holm@fjordmail.no"},
        ],
    }


def test_redact_chat_request_across_messages(detector):
    body = chat_body()
    red = redact_request(body, partial(detector.analyze, all_names=True))
    assert body == chat_body()  # the input is not mutated
    dumped = json.dumps(red.body)
    assert "greta.holm@fjordmail.no" not in dumped and "Greta Holm" not in dumped
    msgs = red.body["messages"]
    assert msgs[1]["content"] == "Patient: <PERSON_1>"  # the name pairs with the diagnosis in the next message
    assert msgs[2]["content"][0]["text"] == "She has stage 3 pancreatic cancer; reply to <EMAIL_ADDRESS_1>"
    assert msgs[2]["content"][1] == chat_body()["messages"][2]["content"][1]
    assert json.loads(msgs[3]["tool_calls"][0]["function"]["arguments"]) == {"to": "<EMAIL_ADDRESS_1>", "cc": ["<PERSON_1>"]}
    assert msgs[4]["content"] == "sent to <EMAIL_ADDRESS_1>"
    assert red.kinds == ("EMAIL_ADDRESS", "PERSON") and red.body["temperature"] == 0.2
    assert "fjordmail" not in repr(red)


def test_redact_completion_prompt(detector):
    for prompt in ("My SSN is 536-22-1234", ["My SSN is 536-22-1234"]):
        red = redact_request({"model": "auto", "prompt": prompt}, detector.analyze)
        text = red.body["prompt"] if isinstance(prompt, str) else red.body["prompt"][0]
        assert text == "My SSN is <US_SSN_1>" and red.mapping == {"<US_SSN_1>": "536-22-1234"}


def test_clean_request_is_untouched(detector):
    body = {"model": "auto", "messages": [{"role": "user", "content": "What are IPv4 private address ranges?"}]}
    red = redact_request(body, detector.analyze)
    assert red.body == body and red.mapping == {} and red.kinds == ()


MAPPING = {"<PERSON_1>": "Greta Holm", "<EMAIL_ADDRESS_1>": 'gr"eta@x.no', "<PERSON_10>": "Ola"}


def test_restore_complete_bodies():
    chat = {"id": "c", "object": "chat.completion", "choices": [{"index": 0, "finish_reason": "stop", "message": {
        "role": "assistant", "content": "Dear <PERSON_1>, <PERSON_10> and <UNKNOWN_3> <PERSON_1",
        "tool_calls": [{"id": "t", "type": "function", "function": {
            "name": "send", "arguments": '{"to": "<EMAIL_ADDRESS_1>"}'}}]}}]}
    out = restore_response(chat, MAPPING)
    assert out["choices"][0]["message"]["content"] == "Dear Greta Holm, Ola and <UNKNOWN_3> <PERSON_1"
    assert json.loads(out["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"]) == {"to": 'gr"eta@x.no'}
    assert chat["choices"][0]["message"]["content"].startswith("Dear <PERSON_1>")  # copy, not in place
    text = {"object": "text_completion", "choices": [{"index": 0, "text": "Hi <PERSON_1>", "finish_reason": "stop"}]}
    assert restore_response(text, MAPPING)["choices"][0]["text"] == "Hi Greta Holm"


ANSWER = "Dear <PERSON_1>, we wrote to <EMAIL_ADDRESS_1>; <PERSON_10> agrees. <PERSON_1"
RESTORED = 'Dear Greta Holm, we wrote to gr"eta@x.no; Ola agrees. <PERSON_1'


@pytest.mark.parametrize("cut", range(1, len(ANSWER)))
def test_stream_split_at_every_position(cut):
    restorer = StreamRestorer(MAPPING)
    out = restorer.feed(ANSWER[:cut]) + restorer.feed(ANSWER[cut:]) + restorer.flush()
    assert out == RESTORED


def test_stream_one_character_at_a_time_holds_back_only_a_possible_placeholder():
    restorer = StreamRestorer(MAPPING)
    emitted = []
    for ch in ANSWER:
        emitted.append(restorer.feed(ch))
        assert len(restorer._held) < len("<EMAIL_ADDRESS_1>")
    assert "".join(emitted) + restorer.flush() == RESTORED
    assert emitted[:4] == ["D", "e", "a", "r"]  # ordinary text is not delayed


def chunk(content=None, finish=None, index=0, tool=None):
    delta = {} if content is None else {"content": content}
    if tool is not None:
        delta["tool_calls"] = [{"index": 0, "function": {"arguments": tool}}]
    return {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": index, "delta": delta, "finish_reason": finish}]}


@pytest.mark.parametrize("cut", range(1, len(ANSWER)))
def test_chunk_restorer_flushes_on_finish(cut):
    restorer = ChunkRestorer(MAPPING)
    chunks = [chunk(ANSWER[:cut]), chunk(ANSWER[cut:]), chunk(None, "stop")]
    out = [restorer.restore(c) for c in chunks]
    text = "".join(c["choices"][0]["delta"].get("content", "") for c in out)
    assert text == RESTORED and restorer.flush() == []
    assert out[-1]["choices"][0]["finish_reason"] == "stop"


def test_chunk_restorer_tool_arguments_and_stream_without_finish():
    restorer = ChunkRestorer(MAPPING)
    parts = ['{"to": "<EMAIL_AD', 'DRESS_1>", "name": "<PER', 'SON_1>"}']
    out = [restorer.restore(chunk(tool=p)) for p in parts]
    args = "".join(c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"] for c in out)
    assert json.loads(args) == {"to": 'gr"eta@x.no', "name": "Greta Holm"}
    restorer.restore(chunk("Bye <PERSON_"))
    tail = restorer.flush()
    assert [c["choices"][0]["delta"]["content"] for c in tail] == ["<PERSON_"]
    assert tail[0]["id"] == "c" and tail[0]["object"] == "chat.completion.chunk"


def test_chunk_restorer_text_completions_and_choices_apart():
    restorer = ChunkRestorer(MAPPING)
    a = restorer.restore({"object": "text_completion", "choices": [
        {"index": 0, "text": "Hi <PER", "finish_reason": None}, {"index": 1, "text": "Yo <PERSON_1", "finish_reason": None}]})
    b = restorer.restore({"object": "text_completion", "choices": [
        {"index": 0, "text": "SON_1>!", "finish_reason": "stop"}, {"index": 1, "text": "0>?", "finish_reason": "stop"}]})
    assert a["choices"][0]["text"] + b["choices"][0]["text"] == "Hi Greta Holm!"
    assert a["choices"][1]["text"] + b["choices"][1]["text"] == "Yo Ola?"


def test_no_mapping_passes_chunks_through():
    c = chunk("Hello <PERSON_1>")
    assert ChunkRestorer({}).restore(c) == c
