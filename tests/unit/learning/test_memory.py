"""The outcome memory on real stores (the embedded Qdrant edge shard): records,
feedback (pending, idempotent, per tenant), re-asks, neighbours, the log, restart."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from serve_app.cache.stores.embedded import EmbeddedStore
from serve_app.config.schema import LearningConfig
from serve_app.learning.memory import LearningMemory
from serve_app.learning.records import OutcomeRecord, parse_outcome, vector_from_log
from serve_app.metrics import FEEDBACK, OUTCOMES, MemoryMetrics

DIM = 8


def unit(seed: int, near: np.ndarray | None = None, noise: float = 0.02) -> tuple[float, ...]:
    v = np.random.default_rng(seed).normal(size=DIM) if near is None else near + noise * np.random.default_rng(seed).normal(size=DIM)
    return tuple((v / np.linalg.norm(v)).tolist())


T0 = time.time()  # the store purges by real time when it starts: records must not look expired


class Clock:
    def __init__(self):
        self.now = T0

    def __call__(self):
        return self.now


async def memory(tmp_path, clock=None, **cfg):
    store = EmbeddedStore(str(tmp_path / "shard"), dim=DIM, purge_interval_s=None, flush_interval_s=None,
                          optimize_on_start=False)
    await store.start()
    metrics = MemoryMetrics()
    mem = LearningMemory(store, LearningConfig(**cfg), DIM, tmp_path / "outcomes.jsonl", metrics,
                         clock=clock or Clock())
    return mem, metrics


def rec(rid, tenant="acme", vector=None, tier="slm", t=0.0, **kw):
    return OutcomeRecord(request_id=rid, tenant=tenant, tier=tier, model=f"m-{tier}", domain="general",
                         created_at=T0 + t, expires_at=0, vector=vector, **kw)


@pytest.mark.parametrize("value, score", [("good", 1.0), ("BAD", 0.0), (0.25, 0.25), (1, 1.0)])
def test_outcomes_parse(value, score):
    assert parse_outcome(value) == score


@pytest.mark.parametrize("value", ["meh", -0.1, 1.5, float("nan"), True, None, [1]])
def test_bad_outcomes_are_refused(value):
    with pytest.raises(ValueError):
        parse_outcome(value)


async def test_feedback_applies_to_the_tenants_own_record_and_is_idempotent(tmp_path):
    mem, metrics = await memory(tmp_path)
    v = unit(1)
    await mem.record(rec("r1", vector=v))
    assert await mem.feedback("acme", "r1", 0.0, reason="wrong") == "applied"
    assert await mem.feedback("acme", "r1", 0.0, reason="wrong") == "applied"
    assert metrics.counts[(OUTCOMES, "slm", "m-slm", "general", "explicit", "bad")] == 1  # counted once
    (n,) = await mem.neighbours(["acme"], [v], 5)
    assert n and n[0][1:] == ("slm", 0.0) and n[0][0] == pytest.approx(1.0, abs=1e-3)
    log = [json.loads(line) for line in (tmp_path / "outcomes.jsonl").read_text().splitlines()]
    assert len(log) == 1 and log[0]["request_id"] == "r1" and "vector" not in log[0]
    # The embedding travels (float16) for `triage learn`; never a text field.
    assert np.allclose(vector_from_log(log[0]), v, atol=1e-3) and "text" not in log[0]


async def test_another_tenants_feedback_never_touches_a_record(tmp_path):
    mem, _ = await memory(tmp_path)
    v = unit(2)
    await mem.record(rec("r2", vector=v))
    assert await mem.feedback("globex", "r2", 0.0) == "pending"  # looks like an unknown id
    assert await mem.neighbours(["acme"], [v], 5) == [[]]  # acme's record is still unrated


async def test_two_tenants_may_send_the_same_request_id(tmp_path):
    # Request ids can be client-chosen (x-request-id): one tenant's must never
    # replace or rate another's record.
    mem, _ = await memory(tmp_path)
    va, vg = unit(20), unit(21)
    await mem.record(rec("same", vector=va))
    await mem.record(rec("same", tenant="globex", vector=vg, tier="llm"))
    assert await mem.feedback("acme", "same", 1.0) == "applied"
    assert await mem.feedback("globex", "same", 0.0) == "applied"
    (a,), (g,) = await mem.neighbours(["acme"], [va], 5), await mem.neighbours(["globex"], [vg], 5)
    assert [x[1:] for x in a] == [("slm", 1.0)] and [x[1:] for x in g] == [("llm", 0.0)]


async def test_feedback_before_its_record_is_kept_and_applied(tmp_path):
    mem, metrics = await memory(tmp_path)
    assert await mem.feedback("acme", "r3", 0.0) == "pending"
    assert metrics.counts[(FEEDBACK, "pending")] == 1
    v = unit(3)
    await mem.record(rec("r3", vector=v))
    (n,) = await mem.neighbours(["acme"], [v], 5)
    assert [x[2] for x in n] == [0.0]


async def test_acknowledged_feedback_survives_a_restart(tmp_path):
    mem, _ = await memory(tmp_path)
    v = unit(4)
    await mem.record(rec("r4", vector=v))
    await mem.feedback("acme", "r4", 1.0)
    await mem.feedback("acme", "r-later", 0.0)  # pending, also acknowledged
    await mem.store.close()
    again, _ = await memory(tmp_path)
    (n,) = await again.neighbours(["acme"], [v], 5)
    assert [x[2] for x in n] == [1.0]
    await again.record(rec("r-later", vector=unit(5)))
    (m,) = await again.neighbours(["acme"], [unit(5)], 5)
    assert [x[2] for x in m] == [0.0]


async def test_a_near_duplicate_within_the_window_marks_the_previous_answer_bad(tmp_path):
    clock = Clock()
    mem, metrics = await memory(tmp_path, clock)
    base = np.array(unit(6))
    await mem.record(rec("q1", vector=tuple(base), t=0))
    clock.now = T0 + 30
    await mem.record(rec("q2", vector=unit(7, near=base, noise=0.01), t=30))
    assert metrics.counts[(OUTCOMES, "slm", "m-slm", "general", "reask", "bad")] == 1
    # Outside the window, or another tenant: no re-ask.
    clock.now = T0 + 4000
    await mem.record(rec("q3", vector=unit(8, near=base, noise=0.01), t=4000))
    await mem.record(rec("q4", tenant="globex", vector=unit(9, near=base, noise=0.01), t=4000))
    assert metrics.counts[(OUTCOMES, "slm", "m-slm", "general", "reask", "bad")] == 1


async def test_records_without_embedding_are_never_neighbours(tmp_path):
    mem, _ = await memory(tmp_path)
    await mem.record(rec("s1", vector=None, outcome=0.0, source="failure"))
    assert await mem.neighbours(["acme"], [unit(10)], 5) == [[]]


async def test_scope_none_reads_every_tenant(tmp_path):
    mem, _ = await memory(tmp_path)
    v = unit(11)
    await mem.record(rec("x1", tenant="globex", vector=v, outcome=1.0, source="explicit"))
    assert await mem.neighbours(["acme"], [v], 5) == [[]]
    assert len((await mem.neighbours([None], [v], 5))[0]) == 1
