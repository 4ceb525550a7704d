"""Escalation to a person, pure half: whether a request goes to the human
queue instead of a model, and why (config `escalation`). Delivery is
serve_app/escalation/."""

from __future__ import annotations

from serve_app.config.judgement import EscalationConfig
from serve_app.policy.signals import Decision, Signals

# Trigger names: the `trigger` label of triage_escalations_total.
HEADER, DOMAIN, CONFIDENCE = "header", "domain", "confidence"


def confidence(signals: Signals, decision: Decision) -> float | None:
    """How sure the router is that some model can take the request: with
    success estimates, the best tier's P(success) (no model likely to answer
    well -> low); with the tier head only, its top probability (cannot tell
    where it goes -> low). None when the tier was not the scores' choice
    (header, explicit model): the client placed it."""
    if decision.tier_source in ("header", "model"):
        return None
    if signals.tier_success:
        return max(signals.tier_success.values())
    return max(signals.tier_probs.values(), default=None)


def trigger(decision: Decision, signals: Signals, requested: bool, cfg: EscalationConfig) -> tuple[str, str] | None:
    """(trigger, reason) when the request goes to a person, else None."""
    if not cfg.enabled:
        return None
    if requested and cfg.header:
        return HEADER, "the client asked for a person (x-triage-escalate)"
    if decision.domain in cfg.domains:
        return DOMAIN, f"domain {decision.domain} is answered by people (escalation.domains)"
    conf = confidence(signals, decision)
    if cfg.min_confidence is not None and conf is not None and conf < cfg.min_confidence:
        return CONFIDENCE, f"routing confidence {conf:.2f} < escalation.min_confidence {cfg.min_confidence:.2f}"
    return None
