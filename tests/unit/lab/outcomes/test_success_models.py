"""Blend math, heads, calibration and features on hand-made numbers."""

from __future__ import annotations

import numpy as np
import pytest

from serve_app.lab.outcomes import features, success

NAN = np.nan


def test_knn_beta_blend_by_hand():
    # one query, three neighbours with similarities .9/.6/.2; per-tier outcomes
    sims = np.array([[0.9, 0.6, 0.2]])
    idx = np.array([[0, 1, 2]])
    mem_y = np.array([[1.0, 0.0, 1.0, NAN],
                      [0.0, 0.0, 1.0, NAN],
                      [0.0, 1.0, 0.0, NAN]])
    prior = np.array([[0.5, 0.5, 0.5, 0.8]])
    p, ev = success.knn_estimate(sims, idx, mem_y, prior, k=3, alpha=2.0, floor=0.5)
    # the .2 neighbour is under the floor; tier 0: (0.9*1 + 0.6*0 + 2*0.5) / (1.5 + 2)
    assert p[0, 0] == pytest.approx((0.9 + 1.0) / 3.5)
    assert p[0, 1] == pytest.approx(1.0 / 3.5)
    assert p[0, 2] == pytest.approx((1.5 + 1.0) / 3.5)
    # no neighbour scored lrm: the prior comes back unchanged, with zero evidence
    assert p[0, 3] == pytest.approx(0.8) and ev[0, 3] == 0
    assert ev[0, 0] == pytest.approx(1.5)


def test_knn_prior_dominates_without_neighbours_and_fades_with_many():
    sims = np.full((1, 50), 0.95)
    idx = np.zeros((1, 50), int)
    mem_y = np.array([[1.0, 1.0, 1.0, 1.0]])
    none, _ = success.knn_estimate(sims, idx, mem_y, np.full(4, 0.2), k=50, alpha=5, floor=0.99)
    assert np.allclose(none, 0.2)
    many, _ = success.knn_estimate(sims, idx, mem_y, np.full(4, 0.2), k=50, alpha=5, floor=0.5)
    assert np.all(many > 0.9)


def test_topk_is_exact_and_sorted():
    rng = np.random.default_rng(0)
    mem = rng.normal(size=(200, 8))
    mem /= np.linalg.norm(mem, axis=1, keepdims=True)
    q = mem[:5] + 0.01
    sims, idx = success.topk(q, mem, 7, chunk=2)
    full = q @ mem.T
    assert np.array_equal(idx[:, 0], np.arange(5))
    assert np.allclose(sims, -np.sort(-full, axis=1)[:, :7])


def test_linear_heads_learn_soft_targets_and_ignore_nan():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 3)).astype(np.float32)
    y = np.stack([1 / (1 + np.exp(-2 * x[:, 0])), np.where(x[:, 1] > 0, 1.0, 0.0), np.full(400, NAN)], 1)
    h = success.LinearHeads.fit(x, y, l2=1e-4)
    p = h.predict(x)
    assert h.W[0, 0] == pytest.approx(2.0, abs=0.3)
    assert np.mean((p[:, 1] > 0.5) == (x[:, 1] > 0)) > 0.95
    assert np.all(np.isfinite(p))
    assert success.masked_bce(p, y) < success.masked_bce(np.full_like(p, 0.5), y)


def test_source_weights_balance_sources():
    w = success.source_weights(["a"] * 9 + ["b"], balance=1.0)
    assert w[:9].sum() == pytest.approx(w[9:].sum())
    assert np.allclose(success.source_weights(["a", "b", "b"], 0.0), 1.0)


def test_platt_fixes_overconfidence():
    rng = np.random.default_rng(2)
    true = rng.uniform(0.05, 0.95, size=(3000, 1))
    y = (rng.uniform(size=true.shape) < true).astype(float)
    over = success.sigmoid(3 * success.logit(true))  # overconfident scores
    cal = success.Platt.fit(over, y)
    assert cal.a[0] == pytest.approx(1 / 3, abs=0.08)
    assert success.ece(cal(over), y) < success.ece(over, y)


def test_text_counts():
    c = dict(zip(features.TEXT_FEATURES, features.text_counts("Tom has 3 apples and 3 pears.\nA. 6\nB. 7\nWhat is 3+4?")))
    raw = lambda name, scale: np.expm1(c[name] * scale)  # noqa: E731
    assert raw("numbers", 4) == pytest.approx(6) and raw("distinct_numbers", 4) == pytest.approx(4)
    assert raw("options", 2.5) == pytest.approx(2) and raw("questions", 3) == pytest.approx(1)
    assert features.counts(["", "x"]).shape == (2, len(features.TEXT_FEATURES))
