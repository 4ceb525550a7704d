"""models/triage-router-v2 (the default before the fine-tuned v3) through
the Classifier's own pipeline: per-tier success estimates next to v1's
heads, and what policy makes of them on clear cases."""

import pytest

from serve_app.classifier.encoder import serving_encoder
from serve_app.config.schema import TIERS, ClassifierConfig
from serve_app.policy import RequestFacts, decide
from tests.unit.factories import config
from tests.unit.models.shipped import classified

CASES = {
    "capital": "What is the capital of France?",
    "olympiad": ("Let n be a positive integer. Prove that the number of partitions of n into distinct odd parts "
                 "equals the number of self-conjugate partitions of n."),
    "word_problem": "A rectangle has a perimeter of 30 cm and its length is twice its width. What is its area?",
    "mmlu_like": ("Which of the following best explains the photoelectric effect?\nA. Light behaves as a wave\n"
                  "B. Light consists of quanta whose energy depends on frequency\nC. Electrons are massless\n"
                  "D. Metals absorb all wavelengths equally"),
    "poem": "Write a long, melancholic poem in the style of a Victorian ballad about a lighthouse keeper's last night.",
}


def v2_config():
    """The router config v2 was calibrated for: its own quality target."""
    from serve_app.classifier.heads import RouterHeads, resolve_model_dir

    target = RouterHeads.load(resolve_model_dir("triage-router-v2")).meta["success"]["quality_target"]
    return config(policy={"quality_target": target})


@pytest.fixture(scope="module")
def run():
    cfg = ClassifierConfig(model="triage-router-v2")
    assert serving_encoder(cfg) is None  # the packaged MiniLM, frozen
    with classified(cfg, CASES) as (signals, _, scorer):
        yield signals, scorer


def test_estimates_are_probabilities_for_every_tier_where_supported(run):
    signals, _ = run
    for name in ("word_problem", "mmlu_like"):
        s = signals[name]
        assert s.tier_success is not None, name
        assert set(s.tier_success) == set(TIERS) and all(0 < p < 1 for p in s.tier_success.values())
        assert s.outcome_support >= 0.431


def test_flat_low_estimates_do_not_send_a_factoid_to_the_largest_model(run):
    """Strictly scored factoid benchmarks make every tier look unlikely on
    trivia; policy.near_best keeps such prompts on the cheapest tier near the
    best estimate."""
    signals, _ = run
    assert decide(signals["capital"], RequestFacts(), v2_config()).tier == "slm"


def test_creative_writing_is_unlike_the_outcome_data_and_goes_by_the_tier_classifier(run):
    signals, _ = run
    poem = signals["poem"]
    assert poem.tier_success is None and poem.outcome_support < 0.431
    d = decide(poem, RequestFacts(), v2_config())
    assert d.tier_source == "classifier" and d.tier == "llm"


def test_the_decision_uses_the_estimates_and_reports_them(run):
    signals, _ = run
    d = decide(signals["mmlu_like"], RequestFacts(), v2_config())
    assert d.tier_source == "success" and "P(success)" in d.reason or "no tier reaches" in d.reason
    assert set(d.success_header().split(",")) and d.success_header().count("=") == 4


def test_calibrated_defaults_are_recorded(run):
    _, scorer = run
    meta = scorer.heads.meta["success"]
    assert 0 < meta["quality_target"] <= 1 and 0 < meta["support_floor"] < 1
    assert meta["knn"]["k"] >= 1 and len(meta["platt"]["a"]) == 4
