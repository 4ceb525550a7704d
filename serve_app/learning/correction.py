"""The online correction (pure): the outcomes of the nearest past requests move
the model's per-tier success estimate.

For each tier t, a Beta prior centred on the model's estimate p_t with
`strength` pseudo-observations, updated with every neighbour routed to t
that has an outcome y_i, weighted by its similarity w_i (>= the similarity
floor):

    p'_t = (strength * p_t + sum_i w_i y_i) / (strength + sum_i w_i)

The live evidence per tier is capped at `max_evidence` (weights scaled down
together), so no neighbourhood can move an estimate further than that many
outcomes would: bounded, and dominated by data only where data is dense.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

# (similarity, tier the neighbour went to, its outcome 0..1)
Neighbour = tuple[float, str, float]


def correct(estimate: Mapping[str, float], neighbours: Iterable[Neighbour], similarity: float, strength: float,
            max_evidence: float) -> tuple[dict[str, float], dict[str, float]]:
    """(corrected estimate, live evidence weight per tier)."""
    weight: dict[str, float] = {}
    hits: dict[str, float] = {}
    for sim, tier, outcome in neighbours:
        if sim < similarity or tier not in estimate:
            continue
        weight[tier] = weight.get(tier, 0.0) + sim
        hits[tier] = hits.get(tier, 0.0) + sim * outcome
    out = dict(estimate)
    for tier, w in weight.items():
        scale = min(1.0, max_evidence / w)
        w, h = w * scale, hits[tier] * scale
        out[tier] = (strength * estimate[tier] + h) / (strength + w)
        weight[tier] = w
    return out, weight
