"""Weak/strong pair evaluation and the quality-target decision.

Pair protocol: routing score = predicted P(the weak model's tier succeeds);
the lowest-scored share goes to the strong model; the share is swept
(routing_eval.curve). A pair is `seen` when both models' outcomes entered
the training targets, `unseen` when neither did (eval_only in tiers.py);
`weak-unseen` pairs have an unseen weak model (the one whose success is
predicted) and a seen strong one.

Decision: for a quality target t, each prompt goes to the cheapest tier
whose predicted success reaches t (tiers without a model on that source are
not offered; none reaching t -> the tier with the highest prediction).
Realised quality is the chosen tier's success over all its models.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from serve_app.lab.outcomes import tiers
from serve_app.lab.training import routing_eval


@dataclass(frozen=True)
class Pair:
    source: str
    weak: str
    strong: str

    @property
    def weak_tier(self) -> str:
        # An untiered weak model (ChatQA) is scored with the slm estimate.
        return tiers.tier_of(self.source, self.weak) or "slm"

    @property
    def kind(self) -> str:
        info = tiers.SOURCES[self.source]
        w, s = info[self.weak].eval_only or info[self.weak].tier is None, \
            info[self.strong].eval_only or info[self.strong].tier is None
        return "unseen" if w and s else ("weak-unseen" if w else ("strong-unseen" if s else "seen"))

    @property
    def name(self) -> str:
        return f"{self.weak} -> {self.strong}"


PAIRS = [
    Pair("mmlu_pro", "Meta-Llama-3-8B", "Meta-Llama-3-70B"),
    Pair("mmlu_pro", "Mistral-7B-v0.1", "Mixtral-8x7B-v0.1"),
    Pair("mmlu_pro", "gemma-7b", "gemini-1.5-pro-002"),
    Pair("mmlu_pro", "mathstral-7B", "gemini-1.5-pro-002"),
    Pair("mmlu_pro", "Meta-Llama-3_1-8B-Instruct", "Meta-Llama-3_1-70B-Instruct"),
    Pair("mmlu_pro", "Qwen1.5-7B-Chat", "Qwen1.5-72B-Chat"),
    Pair("mmlu_pro", "Mistral-7B-Instruct-v0.2", "Meta-Llama-3_1-70B-Instruct"),
    Pair("mmlu_pro", "Meta-Llama-3_1-8B-Instruct", "gemini-1.5-pro-002"),
    Pair("routing_outcomes", "mistral-7b-instruct-v0.3", "llama-3.1-nemotron-51b-instruct"),
    Pair("routing_outcomes", "gemma-2-9b-it", "llama-3.1-nemotron-51b-instruct"),
    Pair("routing_outcomes", "qwen2.5-7b-instruct", "llama-3.1-nemotron-51b-instruct"),
    Pair("routing_outcomes", "llama-3.1-8b-instruct", "llama-3.1-nemotron-51b-instruct"),
    Pair("routing_outcomes", "codegemma-7b", "llama-3.3-nemotron-super-49b-v1"),
    Pair("routing_outcomes", "llama-3.1-8b-instruct", "llama-3.3-nemotron-super-49b-v1"),
    Pair("routing_outcomes", "llama3-chatqa-1.5-8b", "llama3-chatqa-1.5-70b"),
    Pair("alpaca_eval", "vicuna-7b", "claude-2"),
    Pair("alpaca_eval", "gemma-7b-it", "gpt-3.5-turbo-0301"),
    Pair("alpaca_eval", "vicuna-13b-v1.5", "claude-2.1"),
    Pair("alpaca_eval", "vicuna-13b-v1.5", "gpt-3.5-turbo-1106"),
]

# An eval unit needs this many rows with both models scored, and a strong
# model that is actually better (else "share for x% of strong" is 0 for all).
MIN_ROWS = 40


def pair_outcomes(rows: list[dict], pair: Pair) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(row indices, weak 0/1, strong 0/1) over rows of the pair's source where both scored."""
    idx, w, s = [], [], []
    for i, r in enumerate(rows):
        if r["source"] != pair.source:
            continue
        a, b = r["scores"].get(pair.weak), r["scores"].get(pair.strong)
        if a is None or b is None:
            continue
        idx.append(i)
        w.append(a)
        s.append(b)
    return np.array(idx, int), np.array(w, float), np.array(s, float)


