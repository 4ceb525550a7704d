"""A learned adjustment of the success estimate: what `triage learn` promotes.

Per tier, a linear correction of the model's logit from the prompt's
embedding, fitted on this deployment's outcomes (serve_app/lab/learning/):

    P'(success | tier) = sigmoid(logit(P(success | tier)) + w_tier . embedding + b_tier)

Versions are small (one weight vector per tier) and travel inline in the
Classifier's `user_config`, so promoting or rolling one back is a config
update that Serve applies without restarting a replica. Scoped per tenant
(learning.scope "tenant": a tenant's outcomes adjust only its own routing)
or one for all ("*").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from serve_app.policy.signals import Signals

ALL = "*"


@dataclass(frozen=True)
class TierAdjustment:
    weights: np.ndarray
    bias: float


@dataclass(frozen=True)
class Adjustment:
    version: int
    tiers: dict[str, TierAdjustment]

    @classmethod
    def from_config(cls, data: dict, dim: int) -> Adjustment:
        tiers = {}
        for tier, t in data["tiers"].items():
            w = np.asarray(t["weights"], np.float32)
            if w.shape != (dim,):
                raise ValueError(f"adjustment v{data['version']}: tier {tier} has {w.shape[0]} weights, "
                                 f"the encoder gives {dim}-dim embeddings")
            tiers[tier] = TierAdjustment(w, float(t["bias"]))
        return cls(int(data["version"]), tiers)

    def logits(self, base: dict[str, float], embedding: np.ndarray) -> dict[str, float]:
        out = {}
        for tier, p in base.items():
            z = logit(p)
            t = self.tiers.get(tier)
            out[tier] = z + float(t.weights @ embedding) + t.bias if t is not None else z
        return out

    def apply(self, base: dict[str, float], embedding: np.ndarray) -> dict[str, float]:
        return {tier: sigmoid(z) for tier, z in self.logits(base, embedding).items()}


def logit(p: float) -> float:
    p = min(max(p, 1e-4), 1 - 1e-4)
    return float(np.log(p / (1 - p)))


def sigmoid(z: float) -> float:
    return float(1 / (1 + np.exp(-z)))


class Adjustments:
    """The versions in force, by tenant ("*": everyone without their own)."""

    def __init__(self, by_tenant: dict[str, Adjustment] | None = None):
        self.by_tenant = by_tenant or {}

    @classmethod
    def from_config(cls, data: dict | None, dim: int) -> Adjustments:
        return cls({tenant: Adjustment.from_config(a, dim) for tenant, a in (data or {}).items()})

    def versions(self) -> dict[str, int]:
        return {tenant: a.version for tenant, a in self.by_tenant.items()}

    def apply(self, signals: list[Signals], tenants: list[str]) -> list[Signals]:
        if not self.by_tenant:
            return signals
        out = []
        for s, tenant in zip(signals, tenants):
            a = self.by_tenant.get(tenant) or self.by_tenant.get(ALL)
            if a is None or s.success_prior is None or s.embedding is None:
                out.append(s)
                continue
            e = np.asarray(s.embedding, np.float32)
            out.append(replace(s, success_base=s.success_prior, success_prior=a.apply(s.success_prior, e),
                               tier_success=a.apply(s.tier_success, e) if s.tier_success else None,
                               adjustment=a.version))
        return out
