"""The trained router heads: numpy inference over encoder features.

An artifact directory (models/<name>/) holds `model.json` (labels, encoder
settings, temperatures, thresholds) and `heads.npz` (weights). Inference is
a few small matrix products, so it runs inside the Classifier's batch with no
torch at serve time. Training lives in serve_app/lab/training/train.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

HEAD_NAMES = ("tier", "domain", "sensitive", "jailbreak", "difficulty")
BINARY = ("sensitive", "jailbreak", "difficulty")
DEFAULT_MODEL = "triage-router-v3"


def resolve_model_dir(name_or_path: str) -> Path:
    """A directory path, or the name of a model shipped as package data."""
    from serve_app.models import resolve

    return resolve(name_or_path)


def shipped_encoder(model_dir: Path, meta: dict) -> str | None:
    """The encoder directory a model ships (model.json `encoder.dir`: a
    fine-tuned int8 ONNX encoder), None for the packaged MiniLM."""
    shipped = meta["encoder"].get("dir")
    return str(Path(model_dir) / shipped) if shipped else None


def features(embeddings: np.ndarray, tokens) -> np.ndarray:
    """Head input: the unit embedding plus the prompt's length.

    Length is a real tier signal (long documents are llm work) that mean
    pooling hides; log-scaled so a 100k-token prompt stays in range.
    """
    length = np.log1p(np.asarray(tokens, dtype=np.float32))[:, None] / 8.0
    return np.concatenate([embeddings.astype(np.float32), length], axis=1)


def sensitive_score(head_prob, validator_hit):
    """The one sensitivity rule: a validator hit is certain (1.0); the learned
    head's probability covers what the validators cannot see."""
    return np.where(validator_hit, 1.0, head_prob)


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


@dataclass
class HeadOutputs:
    tier: np.ndarray  # [n, 4] calibrated probabilities
    domain: np.ndarray  # [n, n_domains]
    sensitive: np.ndarray  # [n] probability
    jailbreak: np.ndarray  # [n]
    difficulty: np.ndarray  # [n] probability that a small model fails


class RouterHeads:
    """Shared hidden layer (optional) + one output layer per head."""

    def __init__(self, meta: dict, weights: dict[str, np.ndarray]):
        self.meta = meta
        self.labels: dict[str, list[str]] = meta["labels"]
        self.temperature: dict[str, float] = meta.get("temperature", {})
        self.thresholds: dict[str, float] = meta.get("thresholds", {})
        self.w = {k: np.asarray(v, dtype=np.float32) for k, v in weights.items()}
        self.directory: Path | None = None  # where it was loaded from (its outcome memory lives there)

    @classmethod
    def load(cls, directory: str | Path) -> "RouterHeads":
        d = Path(directory)
        meta = json.loads((d / "model.json").read_text(encoding="utf-8"))
        with np.load(d / "heads.npz") as z:
            weights = {k: z[k] for k in z.files}
        heads = cls(meta, weights)
        heads.directory = d
        return heads

    def save(self, directory: str | Path) -> None:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(d / "heads.npz", **{k: v.astype(np.float32) for k, v in self.w.items()})
        (d / "model.json").write_text(json.dumps(self.meta, indent=2) + "\n", encoding="utf-8")

    def success_model(self):
        """The per-tier success estimator (outcomes/estimate.py), if the model has one."""
        if "success" not in self.meta:
            return None
        from serve_app.outcomes.estimate import SuccessModel, SuccessSettings

        weights = {k: v for k, v in self.w.items() if k.startswith("success.")}
        return SuccessModel(weights, SuccessSettings.from_meta(self.meta["success"]))

    def cut(self, head: str) -> float:
        """Decision threshold chosen on val for a binary head (0.5 if none)."""
        return float(self.thresholds.get(head, 0.5))

    @property
    def encoder_settings(self) -> dict:
        return self.meta["encoder"]

    def encoder_dir(self) -> str | None:
        """The fine-tuned encoder this model ships (None: the packaged MiniLM)."""
        return shipped_encoder(self.directory, self.meta) if self.directory else None

    def hidden(self, x: np.ndarray) -> np.ndarray:
        if "hidden.W" not in self.w:
            return x
        return np.maximum(x @ self.w["hidden.W"] + self.w["hidden.b"], 0.0)

    def logits(self, x: np.ndarray) -> dict[str, np.ndarray]:
        h = self.hidden(x.astype(np.float32))
        return {name: h @ self.w[f"{name}.W"] + self.w[f"{name}.b"] for name in HEAD_NAMES}

    def predict(self, x: np.ndarray) -> HeadOutputs:
        z = self.logits(x)
        t = lambda name: float(self.temperature.get(name, 1.0))  # noqa: E731
        return HeadOutputs(
            tier=softmax(z["tier"] / t("tier")),
            domain=softmax(z["domain"] / t("domain")),
            sensitive=sigmoid(z["sensitive"][:, 0] / t("sensitive")),
            jailbreak=sigmoid(z["jailbreak"][:, 0] / t("jailbreak")),
            difficulty=sigmoid(z["difficulty"][:, 0] / t("difficulty")),
        )
