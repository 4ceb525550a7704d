"""Signals from the trained heads, with operator exemplar domains on top.

The trained model gives tier, the built-in domains, jailbreak, difficulty,
the per-tier success and a sensitive-data score; the deterministic
validators give sensitive kinds. Whether the score makes a request
sensitive is policy's call (privacy thresholds in the router config). Operators still add
domains from example utterances without retraining: an exemplar scorer over
the built-in domains' examples plus the operator's decides how much
probability goes to an operator domain; the trained head shares the rest.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from serve_app.classifier.exemplars import ExemplarScorer
from serve_app.classifier.heads import RouterHeads, features
from serve_app.policy.signals import Signals


class TrainedScorer:
    def __init__(self, heads: RouterHeads, exemplars: ExemplarScorer | None = None,
                 custom_domains: Sequence[str] = (), custom_jailbreak: bool = False,
                 success=None, memory=None):
        """success, memory: the per-tier success estimator (outcomes/estimate.py)
        and its outcome memory (outcomes/memory.py), when the model has them."""
        self.heads = heads
        self.success = success
        self.memory = memory
        self.exemplars = exemplars
        self.custom_domains = tuple(d for d in custom_domains if exemplars and d in exemplars.domain_labels)
        # Operator jailbreak examples add to the head (max), never replace it.
        self.custom_jailbreak = custom_jailbreak and exemplars is not None
        self.domain_labels = tuple(heads.labels["domain"]) + self.custom_domains

    def signals(self, embeddings: np.ndarray, tokens: Sequence[int], truncated: Sequence[bool],
                detector_kinds: Sequence[tuple[str, ...]]) -> list[Signals]:
        x = features(embeddings, tokens)
        out = self.heads.predict(x)
        success, prior, support = self._success(x, embeddings)
        domain = self._domains(out.domain, embeddings)
        jailbreak = out.jailbreak
        if self.custom_jailbreak:
            jailbreak = np.maximum(jailbreak, self.exemplars.jailbreak_prob(embeddings))
        tiers = self.heads.labels["tier"]
        result = []
        for i in range(len(tokens)):
            kinds = tuple(detector_kinds[i])
            result.append(Signals(
                tier_probs={t: float(p) for t, p in zip(tiers, out.tier[i])},
                domain_probs={d: float(p) for d, p in zip(self.domain_labels, domain[i])},
                sensitive=bool(kinds),
                sensitive_kinds=kinds,
                # The head's verdict is policy's (privacy.uncertain / .sensitive thresholds).
                sensitive_score=float(out.sensitive[i]),
                jailbreak_prob=float(jailbreak[i]),
                difficulty=float(out.difficulty[i]),
                tier_success=success[i],
                success_prior=prior[i],
                outcome_support=float(support[i]),
                tokens=int(tokens[i]),
                truncated=bool(truncated[i]),
                embedding=tuple(float(v) for v in embeddings[i]),
            ))
        return result

    def _success(self, x: np.ndarray, embeddings: np.ndarray) -> tuple[list, list, np.ndarray]:
        """Per-tier success for each prompt (None where it has no outcome
        support), the same estimate regardless of support (the prior live
        outcomes correct), and each prompt's support (nearest memory similarity)."""
        if self.success is None or self.memory is None:
            return [None] * len(x), [None] * len(x), np.zeros(len(x))
        sims, ys = self.memory.nearest(embeddings, self.success.settings.k)
        est = self.success.estimate(x, sims, ys)
        tiers = self.success.settings.tiers
        prior = [{t: float(p) for t, p in zip(tiers, row)} for row in est.probs]
        return [p if ok else None for p, ok in zip(prior, est.supported)], prior, est.support

    def _domains(self, head_probs: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
        if not self.custom_domains:
            return head_probs
        ex = self.exemplars.score(embeddings)
        cols = [ex.domain_labels.index(d) for d in self.custom_domains]
        custom = ex.domain_probs[:, cols]
        rest = np.clip(1.0 - custom.sum(axis=1, keepdims=True), 0.0, 1.0)
        return np.concatenate([head_probs * rest, custom], axis=1)
