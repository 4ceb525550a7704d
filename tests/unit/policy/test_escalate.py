"""When a request goes to a person instead of a model."""

from dataclasses import replace

import pytest

from serve_app.config.judgement import EscalationConfig
from serve_app.policy import RequestFacts, decide
from serve_app.policy.escalate import trigger
from tests.unit.factories import config, signals

ON = EscalationConfig(enabled=True, webhook={"url": "http://queue"}, domains=["legal"], min_confidence=0.3)


def decided(sig, facts=RequestFacts()):
    return decide(sig, facts, config()), sig


def test_off_by_default_whatever_the_request():
    d, s = decided(signals("slm", domain="legal"))
    assert trigger(d, s, True, EscalationConfig()) is None


def test_header_domain_and_low_confidence_each_escalate():
    d, s = decided(signals("slm"))
    assert trigger(d, s, True, ON)[0] == "header"
    assert trigger(d, s, False, ON) is None
    d, s = decided(signals("slm", domain="legal"))
    assert trigger(d, s, False, ON)[0] == "domain"
    d, s = decided(signals("slm", p=0.28))
    why, reason = trigger(d, s, False, ON)
    assert why == "confidence" and "0.28 < escalation.min_confidence 0.30" in reason


def test_confidence_uses_the_best_success_estimate_when_there_is_one():
    sig = replace(signals("slm", p=0.28), tier_success={"slm": 0.1, "srm": 0.2, "llm": 0.25, "lrm": 0.29})
    d, s = decided(sig)
    assert trigger(d, s, False, ON)[0] == "confidence"
    sig = replace(sig, tier_success={"slm": 0.1, "srm": 0.2, "llm": 0.25, "lrm": 0.5})
    d, s = decided(sig)
    assert trigger(d, s, False, ON) is None


def test_a_tier_the_client_forced_is_not_low_confidence():
    d, s = decided(signals("slm", p=0.28), RequestFacts(forced_tier="llm"))
    assert trigger(d, s, False, ON) is None


def test_the_header_can_be_ignored():
    d, s = decided(signals("slm"))
    assert trigger(d, s, True, ON.model_copy(update={"header": False})) is None


def test_config_checks():
    with pytest.raises(ValueError, match="needs a webhook"):
        EscalationConfig(enabled=True)
    with pytest.raises(ValueError, match="no other"):
        EscalationConfig(message="ticket {id}")
    from serve_app.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown domain 'bridges'"):
        config(escalation={"enabled": True, "webhook": {"url": "http://q"}, "domains": ["bridges"]})
