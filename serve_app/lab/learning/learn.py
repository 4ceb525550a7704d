"""From outcome logs to a promoted (or refused) version, per scope.

A candidate is fitted on the older outcomes of its scope and judged against
the version in force on two things it never saw:
- recent outcomes: the newest RECENT_SHARE of the scope's outcomes; the
  candidate must predict them better (lower log loss);
- a fixed evaluation set: prompts with known outcomes per tier (the
  routing tuning split, `triage data routing`); the candidate may lose at
  most FIXED_TOLERANCE of log loss there. That bounds what any stream of
  outcomes, honest or not, can do to routing in general.
Anything else is refused, and the version in force stays.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from serve_app.config.schema import ClassifierConfig
from serve_app.lab.learning.fit import Outcomes, fit, log_loss
from serve_app.learning.adjust import ALL
from serve_app.learning.records import vector_from_log

RECENT_SHARE = 0.2
FIXED_TOLERANCE = 0.02  # relative
MIN_OUTCOMES = 100


@dataclass
class Proposal:
    scope: str
    promoted: bool
    reason: str
    adjustment: dict | None = None
    report: dict = field(default_factory=dict)


def read_logs(paths: list[Path]) -> Outcomes:
    """Every rated record with an embedding and a model estimate; a request
    rated twice counts once, with its latest outcome."""
    latest: dict[tuple[str, str], dict] = {}
    for path in paths:
        with path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    r = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a crash
                if r.get("outcome") is None or r.get("base") is None or r.get("vector_f16") is None:
                    continue
                key = (r["tenant"], r["request_id"])
                if key not in latest or r["at"] >= latest[key]["at"]:
                    latest[key] = r
    rows = sorted(latest.values(), key=lambda r: r["at"])
    if not rows:
        return Outcomes(np.array([]), np.array([]), np.zeros((0, 0), np.float32), np.array([]), np.array([]),
                        np.array([]))
    return Outcomes(np.array([r["tenant"] for r in rows]), np.array([r["tier"] for r in rows]),
                    np.stack([vector_from_log(r) for r in rows]), np.array([r["base"] for r in rows], float),
                    np.array([r["outcome"] for r in rows], float), np.array([r["at"] for r in rows], float))


@dataclass
class FixedSet:
    """Prompts with known outcomes per tier, as (tier, embedding, model estimate, outcome) rows."""

    tier: np.ndarray
    vector: np.ndarray
    base: np.ndarray
    outcome: np.ndarray

    def loss(self, adjustment: dict | None) -> float:
        return log_loss(adjustment, self.tier, self.vector, self.base, self.outcome)


def fixed_set(path: Path, cache_dir: Path, cfg: ClassifierConfig | None = None, progress=None) -> FixedSet:
    from serve_app.lab.learning.data import deployments, signals_for

    deps = deployments(path)
    sig = signals_for([p for d in deps for p in d.prompts], cache_dir, cfg, progress)
    tier, vec, base, out = [], [], [], []
    for d in deps:
        for i, p in enumerate(d.prompts):
            s = sig[p]
            for t, y in ((d.weak_tier, d.weak[i]), (d.strong_tier, d.strong[i])):
                tier.append(t)
                vec.append(s.embedding)
                base.append(s.success_prior[t])
                out.append(y)
    return FixedSet(np.array(tier), np.asarray(vec, np.float32), np.array(base), np.array(out, float))


def propose(data: Outcomes, scope: str, current: dict | None, version: int, fixed: FixedSet) -> Proposal:
    """`data`: the scope's outcomes (a tenant's, or everyone's for "*")."""
    if len(data) < MIN_OUTCOMES:
        return Proposal(scope, False, f"{len(data)} outcomes; at least {MIN_OUTCOMES} are needed",
                        report={"outcomes": len(data)})
    older, recent = data.split_recent(RECENT_SHARE)
    candidate = fit(older, version)
    if not candidate["tiers"]:
        return Proposal(scope, False, "no tier has enough outcomes to fit", report={"outcomes": len(data)})
    r = {name: log_loss(a, recent.tier, recent.vector, recent.base, recent.outcome)
         for name, a in (("current", current), ("candidate", candidate))}
    f = {"current": fixed.loss(current), "candidate": fixed.loss(candidate)}
    report = {"outcomes": len(data), "fitted_on": len(older), "recent": len(recent),
              "tiers": {t: int((older.tier == t).sum()) for t in candidate["tiers"]},
              "recent_log_loss": _round(r), "fixed_log_loss": _round(f),
              "current_version": (current or {}).get("version", 0)}
    if r["candidate"] >= r["current"]:
        return Proposal(scope, False, f"no better on recent outcomes (log loss {r['candidate']:.4f} vs "
                                      f"{r['current']:.4f})", candidate, report)
    if f["candidate"] > f["current"] * (1 + FIXED_TOLERANCE):
        return Proposal(scope, False, f"worse on the fixed evaluation set (log loss {f['candidate']:.4f} vs "
                                      f"{f['current']:.4f}, tolerance {FIXED_TOLERANCE:.0%})", candidate, report)
    return Proposal(scope, True, f"better on recent outcomes ({r['candidate']:.4f} vs {r['current']:.4f}), "
                                 f"fixed set {f['candidate']:.4f} vs {f['current']:.4f}", candidate, report)


def scopes(data: Outcomes, scope: str) -> dict[str, Outcomes]:
    """learning.scope "tenant": one version per tenant from its own outcomes; "shared": one for all."""
    if scope == "shared":
        return {ALL: data}
    return {t: data.take(data.tenant == t) for t in sorted(set(data.tenant.tolist()))}


def _round(d: dict) -> dict:
    return {k: round(v, 5) for k, v in d.items()}
