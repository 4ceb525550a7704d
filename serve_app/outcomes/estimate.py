"""Per-tier success: P(a model of the tier answers this prompt well), as served.

From a model directory's `success` section (trained by `triage train`,
serve_app/lab/outcomes/ fits it):

  head     x = [unit embedding, log1p(tokens)/8] -> ReLU(hidden) -> one logit per tier
  memory   the k nearest prompts with known outcomes (outcome memory) and
           their per-tier success; a tier the prompt's source had no model of
           is NaN and carries no weight
  blend    p = (sum_i w_i y_i + alpha * head) / (sum_i w_i + alpha), w_i = the
           neighbour's cosine similarity when >= floor: the posterior mean of
           a Beta prior centred on the head, so a prompt without neighbours
           keeps the head's estimate
  Platt    per tier, sigmoid(a * logit(p) + b), fitted on validation

A prompt whose nearest neighbour is less similar than `support_floor` is
unlike anything with known outcomes (creative writing, long documents):
`estimate` marks it unsupported and policy falls back to the tier classifier.

Pure numpy; the memory lookup is the caller's (outcomes/memory.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-6


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


@dataclass(frozen=True)
class SuccessSettings:
    tiers: tuple[str, ...]
    k: int
    alpha: float
    floor: float
    support_floor: float
    platt_a: tuple[float, ...]
    platt_b: tuple[float, ...]

    @classmethod
    def from_meta(cls, meta: dict) -> SuccessSettings:
        platt = meta.get("platt") or {}
        n = len(meta["tiers"])
        return cls(tiers=tuple(meta["tiers"]), k=int(meta["knn"]["k"]), alpha=float(meta["knn"]["alpha"]),
                   floor=float(meta["knn"]["floor"]), support_floor=float(meta["support_floor"]),
                   platt_a=tuple(platt.get("a", [1.0] * n)), platt_b=tuple(platt.get("b", [0.0] * n)))


@dataclass(frozen=True)
class SuccessEstimate:
    probs: np.ndarray  # [n, tiers] calibrated P(success)
    support: np.ndarray  # [n] similarity of the nearest outcome-memory prompt
    supported: np.ndarray  # [n] bool: support >= support_floor


class SuccessModel:
    """The served estimator; `weights` holds success.W1/b1/W2/b2 (numpy)."""

    def __init__(self, weights: dict[str, np.ndarray], settings: SuccessSettings):
        self.w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.settings = settings

    def head(self, x: np.ndarray) -> np.ndarray:
        h = np.maximum(x.astype(np.float32) @ self.w["success.W1"] + self.w["success.b1"], 0.0)
        return sigmoid(h @ self.w["success.W2"] + self.w["success.b2"])

    def blend(self, head: np.ndarray, sims: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """head [n, t]; sims [n, k] best first; ys [n, k, t] (NaN: no outcome for the tier)."""
        s = self.settings
        w = np.where(sims >= s.floor, np.clip(sims, 0.0, None), 0.0)[:, :, None]  # [n, k, 1]
        has = ~np.isnan(ys)
        w = np.where(has, w, 0.0)
        evidence = w.sum(axis=1)  # [n, t]
        hits = (w * np.nan_to_num(ys)).sum(axis=1)
        return (hits + s.alpha * head) / (evidence + s.alpha)

    def calibrate(self, p: np.ndarray) -> np.ndarray:
        a = np.asarray(self.settings.platt_a, dtype=np.float64)
        b = np.asarray(self.settings.platt_b, dtype=np.float64)
        return sigmoid(a * logit(p) + b)

    def estimate(self, x: np.ndarray, sims: np.ndarray, ys: np.ndarray) -> SuccessEstimate:
        p = self.calibrate(self.blend(self.head(x), sims, ys))
        support = sims[:, 0] if sims.shape[1] else np.zeros(len(x))
        return SuccessEstimate(p, support, support >= self.settings.support_floor)
