"""The LLM meta-router, pure half: when to ask it, what to ask, how to read
its answer. The call itself (with its timeout) is serve_app/meta_router.py.

The classifier decides most requests by a clear margin. Where its scores
leave more than one tier (or domain) standing, a small LLM reads the request
and picks among only those; its answer goes back into decide() as
RequestFacts.meta_tier / meta_domain. Anything but exactly one of the offered
labels is no answer: the classifier's choice stands.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from serve_app.config.judgement import MetaRouterConfig
from serve_app.config.schema import TIERS
from serve_app.policy.signals import Decision, RequestFacts, Signals

# Tier sources the meta-router may overrule: the scores' own choices. A header,
# an explicit model or an exploring request is never second-guessed.
OPEN_SOURCES = ("success", "classifier")


@dataclass(frozen=True)
class Question:
    """One thing to ask: which of `options` (labels) fits the request."""

    kind: str  # "tier" | "domain"
    options: tuple[str, ...]


def tier_options(signals: Signals, decision: Decision, facts: RequestFacts, target: float,
                 margin: float) -> tuple[str, ...]:
    """The tiers left standing beside the chosen one: with success estimates,
    those within `margin` of the quality target (a small change would flip
    them); with the tier head, those within `margin` of the top probability.
    In cost order; () when nothing but the chosen tier stands."""
    if margin <= 0 or decision.tier_source not in OPEN_SOURCES or facts.meta_tier is not None:
        return ()
    if decision.tier_source == "success" and signals.tier_success:
        scores = signals.tier_success
        standing = {t for t in TIERS if t in scores and abs(scores[t] - target) < margin}
    else:
        scores = signals.tier_probs
        top = max(scores.values(), default=0.0)
        standing = {t for t in TIERS if scores.get(t, 0.0) > top - margin}
    standing.add(decision.tier)
    return tuple(t for t in TIERS if t in standing) if len(standing) > 1 else ()


def domain_options(signals: Signals, decision: Decision, margin: float) -> tuple[str, ...]:
    """Domains within `margin` of the top domain probability, most likely first."""
    if margin <= 0 or not signals.domain_probs:
        return ()
    top = max(signals.domain_probs.values())
    standing = sorted((d for d, p in signals.domain_probs.items() if p > top - margin),
                      key=lambda d: -signals.domain_probs[d])
    return tuple(standing) if len(standing) > 1 else ()


def questions(signals: Signals, decision: Decision, facts: RequestFacts, target: float,
              cfg: MetaRouterConfig) -> list[Question]:
    if not cfg.enabled or signals.degraded:
        return []
    asked = [Question("tier", tier_options(signals, decision, facts, target, cfg.tier_margin)),
             Question("domain", domain_options(signals, decision, cfg.domain_margin))]
    return [q for q in asked if q.options]


def prompt(text: str, q: Question, cfg: MetaRouterConfig) -> list[dict]:
    """Chat messages: the standing options with their words, one example
    request per option answered with its label (small models copy the
    format), then the request."""
    words = cfg.tiers if q.kind == "tier" else cfg.domains
    examples = cfg.tier_examples if q.kind == "tier" else cfg.domain_examples
    listed = "\n".join(f"{o}: {words.get(o, o)}" for o in q.options)
    what = "model size" if q.kind == "tier" else "subject area"
    messages = [{"role": "system", "content": f"Pick the {what} label that fits the request. "
                                              f"Reply with the label only.\nLabels:\n{listed}"}]
    for o in q.options:
        if o in examples:
            messages += [{"role": "user", "content": examples[o]}, {"role": "assistant", "content": o}]
    cut = text if len(text) <= cfg.max_prompt_chars else text[: cfg.max_prompt_chars] + " [...]"
    return messages + [{"role": "user", "content": cut}]


_WORD = re.compile(r"[a-z0-9_][a-z0-9_-]*")


def parse(answer: str, q: Question) -> str | None:
    """The label if the answer is exactly one offered label (case, quotes,
    surrounding punctuation and an explanation after ':', '(' or a line
    break ignored), else None."""
    head = re.split(r"[:\n(]", answer.strip().lower(), maxsplit=1)[0]
    words = _WORD.findall(head)
    return words[0] if len(words) == 1 and words[0] in q.options else None
