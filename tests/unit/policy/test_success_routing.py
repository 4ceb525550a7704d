"""The tier from predicted outcomes: the cheapest tier whose P(success) reaches
the quality target (policy.quality_target, or the request's x-triage-quality)."""

from __future__ import annotations

import dataclasses

import pytest

from serve_app.policy import RequestFacts, decide
from serve_app.policy.decide import by_success
from tests.unit.factories import config, model, signals

LOW, MID, HIGH = 0.30, 0.58, 0.90


def with_success(success, **kw):
    return dataclasses.replace(signals("lrm", **kw), tier_success=success, outcome_support=0.8)


def test_target_exactly_met_counts_as_reached():
    sig = with_success({"slm": MID, "srm": 0.6, "llm": 0.7, "lrm": HIGH})
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.58}))
    assert d.tier == "slm" and d.tier_source == "success"
    assert d.targets[0] == "small-a"


def test_cheapest_tier_reaching_the_target_wins_over_the_tier_classifier():
    # The tier classifier says lrm (p=0.9); the outcome estimate says srm is enough.
    sig = with_success({"slm": LOW, "srm": 0.62, "llm": 0.7, "lrm": HIGH})
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.6}))
    assert d.tier == "srm" and d.targets[0] == "small-b"


def test_no_tier_reaches_the_target_takes_the_cheapest_near_the_best():
    sig = with_success({"slm": 0.10, "srm": 0.20, "llm": 0.35, "lrm": 0.30})
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.9}))
    assert d.tier == "llm"  # 0.35 is the best; 0.8 x 0.35 = 0.28: srm's 0.20 is not near it
    assert "no tier reaches 0.90" in d.reason
    flat = with_success({"slm": 0.22, "srm": 0.17, "llm": 0.19, "lrm": 0.25})
    assert decide(flat, RequestFacts(), config(policy={"quality_target": 0.9})).tier == "slm"  # 0.22 >= 0.8 x 0.25
    assert decide(flat, RequestFacts(), config(policy={"quality_target": 0.9, "near_best": 0.0})).tier == "lrm"


def test_request_header_overrides_the_configured_target():
    sig = with_success({"slm": 0.5, "srm": 0.6, "llm": 0.7, "lrm": HIGH})
    cfg = config(policy={"quality_target": 0.58})
    assert decide(sig, RequestFacts(), cfg).tier == "srm"
    assert decide(sig, RequestFacts(quality_target=0.85), cfg).tier == "lrm"
    assert decide(sig, RequestFacts(quality_target=0.0), cfg).tier == "slm"


def test_privacy_removes_the_chosen_tier_and_the_next_local_one_answers():
    """slm is chosen, but its only model is in the cloud and the prompt is
    sensitive: the request goes to the next tier up that has a local model."""
    pool = [model("cloud-small", ["slm"], locality="cloud", cost=0.1), model("local-srm", ["srm"], cost=0.3),
            model("local-llm", ["llm"], cost=1.0), model("local-lrm", ["lrm"], cost=3.0)]
    sig = with_success({"slm": HIGH, "srm": HIGH, "llm": HIGH, "lrm": HIGH}, sensitive=True, kinds=("email",))
    d = decide(sig, RequestFacts(), config(pool))
    assert d.tier == "slm" and d.targets[0] == "local-srm" and "cloud-small" not in d.targets
    assert "local models only" in d.reason


def test_without_outcome_support_the_tier_classifier_decides():
    sig = dataclasses.replace(signals("llm"), tier_success=None, outcome_support=0.2)
    d = decide(sig, RequestFacts(), config())
    assert d.tier == "llm" and d.tier_source == "classifier" and "no outcome support" in d.reason


def test_forced_tier_and_explicit_model_still_win():
    sig = with_success({"slm": HIGH, "srm": HIGH, "llm": HIGH, "lrm": HIGH})
    assert decide(sig, RequestFacts(forced_tier="lrm"), config()).tier == "lrm"
    assert decide(sig, RequestFacts(model="local-lrm"), config()).tier == "lrm"


def test_estimates_are_in_the_reason_the_scores_and_the_header():
    sig = with_success({"slm": 0.41, "srm": 0.62, "llm": 0.7, "lrm": 0.88})
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.6}))
    assert "slm=0.41 srm=0.62 llm=0.70 lrm=0.88" in d.reason
    assert d.scores["success.srm"] == pytest.approx(0.62)
    assert d.success_header() == "slm=0.41,srm=0.62,llm=0.70,lrm=0.88"
    assert d.summary()["scores"]["success.lrm"] == 0.88


@pytest.mark.parametrize("success, target, near_best, tier", [
    ({"slm": 0.9, "srm": 0.9, "llm": 0.9, "lrm": 0.9}, 0.5, 0.2, "slm"),
    ({"slm": 0.49, "srm": 0.5, "llm": 0.1, "lrm": 0.1}, 0.5, 0.2, "srm"),
    ({"slm": 0.1, "srm": 0.1, "llm": 0.1, "lrm": 0.2}, 0.5, 0.0, "lrm"),
    ({"slm": 0.1, "srm": 0.1, "llm": 0.1, "lrm": 0.2}, 0.5, 0.5, "slm"),
    ({"slm": 0.0, "srm": 0.0, "llm": 0.0, "lrm": 0.0}, 0.0, 0.2, "slm"),
    ({"slm": 1.0, "srm": 1.0, "llm": 1.0, "lrm": 1.0}, 1.0, 0.2, "slm"),
])
def test_by_success_rule(success, target, near_best, tier):
    assert by_success(success, target, near_best)[0] == tier


def test_an_exploring_request_goes_one_served_tier_cheaper():
    sig = with_success({"slm": LOW, "srm": 0.5, "llm": 0.7, "lrm": HIGH})
    d = decide(sig, RequestFacts(explore=True), config(policy={"quality_target": 0.65}))
    assert d.tier == "srm" and d.tier_source == "explore" and "exploring one tier below llm" in d.reason


def test_exploring_never_goes_below_the_bottom_nor_overrides_a_forced_tier():
    sig = with_success({"slm": HIGH, "srm": HIGH, "llm": HIGH, "lrm": HIGH})
    assert decide(sig, RequestFacts(explore=True), config()).tier_source == "success"  # slm already
    lrm = with_success({"slm": LOW, "srm": LOW, "llm": LOW, "lrm": HIGH})
    d = decide(lrm, RequestFacts(explore=True, forced_tier="lrm"), config(policy={"quality_target": 0.8}))
    assert d.tier == "lrm" and d.tier_source == "header"
