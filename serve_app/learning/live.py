"""The online correction in the Classifier: once per batch, the same tenant's
nearest rated requests adjust each prompt's per-tier success estimate
(learning/correction.py). A prompt without outcome support gets an estimate
once enough live evidence stands in for it. A slow or failing memory leaves
the estimates as they were (the lookup has a timeout)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

from serve_app.learning.correction import correct
from serve_app.policy.signals import Signals

log = logging.getLogger("ray.serve.triage.learning")


# How often the classifier asks which tenants have rated requests: a tenant's
# first outcomes start correcting its routing within this long.
RATED_REFRESH_S = 2.0


class LiveCorrection:
    def __init__(self, handle, cfg, clock=time.monotonic):
        """handle: the OutcomeMemory deployment's; cfg: LearningConfig."""
        self.handle = handle
        self.cfg = cfg
        self.clock = clock
        # Tenants with rated requests: the lookup is skipped for the others
        # (nothing to find, and it is the whole cost of learning per request).
        self._rated: set[str] = set()
        self._refreshed = -RATED_REFRESH_S
        self._refresh: asyncio.Task | None = None

    def _maybe_refresh(self) -> None:
        now = self.clock()
        if now - self._refreshed >= RATED_REFRESH_S and (self._refresh is None or self._refresh.done()):
            self._refreshed = now
            self._refresh = asyncio.create_task(self._load_rated())

    async def _load_rated(self) -> None:
        try:
            self._rated = set(await self.handle.rated_tenants.remote())
        except Exception as exc:  # noqa: BLE001 - keep the last known set
            log.warning("rated tenants unavailable (%s)", type(exc).__name__)

    def _wanted(self, tenant: str) -> bool:
        return bool(self._rated) if self.cfg.scope == "shared" else tenant in self._rated

    async def apply(self, signals: list[Signals], tenants: list[str]) -> list[Signals]:
        self._maybe_refresh()
        idx = [i for i, s in enumerate(signals)
               if s.embedding is not None and s.success_prior and self._wanted(tenants[i])]
        if not idx:
            return signals
        c = self.cfg.correction
        scopes = [tenants[i] if self.cfg.scope == "tenant" else None for i in idx]
        try:
            found = await asyncio.wait_for(
                self.handle.neighbours.remote(scopes, [signals[i].embedding for i in idx], c.k),
                self.cfg.lookup_timeout_s)
        except Exception as exc:  # noqa: BLE001 - no correction, never a failed classification
            log.warning("outcome neighbours unavailable (%s); estimates uncorrected", type(exc).__name__)
            return signals
        out = list(signals)
        for i, neighbours in zip(idx, found):
            if not neighbours:
                continue
            s = signals[i]
            estimate, evidence = correct(s.tier_success or s.success_prior, neighbours, c.similarity, c.strength,
                                         c.max_evidence)
            # Unsupported prompts (unlike the shipped outcome data) are
            # estimated once live evidence weighs half the prior's strength.
            if s.tier_success is not None or sum(evidence.values()) >= c.strength / 2:
                out[i] = replace(s, tier_success=estimate, learned=evidence)
        return out
