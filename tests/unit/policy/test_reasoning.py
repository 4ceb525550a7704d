"""Reasoning mode: the pure rule (choose_reasoning), the per-model switch
(apply_reasoning), the client's own fields (client_switch), and decide()."""

from dataclasses import replace

import pytest

from serve_app.config.schema import ReasoningConfig, ReasoningPolicy
from serve_app.errors import ConfigError
from serve_app.policy import RequestFacts, decide
from serve_app.policy.reasoning import apply_reasoning, choose_reasoning, client_switch
from tests.unit.factories import config, model, signals

AUTO = RequestFacts()
POL = ReasoningPolicy()


def hard(tier="lrm", domain="math", difficulty=None, p=0.9):
    return replace(signals(tier, domain=domain, p=p), difficulty=difficulty)


@pytest.mark.parametrize(
    "sig, facts, tier, domain, mode, why",
    [
        # Difficulty known: it decides.
        (hard(difficulty=0.8), AUTO, "lrm", "math", "on", "difficulty 0.80 >= 0.70"),
        (hard(difficulty=0.2), AUTO, "lrm", "math", "off", "difficulty 0.20 < 0.70"),
        (hard("srm", "code", difficulty=0.7), AUTO, "srm", "code", "on", "difficulty 0.70 >= 0.70"),
        # Without a difficulty head: P(srm) + P(lrm) from the classifier.
        (hard(), AUTO, "lrm", "math", "on", "p(srm+lrm) 0.93 >= 0.50"),
        # Tier forced to lrm by a header, but the classifier thinks it is easy.
        (hard("slm", p=0.7), AUTO, "lrm", "math", "off", "p(srm+lrm) 0.20 < 0.50"),
        # Not a reasoning tier, or a domain where thinking does not pay.
        (hard("slm", difficulty=0.9), AUTO, "slm", "math", "off", "tier slm does not reason"),
        (hard("llm", difficulty=0.9), AUTO, "llm", "math", "off", "tier llm does not reason"),
        (hard(difficulty=0.9), AUTO, "lrm", "creative", "off", "domain creative does not gain from thinking"),
        (hard(difficulty=0.9), AUTO, "lrm", "general", "off", "domain general does not gain from thinking"),
        # The header forces either way.
        (hard("slm"), RequestFacts(reasoning="on"), "slm", "creative", "on", "forced by header"),
        (hard(difficulty=0.99), RequestFacts(reasoning="off"), "lrm", "math", "off", "forced by header"),
        (hard(difficulty=0.99), RequestFacts(reasoning="auto"), "lrm", "math", "on", "difficulty 0.99 >= 0.70"),
        # The client's own field wins over everything, the header included.
        (hard(difficulty=0.9), RequestFacts(reasoning="off", client_reasoning="reasoning_effort"), "lrm", "math",
         "none", "client set reasoning_effort"),
        # Text completions have no switch.
        (hard(difficulty=0.9), RequestFacts(chat=False), "lrm", "math", "none", "text completion"),
    ],
)
def test_choose_reasoning(sig, facts, tier, domain, mode, why):
    assert choose_reasoning(sig, facts, tier, domain, POL) == (mode, why)


def test_auto_off_sends_nothing_unless_the_header_asks():
    pol = ReasoningPolicy(auto=False)
    assert choose_reasoning(hard(difficulty=0.9), AUTO, "lrm", "math", pol) == ("none", "auto reasoning disabled")
    assert choose_reasoning(hard(), RequestFacts(reasoning="on"), "lrm", "math", pol)[0] == "on"


def test_tiers_domains_and_thresholds_are_configurable():
    pol = ReasoningPolicy(tiers=["llm"], domains=["legal"], difficulty_threshold=0.9, tier_prob_threshold=0.5)
    assert choose_reasoning(hard(difficulty=0.95), AUTO, "llm", "legal", pol)[0] == "on"
    assert choose_reasoning(hard(difficulty=0.85), AUTO, "llm", "legal", pol)[0] == "off"
    assert choose_reasoning(hard(difficulty=0.95), AUTO, "lrm", "legal", pol)[0] == "off"
    assert choose_reasoning(hard(difficulty=0.95), AUTO, "llm", "math", pol)[0] == "off"
    # Without difficulty: only the configured tiers' probabilities count.
    assert choose_reasoning(hard("llm", p=0.6), AUTO, "llm", "legal", pol) == ("on", "p(llm) 0.60 >= 0.50")


