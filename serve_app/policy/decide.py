"""signals + request facts + config -> Decision.

The order of candidates is the whole routing policy:
1. the tier: forced by header or explicit model; else the cheapest tier
   whose predicted success reaches the quality target (policy.quality_target
   or the x-triage-quality header); for a prompt without outcome support,
   the tier classifier's (biased) argmax; where those scores left the
   choice open, the LLM meta-router's answer (policy/meta.py) when it gave one;
2. inside a tier: domain specialists first, then models with a capability
   the request prefers (code blocks -> code), then cheapest;
3. then neighbouring tiers for fallback (larger first, then smaller);
4. filters that are never relaxed: privacy (sensitive -> local only),
   capabilities the request needs (images -> vision; policy/capabilities.py),
   budget;
5. load: among the leading, equally suitable models a busy one moves back
   (policy/load.py);
and, beside the order, whether models with a thinking switch think
(policy/reasoning.py).
"""

from __future__ import annotations

import hashlib
import math
from typing import Mapping

from serve_app.config.schema import TIERS, ModelConfig, RouterConfig
from serve_app.errors import ClassifierUnavailable, ClientError, NotFound, PolicyRefusal
from serve_app.policy.capabilities import Demands, demands, error_code
from serve_app.policy.load import ModelLoad, prefer_free
from serve_app.policy.reasoning import choose_reasoning
from serve_app.policy.signals import Decision, RequestFacts, Signals


def decide(signals: Signals, facts: RequestFacts, cfg: RouterConfig,
           loads: Mapping[str, ModelLoad] | None = None) -> Decision:
    """`loads`: in-flight and back-pressure per model (None: ignore load)."""
    pol = cfg.policy
    notes: list[str] = []

    jailbreak = signals.jailbreak_prob >= pol.jailbreak_threshold
    if jailbreak and pol.jailbreak_action == "block":
        if signals.degraded:
            raise ClassifierUnavailable(
                "the classifier is unavailable and this router blocks requests it cannot check for "
                "jailbreaks (policy.unclassified_jailbreak); retry shortly")
        raise PolicyRefusal(
            "the request was classified as a jailbreak attempt and this router blocks those",
            code="jailbreak_detected",
        )

    explicit = _explicit_model(facts, cfg)
    tier, tier_source, tier_note = choose_tier(signals, facts, cfg, explicit)
    notes.append(tier_note)
    domain, domain_p = choose_domain(signals, pol.domain_threshold, facts.meta_domain)
    notes.append(f"domain={domain}" + (f" (p={domain_p:.2f})" if domain_p else "")
                 + (" (meta-router)" if facts.meta_domain else ""))

    needs = demands(facts.features, domain, cfg.capabilities)
    ordered = _candidates(tier, domain, explicit, cfg, needs)
    private = privacy_verdict(signals, cfg)
    ordered, redact, filter_notes = _filter(ordered, signals, facts, cfg, explicit, private, needs)
    notes.extend(filter_notes)
    ordered, busy, load_note = _by_load(ordered, tier, domain, facts, cfg, explicit, loads, needs)
    notes.extend([load_note] if load_note else [])
    targets = tuple(m.name for m in ordered[: pol.fallback.max_attempts])
    notes.append("candidates: " + " > ".join(targets))
    reasoning, why = choose_reasoning(signals, facts, tier, domain, pol.reasoning)
    notes.append(f"reasoning={reasoning} ({why})")

    scores = {f"tier.{k}": v for k, v in signals.tier_probs.items()}
    scores.update({f"success.{k}": v for k, v in (signals.tier_success or {}).items()})
    scores.update({f"learned.{k}": v for k, v in signals.learned.items()})
    if signals.adjustment:
        scores["adjustment"] = signals.adjustment
    if signals.learned:
        notes.append("success corrected by live outcomes (evidence " +
                     " ".join(f"{k}={v:.1f}" for k, v in sorted(signals.learned.items())) + ")")
    scores[f"domain.{domain}"] = domain_p
    scores["jailbreak"] = signals.jailbreak_prob
    scores["sensitive"] = signals.sensitive_score
    return Decision(
        targets=targets,
        tier=tier,
        domain=domain,
        sensitive=private == "sensitive",
        uncertain=private == "uncertain",
        redact=tuple(r for r in redact if r in targets),
        jailbreak=jailbreak,
        reason="; ".join(notes),
        scores=scores,
        tier_source=tier_source,
        truncated=signals.truncated,
        reasoning=reasoning,
        reasoning_why=why,
        busy=tuple(busy),
    )


