"""The values that cross the policy boundary: what the classifier saw, and
what the policy decided. Plain frozen dataclasses: picklable across Ray
handles, no behaviour beyond small accessors."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Signals:
    """Classifier output for one request."""

    tier_probs: dict[str, float]
    domain_probs: dict[str, float]
    sensitive: bool = False
    # What made it sensitive ("email", "card", ...), for the reason and the log.
    sensitive_kinds: tuple[str, ...] = ()
    jailbreak_prob: float = 0.0
    # The learned sensitive head's probability (0 without a trained head); the
    # privacy thresholds (config privacy.uncertain / .sensitive) apply to it.
    sensitive_score: float = 0.0
    # The privacy detector located the sensitive spans (so redaction is possible).
    redactable: bool = False
    # Probability that a small model fails this prompt (trained classifier's
    # difficulty head); None when the classifier has no such head.
    difficulty: float | None = None
    # Tokens seen by the encoder, and whether the prompt was cut to the budget.
    tokens: int = 0
    truncated: bool = False
    embedding: tuple[float, ...] | None = field(default=None, repr=False)
    # The semantic cache's vector: the normalised conversation embedded by the
    # same encoder (cache.keys.cache_view); None when the cache is off.
    cache_embedding: tuple[float, ...] | None = field(default=None, repr=False)
    # P(a model of the tier answers well), per tier (outcomes/estimate.py);
    # None when the prompt has no outcome support (or the model no success
    # estimator): policy then takes the tier classifier's choice.
    tier_success: dict[str, float] | None = None
    # Similarity of the nearest prompt with known outcomes.
    outcome_support: float = 0.0
    # The model's estimate whether supported or not: the prior that live
    # outcomes correct (serve_app/learning/live.py).
    success_prior: dict[str, float] | None = None
    # Live evidence (similarity-weighted outcomes) that corrected tier_success, per tier.
    learned: dict[str, float] = field(default_factory=dict)
    # The version of the learned adjustment applied (learning/adjust.py; 0:
    # none), and the model's own estimate before it, which outcomes are fitted against.
    adjustment: int = 0
    success_base: dict[str, float] | None = None
    # The classifier did not answer (down or over classifier.timeout_s): the
    # other fields are the fail-closed stand-ins of classifier/remote.py.
    degraded: bool = False

    def top_domain(self) -> tuple[str, float]:
        return max(self.domain_probs.items(), key=lambda kv: kv[1], default=("general", 0.0))


@dataclass(frozen=True)
class RequestFacts:
    """What policy needs from the request itself (no I/O, no wire objects)."""

    model: str = "auto"  # "auto" or an explicit configured model name
    tenant: str = "default"  # for tenant-scoped settings (privacy.redaction.tenants)
    forced_tier: str | None = None  # from the x-triage-tier header
    # What capability rules read (protocol.py features()): "image", "document", "code".
    features: frozenset[str] = frozenset()
    # From headers: x-triage-latency (interactive|batch), x-triage-budget ($/Mtok).
    latency_class: str | None = None
    max_cost_per_mtok: float | None = None
    # x-triage-reasoning: "on" | "off" forces thinking; None (or "auto") lets policy decide.
    reasoning: str | None = None
    # The reasoning field the client set in the body itself, e.g. "reasoning_effort".
    client_reasoning: str | None = None
    chat: bool = True  # False for text completions (no reasoning switch there)
    # x-triage-quality: this request's quality target (None: policy.quality_target).
    quality_target: float | None = None
    # This request explores (learning.explore): it goes one tier cheaper than
    # the success estimate chose, so the cheaper tier's outcomes keep coming.
    explore: bool = False
    # The LLM meta-router's answers where it was consulted (policy/meta.py);
    # None: the classifier's scores decide.
    meta_tier: str | None = None
    meta_domain: str | None = None


@dataclass(frozen=True)
class Decision:
    """Where a request goes, and why. Reported by headers, metrics and the log."""

    targets: tuple[str, ...]  # ordered candidate models; the first is preferred
    tier: str
    domain: str
    sensitive: bool
    jailbreak: bool
    reason: str
    # Kept off cloud models though not certainly sensitive (privacy.uncertain).
    uncertain: bool = False
    # Cloud models that receive a redacted request (privacy.redaction).
    redact: tuple[str, ...] = ()
    scores: dict[str, float] = field(default_factory=dict)
    # "classifier", "header" or "model": where the tier came from.
    tier_source: str = "classifier"
    truncated: bool = False
    # "on" / "off": the switch sent to each model that has one; "none": nothing sent.
    reasoning: str = "none"
    reasoning_why: str = ""
    # Models moved back by the load-aware choice (busy), for the log and metrics.
    busy: tuple[str, ...] = ()

    def success_header(self) -> str:
        """The per-tier success estimates as `slm=0.71,srm=0.74,...` ('' when none)."""
        return ",".join(f"{k.split('.', 1)[1]}={v:.2f}" for k, v in self.scores.items() if k.startswith("success."))

    def summary(self) -> dict:
        """A JSON-friendly view for the decision log and the dry-run answer."""
        return {
            "targets": list(self.targets),
            "tier": self.tier,
            "tier_source": self.tier_source,
            "domain": self.domain,
            "sensitive": self.sensitive,
            "uncertain": self.uncertain,
            "redact": list(self.redact),
            "jailbreak": self.jailbreak,
            "truncated": self.truncated,
            "reasoning": self.reasoning,
            "reasoning_why": self.reasoning_why,
            "busy": list(self.busy),
            "reason": self.reason,
            "scores": {k: round(v, 4) for k, v in self.scores.items()},
        }
