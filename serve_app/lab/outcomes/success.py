"""Per-tier success estimates: heads, kNN over the outcome memory, blend, calibration.

All estimates are [n, 4] arrays of P(a model of the tier answers well), one
column per tier in tiers.TIERS. Targets are the per-tier success rates of the
outcome table (soft, in [0, 1]; NaN = the tier has no model on that source,
masked out of every loss).

- LinearHeads: one logistic regression per tier over shared features, soft
  targets, L2, fitted jointly with L-BFGS (numpy/scipy; what ships is W, b).
- MLPHeads: a shared ReLU hidden layer + one logistic output per tier (torch
  for fitting only; ships as numpy weights like v1's heads).
- knn_estimate: cosine top-k among memory rows with similarity >= floor,
  weights = similarity, shrunk toward a prior with strength `alpha`:
      p = (sum_i w_i y_i + alpha * prior) / (sum_i w_i + alpha)
  i.e. the posterior mean of a Beta(alpha*prior, alpha*(1-prior)) prior after
  weighted observations. With the head as prior this *is* the blend: a prompt
  with no neighbour above the floor gets the head's estimate unchanged.
- Platt: per-tier a*logit(p)+b fitted on validation (calibration).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

EPS = 1e-6


def logit(p):
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def masked_bce(p: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> float:
    """Mean binary cross-entropy over the non-NaN targets (soft targets allowed)."""
    m = ~np.isnan(y)
    if w is None:
        w = np.ones(len(y))
    ww = np.broadcast_to(w[:, None], y.shape)[m]
    p, y = np.clip(p[m], EPS, 1 - EPS), y[m]
    return float(np.sum(ww * -(y * np.log(p) + (1 - y) * np.log(1 - p))) / np.sum(ww))


def masked_brier(p: np.ndarray, y: np.ndarray) -> float:
    m = ~np.isnan(y)
    return float(np.mean((p[m] - y[m]) ** 2))


def source_weights(sources: list[str], balance: float) -> np.ndarray:
    """Row weights: balance=0 leaves rows equal; 1 gives every source equal total weight."""
    src = np.asarray(sources)
    w = np.ones(len(src))
    for s in np.unique(src):
        m = src == s
        w[m] = (len(src) / m.sum()) ** balance
    return w / w.mean()


@dataclass
class LinearHeads:
    W: np.ndarray  # [d, 4]
    b: np.ndarray  # [4]

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, l2: float = 1e-3, weights: np.ndarray | None = None,
            maxiter: int = 500) -> "LinearHeads":
        n, d = x.shape
        k = y.shape[1]
        mask = ~np.isnan(y)
        yy = np.where(mask, y, 0.0)
        w = np.ones(n) if weights is None else weights
        wm = mask * w[:, None]
        total = wm.sum()
        x64 = x.astype(np.float64)

        def f(theta):
            W, b = theta[:d * k].reshape(d, k), theta[d * k:]
            z = x64 @ W + b
            # softplus(z) - y*z is the BCE in logits, stable for large |z|
            loss = np.sum(wm * (np.logaddexp(0, z) - yy * z)) / total + l2 * np.sum(W * W)
            g = wm * (sigmoid(z) - yy) / total
            return loss, np.concatenate([(x64.T @ g + 2 * l2 * W).ravel(), g.sum(0)])

        base = np.nansum(wm * yy, 0) / np.maximum(wm.sum(0), 1e-9)
        theta0 = np.concatenate([np.zeros(d * k), logit(base)])
        res = minimize(f, theta0, jac=True, method="L-BFGS-B", options={"maxiter": maxiter})
        return cls(res.x[:d * k].reshape(d, k).astype(np.float32), res.x[d * k:].astype(np.float32))

    def logits(self, x: np.ndarray) -> np.ndarray:
        return x @ self.W + self.b

    def predict(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(self.logits(x))


@dataclass
class MLPHeads:
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray

    @classmethod
    def fit(cls, x, y, hidden=256, epochs=60, lr=2e-3, weight_decay=1e-4, dropout=0.1, seed=0,
            weights=None, val=None, patience=6) -> "MLPHeads":
        import torch

        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        d, k = x.shape[1], y.shape[1]
        net = torch.nn.Sequential(torch.nn.Linear(d, hidden), torch.nn.ReLU(), torch.nn.Dropout(dropout),
                                  torch.nn.Linear(hidden, k))
        opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=weight_decay)
        X = torch.from_numpy(x.astype(np.float32))
        M = torch.from_numpy((~np.isnan(y)).astype(np.float32))
        Y = torch.from_numpy(np.nan_to_num(y).astype(np.float32))
        Wt = torch.from_numpy((np.ones(len(x)) if weights is None else weights).astype(np.float32))
        best, best_state, bad = np.inf, None, 0
        for _ in range(epochs):
            net.train()
            for idx in np.array_split(rng.permutation(len(x)), max(1, len(x) // 256)):
                i = torch.from_numpy(idx)
                z = net(X[i])
                ell = torch.nn.functional.binary_cross_entropy_with_logits(z, Y[i], reduction="none")
                loss = (ell * M[i] * Wt[i, None]).sum() / (M[i] * Wt[i, None]).sum().clamp_min(1e-9)
                opt.zero_grad()
                loss.backward()
                opt.step()
            if val is not None:
                net.eval()
                cur = cls._from(net).loss(*val)
                if cur < best - 1e-5:
                    best, best_state, bad = cur, cls._from(net), 0
                else:
                    bad += 1
                    if bad >= patience:
                        break
        return best_state if best_state is not None else cls._from(net)

    @classmethod
    def _from(cls, net) -> "MLPHeads":
        l1, l2 = net[0], net[3]
        t = lambda p: p.detach().numpy().astype(np.float32).copy()  # noqa: E731
        return cls(t(l1.weight).T, t(l1.bias), t(l2.weight).T, t(l2.bias))

    def loss(self, x, y) -> float:
        return masked_bce(self.predict(x), y)

    def logits(self, x: np.ndarray) -> np.ndarray:
        return np.maximum(x @ self.W1 + self.b1, 0.0) @ self.W2 + self.b2

    def predict(self, x: np.ndarray) -> np.ndarray:
        return sigmoid(self.logits(x))


def topk(query: np.ndarray, memory: np.ndarray, k: int, chunk: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """(similarities [n, k], indices [n, k]) by cosine (rows are unit vectors), best first."""
    sims_out, idx_out = [], []
    for s in range(0, len(query), chunk):
        sims = query[s:s + chunk] @ memory.T
        idx = np.argpartition(-sims, min(k, sims.shape[1] - 1), axis=1)[:, :k]
        part = np.take_along_axis(sims, idx, 1)
        order = np.argsort(-part, axis=1)
        sims_out.append(np.take_along_axis(part, order, 1))
        idx_out.append(np.take_along_axis(idx, order, 1))
    return np.concatenate(sims_out), np.concatenate(idx_out)


def knn_estimate(sims: np.ndarray, idx: np.ndarray, memory_y: np.ndarray, prior: np.ndarray,
                 k: int, alpha: float, floor: float, power: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Beta-shrunk similarity-weighted neighbour success: (estimate [n, 4], evidence weight [n, 4]).

    sims/idx: the top-K neighbours (K >= k) by similarity, best first.
    prior: [n, 4] (the head's estimate) or [4] (a global rate).
    Neighbours below `floor` or without a score for the tier carry no weight.
    """
    s, i = sims[:, :k], idx[:, :k]
    w = np.where(s >= floor, np.clip(s, 0, None) ** power, 0.0)  # [n, k]
    y = memory_y[i]  # [n, k, 4]
    has = ~np.isnan(y)
    ww = w[:, :, None] * has
    num = np.sum(ww * np.nan_to_num(y), axis=1)
    den = np.sum(ww, axis=1)
    prior = np.broadcast_to(prior, num.shape)
    return (num + alpha * prior) / (den + alpha), den


