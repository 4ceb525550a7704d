"""Feedback as clients send it: the strict body, the header form, the per-tenant bucket."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from serve_app.errors import ClientError
from serve_app.learning.feedback import FeedbackRequest, RateLimited, TenantBuckets, parse_header


def test_body_parses_words_and_scores():
    assert FeedbackRequest(request_id="abc-1", outcome="good").score == 1.0
    assert FeedbackRequest(request_id="abc-1", outcome=0.3, better_tier="llm").score == 0.3


@pytest.mark.parametrize("body, field", [
    ({"request_id": "abc", "outcome": "meh"}, "outcome"),
    ({"request_id": "abc", "outcome": 2}, "outcome"),
    ({"request_id": "a b", "outcome": "good"}, "request_id"),
    ({"request_id": "abc", "outcome": "good", "better_tier": "huge"}, "better_tier"),
    ({"request_id": "abc", "outcome": "good", "extra": 1}, "extra"),
    ({"outcome": "good"}, "request_id"),
])
def test_bad_bodies_name_the_field(body, field):
    with pytest.raises(ValidationError) as exc:
        FeedbackRequest.model_validate(body)
    assert field in {str(e["loc"][0]) for e in exc.value.errors()}


@pytest.mark.parametrize("value, expected", [("r1=good", ("r1", 1.0)), ("r1 = bad", ("r1", 0.0)),
                                             ("req.7=0.25", ("req.7", 0.25))])
def test_header_form(value, expected):
    assert parse_header(value) == expected


@pytest.mark.parametrize("value", ["r1", "r1=", "=good", "r1=meh", "r1=1.5", "r 1=good"])
def test_bad_header_is_a_client_error_on_the_header(value):
    with pytest.raises(ClientError) as exc:
        parse_header(value)
    assert exc.value.param == "x-triage-feedback" and exc.value.status == 400


def test_bucket_limits_each_tenant_on_its_own_and_refills():
    now = [0.0]
    buckets = TenantBuckets(per_second=2, burst=3, clock=lambda: now[0])
    for _ in range(3):
        buckets.take("acme")
    with pytest.raises(RateLimited) as exc:
        buckets.take("acme")
    assert exc.value.status == 429
    buckets.take("globex")  # another tenant's bucket is full
    now[0] = 0.5  # one token back at 2/s
    buckets.take("acme")
    with pytest.raises(RateLimited):
        buckets.take("acme")
