"""Load-aware choice among equally suitable models.

The load a replica of the ingress can see cheaply is its own: how many calls
it has in flight to each model, and which models recently rejected a call
with Serve back-pressure (`max_queued_requests`). Ray Serve 2.60 has no
public API for a deployment's queue lengths (its router keeps them in
private state), so Triage counts for itself. `LoadTracker` holds that state
(an injected clock, no I/O: one per ingress replica, like the breakers);
`prefer_free` is the pure rule.

The rule (spill-over): among the candidates that are equally suitable (the
caller passes them: same tier, same specialist rank, priced within
`policy.load.cost_factor` of the cheapest), keep the cost order for models
with room; a busy model (in flight >= busy_at x capacity, or back-pressure
that has not decayed below half) moves behind every model with room; busy
models keep the order of most free capacity. So the cheap model takes the
traffic until it is full, then the next one does, and nothing pricier than
the factor is ever promoted.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

from serve_app.config.schema import DeploymentSettings, ModelConfig


@dataclass(frozen=True)
class ModelLoad:
    in_flight: int
    capacity: int
    # Decayed count of recent back-pressure rejections: 1.0 right after one.
    overload: float = 0.0

    def free(self) -> float:
        """Free share of capacity (negative when more than capacity is queued)."""
        return 1.0 - self.in_flight / self.capacity

    def busy(self, busy_at: float) -> bool:
        return self.in_flight >= busy_at * self.capacity or self.overload >= 0.5

    def describe(self) -> str:
        if self.overload >= 0.5 and self.in_flight < self.capacity:
            return "recent back-pressure"
        return f"{self.in_flight}/{self.capacity} in flight"


def capacity(model: ModelConfig, ingress: DeploymentSettings) -> int:
    """Requests a model takes at once, as one ingress replica's share.

    Autoscaled models count at max_replicas: moving traffic away before the
    autoscaler adds replicas would stop it from ever adding them; hard
    overload still shows as back-pressure. Traffic is assumed spread evenly
    over a fixed number of ingress replicas (one, if the ingress autoscales)."""
    d = model.deployment
    replicas = d.autoscaling.max_replicas if d.autoscaling else d.num_replicas
    ingresses = 1 if ingress.autoscaling else ingress.num_replicas
    return max(1, d.max_ongoing_requests * replicas // ingresses)


def prefer_free(group: Sequence[str], loads: Mapping[str, ModelLoad],
                busy_at: float) -> tuple[list[str], list[str], str | None]:
    """(new order, busy models moved back, note for the reason) for a group
    of equally suitable models in preference order. Models without a load
    entry count as free."""
    busy = [m for m in group if m in loads and loads[m].busy(busy_at)]
    if not busy or len(group) < 2:
        return list(group), [], None
    room = [m for m in group if m not in busy]
    order = room + sorted(busy, key=lambda m: (-(loads[m].free() - loads[m].overload), group.index(m)))
    if order == list(group):
        return order, [], None
    # Busy models that some model from behind them overtook.
    moved = [m for m in busy if any(order.index(n) < order.index(m) for n in group[group.index(m) + 1:])]
    note = f"load: {order[0]} preferred over {', '.join(moved)} (" + "; ".join(
        f"{m} {loads[m].describe()}" for m in moved) + ")"
    return order, moved, note


@dataclass
class _Pressure:
    score: float
    at: float


class LoadTracker:
    """In-flight calls and decaying back-pressure per model, for one replica."""

    def __init__(self, half_life_s: float, clock: Callable[[], float] = time.monotonic):
        self.half_life_s = half_life_s
        self.clock = clock
        self._in_flight: dict[str, int] = {}
        self._pressure: dict[str, _Pressure] = {}

    def acquire(self, model: str) -> Callable[[], None]:
        """Count one call in flight; the returned release is safe to call twice."""
        self._in_flight[model] = self._in_flight.get(model, 0) + 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._in_flight[model] -= 1

        return release

    def saturated(self, model: str, capacity: int) -> bool:
        """Its capacity share in flight and back-pressure still counting: a
        call now would queue behind a full queue and be turned back."""
        return (self._in_flight.get(model, 0) >= capacity
                and self._decayed(model, self.clock()) >= 0.5)

    def overloaded(self, model: str) -> None:
        now = self.clock()
        self._pressure[model] = _Pressure(self._decayed(model, now) + 1.0, now)

    def snapshot(self, capacities: Mapping[str, int]) -> dict[str, ModelLoad]:
        now = self.clock()
        return {m: ModelLoad(self._in_flight.get(m, 0), c, self._decayed(m, now))
                for m, c in capacities.items()}

    def _decayed(self, model: str, now: float) -> float:
        p = self._pressure.get(model)
        if p is None:
            return 0.0
        return p.score * math.pow(0.5, (now - p.at) / self.half_life_s)
