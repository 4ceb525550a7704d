"""Per-model circuit breakers: skip a model after repeated failures, try it
again after a cooldown. Pure state + an injected clock; one instance per
ingress replica (each replica learns on its own, no shared state to fail)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable


@dataclass
class _State:
    failures: int = 0
    opened_at: float | None = None
    # When the last probe was let through; a probe whose outcome never comes
    # back (cancelled request) expires after another cooldown.
    probe_at: float | None = None


class CircuitBreakers:
    def __init__(self, failure_threshold: int, cooldown_s: float,
                 clock: Callable[[], float] = time.monotonic):
        self.threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self.clock = clock
        self._states: dict[str, _State] = {}

    def allow(self, model: str) -> bool:
        """False while open; after the cooldown one probe request is let through."""
        if self.blocked(model):
            return False
        s = self._states.get(model)
        if s is not None and s.opened_at is not None:
            s.probe_at = self.clock()  # this request is the probe
        return True

    def success(self, model: str) -> None:
        self._states.pop(model, None)

    def failure(self, model: str) -> None:
        s = self._states.setdefault(model, _State())
        s.failures += 1
        if s.probe_at is not None or s.failures >= self.threshold:
            # A failed probe re-opens for a full cooldown.
            s.opened_at, s.probe_at = self.clock(), None

    def blocked(self, model: str) -> bool:
        """Whether allow() would say no now, without taking the probe slot."""
        s = self._states.get(model)
        if s is None or s.opened_at is None:
            return False
        now = self.clock()
        probe_due = s.probe_at is None or now - s.probe_at >= self.cooldown_s
        return not (now - s.opened_at >= self.cooldown_s and probe_due)

    def is_open(self, model: str) -> bool:
        s = self._states.get(model)
        return s is not None and s.opened_at is not None

    def open_models(self) -> list[str]:
        return sorted(m for m, s in self._states.items() if s.opened_at is not None)
