"""The online correction in the Classifier: once per batch, the same tenant's
nearest rated requests adjust each prompt's per-tier success estimate
(learning/correction.py). A prompt without outcome support gets an estimate
once enough live evidence stands in for it. A slow or failing memory leaves
the estimates as they were (the lookup has a timeout)."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from serve_app.learning.correction import correct
from serve_app.policy.signals import Signals

log = logging.getLogger("ray.serve.triage.learning")


class LiveCorrection:
    def __init__(self, handle, cfg):
        """handle: the OutcomeMemory deployment's; cfg: LearningConfig."""
        self.handle = handle
        self.cfg = cfg

    async def apply(self, signals: list[Signals], tenants: list[str]) -> list[Signals]:
        idx = [i for i, s in enumerate(signals) if s.embedding is not None and s.success_prior]
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
