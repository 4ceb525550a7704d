"""The pure half of `triage bench meta-router`: sampling, routing one prompt
with and without the meta-router, the oracle's answer rule, aggregation and
the choice of margins. No model is loaded here.

Routing goes through the production code: policy.decide.decide for the
choice, serve_app.meta_router.MetaRouter for the questions and for reading
the answers (parse, agreed/changed/unparsable), and decide again with the
answer when it changed the choice, as RouterService._consult does. The
answers come from a ReplayCaller: recorded SmolLM2 answers, or the oracle's.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from typing import Callable, Iterable, Mapping

from serve_app.config.judgement import MetaRouterConfig
from serve_app.config.schema import TIERS, RouterConfig
from serve_app.meta_router import MetaRouter
from serve_app.policy import meta
from serve_app.policy.decide import decide
from serve_app.policy.signals import RequestFacts, Signals

META_MODEL = "meta-router"  # the configured name of the meta-router model in the bench config
OUTCOMES = ("agreed", "changed", "unparsable", "timeout", "error")
UNPARSABLE = "?"  # what the oracle says when the true label is not offered (parse() -> None)


# ------------------------------------------------------------------ config


def bench_config(tier_margin: float, domain_margin: float, timeout_s: float = 1.0,
                 max_tokens: int | None = None) -> RouterConfig:
    """The shipped policy (every default) over one local dry_run model per
    tier, with the meta-router on at these margins. Local models only, so no
    privacy filter or cloud rule interferes with the choice."""
    models = [{"name": f"bench-{t}", "tiers": [t], "engine": {"type": "dry_run"}} for t in TIERS]
    models.append({"name": META_MODEL, "tiers": ["slm"], "engine": {"type": "dry_run"}})
    meta_cfg = {"enabled": True, "model": META_MODEL, "tier_margin": tier_margin,
                "domain_margin": domain_margin, "timeout_s": timeout_s}
    if max_tokens is not None:
        meta_cfg["max_tokens"] = max_tokens
    return RouterConfig.model_validate({"models": models, "policy": {"meta_router": meta_cfg}})


def ask_body(text: str, q: meta.Question, settings: MetaRouterConfig) -> dict:
    """The body MetaRouter._ask sends to the model for one question."""
    return {"model": settings.model, "messages": meta.prompt(text, q, settings),
            "max_tokens": settings.max_tokens, "temperature": 0.0}


def body_key(body: dict) -> str:
    """What makes two calls the same call: messages, max_tokens, temperature
    (not the configured model name)."""
    what = {k: body.get(k) for k in ("messages", "max_tokens", "temperature")}
    return hashlib.sha1(json.dumps(what, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# ------------------------------------------------------------------ answers


def oracle_answer(q: meta.Question, truth: str | None) -> str:
    """A perfect meta-router within the offered options: the true label when
    it is among them, else an answer that parses to nothing (the
    classifier's choice stands)."""
    return truth if truth is not None and truth in q.options else UNPARSABLE


def constant_answer(q: meta.Question, tier: str) -> str:
    """A label-blind stand-in: always `tier` (the tuning split's most common
    tier label) when it is offered, no answer otherwise and on domains. A
    meta-router that does not beat it has learnt the label mix, not the request."""
    return oracle_answer(q, tier) if q.kind == "tier" else UNPARSABLE


class ReplayCaller:
    """A ModelCaller answering from a table body_key -> text (set per prompt)."""

    def __init__(self):
        self.answers: dict[str, str] = {}

    async def unary(self, kind: str, request: dict, ctx) -> dict:
        # A body the bench did not foresee raises KeyError: consult() reports
        # "error", which aggregate() refuses (the bench and _ask disagree).
        return {"choices": [{"message": {"role": "assistant", "content": self.answers[body_key(request)]}}]}

    def stream(self, kind: str, request: dict, ctx):
        raise NotImplementedError("the meta-router only makes unary calls")


# ------------------------------------------------------------------ routing


@dataclass(frozen=True)
class Routed:
    """One prompt routed once: the truth, the choice without the
    meta-router, and the choice with it (same as base when not consulted)."""

    source: str
    tier_true: str | None
    domain_true: str | None
    base_tier: str
    base_domain: str
    tier: str
    domain: str
    asked: tuple[str, ...] = ()  # question kinds asked ("tier", "domain"); () = not consulted
    outcome: str | None = None  # agreed | changed | unparsable | timeout | error
    ms: float | None = None  # wall time of the model calls (sum: one model answers one at a time)


class Replayer:
    """Routes prompts under one RouterConfig, with answers from `answer`
    (question, text, row) -> (raw answer, ms or None)."""

    def __init__(self, cfg: RouterConfig):
        self.cfg = cfg
        self.caller = ReplayCaller()
        self.router = MetaRouter(cfg, {META_MODEL: self.caller})

    def questions(self, text: str, signals: Signals) -> list[meta.Question]:
        facts = RequestFacts()
        return self.router.questions(signals, decide(signals, facts, self.cfg), facts)

    async def route(self, text: str, signals: Signals, row: Mapping,
                    answer: Callable[[meta.Question, str, Mapping], tuple[str, float | None]] | None,
                    timeout_s: float | None) -> Routed:
        """As RouterService._consult: decide; ask where the scores left the
        choice open; on a changed answer decide again with it. `answer` None:
        the meta-router is off. `timeout_s` None: no time limit."""
        facts = RequestFacts()
        base = decide(signals, facts, self.cfg)
        common = dict(source=row.get("source") or "?", tier_true=row.get("tier"), domain_true=row.get("domain"),
                      base_tier=base.tier, base_domain=base.domain)
        qs = self.router.questions(signals, base, facts) if answer is not None else []
        if not qs:
            return Routed(**common, tier=base.tier, domain=base.domain)
        asked = tuple(q.kind for q in qs)
        replies = [answer(q, text, row) for q in qs]
        timed = [ms for _, ms in replies if ms is not None]
        ms = sum(timed) if timed else None
        if ms is not None and timeout_s is not None and ms > timeout_s * 1000:
            return Routed(**common, tier=base.tier, domain=base.domain, asked=asked, outcome="timeout", ms=ms)
        self.caller.answers = {body_key(ask_body(text, q, self.router.settings)): raw
                               for q, (raw, _) in zip(qs, replies)}
        report = await self.router.consult(text, qs, base, row.get("id") or "bench")
        decision = base
        if report.outcome == "changed":
            chosen = replace(facts, meta_tier=report.chosen.get("tier"), meta_domain=report.chosen.get("domain"))
            decision = decide(signals, chosen, self.cfg)
        return Routed(**common, tier=decision.tier, domain=decision.domain, asked=asked,
                      outcome=report.outcome, ms=ms)


# ------------------------------------------------------------------ numbers


def stratified_sample(rows: list[dict], n: int | None, seed: int = 0, key: str = "source") -> list[dict]:
    """Up to `n` rows, as evenly spread over `key` as the groups allow (a
    small group gives all it has, the rest share its unused quota), each
    group drawn with a fixed seed; in the file's order. n None: every row."""
    if n is None or n >= len(rows):
        return list(rows)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        groups[str(r.get(key))].append(i)
    quota: dict[str, int] = {}
    left = n
    for k, g in enumerate(sorted(groups, key=lambda g: (len(groups[g]), g))):
        quota[g] = min(len(groups[g]), left // (len(groups) - k))
        left -= quota[g]
    rng = random.Random(seed)
    picked = sorted(i for g in sorted(groups) for i in rng.sample(groups[g], quota[g]))
    return [rows[i] for i in picked]


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (numpy's default), None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _accuracy(pairs: Iterable[tuple[str | None, str]]) -> dict:
    scored = [(t, p) for t, p in pairs if t is not None]
    right = sum(t == p for t, p in scored)
    return {"n": len(scored), "correct": right, "accuracy": round(right / len(scored), 4) if scored else None}


def aggregate(routed: list[Routed], base: bool = False) -> dict:
    """Accuracy of the routed tier and domain against the labels (each over
    the rows labelled for it), the share consulted, outcome counts and the
    consulted prompts' model-call latency. base: score the choice without
    the meta-router instead."""
    if any(r.outcome == "error" for r in routed):
        raise RuntimeError("the meta-router replay failed on some prompts: the bench's request body "
                           "differs from MetaRouter._ask's")
    tier = _accuracy((r.tier_true, r.base_tier if base else r.tier) for r in routed)
    domain = _accuracy((r.domain_true, r.base_domain if base else r.domain) for r in routed)
    if base:
        return {"n": len(routed), "tier": tier, "domain": domain}
    consulted = [r for r in routed if r.asked]
    outcomes = Counter(r.outcome for r in consulted)
    ms = [r.ms for r in consulted if r.ms is not None]
    return {
        "n": len(routed), "tier": tier, "domain": domain,
        "consulted": len(consulted), "consulted_share": round(len(consulted) / len(routed), 4) if routed else 0.0,
        "asked": {k: sum(k in r.asked for r in consulted) for k in ("tier", "domain")},
        "outcomes": {k: outcomes.get(k, 0) for k in OUTCOMES if k != "error"},
        "latency_ms": ({"n": len(ms), "p50": round(percentile(ms, 50), 1), "p99": round(percentile(ms, 99), 1),
                        "mean": round(sum(ms) / len(ms), 1)} if ms else None),
    }


def by_source(routed: list[Routed], base: bool = False) -> dict[str, dict]:
    groups: dict[str, list[Routed]] = defaultdict(list)
    for r in routed:
        groups[r.source].append(r)
    return {s: aggregate(rs, base) for s, rs in sorted(groups.items())}


def gain(result: dict, baseline: dict, heads: tuple[str, ...]) -> int:
    """Prompts routed right with the meta-router minus without, summed over heads."""
    return sum(result[h]["correct"] - baseline[h]["correct"] for h in heads)


def choose(grid: Mapping[float, dict], baseline: dict, heads: tuple[str, ...]) -> tuple[float, str]:
    """The margin with the largest accuracy gain over `heads` (ties: the
    smaller margin, fewer calls); with no gain anywhere, the smallest margin.
    Returns (margin, why)."""
    margins = sorted(grid)
    gains = {m: gain(grid[m], baseline, heads) for m in margins}
    best = max(margins, key=lambda m: (gains[m], -m))
    what = "+".join(heads)
    shown = ", ".join(f"{m:g}: {gains[m]:+d}" for m in margins)
    if gains[best] <= 0:
        return margins[0], f"no margin improved {what} accuracy (gain in prompts {shown}): the smallest"
    return best, f"largest {what} accuracy gain (gain in prompts {shown})"
