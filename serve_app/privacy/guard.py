"""The privacy detector on the request path: off the event loop, bounded in
time, failing closed, measured.

`check` gives a Findings, or None when the detector could not answer in
time (or failed): callers treat None as sensitive, since nothing showed the
text is clean. `redact` replaces the sensitive spans of a request body for a
cloud call (redaction mode); the mapping back to the values stays in the
caller's hands, for restore_response / ChunkRestorer on the answer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

from serve_app.privacy.detector import PrivacyDetector
from serve_app.privacy.findings import Findings
from serve_app.privacy.redaction import RedactedRequest, redact_request
from serve_app.privacy.settings import PrivacySettings

log = logging.getLogger("ray.serve.triage.privacy")


class PrivacyGuard:
    def __init__(self, settings: PrivacySettings, timeout_s: float, metrics):
        self.settings = settings
        self.timeout_s = timeout_s
        self.metrics = metrics
        self.detector = PrivacyDetector(settings)  # loads Presidio and spaCy: seconds, once per replica

    async def check(self, text: str) -> Findings | None:
        started = time.perf_counter()
        try:
            findings = await asyncio.wait_for(asyncio.to_thread(self.detector.analyze, text), self.timeout_s)
        except asyncio.TimeoutError:
            log.warning("privacy detector gave no verdict within %.2fs: treated as sensitive", self.timeout_s)
            findings = None
        except Exception:  # noqa: BLE001 - a broken detector fails closed, never open
            log.exception("privacy detector failed: treated as sensitive")
            findings = None
        verdict = "failed" if findings is None else ("sensitive" if findings.sensitive else "clean")
        self.metrics.privacy_check(verdict, time.perf_counter() - started)
        return findings

    async def redact(self, body: dict) -> RedactedRequest:
        """A copy of `body` with its sensitive spans (and the names and dates
        that go with them) replaced by numbered placeholders."""
        analyze = partial(self.detector.analyze, all_names=True)
        red = await asyncio.to_thread(redact_request, body, analyze, self.settings.redaction)
        self.metrics.privacy_redaction(sum(red.counts.values()))
        return red
