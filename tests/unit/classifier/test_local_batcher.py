"""Batcher: the Ingress placement's batching, without Ray."""

import asyncio

import pytest

from serve_app.classifier.local import Batcher


async def test_calls_made_while_a_batch_runs_go_together_in_the_next():
    seen = []
    gate = asyncio.Event()

    async def run(items):
        seen.append(list(items))
        if len(seen) == 1:
            await gate.wait()
        return [i * 10 for i in items]

    b = Batcher(run, max_batch_size=3)
    first = asyncio.create_task(b(1))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(b(i)) for i in (2, 3, 4, 5)]
    await asyncio.sleep(0)
    gate.set()
    assert await first == 10 and [await t for t in rest] == [20, 30, 40, 50]
    assert seen == [[1], [2, 3, 4], [5]]


async def test_a_failed_batch_fails_each_of_its_callers_and_the_next_batch_runs():
    async def run(items):
        if 0 in items:
            raise RuntimeError("encoder broke")
        return items

    b = Batcher(run, max_batch_size=8)
    with pytest.raises(RuntimeError, match="encoder broke"):
        await b(0)
    assert await b(7) == 7


async def test_a_caller_that_gave_up_does_not_break_the_batch():
    async def run(items):
        await asyncio.sleep(0.05)
        return items

    b = Batcher(run, max_batch_size=8)
    impatient = asyncio.create_task(asyncio.wait_for(b(1), 0.01))
    patient = asyncio.create_task(b(2))
    with pytest.raises(asyncio.TimeoutError):
        await impatient
    assert await patient == 2
