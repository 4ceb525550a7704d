"""Calling the Classifier deployment through its handle, with a fail-closed fallback.

If the classifier cannot answer (an error, or no verdict within
classifier.timeout_s), routing degrades instead of failing: the request goes
to the configured default tier, is treated as sensitive (local models only)
because nothing showed that it is not, and, unless
policy.unclassified_jailbreak says assume_clean, as a jailbreak attempt.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

from serve_app.config.schema import PolicyConfig
from serve_app.policy.signals import Signals

log = logging.getLogger("ray.serve.triage.classifier")

UNAVAILABLE_KIND = "classifier_unavailable"


class RemoteClassifier:
    """`call(text, tenant)` and `ready()` reach the classifier wherever it runs."""

    def __init__(self, call: Callable[[str, str], Awaitable[Signals]], ready: Callable[[], Awaitable[bool]],
                 policy: PolicyConfig, timeout_s: float):
        self.call = call
        self._ready = ready
        self.policy = policy
        self.timeout_s = timeout_s

    @classmethod
    def over_handle(cls, handle, policy: PolicyConfig, timeout_s: float) -> "RemoteClassifier":
        """The Classifier deployment, through its Serve handle."""
        return cls(lambda text, tenant: handle.classify.remote(text, tenant), lambda: handle.ready.remote(),
                   policy, timeout_s)

    async def classify(self, text: str, tenant: str = "default") -> Signals:
        try:
            return await asyncio.wait_for(self.call(text, tenant), self.timeout_s)
        except asyncio.TimeoutError:
            log.warning("classifier gave no verdict within %.2fs; routing degraded", self.timeout_s)
        except Exception as exc:  # noqa: BLE001 - any failure degrades the same way
            log.warning("classifier failed (%s: %s); routing degraded", type(exc).__name__, exc)
        return degraded_signals(self.policy)

    async def ready(self) -> bool:
        try:
            return bool(await self._ready())
        except Exception:  # noqa: BLE001
            return False


def degraded_signals(policy: PolicyConfig) -> Signals:
    jailbreak = 1.0 if policy.unclassified_jailbreak == "assume_jailbreak" else 0.0
    return Signals(tier_probs={policy.default_tier: 1.0}, domain_probs={"general": 1.0},
                   sensitive=True, sensitive_kinds=(UNAVAILABLE_KIND,), jailbreak_prob=jailbreak, degraded=True)
