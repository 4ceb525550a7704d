"""`triage bench meta-router`, the pure half: sampling, the oracle's rule,
routing one prompt through decide + MetaRouter with replayed answers,
aggregation and the choice of margins. No model is loaded."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from serve_app.lab.bench import meta_router_core as core
from serve_app.meta_router import MetaRouter
from serve_app.policy import meta
from serve_app.policy.signals import Decision, Signals

# Tier head only (no outcome support): srm is the argmax, slm within 0.05 of it.
CLOSE = Signals(tier_probs={"slm": 0.30, "srm": 0.32, "llm": 0.20, "lrm": 0.18},
                domain_probs={"math": 0.50, "science": 0.47, "general": 0.03})
CLEAR = Signals(tier_probs={"slm": 0.05, "srm": 0.85, "llm": 0.05, "lrm": 0.05},
                domain_probs={"math": 0.90, "science": 0.05, "general": 0.05})
ROW = {"id": "x:1", "source": "x", "tier": "slm", "domain": "science"}


def _routed(tier_true, domain_true, base=("srm", "math"), routed=None, asked=(), outcome=None, ms=None, source="s"):
    tier, domain = routed or base
    return core.Routed(source, tier_true, domain_true, base[0], base[1], tier, domain, asked, outcome, ms)


# ------------------------------------------------------------------ oracle


def test_oracle_names_the_true_label_when_offered():
    q = meta.Question("tier", ("slm", "srm"))
    assert core.oracle_answer(q, "slm") == "slm"
    assert meta.parse(core.oracle_answer(q, "slm"), q) == "slm"


@pytest.mark.parametrize("truth", ["llm", None])
def test_oracle_gives_no_answer_when_the_truth_is_not_offered(truth):
    q = meta.Question("tier", ("slm", "srm"))
    assert core.oracle_answer(q, truth) not in ("llm", "slm", "srm")
    assert meta.parse(core.oracle_answer(q, truth), q) is None


def test_constant_names_its_tier_when_offered_and_never_a_domain():
    assert core.constant_answer(meta.Question("tier", ("slm", "srm")), "srm") == "srm"
    assert meta.parse(core.constant_answer(meta.Question("tier", ("llm", "lrm")), "srm"),
                      meta.Question("tier", ("llm", "lrm"))) is None
    domain = meta.Question("domain", ("math", "srm"))
    assert meta.parse(core.constant_answer(domain, "srm"), domain) is None


# ------------------------------------------------------------------ routing one prompt


def _replayer(tier_margin=0.05, domain_margin=0.0):
    return core.Replayer(core.bench_config(tier_margin, domain_margin, timeout_s=1.0))


async def test_a_clear_prompt_is_not_consulted():
    r = await _replayer(0.05, 0.05).route("user: q", CLEAR, ROW, lambda q, t, row: ("slm", 10.0), 1.0)
    assert (r.asked, r.outcome, r.tier, r.domain) == ((), None, "srm", "math")


async def test_the_oracle_moves_a_close_prompt_to_its_label():
    rep = _replayer(0.05, 0.05)
    assert [(q.kind, q.options) for q in rep.questions("user: q", CLOSE)] == [
        ("tier", ("slm", "srm")), ("domain", ("math", "science"))]
    r = await rep.route("user: q", CLOSE, ROW, lambda q, t, row: (core.oracle_answer(q, row[q.kind]), None), None)
    assert (r.base_tier, r.base_domain) == ("srm", "math")
    assert (r.tier, r.domain, r.outcome, r.asked) == ("slm", "science", "changed", ("tier", "domain"))


async def test_an_unparsable_answer_keeps_the_classifiers_choice():
    r = await _replayer().route("user: q", CLOSE, ROW, lambda q, t, row: ("The user asked", 300.0), 1.0)
    assert (r.tier, r.outcome, r.ms) == ("srm", "unparsable", 300.0)


async def test_a_consult_over_the_timeout_keeps_the_choice_even_with_a_right_answer():
    # Two questions of 600 ms each: one local model answers them one after the other.
    slow = await _replayer(0.05, 0.05).route("user: q", CLOSE, ROW, lambda q, t, row: (row[q.kind], 600.0), 1.0)
    assert (slow.tier, slow.domain, slow.outcome, slow.ms) == ("srm", "math", "timeout", 1200.0)
    unlimited = await _replayer(0.05, 0.05).route("user: q", CLOSE, ROW, lambda q, t, row: (row[q.kind], 600.0),
                                                  None)
    assert (unlimited.tier, unlimited.domain, unlimited.outcome) == ("slm", "science", "changed")


async def test_an_agreeing_answer_is_counted_and_changes_nothing():
    r = await _replayer().route("user: q", CLOSE, ROW, lambda q, t, row: ("srm", 5.0), 1.0)
    assert (r.tier, r.outcome) == ("srm", "agreed")


async def test_the_bench_asks_with_the_body_the_service_sends():
    seen = []

    class Recorder:
        async def unary(self, kind, request, ctx):
            seen.append(request)
            return {"choices": [{"message": {"content": "slm"}}]}

    cfg = core.bench_config(0.05, 0.0)
    router = MetaRouter(cfg, {core.META_MODEL: Recorder()})
    q = meta.Question("tier", ("slm", "srm"))
    decision = Decision(targets=("bench-srm",), tier="srm", domain="math", sensitive=False, jailbreak=False, reason="")
    await router.consult("user: q", [q], decision, "r1")
    assert core.body_key(seen[0]) == core.body_key(core.ask_body("user: q", q, cfg.policy.meta_router))


# ------------------------------------------------------------------ numbers


def test_stratified_sample_spreads_over_sources_and_is_seeded():
    rows = [{"id": i, "source": s} for s, n in (("a", 100), ("b", 100), ("c", 3)) for i in range(n)]
    picked = core.stratified_sample(rows, 30, seed=1)
    assert Counter(r["source"] for r in picked) == {"c": 3, "a": 13, "b": 14} or \
        Counter(r["source"] for r in picked) == {"c": 3, "a": 14, "b": 13}
    assert len(picked) == 30
    assert picked == core.stratified_sample(rows, 30, seed=1)
    assert picked != core.stratified_sample(rows, 30, seed=2)
    assert core.stratified_sample(rows, 1000) == rows


def test_percentile_matches_numpy():
    xs = [5.0, 1.0, 9.0, 3.0, 7.0, 2.0]
    for q in (0, 50, 90, 99, 100):
        assert core.percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)))
    assert core.percentile([], 50) is None


def test_aggregate_scores_each_head_on_its_labelled_rows():
    routed = [
        _routed("slm", "science", routed=("slm", "science"), asked=("tier", "domain"), outcome="changed", ms=100.0),
        _routed("srm", None, asked=("tier",), outcome="unparsable", ms=300.0),
        _routed(None, "math", asked=("tier",), outcome="timeout", ms=1500.0),
        _routed("lrm", "math"),
    ]
    with_meta = core.aggregate(routed)
    assert with_meta["tier"] == {"n": 3, "correct": 2, "accuracy": round(2 / 3, 4)}
    assert with_meta["domain"] == {"n": 3, "correct": 3, "accuracy": 1.0}
    assert (with_meta["consulted"], with_meta["consulted_share"]) == (3, 0.75)
    assert with_meta["asked"] == {"tier": 3, "domain": 1}
    assert with_meta["outcomes"] == {"agreed": 0, "changed": 1, "unparsable": 1, "timeout": 1}
    assert with_meta["latency_ms"]["n"] == 3 and with_meta["latency_ms"]["p50"] == 300.0
    without = core.aggregate(routed, base=True)
    assert without["tier"]["correct"] == 1 and without["domain"]["correct"] == 2
    assert "consulted" not in without


def test_aggregate_refuses_replay_errors():
    with pytest.raises(RuntimeError):
        core.aggregate([_routed("slm", "math", asked=("tier",), outcome="error")])


def test_by_source_splits_the_rows():
    out = core.by_source([_routed("srm", "math", source="a"), _routed("slm", "math", source="b")])
    assert out["a"]["tier"]["accuracy"] == 1.0 and out["b"]["tier"]["accuracy"] == 0.0


def _acc(tier_correct, domain_correct=0):
    return {"tier": {"correct": tier_correct, "n": 100}, "domain": {"correct": domain_correct, "n": 100}}


def test_choose_takes_the_largest_gain_and_the_smaller_margin_on_a_tie():
    base = _acc(50, 50)
    grid = {0.02: _acc(51, 50), 0.05: _acc(53, 50), 0.1: _acc(53, 50), 0.2: _acc(40, 50)}
    margin, why = core.choose(grid, base, ("tier",))
    assert margin == 0.05 and "largest" in why
    margin, _ = core.choose({0.0: _acc(50, 50), 0.1: _acc(49, 52)}, base, ("tier", "domain"))
    assert margin == 0.1


def test_choose_falls_back_to_the_smallest_margin_without_a_gain():
    margin, why = core.choose({0.2: _acc(48), 0.02: _acc(50), 0.1: _acc(45)}, _acc(50), ("tier",))
    assert margin == 0.02 and why.startswith("no margin improved")