def choose_tier(signals: Signals, facts: RequestFacts, cfg: RouterConfig,
                explicit: ModelConfig | None) -> tuple[str, str, str]:
    """(tier, source, note). Explicit model beats header beats classifier."""
    if explicit is not None:
        tier = facts.forced_tier if facts.forced_tier in explicit.tiers else explicit.tiers[0]
        return tier, "model", f"tier={tier} (explicit model {explicit.name})"
    if facts.forced_tier is not None:
        if facts.forced_tier not in TIERS:
            raise ClientError(
                f"x-triage-tier must be one of {', '.join(TIERS)} (got {facts.forced_tier!r})",
                param="x-triage-tier",
            )
        return facts.forced_tier, "header", f"tier={facts.forced_tier} (forced by header)"
    if facts.meta_tier is not None:
        return facts.meta_tier, "meta", f"tier={facts.meta_tier} (meta-router {cfg.policy.meta_router.model})"
    if signals.tier_success is not None:
        target = facts.quality_target if facts.quality_target is not None else cfg.policy.quality_target
        chosen = by_success(signals.tier_success, target, cfg.policy.near_best)
        return (explore(chosen[0], signals.tier_success) or chosen) if facts.explore else chosen
    bias = cfg.policy.tier_bias
    logits = {t: math.log(max(signals.tier_probs.get(t, 0.0), 1e-9)) + bias.get(t, 0.0) for t in TIERS}
    tier = max(TIERS, key=lambda t: logits[t])
    p = signals.tier_probs.get(tier, 0.0)
    why = "no outcome support" if signals.outcome_support else "no success estimate"
    return tier, "classifier", f"tier={tier} (tier classifier p={p:.2f}; {why})"


def by_success(success: dict[str, float], target: float, near_best: float = 0.0) -> tuple[str, str, str]:
    """The cheapest tier whose predicted success reaches the target. If none
    does, the cheapest tier predicted within `near_best` (relative) of the
    most likely one: when every tier is unlikely, estimates 0.22 vs 0.25 are
    noise, not a reason for the largest model. Tiers are in cost order
    (config/schema.py TIERS)."""
    shown = " ".join(f"{t}={success[t]:.2f}" for t in TIERS if t in success)
    reaching = [t for t in TIERS if success.get(t, 0.0) >= target]
    if reaching:
        return reaching[0], "success", f"tier={reaching[0]} (cheapest with P(success) >= {target:.2f}: {shown})"
    best = max(success[t] for t in TIERS if t in success)
    near = next(t for t in TIERS if t in success and success[t] >= (1 - near_best) * best)
    return near, "success", f"tier={near} (no tier reaches {target:.2f}; cheapest near the best: {shown})"


def explores(request_id: str, share: float) -> bool:
    """Whether this request explores: a draw from its id, so the same request
    explores on every replica and in every replay."""
    return share > 0 and int(hashlib.sha1(request_id.encode()).hexdigest()[:8], 16) / 2**32 < share


def explore(tier: str, success: dict[str, float]) -> tuple[str, str, str] | None:
    """The next cheaper tier, or None at the bottom (every tier has a model:
    config/schema.py cross_check). Feedback only ever tells how the tier that answered
    did: without some requests on the cheaper tier, its estimate cannot learn."""
    cheaper = [t for t in TIERS[:TIERS.index(tier)] if t in success]
    if not cheaper:
        return None
    t = cheaper[-1]
    return t, "explore", (f"tier={t} (exploring one tier below {tier}: P(success) {success[t]:.2f} vs "
                          f"{success[tier]:.2f}; learning.explore)")


def choose_domain(signals: Signals, threshold: float, meta: str | None = None) -> tuple[str, float]:
    if meta is not None:
        return meta, signals.domain_probs.get(meta, 0.0)
    domain, p = signals.top_domain()
    if p < threshold:
        return "general", signals.domain_probs.get("general", 0.0)
    return domain, p


