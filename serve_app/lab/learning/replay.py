"""One deployment's replay: traffic with feedback through the serving code.

Per request of the stream, in order, as the router does it: the learned
adjustment in force for the tenant (learning/adjust.py), the live
correction (learning/live.py over the real outcome memory:
learning/memory.py on the embedded Qdrant edge shard), the policy's rule
(policy/decide.by_success, and decide.explore for the requests that
explore), then the record and the tenant's feedback: the routed model's
known outcome. An adversarial tenant may send the same traffic with every
outcome inverted. Every `learn_every` outcomes, `triage learn`'s step runs
on the memory's outcome log (learn.propose: fitted on older outcomes,
judged on recent ones and the fixed set, promoted or refused).

At checkpoints, the deployment's test prompts (never streamed) are scored
as the router would score them for the tenant: APGR and the strong share
needed for 95% of the strong model's accuracy. Checkpoint 0 is the shipped
model before any outcome: the no-learning line.

Requests are spaced farther apart than the re-ask window (the prompts are
distinct questions, not re-asks); the clock is simulated.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from serve_app.cache.stores.embedded import EmbeddedStore
from serve_app.config.schema import LearningConfig
from serve_app.lab.learning.data import Deployment
from serve_app.lab.learning.learn import FixedSet, propose, read_logs, scopes
from serve_app.lab.training import routing_eval
from serve_app.learning.adjust import Adjustments
from serve_app.learning.live import LiveCorrection
from serve_app.learning.memory import LearningMemory
from serve_app.learning.records import OutcomeRecord
from serve_app.metrics import MemoryMetrics
from serve_app.policy.decide import by_success, explore, explores
from serve_app.policy.signals import Signals

TEST_PERCENT = 30
TENANT, ADVERSARY = "acme", "mallory"


def is_test(prompt: str) -> bool:
    """A stable split by the prompt: the same prompts are test in every run."""
    return int(hashlib.sha1(prompt.encode()).hexdigest()[:8], 16) % 100 < TEST_PERCENT


@dataclass
class Settings:
    learning: LearningConfig
    quality_target: float
    near_best: float
    live: bool = True  # the live correction
    learn_every: int | None = 200  # `triage learn` every so many outcomes (None: never)
    adversary: bool = False
    checkpoints: tuple[int, ...] = (0, 100, 200, 300, 400, 500, 600, 800, 1000)


@dataclass
class Clock:
    now: float = 1.7e9

    def __call__(self) -> float:
        return self.now


class _Method:
    def __init__(self, fn):
        self.remote = fn


class InProcessMemory:
    """What LiveCorrection calls on the OutcomeMemory handle, in this process."""

    def __init__(self, memory: LearningMemory):
        self.neighbours = _Method(memory.neighbours)

        async def rated_tenants() -> list[str]:
            return memory.rated_tenants()

        self.rated_tenants = _Method(rated_tenants)


@dataclass
class Curve:
    outcomes: list[int] = field(default_factory=list)
    apgr: list[float] = field(default_factory=list)
    share_95: list[float | None] = field(default_factory=list)
    strong_share_streamed: float = 0.0
    explored: int = 0
    versions: list[dict] = field(default_factory=list)  # every learn step: promoted or refused, why


class Router:
    """The learning state of one replay: the memory, the versions in force, the live correction."""

    def __init__(self, memory: LearningMemory, cfg: LearningConfig, live: bool, clock):
        self.memory = memory
        self.cfg = cfg
        # On the replay's clock: requests are minutes apart, so the classifier
        # learns of a tenant's first outcomes by its next request.
        self.live = LiveCorrection(InProcessMemory(memory), cfg, clock=clock) if live else None
        self.in_force: dict[str, dict] = {}

    async def estimate(self, signals: list[Signals], tenants: list[str]) -> list[Signals]:
        out = Adjustments.from_config(self.in_force, len(signals[0].embedding)).apply(signals, tenants)
        return await self.live.apply(out, tenants) if self.live is not None else out


async def replay(dep: Deployment, signals: dict[str, Signals], s: Settings, fixed: FixedSet) -> Curve:
    test = np.array([is_test(p) for p in dep.prompts])
    stream, test_idx = np.nonzero(~test)[0], np.nonzero(test)[0]
    spacing = s.learning.reask.window_s * 2  # module docstring
    # The replay scores hundreds of test prompts in one lookup: no serving timeout.
    cfg = s.learning.model_copy(update={"lookup_timeout_s": 600.0})
    # Feedback is fsync'd before it is acknowledged; in memory (/dev/shm) the
    # replay measures learning, not the disk.
    folder = Path(tempfile.mkdtemp(prefix="triage-replay-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    clock = Clock()
    dim = len(next(iter(signals.values())).embedding)
    store = EmbeddedStore(str(folder / "shard"), dim=dim, max_entries=cfg.max_entries, purge_interval_s=None,
                          flush_interval_s=None, optimize_interval_s=None, optimize_on_start=False, clock=clock)
    await store.start()
    log = folder / "outcomes-replay.jsonl"
    memory = LearningMemory(store, cfg, dim, log, MemoryMetrics(), clock=clock)
    router = Router(memory, cfg, s.live, clock)
    curve, strong_routed = Curve(), 0
    try:
        for n, j in enumerate(stream):
            if s.learn_every and n and n % s.learn_every == 0:
                _learn(router, log, cfg.scope, fixed, curve, n)
            if n in s.checkpoints:
                await _checkpoint(curve, n, router, dep, signals, test_idx)
            rid = f"{dep.pair}-{n}"
            (sig,) = await router.estimate([signals[dep.prompts[j]]], [TENANT])
            tier, explored = _route(sig, dep, s, rid)
            strong = tier == dep.strong_tier
            strong_routed += strong
            curve.explored += explored
            outcome = float(dep.strong[j] if strong else dep.weak[j])
            await _rated(memory, TENANT, rid, dep, tier, sig, clock, outcome)
            if s.adversary:
                await _rated(memory, ADVERSARY, rid, dep, tier, sig, clock, 1.0 - outcome)
            clock.now += spacing
        await _checkpoint(curve, len(stream), router, dep, signals, test_idx)
    finally:
        memory.close()
        await store.close()
        shutil.rmtree(folder, ignore_errors=True)
    curve.strong_share_streamed = round(strong_routed / max(1, len(stream)), 4)
    return curve


def _route(sig: Signals, dep: Deployment, s: Settings, rid: str) -> tuple[str, bool]:
    est = sig.tier_success or sig.success_prior
    pair = {dep.weak_tier: est[dep.weak_tier], dep.strong_tier: est[dep.strong_tier]}
    tier = by_success(pair, s.quality_target, s.near_best)[0]
    if explores(rid, s.learning.explore):
        cheaper = explore(tier, pair)
        if cheaper is not None:
            return cheaper[0], True
    return tier, False


async def _rated(memory: LearningMemory, tenant: str, rid: str, dep: Deployment, tier: str, sig: Signals,
                 clock: Clock, outcome: float) -> None:
    model = dep.strong_model if tier == dep.strong_tier else dep.weak_model
    base = (sig.success_base or sig.success_prior)[tier]
    await memory.record(OutcomeRecord(request_id=rid, tenant=tenant, tier=tier, model=model, domain="general",
                                      created_at=clock.now, expires_at=0.0, vector=sig.embedding, base=base))
    await memory.feedback(tenant, rid, outcome)


def _learn(router: Router, log: Path, scope: str, fixed: FixedSet, curve: Curve, n: int) -> None:
    """`triage learn`'s step on the outcome log so far (lab/learning/cli.py does the same on files)."""
    data = read_logs([log])
    for name, part in scopes(data, scope).items():
        current = router.in_force.get(name)
        version = (current or {}).get("version", 0) + 1
        p = propose(part, name, current, version, fixed)
        if p.promoted:
            router.in_force[name] = p.adjustment
        curve.versions.append({"outcomes": n, "scope": name, "promoted": p.promoted, "reason": p.reason})


async def _checkpoint(curve: Curve, n: int, router: Router, dep: Deployment, signals: dict,
                      test_idx: np.ndarray) -> None:
    est = await router.estimate([signals[dep.prompts[i]] for i in test_idx], [TENANT] * len(test_idx))
    # The routing score: the predicted gain of the strong tier over the weak
    # one (what the decision weighs; `triage bench learning` reports why).
    score = np.array([_p(c, dep.strong_tier) - _p(c, dep.weak_tier) for c in est])
    summary = routing_eval.summarize_many({"router": score}, dep.weak[test_idx], dep.strong[test_idx])
    r = summary["routers"]["router"]
    curve.outcomes.append(n)
    curve.apgr.append(round(r["apgr"], 4))
    curve.share_95.append(r["strong_share_for_accuracy"]["95%"])


def _p(sig: Signals, tier: str) -> float:
    return (sig.tier_success or sig.success_prior)[tier]
