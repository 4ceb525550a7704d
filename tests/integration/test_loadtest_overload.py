"""The overload run's bookkeeping, without Ray or Locust: what the tally makes of
200s, fallbacks, 503s with and without Retry-After, lost requests, and which
checks of serve_app/lab/load/overload.py then pass.

The run itself (`triage bench overload`, 40 s of 32 users) is a
benchmark, not a CI test; test_overload.py checks one 503 over HTTP.
"""

import json

from serve_app.lab.load.overload import checks, outcome
from serve_app.lab.load.tally import Tally

SHED_BODY = json.dumps({"error": {"message": "no model could answer (a: overloaded, b: overloaded)",
                                  "type": "overloaded", "param": None, "code": "all_models_overloaded"}})


def _summary(tally: Tally, failures: int) -> dict:
    """The fields of serve_app/lab/load/run.py's summary that overload.outcome reads."""
    t = tally.as_dict()
    keys = ("sent", "unfinished", "status_codes", "no_response", "retry_after", "error_bodies",
            "stream_failures", "fallback_hist")
    return {**{k: t[k] for k in keys}, "failures": failures, "exceptions": 0}


def _answer(tally: Tally, fallbacks: int) -> None:
    tally.send()
    tally.record("chat", 200, {"x-triage-model": "m", "x-triage-fallbacks": str(fallbacks),
                               "x-triage-cache": "bypass"}, latency_ms=250.0)


def _shed(tally: Tally, retry_after: bool = True) -> None:
    tally.send()
    headers = {"retry-after": "1"} if retry_after else {"x-triage-request-id": "r"}
    tally.record("chat stream", 503, headers, latency_ms=20.0, body=SHED_BODY)


def _failed(result: list[dict]) -> set[str]:
    return {c["check"] for c in result if not c["passed"]}


def test_fallbacks_and_503s_with_retry_after_pass_every_check():
    tally = Tally()
    for _ in range(3):
        _answer(tally, 0)
    _answer(tally, 1)
    for _ in range(4):
        _shed(tally)
    o = outcome(_summary(tally, failures=4))
    assert (o["sent"], o["received"], o["ok"], o["ok_with_fallback"], o["shed_503"]) == (8, 8, 4, 1, 4)
    assert o["shed_with_retry_after"] == o["shed_all_models_overloaded"] == 4
    assert _failed(checks(o)) == set()
    t = tally.as_dict()
    assert t["fallback_hist"] == {"0": 3, "1": 1}
    assert t["latency_by_status_ms"]["503"]["n"] == 4 and t["latency_by_status_ms"]["200"]["p50"] == 250.0
    assert t["per_second"]["0"]["status_503"] == 4 and t["per_second"]["0"]["ok_with_fallback"] == 1


def test_a_503_without_retry_after_a_timeout_and_a_lost_request_fail_their_checks():
    tally = Tally()
    _answer(tally, 1)
    _shed(tally, retry_after=False)
    tally.send()
    tally.record("chat", None, None, error="ReadTimeout")
    tally.send()  # never recorded: still in flight when Locust stopped
    o = outcome(_summary(tally, failures=2))
    assert o["unfinished"] == 1 and o["no_response"] == {"ReadTimeout": 1}
    assert _failed(checks(o)) == {"every 503 has Retry-After", "no timeout or connection error", "sent == received"}


def test_other_statuses_bad_answers_and_a_run_without_overload_fail():
    tally = Tally()
    _answer(tally, 0)
    tally.send()
    tally.record("chat", 502, {}, body='{"error": {"code": "model_error", "message": "boom"}}')
    tally.send()
    tally.record("chat stream", 200, {"x-triage-fallbacks": "0"})
    tally.record_stream_failure("stream error")
    # Locust failed the 502, the broken stream and one 200 whose body had no choices.
    o = outcome(_summary(tally, failures=3))
    assert o["other_status"] == 1 and o["bad_200"] == 1
    assert tally.as_dict()["error_bodies"] == {"502 model_error: boom": 1}
    assert _failed(checks(o)) == {"only 200 or 503", "every 200 is a good answer", "load went past the first choice"}
