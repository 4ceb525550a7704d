"""Pair evaluation, the extended curve code and the quality-target decision."""

from __future__ import annotations

import numpy as np
import pytest

from serve_app.lab.outcomes import pairs, tiers
from serve_app.lab.training import routing_eval

NAN = np.nan


def test_summarize_many_matches_summarize():
    rng = np.random.default_rng(0)
    w, s = rng.integers(0, 2, 300), rng.integers(0, 2, 300)
    sc = rng.normal(size=300)
    one = routing_eval.summarize(sc, w, s)
    many = routing_eval.summarize_many({"a": sc, "b": -sc}, w, s)
    assert many["routers"]["a"] == one["routers"]["difficulty"]
    assert set(many["routers"]) == {"a", "b", "random", "oracle"}


def _rows(weak, strong, source="routing_outcomes"):
    return [{"source": source, "scores": {"s": float(a), "l": float(b)}} for a, b in zip(weak, strong)]


def test_evaluate_pair_perfect_router_is_oracle(small_mapping):
    weak = np.array([1, 1, 0, 0, 1, 0] * 10)
    strong = np.array([1, 1, 1, 1, 1, 0] * 10)
    rows = _rows(weak, strong)
    pr = pairs.Pair("routing_outcomes", "s", "l")
    assert pr.weak_tier == "slm" and pr.kind == "seen"
    # higher = stays weak longer; the oracle's order is the gain strong - weak
    perfect = (weak - strong).astype(float)
    e = pairs.evaluate_pair(rows, pr, {"perfect": perfect, "inverse": -perfect}, boot=20)
    assert e["routers"]["perfect"]["apgr"] == pytest.approx(e["routers"]["oracle"]["apgr"], abs=0.02)
    assert e["routers"]["inverse"]["apgr"] < 0.5 < e["routers"]["perfect"]["apgr"]
    assert e["routers"]["perfect"]["share_for_accuracy"]["95%"] < 0.5
    assert e["routers"]["perfect"]["apgr_se"] is not None
    assert pairs.evaluate_pair(rows[:10], pr, {"x": weak[:10]}) is None  # too few rows


def test_pair_kinds(small_mapping):
    assert pairs.Pair("mmlu_pro", "small-b", "big").kind == "weak-unseen"
    assert pairs.Pair("routing_outcomes", "odd", "l").kind == "weak-unseen"
    assert pairs.Pair("routing_outcomes", "odd", "l").weak_tier == "slm"


def test_shipped_pairs_name_known_models():
    for p in pairs.PAIRS:
        assert p.weak in tiers.SOURCES[p.source] and p.strong in tiers.SOURCES[p.source]
    kinds = {p.kind for p in pairs.PAIRS}
    assert {"seen", "unseen", "weak-unseen"} <= kinds


def test_decide_cheapest_reaching_target():
    pred = np.array([[0.9, 0.95, 0.97, 0.99],   # slm already reaches .8
                     [0.3, 0.85, 0.9, 0.95],    # srm
                     [0.3, 0.4, 0.5, 0.6],      # none: best predicted (lrm)
                     [0.3, 0.4, 0.9, 0.95]])    # llm, but lrm unavailable anyway
    avail = np.ones((4, 4), bool)
    avail[3, 3] = False
    assert pairs.decide(pred, 0.8, avail).tolist() == [0, 1, 3, 2]
    # slack: none reaches the target -> cheapest tier within 20% of the best prediction
    assert pairs.decide(pred, 0.99, avail, slack=0.2).tolist() == [3, 1, 2, 2]


def test_nearest_available_and_realise():
    avail = np.array([[True, False, True, False], [True, True, False, False]])
    assert pairs.nearest_available(np.array([1, 3]), avail).tolist() == [2, 1]
    truth = np.array([[0.2, NAN, 0.8, NAN], [0.5, 1.0, NAN, NAN]])
    r = pairs.realise(np.array([2, 0]), truth)
    assert r["quality"] == pytest.approx(0.65)
    assert r["cost"] == pytest.approx((tiers.TIER_COST["llm"] + tiers.TIER_COST["slm"]) / 2)
    refs = pairs.references(truth)
    assert refs["always_top"]["quality"] == pytest.approx((0.8 + 1.0) / 2)
    assert refs["always_srm"]["quality"] == pytest.approx((0.8 + 1.0) / 2)  # row 0 has no srm: llm


def test_decision_curve_is_monotone_in_cost_and_oracle_bounds():
    rng = np.random.default_rng(3)
    truth = rng.uniform(size=(200, 4))
    truth.sort(axis=1)
    pred = np.clip(truth + rng.normal(0, 0.1, truth.shape), 0, 1)
    c = pairs.decision_curve(pred, truth)
    costs = [p["cost"] for p in c["curve"]]
    assert costs[0] == pytest.approx(tiers.TIER_COST["slm"]) and costs[-1] >= costs[0]
    orc = pairs.realise(pairs.oracle_choice(truth, 0.5), truth)
    assert orc["quality"] >= 0.5 * 0.99 or orc["mix"]["lrm"] > 0
