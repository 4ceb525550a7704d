"""Feedback as clients send it: the body of POST /v1/feedback, the
`x-triage-feedback` header, and the per-tenant rate limit.

Our own API, so the body is strict (unknown fields are refused, with the
field named), unlike the OpenAI routes that pass unknown fields through.
"""

from __future__ import annotations

import time
from typing import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from serve_app.config.schema import Tier
from serve_app.errors import ClientError
from serve_app.learning.records import parse_outcome

REQUEST_ID = r"^[A-Za-z0-9._:-]{1,128}$"


class FeedbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request_id: str = Field(pattern=REQUEST_ID, description="x-triage-request-id of the answer being rated")
    outcome: str | float = Field(description='"good", "bad", or a score from 0 to 1')
    reason: str | None = Field(None, max_length=1000)
    better_tier: Tier | None = Field(None, description="the tier that should have answered, if known")

    @field_validator("outcome")
    @classmethod
    def _outcome(cls, value):
        parse_outcome(value)
        return value

    @property
    def score(self) -> float:
        return parse_outcome(self.outcome)


def parse_header(value: str) -> tuple[str, float]:
    """`<request_id>=<good|bad|score>` -> (request id, score)."""
    rid, sep, outcome = value.partition("=")
    try:
        if not sep:
            raise ValueError("missing '='")
        score = parse_outcome(_number_or_word(outcome.strip()))
        FeedbackRequest(request_id=rid.strip(), outcome=score)
    except ValueError:
        raise ClientError("x-triage-feedback must be <request_id>=good|bad|<score 0..1>",
                          param="x-triage-feedback") from None
    return rid.strip(), score


def _number_or_word(text: str):
    try:
        return float(text)
    except ValueError:
        return text


class RateLimited(ClientError):
    status = 429
    code = "rate_limited"


class TenantBuckets:
    """A token bucket per tenant (this replica's share of the limit)."""

    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = per_second, burst, clock
        self._state: dict[str, tuple[float, float]] = {}

    def take(self, tenant: str) -> None:
        now = self.clock()
        tokens, last = self._state.get(tenant, (float(self.burst), now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._state[tenant] = (tokens, now)
            raise RateLimited(f"feedback is limited to {self.rate:g}/s per tenant (burst {self.burst})")
        self._state[tenant] = (tokens - 1, now)