@dataclass
class Platt:
    a: np.ndarray  # [4]
    b: np.ndarray  # [4]

    @classmethod
    def fit(cls, p: np.ndarray, y: np.ndarray) -> "Platt":
        a, b = np.ones(p.shape[1]), np.zeros(p.shape[1])
        for t in range(p.shape[1]):
            m = ~np.isnan(y[:, t])
            if m.sum() < 20:
                continue
            z, yt = logit(p[m, t]), y[m, t]

            def f(ab):
                zz = ab[0] * z + ab[1]
                q = sigmoid(zz)
                return np.mean(np.logaddexp(0, zz) - yt * zz), np.array([np.mean((q - yt) * z), np.mean(q - yt)])

            a[t], b[t] = minimize(f, np.array([1.0, 0.0]), jac=True, method="L-BFGS-B").x
        return cls(a, b)

    def __call__(self, p: np.ndarray) -> np.ndarray:
        return sigmoid(self.a * logit(p) + self.b)


def ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Expected calibration error over all non-NaN (prompt, tier) cells, equal-width bins."""
    m = ~np.isnan(y)
    p, y = p[m], y[m]
    b = np.minimum((p * bins).astype(int), bins - 1)
    return float(sum(abs(p[b == i].mean() - y[b == i].mean()) * np.mean(b == i) for i in range(bins) if np.any(b == i)))
