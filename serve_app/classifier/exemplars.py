"""Exemplar (task-vector) heads: labels defined by example utterances.

Each label's example embeddings are averaged into a unit centroid; the head's
mean centroid is subtracted and the rest renormalised (the label's *task
vector*: what sets it apart from the other labels). A prompt's probabilities
are softmax(cosine / temperature) over a head's task vectors. Operators define
new domains by listing examples, with no training step.
Pure numpy plus the Signals value; no torch, no Ray.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources

import numpy as np

from serve_app.policy.signals import Signals

HEADS = ("tiers", "domains")


def _unit(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(norms, 1e-12)


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def centroids(groups: Mapping[str, Sequence[np.ndarray] | np.ndarray]) -> tuple[tuple[str, ...], np.ndarray]:
    """Labels (in mapping order) and their unit centroids [k, dim]."""
    labels, rows = [], []
    for label, vecs in groups.items():
        arr = np.asarray(vecs, dtype=np.float32)
        if arr.ndim != 2 or len(arr) == 0:
            raise ValueError(f"label {label!r} needs at least one example embedding")
        labels.append(label)
        # Normalise members first so one long, high-norm example cannot dominate.
        rows.append(_unit(arr).mean(axis=0))
    return tuple(labels), _unit(np.stack(rows)) if rows else np.zeros((0, 0), np.float32)


def task_vectors(cents: np.ndarray) -> np.ndarray:
    """Centre a head's unit centroids on their mean and renormalise.

    All sentence embeddings share a large common component, so raw centroids
    differ little and a label whose examples span many topics (slm: lookups
    about anything) gets a short, washed-out centroid that loses to narrower
    labels. Centring removes the shared part; renormalising gives each label's
    distinguishing direction equal weight. On the held-out cases of
    tests/unit/test_encoder.py and a separate dev set it was never worse than
    raw centroids and fixed most slm-vs-srm confusions. With one label there
    is nothing to centre against, so the centroid is kept.
    """
    if len(cents) < 2:
        return cents
    centred = cents - cents.mean(axis=0, keepdims=True)
    if np.linalg.norm(centred, axis=1).min() < 1e-6:  # duplicate labels: keep raw
        return cents
    return _unit(centred)


@dataclass(frozen=True)
class Scores:
    tier_labels: tuple[str, ...]
    tier_probs: np.ndarray  # [n, len(tier_labels)]
    domain_labels: tuple[str, ...]
    domain_probs: np.ndarray  # [n, len(domain_labels)]
    jailbreak: np.ndarray  # [n] in [0, 1]


class ExemplarScorer:
    """Centroid heads for tiers and domains, plus a jailbreak detector.

    Jailbreak scoring is nearest-exemplar, not centroid: the best similarity to
    any jailbreak example is compared with the best similarity to any benign
    example (the tier and domain exemplars), p = sigmoid(diff / temperature).
    Jailbreak patterns are few and dissimilar (role-play, "ignore previous
    instructions", "print your system prompt"); their average is a blur close
    to generic chat, while one close neighbour is strong evidence. On the
    shipped defaults and the held-out cases in tests/unit/test_encoder.py the
    nearest-exemplar rule separated jailbreaks from ordinary prompts with a
    wider margin than the two-centroid softmax.
    """

    def __init__(
        self,
        tiers: Mapping[str, Sequence[np.ndarray] | np.ndarray],
        domains: Mapping[str, Sequence[np.ndarray] | np.ndarray],
        jailbreak: Sequence[np.ndarray] | np.ndarray | None = None,
        temperature: float = 0.05,
        benign: Sequence[np.ndarray] | np.ndarray | None = None,
    ):
        if temperature <= 0:
            raise ValueError("temperature must be > 0")
        self.temperature = float(temperature)
        self.tier_labels, tier_cents = centroids(tiers)
        self.domain_labels, domain_cents = centroids(domains)
        self._tiers, self._domains = task_vectors(tier_cents), task_vectors(domain_cents)
        self._jailbreak = _rows(jailbreak)
        if benign is None:
            benign = [v for g in (tiers, domains) for vecs in g.values() for v in np.asarray(vecs)]
        self._benign = _rows(benign)

    def score(self, embeddings: np.ndarray) -> Scores:
        x = _unit(np.atleast_2d(np.asarray(embeddings, dtype=np.float32)))
        return Scores(
            self.tier_labels,
            self._head(x, self._tiers),
            self.domain_labels,
            self._head(x, self._domains),
            self.jailbreak_prob(x),
        )

    def _head(self, x: np.ndarray, cents: np.ndarray) -> np.ndarray:
        if len(cents) == 0:
            return np.zeros((len(x), 0), np.float32)
        return softmax(x @ cents.T / self.temperature)

    def jailbreak_prob(self, x: np.ndarray) -> np.ndarray:
        if self._jailbreak is None or self._benign is None:
            return np.zeros(len(x), np.float32)
        jb = (x @ self._jailbreak.T).max(axis=1)
        ok = (x @ self._benign.T).max(axis=1)
        return 1.0 / (1.0 + np.exp(-(jb - ok) / self.temperature))


def _rows(vecs) -> np.ndarray | None:
    if vecs is None:
        return None
    arr = np.asarray(vecs, dtype=np.float32)
    return _unit(arr) if arr.ndim == 2 and len(arr) else None


# ----------------------------------------------------------- exemplar sets


def load_default_exemplars() -> dict:
    """The shipped set: {"tiers": {...}, "domains": {...}, "jailbreak": [...]}."""
    import yaml

    # Addressed from the `serve_app` package: `defaults/` is package data, not
    # a package, so this also works from an installed wheel.
    text = resources.files("serve_app").joinpath("defaults/exemplars.yaml").read_text("utf-8")
    data = yaml.safe_load(text) or {}
    return {
        "tiers": dict(data.get("tiers") or {}),
        "domains": dict(data.get("domains") or {}),
        "jailbreak": list(data.get("jailbreak") or []),
    }


def merge_exemplars(defaults: Mapping, custom, use_defaults: bool = True) -> dict:
    """Operator exemplars over the defaults.

    A label the operator names replaces that label's default examples; a new
    label adds a class (a custom domain). A non-empty `jailbreak` list is one
    label too, so it replaces the default list. `custom` is a dict or an
    `Exemplars` model. With `use_defaults` false only the operator's set is used.
    """
    if hasattr(custom, "model_dump"):
        custom = custom.model_dump()
    custom = custom or {}
    base = defaults if use_defaults else {}
    merged: dict = {}
    for head in HEADS:
        labels = {k: list(v) for k, v in (base.get(head) or {}).items()}
        for label, examples in (custom.get(head) or {}).items():
            if not examples:
                raise ValueError(f"exemplars.{head}.{label}: give at least one example")
            labels[label] = [str(e) for e in examples]
        merged[head] = labels
    merged["jailbreak"] = list(custom.get("jailbreak") or base.get("jailbreak") or [])
    return merged


def build_scorer(
    embed: Callable[[list[str]], np.ndarray], exemplars: Mapping, temperature: float
) -> ExemplarScorer:
    """Embed every example in one pass and build the heads from the result."""
    texts: list[str] = []
    spans: dict[tuple[str, str], slice] = {}
    for head in HEADS:
        for label, examples in exemplars.get(head, {}).items():
            spans[(head, label)] = slice(len(texts), len(texts) + len(examples))
            texts.extend(examples)
    jb = list(exemplars.get("jailbreak") or [])
    vecs = embed(texts + jb) if texts or jb else np.zeros((0, 0), np.float32)
    groups = {
        head: {label: vecs[s] for (h, label), s in spans.items() if h == head} for head in HEADS
    }
    return ExemplarScorer(
        groups["tiers"],
        groups["domains"],
        vecs[len(texts):] if jb else None,
        temperature,
        benign=vecs[: len(texts)] if texts else None,
    )


# ----------------------------------------------------------------- signals


def signals_from_scores(
    scores: Scores,
    embeddings: np.ndarray,
    tokens: Sequence[int],
    truncated: Sequence[bool],
    sensitive_kinds: Sequence[tuple[str, ...]],
) -> list[Signals]:
    """One Signals per row; the sensitive kinds come from the full texts."""
    out = []
    for i in range(len(tokens)):
        kinds = tuple(sensitive_kinds[i])
        out.append(
            Signals(
                tier_probs=_probs(scores.tier_labels, scores.tier_probs[i]),
                domain_probs=_probs(scores.domain_labels, scores.domain_probs[i]),
                sensitive=bool(kinds),
                sensitive_kinds=kinds,
                jailbreak_prob=float(scores.jailbreak[i]),
                tokens=int(tokens[i]),
                truncated=bool(truncated[i]),
                embedding=tuple(float(v) for v in embeddings[i]),
            )
        )
    return out


def _probs(labels: Sequence[str], row: np.ndarray) -> dict[str, float]:
    return {label: float(p) for label, p in zip(labels, row)}