CHAT_TEMPLATE = ReasoningConfig(style="chat_template")
EFFORT = ReasoningConfig(style="reasoning_effort")


@pytest.mark.parametrize(
    "body, mode, switch, sent, after",
    [
        ({}, "on", CHAT_TEMPLATE, "on", {"chat_template_kwargs": {"enable_thinking": True}}),
        ({}, "off", CHAT_TEMPLATE, "off", {"chat_template_kwargs": {"enable_thinking": False}}),
        ({}, "on", ReasoningConfig(style="chat_template", kwarg="thinking"), "on",
         {"chat_template_kwargs": {"thinking": True}}),
        # Other template kwargs the client sent are kept.
        ({"chat_template_kwargs": {"foo": 1}}, "on", CHAT_TEMPLATE, "on",
         {"chat_template_kwargs": {"foo": 1, "enable_thinking": True}}),
        ({}, "on", EFFORT, "on", {"reasoning_effort": "high"}),
        ({}, "off", EFFORT, "off", {"reasoning_effort": "low"}),
        ({}, "off", ReasoningConfig(style="reasoning_effort", effort_off="minimal"), "off",
         {"reasoning_effort": "minimal"}),
        # Never overwritten: the client's own fields.
        ({"chat_template_kwargs": {"enable_thinking": False}}, "on", CHAT_TEMPLATE, None,
         {"chat_template_kwargs": {"enable_thinking": False}}),
        ({"reasoning_effort": "medium"}, "off", EFFORT, None, {"reasoning_effort": "medium"}),
        ({"chat_template_kwargs": "junk"}, "on", CHAT_TEMPLATE, None, {"chat_template_kwargs": "junk"}),
        # No switch to send.
        ({}, "on", ReasoningConfig(), None, {}),
        ({}, "none", CHAT_TEMPLATE, None, {}),
        ({}, "none", EFFORT, None, {}),
    ],
)
def test_apply_reasoning(body, mode, switch, sent, after):
    body = {"model": "m", **body}
    assert apply_reasoning(body, mode, switch) == sent
    assert body == {"model": "m", **after}


def test_apply_reasoning_does_not_change_the_clients_dict():
    theirs = {"foo": 1}
    body = {"chat_template_kwargs": theirs}
    apply_reasoning(body, "on", CHAT_TEMPLATE)
    assert theirs == {"foo": 1}


def test_client_switch_finds_the_clients_own_field():
    cfg = config([model("q", ["slm", "srm", "llm", "lrm"], reasoning={"style": "chat_template", "kwarg": "think"})])
    assert client_switch({"reasoning_effort": "low"}, cfg) == "reasoning_effort"
    theirs = {"chat_template_kwargs": {"enable_thinking": True}}
    assert client_switch(theirs, cfg) == "chat_template_kwargs.enable_thinking"
    assert client_switch({"chat_template_kwargs": {"think": False}}, cfg) == "chat_template_kwargs.think"
    assert client_switch({"chat_template_kwargs": {"add_generation_prompt": True}}, cfg) is None
    assert client_switch({"chat_template_kwargs": "x", "user_field": 1}, cfg) is None
    assert client_switch({}, cfg) is None


def test_decision_carries_the_reasoning_choice():
    d = decide(hard(difficulty=0.7), AUTO, config())
    assert (d.reasoning, d.reasoning_why) == ("on", "difficulty 0.70 >= 0.70")
    assert "reasoning=on (difficulty 0.70 >= 0.70)" in d.reason
    assert d.summary()["reasoning"] == "on" and d.summary()["reasoning_why"] == d.reasoning_why
    easy = decide(signals("slm"), AUTO, config())
    assert easy.reasoning == "off" and "reasoning=off (tier slm does not reason)" in easy.reason


def test_reasoning_policy_is_strict_config():
    cfg = config(policy={"reasoning": {"domains": ["math"], "difficulty_threshold": 0.7}})
    assert cfg.policy.reasoning.domains == ["math"] and cfg.policy.reasoning.tiers == ["srm", "lrm"]
    with pytest.raises(ConfigError):
        config(policy={"reasoning": {"threshold": 0.7}})
    with pytest.raises(ConfigError):
        config(policy={"reasoning": {"tiers": ["xl"]}})
