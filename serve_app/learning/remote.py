"""Reaching the OutcomeMemory deployment through its handle.

Recording never waits and never fails a request (a lost record costs one
outcome); feedback is the client's own call and must not be lost silently:
an unreachable memory is a 503 the client retries.
"""

from __future__ import annotations

import asyncio
import logging

from serve_app.errors import ModelUnavailable
from serve_app.learning.records import OutcomeRecord

log = logging.getLogger("ray.serve.triage.learning")


class RemoteLearning:
    def __init__(self, handle):
        self.handle = handle
        self._tasks: set[asyncio.Task] = set()

    def record(self, record: OutcomeRecord) -> None:
        task = asyncio.create_task(self._record(record))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _record(self, record: OutcomeRecord) -> None:
        try:
            await self.handle.record.remote(record)
        except Exception as exc:  # noqa: BLE001 - a lost record is one lost outcome, never a failed request
            log.warning("outcome record for %s not stored (%s: %s)", record.request_id, type(exc).__name__, exc)

    async def feedback(self, tenant: str, request_id: str, outcome: float, reason: str | None = None,
                       better_tier: str | None = None) -> str:
        try:
            return await self.handle.feedback.remote(tenant, request_id, outcome, reason, better_tier)
        except Exception as exc:  # noqa: BLE001
            raise ModelUnavailable(f"the outcome memory is unavailable ({type(exc).__name__}); retry the feedback",
                                   model="OutcomeMemory") from None

    async def drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