def evaluate_pair(rows: list[dict], pair: Pair, routers: dict[str, np.ndarray], boot: int = 0,
                  seed: int = 0) -> dict | None:
    """APGR and strong shares for every router, plus random and oracle.

    `routers[name]` is a per-row score where HIGHER = more likely the weak
    tier succeeds, so those rows go strong last. With `boot`, a bootstrap
    standard error of each router's APGR (rows resampled) is added.
    """
    idx, weak, strong = pair_outcomes(rows, pair)
    if len(idx) < MIN_ROWS:
        return None
    scores = {name: -np.asarray(s, float)[idx] for name, s in routers.items()}  # difficulty: high goes strong
    summ = routing_eval.summarize_many(scores, weak, strong)
    out = {"pair": pair.name, "source": pair.source, "kind": pair.kind, "weak_tier": pair.weak_tier,
           "n": summ["n"], "weak_accuracy": summ["weak_accuracy"], "strong_accuracy": summ["strong_accuracy"],
           "gap": summ["strong_accuracy"] - summ["weak_accuracy"],
           "routers": {k: {"apgr": round(v["apgr"], 4), "share_for_accuracy": v["strong_share_for_accuracy"]}
                       for k, v in summ["routers"].items()},
           "curves": {k: v["curve"] for k, v in summ["routers"].items()}}
    if boot:
        rng = np.random.default_rng(seed)
        draws = {k: [] for k in scores}
        for _ in range(boot):
            b = rng.integers(0, len(idx), len(idx))
            wa, sa = weak[b].mean(), strong[b].mean()
            if sa - wa <= 0:
                continue
            for k, s in scores.items():
                sh, acc = routing_eval.curve(s[b], weak[b], strong[b])
                draws[k].append(routing_eval.apgr(sh, acc, wa, sa))
        for k, d in draws.items():
            out["routers"][k]["apgr_se"] = round(float(np.std(d)), 4) if d else None
    return out


def decide(pred: np.ndarray, target: float, available: np.ndarray, slack: float = 0.0) -> np.ndarray:
    """Index of the cheapest available tier with pred >= target.

    pred [n, 4] in tiers.TIERS order (cheapest first); available [n, 4] bool.
    When no tier reaches the target: the cheapest tier whose prediction is at
    least (1 - slack) x the best prediction (slack 0: the best-predicted tier).
    """
    ok = (pred >= target) & available
    masked = np.where(available, pred, -np.inf)
    near_best = masked >= masked.max(1, keepdims=True) * (1 - slack)
    return np.where(ok.any(1), ok.argmax(1), near_best.argmax(1))


def nearest_available(choice: np.ndarray, available: np.ndarray) -> np.ndarray:
    """A tier the source has no model for becomes the next stronger one it has (else the next weaker)."""
    out = choice.copy()
    for i, c in enumerate(choice):
        if not available[i, c]:
            up = [t for t in range(c + 1, available.shape[1]) if available[i, t]]
            down = [t for t in range(c - 1, -1, -1) if available[i, t]]
            out[i] = (up or down)[0]
    return out


def realise(choice: np.ndarray, truth: np.ndarray) -> dict:
    """Realised quality (the chosen tier's success over all its models), cost and tier mix."""
    cost = np.array([tiers.TIER_COST[t] for t in tiers.TIERS])
    q = truth[np.arange(len(choice)), choice]
    return {"quality": float(np.mean(q)), "cost": float(cost[choice].mean()),
            "mix": {t: round(float(np.mean(choice == i)), 4) for i, t in enumerate(tiers.TIERS)}}


def references(truth: np.ndarray) -> dict:
    """Single-tier policies: each tier alone (rows whose source lacks it get the nearest
    tier it has), and `always_top`: the most capable tier each row's source has."""
    available = ~np.isnan(truth)
    n = len(truth)
    out = {f"always_{t}": realise(nearest_available(np.full(n, i), available), truth)
           for i, t in enumerate(tiers.TIERS) if available[:, i].any()}
    top = np.array([max(np.nonzero(a)[0]) for a in available])
    out["always_top"] = realise(top, truth)
    return out


def decision_curve(pred: np.ndarray, truth: np.ndarray, targets=None, slack: float = 0.0) -> dict:
    """Realised quality and cost for each quality target, relative to always_top."""
    targets = np.round(np.linspace(0, 1, 101), 3) if targets is None else targets
    available = ~np.isnan(truth)
    ref = references(truth)["always_top"]
    curve = []
    for t in targets:
        r = realise(decide(pred, t, available, slack), truth)
        curve.append({"target": float(t), **r, "relative_quality": r["quality"] / ref["quality"],
                      "relative_cost": r["cost"] / ref["cost"]})
    return {"always_top": ref, "curve": curve}


def oracle_choice(truth: np.ndarray, target: float) -> np.ndarray:
    """Cheapest tier whose true success reaches the target (else the best one): the decision's upper bound."""
    return decide(np.nan_to_num(truth, nan=-1.0), target, ~np.isnan(truth))
