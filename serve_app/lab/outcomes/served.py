"""The served success estimate as one object: what the classifier would compute.

P(tier succeeds | prompt) = Platt( (sum_i w_i y_i + alpha * prior) / (sum_i w_i + alpha) )
with prior = the head's estimate (or the global rate, or a linear mix), w_i =
similarity of the i-th of the k nearest outcome-memory prompts when >= floor.
`save` writes the artifact the serving path needs: head weights, the memory
(vectors + per-tier success) and the settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from serve_app.lab.outcomes import features, success, tiers


@dataclass
class SuccessEstimator:
    head: object  # LinearHeads | MLPHeads
    memory: np.ndarray  # [m, dim] unit vectors
    memory_y: np.ndarray  # [m, 4] per-tier success, NaN = no model of the tier
    k: int = 30
    alpha: float = 5.0
    floor: float = 0.0
    prior: str = "head"  # "head" (Beta blend) | "global" (kNN alone)
    head_weight: float | None = None  # linear blend instead of the Beta blend
    counts: bool = False
    platt: success.Platt | None = None
    global_rate: np.ndarray = field(default=None)

    def __post_init__(self):
        if self.global_rate is None:
            self.global_rate = np.nanmean(self.memory_y, 0)

    def head_probs(self, emb: np.ndarray, tok, prompts=None) -> np.ndarray:
        x = features.served(emb, tok)
        if self.counts:
            x = np.concatenate([x, features.counts(prompts)], 1)
        return self.head.predict(x)

    def raw(self, emb: np.ndarray, tok, prompts=None) -> tuple[np.ndarray, np.ndarray]:
        """(uncalibrated estimate [n, 4], neighbour evidence [n, 4])."""
        h = self.head_probs(emb, tok, prompts)
        sims, idx = success.topk(emb, self.memory, self.k)
        if self.head_weight is not None:
            knn, ev = success.knn_estimate(sims, idx, self.memory_y, self.global_rate, self.k, self.alpha, self.floor)
            return self.head_weight * h + (1 - self.head_weight) * knn, ev
        prior = h if self.prior == "head" else self.global_rate
        return success.knn_estimate(sims, idx, self.memory_y, prior, self.k, self.alpha, self.floor)

    def predict(self, emb: np.ndarray, tok, prompts=None) -> np.ndarray:
        p, _ = self.raw(emb, tok, prompts)
        return self.platt(p) if self.platt else p

    def save(self, directory: Path, meta: dict) -> dict:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        weights = {f"head.{k}": np.asarray(v, np.float32) for k, v in vars(self.head).items()}
        np.savez_compressed(d / "success_head.npz", **weights)
        np.savez_compressed(d / "outcome_memory.npz", vectors=self.memory.astype(np.float16),
                            success=self.memory_y.astype(np.float16))
        spec = {"tiers": list(tiers.TIERS), "features": "unit MiniLM embedding (onnx-int8, 128 tokens) + log1p(tokens)/8"
                + (" + text counts " + ",".join(features.TEXT_FEATURES) if self.counts else ""),
                "head": type(self.head).__name__, "head_shapes": {k: list(v.shape) for k, v in weights.items()},
                "knn": {"k": self.k, "alpha": self.alpha, "floor": self.floor, "prior": self.prior,
                        "head_weight": self.head_weight, "weights": "cosine similarity",
                        "global_rate": [float(x) for x in self.global_rate]},
                "platt": None if self.platt is None else {"a": self.platt.a.tolist(), "b": self.platt.b.tolist()},
                "memory": {"vectors": int(len(self.memory)), "dims": int(self.memory.shape[1]), "dtype": "float16"},
                **meta}
        (d / "success_model.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
        return spec
