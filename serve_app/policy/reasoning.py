"""Reasoning mode: whether a model that can think is told to, and how.

Decided once per request (`choose_reasoning`), applied per candidate model
at call time (`apply_reasoning`): each model family has its own switch
(`models[].reasoning`), and a model without one gets nothing.

The rule, first match wins:
1. the client set a switch itself (`reasoning_effort`, or the
   chat-template kwarg): "none", Triage adds nothing and never overwrites it;
2. text completions: "none" (no chat template, no effort field);
3. header `x-triage-reasoning: on|off`: that;
4. `policy.reasoning.auto: false`: "none", the models' own defaults;
5. otherwise think ("on") only where it pays: the chosen tier is a
   reasoning tier (srm/lrm), the domain is one where thinking helps, and
   the prompt looks hard (difficulty >= threshold when the classifier has a
   difficulty head, else P(reasoning tiers) >= threshold); else "off",
   which also turns off models that think by default (Qwen3).
"""

from __future__ import annotations

from serve_app.config.schema import ReasoningConfig, ReasoningPolicy, RouterConfig
from serve_app.policy.signals import RequestFacts, Signals

ON, OFF, NONE = "on", "off", "none"


def choose_reasoning(signals: Signals, facts: RequestFacts, tier: str, domain: str,
                     pol: ReasoningPolicy) -> tuple[str, str]:
    """(mode, why): mode is "on", "off" or "none" (Triage sends no switch)."""
    if facts.client_reasoning:
        return NONE, f"client set {facts.client_reasoning}"
    if not facts.chat:
        return NONE, "text completion"
    if facts.reasoning in (ON, OFF):
        return facts.reasoning, "forced by header"
    if not pol.auto:
        return NONE, "auto reasoning disabled"
    if tier not in pol.tiers:
        return OFF, f"tier {tier} does not reason"
    if domain not in pol.domains:
        return OFF, f"domain {domain} does not gain from thinking"
    if signals.difficulty is not None:
        return _against(signals.difficulty, pol.difficulty_threshold, "difficulty")
    p = sum(signals.tier_probs.get(t, 0.0) for t in pol.tiers)
    return _against(p, pol.tier_prob_threshold, f"p({'+'.join(pol.tiers)})")


def _against(value: float, threshold: float, what: str) -> tuple[str, str]:
    on = value >= threshold
    return (ON if on else OFF), f"{what} {value:.2f} {'>=' if on else '<'} {threshold:.2f}"


def client_switch(extra: dict, cfg: RouterConfig) -> str | None:
    """The reasoning field the client set itself in the request body, if any.

    `extra`: the request body (fields set by the client)."""
    if "reasoning_effort" in extra:
        return "reasoning_effort"
    kwargs = extra.get("chat_template_kwargs")
    if isinstance(kwargs, dict):
        known = {"enable_thinking"} | {m.reasoning.kwarg for m in cfg.models
                                       if m.reasoning.style == "chat_template"}
        hit = sorted(known & set(kwargs))
        if hit:
            return f"chat_template_kwargs.{hit[0]}"
    return None


def apply_reasoning(body: dict, mode: str, switch: ReasoningConfig) -> str | None:
    """Add the model family's switch for `mode` to `body` (a fresh wire dict,
    changed in place). Returns the mode sent, or None when nothing was added:
    mode "none", a model without a switch, or a field the client set."""
    if mode not in (ON, OFF) or switch.style == "none":
        return None
    on = mode == ON
    if switch.style == "chat_template":
        kwargs = body.get("chat_template_kwargs", {})
        if not isinstance(kwargs, dict) or switch.kwarg in kwargs:
            return None
        body["chat_template_kwargs"] = {**kwargs, switch.kwarg: on}
    else:
        if "reasoning_effort" in body:
            return None
        body["reasoning_effort"] = switch.effort_on if on else switch.effort_off
    return mode