def tier_order(tier: str, cfg: RouterConfig) -> list[str]:
    """The chosen tier, then larger tiers, then smaller ones (nearest first)."""
    i = TIERS.index(tier)
    order = [tier]
    if cfg.policy.fallback.escalate:
        order += list(TIERS[i + 1:])
    if cfg.policy.fallback.downgrade:
        order += list(reversed(TIERS[:i]))
    return order


def possible_targets(facts: RequestFacts, cfg: RouterConfig) -> list[str]:
    """Every model that could be among this request's candidates, whatever
    the classifier will say: what shedding before work checks (service.py).
    Known before classification: a forced or explicit tier, the request's
    features, its budget. Unknown: the tier (without one forced, any tier),
    the domain's specialists and the privacy verdict, which can drop cloud
    models and let later ones move up; so tiers are walked in fallback order,
    every model of each, until max_attempts models that no verdict can drop
    (local, and no domain rule needs a capability) are in."""
    explicit = None if facts.model == "auto" else cfg.model(facts.model)
    tier = facts.forced_tier if facts.forced_tier in TIERS else None
    if explicit is not None:
        tier = tier if tier in explicit.tiers else explicit.tiers[0]
    if tier is None or any(rule.domain is not None and rule.needs for rule in cfg.capabilities.rules):
        return [m.name for m in cfg.models]
    needs = demands(facts.features, "", cfg.capabilities)
    budget = facts.max_cost_per_mtok

    def fits(m: ModelConfig) -> bool:
        return needs.satisfied_by(m) and (budget is None or m.cost.blended <= budget)

    out: list[ModelConfig] = [explicit] if explicit is not None and fits(explicit) else []
    for t in tier_order(tier, cfg):
        out += [m for m in cfg.models if t in m.tiers and m not in out and fits(m)]
        if sum(m.locality == "local" for m in out) >= cfg.policy.fallback.max_attempts:
            break
    return [m.name for m in out]


def refuse_before_work(facts: RequestFacts, cfg: RouterConfig) -> None:
    """Refusals no classifier verdict can change, raised before it runs: a
    budget (x-triage-budget) that no configured model fits."""
    budget = facts.max_cost_per_mtok
    if budget is not None and not any(m.cost.blended <= budget for m in cfg.models):
        raise over_budget()


def over_budget() -> ClientError:
    return ClientError("no configured model fits the request's budget", param="x-triage-budget", code="over_budget")


def _explicit_model(facts: RequestFacts, cfg: RouterConfig) -> ModelConfig | None:
    if facts.model == "auto":
        return None
    model = cfg.model(facts.model)
    if model is None:
        raise NotFound(f"model {facts.model!r} is not configured; use 'auto' or GET /v1/models",
                       param="model", code="model_not_found")
    return model


def _candidates(tier: str, domain: str, explicit: ModelConfig | None,
                cfg: RouterConfig, needs: Demands) -> list[ModelConfig]:
    def rank(m: ModelConfig) -> tuple:
        return (_specialist(m, domain, cfg), not needs.preferred(m), m.cost.blended, m.name)

    ordered: list[ModelConfig] = [explicit] if explicit else []
    for t in tier_order(tier, cfg):
        for m in sorted((m for m in cfg.models if t in m.tiers), key=rank):
            if m not in ordered:
                ordered.append(m)
    return ordered


def _specialist(m: ModelConfig, domain: str, cfg: RouterConfig) -> float:
    """Lower is more specialised for the domain; equal for non-specialists."""
    preferred = cfg.policy.domain_preferences.get(domain, [])
    if m.name in preferred:
        return preferred.index(m.name)
    # A capability named after the domain marks a specialist too.
    return len(preferred) - 0.5 if domain in m.capabilities else len(preferred)


