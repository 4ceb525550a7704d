"""RemoteLearning against a stand-in OutcomeMemory handle: batched records, feedback errors."""

from __future__ import annotations

import asyncio

import pytest

from serve_app.errors import ModelUnavailable
from serve_app.learning import remote
from serve_app.learning.records import OutcomeRecord
from serve_app.learning.remote import RemoteLearning


class Method:
    def __init__(self, fn):
        self.remote = fn


class Memory:
    def __init__(self, fail=False):
        self.batches = []

        async def record(batch):
            if fail:
                raise RuntimeError("replica gone")
            self.batches.append(list(batch))

        async def feedback(*args):
            if fail:
                raise RuntimeError("replica gone")
            return "applied"

        self.record, self.feedback = Method(record), Method(feedback)


def rec(i):
    return OutcomeRecord(request_id=f"r{i}", tenant="acme", tier="slm", model="m", domain="general",
                         created_at=0.0, expires_at=0.0)


async def test_records_of_one_window_go_in_one_call():
    mem = Memory()
    learning = RemoteLearning(mem)
    for i in range(5):
        learning.record(rec(i))
    await learning.drain()
    assert [[r.request_id for r in b] for b in mem.batches] == [["r0", "r1", "r2", "r3", "r4"]]


async def test_a_full_batch_goes_at_once(monkeypatch):
    monkeypatch.setattr(remote, "BATCH_WINDOW_S", 10.0)
    mem = Memory()
    learning = RemoteLearning(mem)
    for i in range(remote.BATCH_MAX):
        learning.record(rec(i))
    await asyncio.sleep(0.05)  # not the 10 s window
    assert len(mem.batches) == 1 and len(mem.batches[0]) == remote.BATCH_MAX
    for t in list(learning._tasks):
        t.cancel()


async def test_a_lost_batch_never_fails_a_request_but_lost_feedback_is_a_503():
    learning = RemoteLearning(Memory(fail=True))
    learning.record(rec(1))
    await learning.drain()  # logged, not raised
    with pytest.raises(ModelUnavailable) as exc:
        await learning.feedback("acme", "r1", 0.0)
    assert exc.value.status == 503
