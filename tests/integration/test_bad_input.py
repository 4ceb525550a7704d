"""Every bad input gets a 4xx naming the field, and never reaches a model."""

import json

import pytest


def _recorded(record_file) -> int:
    return len(record_file.read_text().splitlines()) if record_file.exists() else 0


CASES = [
    (b"{not json", 400, None),
    (json.dumps({"model": "auto"}).encode(), 400, "messages"),
    (json.dumps({"messages": [{"role": "wizard", "content": "hi"}]}).encode(), 400, "messages.0.role"),
    (json.dumps({"messages": [{"role": "user", "content": ""}]}).encode(), 400, "messages.0.content"),
    (json.dumps({"messages": [{"role": "user", "content": "hi"}], "n": 2}).encode(), 400, "n"),
    (json.dumps({"messages": [{"role": "user", "content": "hi"}], "model": "gpt-17"}).encode(), 404, "model"),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 30_000}]}).encode(), 413, None),
    (json.dumps({"messages": [{"role": "user", "content": "x" * 15_000}]}).encode(), 400, "messages"),
]


@pytest.mark.parametrize("raw, status, param", CASES)
def test_bad_input_is_refused_before_any_model(http, record_file, raw, status, param):
    before = _recorded(record_file)
    r = http.post("/v1/chat/completions", content=raw,
                  headers={"content-type": "application/json", "x-triage-tier": "lrm"})
    assert r.status_code == status
    err = r.json()["error"]
    assert err["message"] and err["type"] and err["param"] == param
    assert r.headers["x-triage-request-id"]
    assert _recorded(record_file) == before


@pytest.mark.parametrize("header, value", [("x-triage-tier", "xxl"), ("x-triage-budget", "cheap"),
                                           ("x-triage-latency", "soon")])
def test_bad_control_headers_name_the_header(http, header, value):
    r = http.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]},
                  headers={header: value})
    assert r.status_code == 400 and r.json()["error"]["param"] == header


def test_completions_without_prompt(http):
    r = http.post("/v1/completions", json={"model": "auto"})
    assert r.status_code == 400 and r.json()["error"]["param"] == "prompt"