def _by_load(ordered: list[ModelConfig], tier: str, domain: str, facts: RequestFacts, cfg: RouterConfig,
             explicit: ModelConfig | None, loads: Mapping[str, ModelLoad] | None, needs: Demands,
             ) -> tuple[list[ModelConfig], list[str], str | None]:
    """Reorder the leading run of equally suitable models by free capacity:
    same tier, same specialist rank and capability preference (and latency
    class, for interactive requests), priced within cost_factor of the
    cheapest. Runs after the filters, so privacy, capabilities and budget
    hold; an explicit model stays first."""
    pol = cfg.policy.load
    start = 1 if explicit is not None and ordered and ordered[0].name == explicit.name else 0
    if not pol.enabled or not loads or len(ordered) - start < 2:
        return ordered, [], None
    anchor = ordered[start]

    def suits(m: ModelConfig) -> bool:
        return (tier in m.tiers and _specialist(m, domain, cfg) == _specialist(anchor, domain, cfg)
                and needs.preferred(m) == needs.preferred(anchor)
                and m.cost.blended <= anchor.cost.blended * pol.cost_factor
                and (facts.latency_class != "interactive" or m.latency_class == anchor.latency_class))

    end = start
    while end < len(ordered) and suits(ordered[end]):
        end += 1
    by_name = {m.name: m for m in ordered}
    names, busy, note = prefer_free([m.name for m in ordered[start:end]], loads, pol.busy_at)
    return ordered[:start] + [by_name[n] for n in names] + ordered[end:], busy, note


def privacy_verdict(signals: Signals, cfg: RouterConfig) -> str:
    """"sensitive" (validators, the privacy detector, or the learned head at
    privacy.sensitive), "uncertain" (the head in [privacy.uncertain,
    privacy.sensitive): kept off cloud models, fail closed) or "clean"."""
    if signals.sensitive or signals.sensitive_score >= cfg.privacy.sensitive:
        return "sensitive"
    return "uncertain" if signals.sensitive_score >= cfg.privacy.uncertain else "clean"


def _redaction_allowed(m: ModelConfig, signals: Signals, facts: RequestFacts, cfg: RouterConfig) -> bool:
    red = cfg.privacy.redaction
    return signals.redactable and m.locality == "cloud" and (m.name in red.models or facts.tenant in red.tenants)


def _filter(ordered: list[ModelConfig], signals: Signals, facts: RequestFacts, cfg: RouterConfig,
            explicit: ModelConfig | None, private: str, needs: Demands,
            ) -> tuple[list[ModelConfig], list[str], list[str]]:
    """(candidates, cloud models that get a redacted request, notes)."""
    notes: list[str] = []
    everyone = ordered
    redact: list[str] = []
    if private != "clean" and cfg.policy.sensitive_local_only:
        kinds = ", ".join(signals.sensitive_kinds) or f"learned score {signals.sensitive_score:.3f}"
        redact = [m.name for m in ordered if _redaction_allowed(m, signals, facts, cfg)]
        ordered = [m for m in ordered if m.locality == "local" or m.name in redact]
        notes.append(f"{private} ({kinds}): local models only" + (f", redacted for {', '.join(redact)}" if redact else ""))
        if explicit is not None and explicit.locality != "local" and explicit.name not in redact:
            notes.append(f"explicit model {explicit.name} is cloud: not used")
        if not ordered:
            raise PolicyRefusal(
                "the request contains sensitive data and no local model is configured to serve it",
                code="sensitive_requires_local_model",
            )
    if needs.needs:
        ordered = [m for m in ordered if needs.satisfied_by(m)]
        notes.append(f"{needs.describe()}: capable models only")
        if not ordered and any(needs.satisfied_by(m) for m in everyone):
            # Only cloud models could: privacy wins, the request is refused.
            raise PolicyRefusal(f"the request contains sensitive data and {needs.describe()}; "
                                "no local model with that capability is configured",
                                code="sensitive_requires_local_model")
        if not ordered:
            raise ClientError(f"no configured model can take this request ({needs.describe()})",
                              param="messages", code=error_code(needs))
    if facts.max_cost_per_mtok is not None:
        ordered = [m for m in ordered if m.cost.blended <= facts.max_cost_per_mtok]
        notes.append(f"budget <= {facts.max_cost_per_mtok}/Mtok")
        if not ordered:
            raise over_budget()
    if facts.latency_class == "interactive":
        # Stable sort: interactive models move ahead, order otherwise kept.
        ordered = sorted(ordered, key=lambda m: m.latency_class != "interactive")
    return ordered, redact, notes
