"""Deliver an escalation to the operator's human queue: an HTTP POST of JSON,
signed and retried.

Signature: HMAC-SHA256 with the shared secret over "<timestamp>.<body>",
sent as `x-triage-signature: sha256=<hex>` with `x-triage-timestamp` (a
receiver rejects stale timestamps, so a captured delivery cannot be replayed
later) and `x-triage-ticket` (the same on every retry: receivers deduplicate
on it). `verify()` is the receiver's check, used by the tests.

Retries: connection errors, timeouts, 408, 429 and 5xx are retried with a
doubling backoff; any other 4xx is final (the receiver refused the payload,
retrying would not change that). A ticket is issued to the client only once
a delivery was acknowledged with a 2xx.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from typing import Awaitable, Callable

import httpx

from serve_app.config.judgement import WebhookTarget
from serve_app.errors import EscalationUnavailable

RETRIED = {408, 429}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str, max_age_s: float = 300,
           now: float | None = None) -> bool:
    """The receiver's check: the signature matches and the timestamp is recent."""
    fresh = abs((time.time() if now is None else now) - float(timestamp)) <= max_age_s
    return fresh and hmac.compare_digest(sign(secret, timestamp, body), signature)


@dataclass(frozen=True)
class Delivery:
    attempts: int
    status: int  # the receiver's HTTP status


class Webhook:
    def __init__(self, target: WebhookTarget, client: httpx.AsyncClient | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.target = target
        self.secret = None
        if target.secret_env:
            self.secret = os.environ.get(target.secret_env)
            if not self.secret:
                # Unsigned deliveries to a receiver that expects signatures would all be refused.
                raise ValueError(f"escalation.webhook.secret_env names ${target.secret_env}, which is not set")
        self.client = client or httpx.AsyncClient(timeout=target.timeout_s)
        self.sleep = sleep

    async def deliver(self, ticket: str, payload: dict) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        problem = "no attempt"
        for attempt in range(1, self.target.attempts + 1):
            if attempt > 1:
                await self.sleep(self.target.backoff_s * 2 ** (attempt - 2))
            try:
                r = await self.client.post(self.target.url, content=body, headers=self._headers(ticket, body, attempt))
            except httpx.HTTPError as err:
                problem = f"{type(err).__name__}"
                continue
            if 200 <= r.status_code < 300:
                return Delivery(attempt, r.status_code)
            problem = f"HTTP {r.status_code}"
            if r.status_code < 500 and r.status_code not in RETRIED:
                break
        raise EscalationUnavailable(
            f"this request is answered by a person, and the escalation queue did not take it ({problem}, "
            f"{attempt} attempt{'s' if attempt > 1 else ''}); nothing was queued, retry later")

    def _headers(self, ticket: str, body: bytes, attempt: int) -> dict[str, str]:
        ts = str(int(time.time()))
        headers = {"content-type": "application/json", "x-triage-ticket": ticket, "x-triage-timestamp": ts,
                   "x-triage-delivery-attempt": str(attempt), **self.target.headers}
        if self.secret:
            headers["x-triage-signature"] = sign(self.secret, ts, body)
        return headers

    async def close(self) -> None:
        await self.client.aclose()
