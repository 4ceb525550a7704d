"""The meta-router's pure half: when it is asked, what it sees, how its answer is read."""

from dataclasses import replace

import pytest

from serve_app.config.judgement import MetaRouterConfig
from serve_app.policy import RequestFacts, Signals, decide
from serve_app.policy.meta import Question, domain_options, parse, prompt, questions, tier_options
from tests.unit.factories import config, signals

ON = MetaRouterConfig(enabled=True, model="x", tier_margin=0.05, domain_margin=0.1)


def success(slm, srm, llm, lrm):
    return replace(signals("slm"), tier_success={"slm": slm, "srm": srm, "llm": llm, "lrm": lrm})


def test_success_tiers_near_the_target_stand_beside_the_chosen_one():
    sig = success(0.58, 0.63, 0.70, 0.80)  # target 0.61: slm just misses, srm just reaches
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.61}))
    assert d.tier == "srm" and d.tier_source == "success"
    assert tier_options(sig, d, RequestFacts(), 0.61, 0.05) == ("slm", "srm")


def test_a_clear_success_margin_asks_nothing():
    sig = success(0.30, 0.40, 0.75, 0.85)
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.61}))
    assert tier_options(sig, d, RequestFacts(), 0.61, 0.05) == ()
    assert questions(sig, d, RequestFacts(), 0.61, ON) == []


def test_tier_head_options_are_those_near_the_top_probability():
    sig = Signals(tier_probs={"slm": 0.40, "srm": 0.05, "llm": 0.37, "lrm": 0.18}, domain_probs={"general": 1.0})
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.61}))
    assert d.tier_source == "classifier"
    assert tier_options(sig, d, RequestFacts(), 0.61, 0.05) == ("slm", "llm")


@pytest.mark.parametrize("facts", [RequestFacts(forced_tier="llm"), RequestFacts(model="coder")])
def test_a_tier_the_client_chose_is_never_second_guessed(facts):
    sig = Signals(tier_probs={"slm": 0.40, "srm": 0.05, "llm": 0.37, "lrm": 0.18}, domain_probs={"general": 1.0})
    d = decide(sig, facts, config(policy={"quality_target": 0.61}))
    assert tier_options(sig, d, facts, 0.61, 0.05) == ()


def test_domains_near_the_top_are_offered_most_likely_first():
    sig = Signals(tier_probs={"slm": 1.0}, domain_probs={"math": 0.45, "science": 0.40, "general": 0.15})
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.61}))
    assert domain_options(sig, d, 0.1) == ("math", "science")
    assert domain_options(sig, d, 0.0) == ()


def test_disabled_or_degraded_asks_nothing():
    sig = success(0.60, 0.62, 0.70, 0.80)
    d = decide(sig, RequestFacts(), config(policy={"quality_target": 0.61}))
    assert questions(sig, d, RequestFacts(), 0.61, MetaRouterConfig()) == []
    assert questions(replace(sig, degraded=True), d, RequestFacts(), 0.61, ON) == []
    assert [q.kind for q in questions(sig, d, RequestFacts(), 0.61, ON)] == ["tier"]


def test_the_prompt_lists_only_the_standing_options_with_their_words_and_examples():
    msgs = prompt("Is 91 prime?", Question("tier", ("srm", "lrm")), ON)
    system = msgs[0]["content"]
    assert "srm: short problems" in system and "lrm: hard multi-step" in system
    assert "slm" not in system and "llm:" not in system
    # One answered example per offered label, then the request itself.
    assert [m["role"] for m in msgs[1:]] == ["user", "assistant", "user", "assistant", "user"]
    assert [m["content"] for m in msgs[1:] if m["role"] == "assistant"] == ["srm", "lrm"]
    assert msgs[-1]["content"] == "Is 91 prime?"


def test_long_requests_are_cut_for_the_meta_router():
    msgs = prompt("x" * 5000, Question("tier", ("slm", "llm")), ON)
    assert msgs[-1]["content"] == "x" * 1500 + " [...]"


@pytest.mark.parametrize("answer, label", [
    ("lrm", "lrm"), (" LRM.", "lrm"), ('"srm"', "srm"), ("srm: it needs steps", "srm"), ("lrm\nbecause", "lrm"),
    ("llm", None), ("srm or lrm", None), ("", None), ("I think lrm", None), ("The answer", None),
])
def test_only_exactly_one_offered_label_counts(answer, label):
    assert parse(answer, Question("tier", ("srm", "lrm"))) == label


def test_an_enabled_meta_router_needs_a_model():
    with pytest.raises(ValueError, match="needs model"):
        MetaRouterConfig(enabled=True)


def test_domain_questions_show_an_answered_example_per_offered_domain():
    msgs = prompt("Is aspirin safe with ibuprofen?", Question("domain", ("medical", "science")), ON)
    assert [m["content"] for m in msgs[1:] if m["role"] == "assistant"] == ["medical", "science"]
    assert "subject area" in msgs[0]["content"]


def test_unknown_domains_in_meta_router_settings_are_config_errors():
    from serve_app.errors import ConfigError

    with pytest.raises(ConfigError, match="policy.meta_router.domain_examples.bridges"):
        config(policy={"meta_router": {"domain_examples": {"bridges": "Is this bridge safe?"}}})
