"""The Qdrant (edge) outcome memory returns what the numpy estimate uses."""

from __future__ import annotations

import numpy as np
import pytest

from serve_app.lab.outcomes import memory, success

pytest.importorskip("qdrant_edge")


def test_memory_lookup_matches_numpy(tmp_path):
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(40, 16)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ys = rng.integers(0, 2, size=(40, 4)).astype(float)
    ys[::3, 3] = np.nan
    mem = memory.OutcomeMemory(tmp_path / "m", dim=16)
    mem.build(vecs, ys, ["s"] * 40)
    assert mem.count() == 40
    q = vecs[5] + 0.05 * rng.normal(size=16).astype(np.float32)
    q /= np.linalg.norm(q)
    prior = np.array([0.3, 0.4, 0.5, 0.6])
    got = memory.estimate(mem, q, prior, k=5, alpha=2.0, floor=0.1)
    sims, idx = success.topk(q[None, :], vecs, 5)
    want, _ = success.knn_estimate(sims, idx, ys, prior[None, :], 5, 2.0, 0.1)
    assert np.allclose(got, want[0], atol=1e-4)
    mem.close()
