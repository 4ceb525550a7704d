"""Config of the routing judgement beyond the classifier: the LLM
meta-router for unsure cases (policy.meta_router), capability routes
(capabilities) and escalation to a person (escalation). README "When the
classifier is unsure" says when to turn each on."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from serve_app.config.base import Strict, Tier

# What the meta-router's prompt says about each tier. Written for the tier
# definitions of serve_app/lab/training/rules.py; an operator whose tiers
# mean something else overrides them.
TIER_DESCRIPTIONS: dict[str, str] = {
    "slm": "short factual look-ups, greetings, rewording and formatting",
    "srm": "short problems that need a few steps of reasoning: arithmetic, small logic puzzles",
    "llm": "open-ended writing, explanations, summaries and broad knowledge",
    "lrm": "hard multi-step problems: competition math, proofs, complex code, planning",
}


# One example request per tier, shown to the meta-router as earlier turns
# answered with the label: a 135M model asked for "one label" without them
# answered with words from the request (0 of 6 parsable in a trial), with
# them it answers a label (5 of 6).
TIER_EXAMPLES: dict[str, str] = {
    "slm": "Hello, how are you?",
    "srm": "A shirt costs $20 after a 20% discount. What was the price before?",
    "llm": "Write a short story about a lighthouse keeper.",
    "lrm": "Prove that there are infinitely many primes.",
}


# One example request per default domain (config/schema.py DEFAULT_DOMAINS),
# for the same reason; operator domains add theirs in domain_examples.
DOMAIN_EXAMPLES: dict[str, str] = {
    "math": "Solve for x: 3x + 7 = 22.",
    "code": "Write a Python function that reverses a linked list.",
    "reasoning": "If all bloops are razzies and all razzies are lazzies, are all bloops lazzies?",
    "creative": "Write a poem about the sea at night.",
    "legal": "Can my landlord keep my deposit if I break the lease early?",
    "medical": "What are the usual side effects of ibuprofen?",
    "financial": "Should I pay off my mortgage early or invest the money?",
    "science": "Why does ice float on water?",
    "engineering": "How do I size a beam to carry a 2 kN load over 3 m?",
    "humanities": "What were the main causes of the French Revolution?",
    "general": "What time zone is Tokyo in?",
}


class MetaRouterConfig(Strict):
    """policy.meta_router: a small LLM asked to choose where the classifier's
    scores leave more than one candidate standing (serve_app/policy/meta.py).
    Off the common path: most requests are decided by a clear margin."""

    enabled: bool = False
    # A configured model (typically a small local one). It is called directly,
    # once per consulted request, not through the fallback chain.
    model: str | None = None
    # A tier stands beside the chosen one when its success estimate is within
    # this of the quality target (outcome routing), or its tier probability
    # within this of the top one (the tier head). 0: never consulted on tiers.
    tier_margin: float = Field(0.05, ge=0, le=1)
    # A domain stands beside the top one when its probability is within this
    # of the top one's. 0: never consulted on domains.
    domain_margin: float = Field(0.0, ge=0, le=1)
    # On timeout (or an error) the classifier's choice stands.
    timeout_s: float = Field(1.0, gt=0)
    max_tokens: int = Field(4, ge=1, le=64)
    # The request text shown to the meta-router is cut to this many characters.
    max_prompt_chars: int = Field(1500, ge=100)
    tiers: dict[Tier, str] = Field(default_factory=lambda: dict(TIER_DESCRIPTIONS))
    # Optional words on domains (default: the domain's name alone).
    domains: dict[str, str] = Field(default_factory=dict)
    # Example requests per label, shown as answered turns (only for offered labels).
    tier_examples: dict[Tier, str] = Field(default_factory=lambda: dict(TIER_EXAMPLES))
    domain_examples: dict[str, str] = Field(default_factory=lambda: dict(DOMAIN_EXAMPLES))

    @model_validator(mode="after")
    def _model_named(self):
        if self.enabled and not self.model:
            raise ValueError("an enabled meta_router needs model (a configured model name)")
        return self


# Request features the router can see without a model (protocol.py features()).
Feature = Literal["image", "document", "code"]


class CapabilityRule(Strict):
    """When a request has `feature` (or its domain is `domain`), candidates
    must have one of `needs` (others are dropped: the request is refused when
    none is left), and models with one of `prefers` go first within a tier."""

    feature: Feature | None = None
    domain: str | None = None
    needs: list[str] = Field(default_factory=list)
    prefers: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _one_trigger(self):
        if (self.feature is None) == (self.domain is None):
            raise ValueError("a capability rule has exactly one of feature or domain")
        if not self.needs and not self.prefers:
            raise ValueError("a capability rule needs `needs` or `prefers`")
        return self


def _default_rules() -> list[CapabilityRule]:
    # Images need a vision model; scanned documents an OCR- or vision-capable
    # one; code blocks prefer a coding model (any model may still answer).
    return [CapabilityRule(feature="image", needs=["vision"]),
            CapabilityRule(feature="document", needs=["ocr", "vision"]),
            CapabilityRule(feature="code", prefers=["code"])]


class CapabilitiesConfig(Strict):
    """Which request features need (or prefer) which model capabilities
    (`models[].capabilities`). Applied in the policy before tier ordering;
    privacy stays absolute: a sensitive request needing vision goes to a local
    vision model or is refused (403)."""

    rules: list[CapabilityRule] = Field(default_factory=_default_rules)


class WebhookTarget(Strict):
    """Where escalated requests go: an HTTP POST of JSON (serve_app/escalation/)."""

    url: str = Field(min_length=1)
    # Env var holding the shared secret. The body is signed with HMAC-SHA256
    # over "<timestamp>.<body>" (headers x-triage-timestamp and
    # x-triage-signature: sha256=<hex>). Unset: sent unsigned.
    secret_env: str | None = None
    timeout_s: float = Field(5.0, gt=0)
    # Tries before giving up (the client then gets a 503: nothing is queued
    # that the client was not told about); the wait doubles from backoff_s.
    attempts: int = Field(4, ge=1, le=10)
    backoff_s: float = Field(0.25, ge=0)
    headers: dict[str, str] = Field(default_factory=dict)


class EscalationConfig(Strict):
    """Requests no model should answer go to a person's queue."""

    enabled: bool = False
    webhook: WebhookTarget | None = None
    # Operator domains (classifier domains, exemplar domains included) whose
    # requests always go to a person.
    domains: list[str] = Field(default_factory=list)
    # Escalate when the router's confidence in its tier (the chosen tier's
    # success estimate, or the tier head's top probability without one) is
    # below this. null: never for low confidence.
    min_confidence: float | None = Field(None, ge=0, le=1)
    # Honour the request header `x-triage-escalate: true`.
    header: bool = True
    # message: an OpenAI-shaped 200 answer saying a person will reply (clients
    # keep working unchanged); ticket: HTTP 202 with a ticket object.
    respond: Literal["message", "ticket"] = "message"
    message: str = "This request was passed to a person, who will answer it. Ticket: {ticket}."
    # Sensitive requests are escalated without their text unless this is true.
    include_sensitive_text: bool = False

    @model_validator(mode="after")
    def _target(self):
        if self.enabled and self.webhook is None:
            raise ValueError("an enabled escalation needs a webhook")
        try:
            self.message.format(ticket="esc-0")
        except (KeyError, IndexError, ValueError):
            raise ValueError("message may hold {ticket} and no other {...} field") from None
        return self
