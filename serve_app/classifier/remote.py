"""Calling the Classifier deployment through its handle, with a safe fallback.

If the classifier cannot answer, routing degrades instead of failing: the
request goes to the configured default tier and is treated as sensitive
(local models only), because nothing showed that it is not.
"""

from __future__ import annotations

import logging

from serve_app.policy.signals import Signals

log = logging.getLogger("triage.classifier")

UNAVAILABLE_KIND = "classifier_unavailable"


class RemoteClassifier:
    def __init__(self, handle, default_tier: str = "llm"):
        self.handle = handle
        self.default_tier = default_tier

    async def classify(self, text: str) -> Signals:
        try:
            return await self.handle.classify.remote(text)
        except Exception as exc:  # noqa: BLE001 - any failure degrades the same way
            log.warning("classifier failed (%s: %s); routing degraded", type(exc).__name__, exc)
            return degraded_signals(self.default_tier)

    async def ready(self) -> bool:
        try:
            return bool(await self.handle.ready.remote())
        except Exception:  # noqa: BLE001
            return False


def degraded_signals(default_tier: str) -> Signals:
    return Signals(tier_probs={default_tier: 1.0}, domain_probs={"general": 1.0},
                   sensitive=True, sensitive_kinds=(UNAVAILABLE_KIND,))
