"""Fitting a learned adjustment (serve_app/learning/adjust.py) on outcomes.

Per tier, ridge-penalised logistic regression of the outcome on the
prompt's embedding with the model's own logit as the offset: the model's
estimate stays the prior and only what the outcomes consistently say moves
it. A tier with fewer than `min_outcomes` outcomes is left alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Ridge strength, chosen on the tuning split's replay (`triage bench learning
# --split val --grid`, loadtest/results/learning_tuning.json).
L2 = 3.0
MIN_OUTCOMES = 30


@dataclass
class Outcomes:
    """Rated records with an embedding and the model's estimate, oldest first."""

    tenant: np.ndarray  # [n] str
    tier: np.ndarray  # [n] str
    vector: np.ndarray  # [n, dim]
    base: np.ndarray  # [n] the model's P(success) for the tier, before learning
    outcome: np.ndarray  # [n] 0..1
    at: np.ndarray  # [n] when the outcome was attached

    def __len__(self) -> int:
        return len(self.outcome)

    def take(self, mask: np.ndarray) -> Outcomes:
        return Outcomes(self.tenant[mask], self.tier[mask], self.vector[mask], self.base[mask], self.outcome[mask],
                        self.at[mask])

    def split_recent(self, share: float) -> tuple[Outcomes, Outcomes]:
        """(older, the newest `share`): fitted on the first, judged on the second."""
        order = np.argsort(self.at, kind="stable")
        cut = int(round(len(order) * (1 - share)))
        older, recent = np.zeros(len(self), bool), np.zeros(len(self), bool)
        older[order[:cut]] = True
        recent[order[cut:]] = True
        return self.take(older), self.take(recent)


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def fit(data: Outcomes, version: int, l2: float = L2, min_outcomes: int = MIN_OUTCOMES) -> dict:
    """An adjustment in its user_config form: {"version", "tiers": {tier: {"weights", "bias"}}}."""
    from scipy.optimize import minimize

    tiers = {}
    for tier in sorted(set(data.tier.tolist())):
        m = data.tier == tier
        if m.sum() < min_outcomes:
            continue
        x, z0, y = data.vector[m].astype(np.float64), logit(data.base[m]), data.outcome[m]
        d = x.shape[1]

        def loss(theta):
            w, b = theta[:d], theta[d]
            p = 1 / (1 + np.exp(-(z0 + x @ w + b)))
            nll = -(y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)).sum()
            g = p - y
            return nll + l2 * (w @ w + b * b), np.r_[x.T @ g + 2 * l2 * w, g.sum() + 2 * l2 * b]

        theta = minimize(loss, np.zeros(d + 1), jac=True, method="L-BFGS-B").x
        tiers[tier] = {"weights": [round(float(v), 6) for v in theta[:d]], "bias": round(float(theta[d]), 6)}
    return {"version": version, "tiers": tiers}


def log_loss(adjustment: dict | None, tier: np.ndarray, vector: np.ndarray, base: np.ndarray,
             outcome: np.ndarray) -> float:
    """Mean log loss of the adjusted estimate (None: the model's own)."""
    z = logit(base)
    for t, a in ((adjustment or {}).get("tiers") or {}).items():
        m = tier == t
        z[m] += vector[m] @ np.asarray(a["weights"]) + a["bias"]
    p = np.clip(1 / (1 + np.exp(-z)), 1e-12, 1 - 1e-12)
    return float(-(outcome * np.log(p) + (1 - outcome) * np.log(1 - p)).mean())
