"""The served success estimate on hand-computed numbers, and the seeded outcome memory."""

from __future__ import annotations

import numpy as np
import pytest

from serve_app.outcomes.estimate import SuccessModel, SuccessSettings
from serve_app.outcomes.memory import SeededMemory

TIERS = ("slm", "srm", "llm", "lrm")


def settings(**kw):
    base = dict(tiers=TIERS, k=2, alpha=2.0, floor=0.5, support_floor=0.35, platt_a=(1,) * 4, platt_b=(0,) * 4)
    return SuccessSettings(**{**base, **kw})


def model(**kw):
    # A head that outputs exactly 0.5 everywhere: zero weights, zero biases.
    w = {"success.W1": np.zeros((3, 2)), "success.b1": np.zeros(2), "success.W2": np.zeros((2, 4)),
         "success.b2": np.zeros(4)}
    return SuccessModel(w, settings(**kw))


def test_beta_blend_by_hand():
    """p = (sum w*y + alpha*head) / (sum w + alpha), w = similarity >= floor;
    a tier a neighbour has no outcome for (NaN) takes no weight from it."""
    m = model()
    head = np.full((1, 4), 0.5)
    sims = np.array([[0.9, 0.4]])  # the second neighbour is under the floor
    ys = np.array([[[1.0, 0.0, np.nan, 1.0], [0.0, 0.0, 0.0, 0.0]]])
    p = m.blend(head, sims, ys)[0]
    assert p[0] == pytest.approx((0.9 * 1 + 2 * 0.5) / (0.9 + 2))
    assert p[1] == pytest.approx((0.9 * 0 + 2 * 0.5) / (0.9 + 2))
    assert p[2] == pytest.approx(0.5)  # no evidence: the head unchanged
    assert p[3] == pytest.approx(p[0])


def test_no_neighbours_keep_the_head_and_platt_identity_changes_nothing():
    m = model()
    x = np.zeros((2, 3))
    est = m.estimate(x, np.zeros((2, 2)), np.full((2, 2, 4), np.nan))
    assert np.allclose(est.probs, 0.5) and not est.supported.any()


def test_support_is_the_nearest_similarity_against_the_floor():
    m = model()
    sims = np.array([[0.36, 0.2], [0.34, 0.3]])
    est = m.estimate(np.zeros((2, 3)), sims, np.full((2, 2, 4), 0.0))
    assert est.supported.tolist() == [True, False]
    assert est.support.tolist() == pytest.approx([0.36, 0.34])


def test_platt_moves_probabilities():
    m = model(platt_a=(1, 1, 1, 1), platt_b=(0, 1, 0, -1))
    p = m.calibrate(np.full((1, 4), 0.5))[0]
    assert p[0] == pytest.approx(0.5) and p[1] > 0.7 and p[3] < 0.3


def test_seeded_memory_finds_the_nearest_prompts_with_their_outcomes(tmp_path):
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(50, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    success = rng.random((50, 4))
    success[3, 1] = np.nan
    mem = SeededMemory(vecs, success, TIERS, str(tmp_path))
    try:
        sims, ys = mem.nearest(vecs[[3, 7]], k=3)
        assert sims.shape == (2, 3) and ys.shape == (2, 3, 4)
        assert sims[0, 0] == pytest.approx(1.0, abs=1e-3) and sims[1, 0] == pytest.approx(1.0, abs=1e-3)
        assert np.isnan(ys[0, 0, 1]) and ys[0, 0, 0] == pytest.approx(success[3, 0])
        assert ys[1, 0] == pytest.approx(success[7])
        assert (np.diff(sims, axis=1) <= 1e-6).all()  # best first
    finally:
        mem.close()
    assert not any(tmp_path.iterdir())  # its private directory is gone


def test_seeded_memory_removes_its_directory_when_collected_and_sweeps_dead_ones(tmp_path):
    import gc
    import os
    import subprocess

    dead = subprocess.Popen(["true"])
    dead.wait()  # a pid that no longer runs
    (tmp_path / f"triage-outcome-memory-{dead.pid}-abc").mkdir()
    (tmp_path / f"triage-outcome-memory-{os.getppid()}-xyz").mkdir()  # a live process's: kept
    vecs = np.eye(4, 8, dtype=np.float32)
    mem = SeededMemory(vecs, np.random.default_rng(1).random((4, 4)), TIERS, str(tmp_path))
    names = {p.name for p in tmp_path.iterdir()}
    assert f"triage-outcome-memory-{dead.pid}-abc" not in names
    assert f"triage-outcome-memory-{os.getppid()}-xyz" in names and len(names) == 2
    del mem
    gc.collect()
    assert {p.name for p in tmp_path.iterdir()} == {f"triage-outcome-memory-{os.getppid()}-xyz"}
