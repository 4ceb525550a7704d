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


# Records go in batches: one handle call per window instead of one per
# request (at 16 concurrent requests on 2 cores the calls alone cost 40% of
# the ingress' throughput: `triage bench overhead --config ...learning...`).
BATCH_WINDOW_S = 0.02
BATCH_MAX = 64


class RemoteLearning:
    def __init__(self, handle):
        self.handle = handle
        self._tasks: set[asyncio.Task] = set()
        self._batch: list[OutcomeRecord] = []

    def record(self, record: OutcomeRecord) -> None:
        self._batch.append(record)
        if len(self._batch) >= BATCH_MAX:
            self._send(0.0)
        elif len(self._batch) == 1:
            self._send(BATCH_WINDOW_S)

    def _send(self, after_s: float) -> None:
        task = asyncio.create_task(self._flush(after_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _flush(self, after_s: float) -> None:
        if after_s:
            await asyncio.sleep(after_s)
        batch, self._batch = self._batch, []
        if not batch:
            return
        try:
            await self.handle.record.remote(batch)
        except Exception as exc:  # noqa: BLE001 - lost records are lost outcomes, never a failed request
            log.warning("%d outcome records not stored (%s: %s)", len(batch), type(exc).__name__, exc)

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
