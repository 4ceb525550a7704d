"""`triage bench cache-quality`: how often the semantic cache hits, and how often wrongly.

A pair {"a", "b", "label"} stands for: `a` is in the cache, `b` arrives. A hit
is similarity >= threshold (and, for Triage, every enabled guard passing).
Both texts are embedded as production embeds them for the cache
(Signals.cache_embedding): the conversation in the cache's form
(cache.keys.cache_view: "user: <normalised text>"), by the encoder the
classifier serves (the router config's model, backend and token budget:
the fine-tuned int8 encoder by default); the guards see the normalised
conversation, as in serving.

Reported, from one pair file:
- hit rate: hits on "same" pairs / "same" pairs;
- wrong-hit share: hits on "different" pairs / all hits, over the file's mix.
  The default file has exactly as many "different" pairs as "same" ones, so
  this is the share at a 1:1 mix of near-misses and paraphrases; real
  traffic has fewer near-misses, so the share there is lower;
- false-hit rate: hits on "different" pairs / "different" pairs;
- a threshold sweep (0.80..0.99) for plain cosine and for cosine + guards,
  the configured point, each guard's ablation, per-kind results, and the
  best threshold meeting the target (wrong hits <= 1% of hits, hit rate >= 60%).

Without --pairs the file is built from the shared QQP paraphrases: the
"eval" half of the group split in serve_app/lab/bench/cache_pairs.py (the guards and
their constants were tuned on the "tune" half only; --split tune reproduces
that), plus as many generated "different" pairs, written next to --out.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import random
import sys
import time
from pathlib import Path

import numpy as np

from serve_app.cache.guards import GUARD_ORDER, rejections
from serve_app.cache.keys import cache_view, normalise_conversation
from serve_app.lab.bench import cache_pairs as pairfiles
from serve_app.lab.paths import datasets_root

# Under the datasets root (--datasets, $TRIAGE_DATASETS or ../shared/datasets).
PAIRS_FILE = "cache_pairs/qqp_pairs_dev.jsonl"
NEGATIVE_FILES = ("nq_open/NQ-open.dev.jsonl", "nq_open/NQ-open.efficientqa.dev.1.1.jsonl")
THRESHOLDS = [(80 + i) / 100 for i in range(20)]  # 0.80 .. 0.99
TARGET = {"max_wrong_share": 0.01, "min_hit_rate": 0.60}
BATCH = 64


def run(pairs: str | None = None, out: str = "loadtest/results/cache_quality.json", limit: int | None = None,
        split: str = "eval", seed: int = 0, source: str | None = None, config: str | None = None,
        datasets: str | None = None) -> int:
    started = time.perf_counter()
    out_path = Path(out)
    router_cfg = _router_config(config)
    cache_cfg = router_cfg.cache
    embed = _Embedder(router_cfg.classifier)
    if pairs:
        rows = pairfiles.load_pairs(pairs)
        if limit and limit < len(rows):
            rows = random.Random(seed).sample(rows, limit)
        pair_source = pairs
    else:
        rows, pair_source = _default_pairs(embed, out_path, limit, split, seed, source, datasets_root(datasets))
    result = evaluate(rows, embed, cache_cfg)
    result.update({
        "command": " ".join(["triage", *sys.argv[1:]]) if sys.argv[1:3] == ["bench", "cache-quality"] else None,
        "pairs_file": str(pair_source),
        "split": None if pairs else split,
        "seed": seed,
        "machine": {"python": platform.python_version(), "cores": _cores()},
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - started, 1),
    })
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n")
    png = out_path.with_suffix(".png")
    plot(result, png)
    print(table(result))
    print(f"\nwrote {out_path} and {png}")
    return 0


def evaluate(rows: list[dict], embed, cache_cfg) -> dict:
    """Every number of the report, from pairs and an embedding function."""
    texts = [(_as_cached(r["a"]), _as_cached(r["b"])) for r in rows]
    vectors = embed.for_cache([t for r in rows for t in (r["a"], r["b"])])
    cos = np.einsum("ij,ij->i", vectors[0::2], vectors[1::2])
    t0 = time.perf_counter()
    rejected = [set(rejections(b, a)) for a, b in texts]
    guard_us = (time.perf_counter() - t0) / max(len(rows), 1) * 1e6
    same = np.array([r["label"] == "same" for r in rows])
    kinds = [r.get("kind") or r["label"] for r in rows]
    enabled = tuple(g for g in GUARD_ORDER if getattr(cache_cfg.guards, g))

    def passes(guards: tuple[str, ...]) -> np.ndarray:
        return np.array([not (rej & set(guards)) for rej in rejected])

    sweep = {"plain": [_point(cos, same, t, None) for t in THRESHOLDS],
             "guarded": [_point(cos, same, t, passes(enabled)) for t in THRESHOLDS]}
    best = {name: _best(points) for name, points in sweep.items()}
    # The rule the default threshold is chosen by (on the tune half): the
    # lowest threshold whose guarded wrong-hit share stays within the target.
    within = [p for p in sweep["guarded"] if p["wrong_share"] <= TARGET["max_wrong_share"]]
    lowest_within = min(within, key=lambda p: p["threshold"]) if within else None
    at = [cache_cfg.threshold] + ([best["guarded"]["threshold"]] if best["guarded"] else [])
    variants = {"plain": ()} | {"all guards": enabled} \
        | {f"without {g}": tuple(x for x in enabled if x != g) for g in enabled} \
        | {f"only {g}": (g,) for g in enabled}
    ablation = {f"{t:.2f}": {name: _point(cos, same, t, passes(gs)) for name, gs in variants.items()}
                for t in dict.fromkeys(at)}
    return {
        "settings": {"threshold": cache_cfg.threshold, "guards": list(enabled),
                     "encoder": getattr(embed, "describe", None),
                     "text": "normalise_conversation([{'role': 'user', 'content': text}])"},
        "mix": {"same": int(same.sum()), "different": int((~same).sum()),
                "definition": "wrong-hit share = hits on different pairs / all hits, over the file's pairs "
                              "as given (the default file is 1 different : 1 same)"},
        "target": TARGET,
        "configured": _point(cos, same, cache_cfg.threshold, passes(enabled)),
        "configured_plain": _point(cos, same, cache_cfg.threshold, None),
        "sweep": sweep,
        "best": best,
        "lowest_within_wrong_target": lowest_within,
        "target_met": best["guarded"] is not None,
        "ablation": ablation,
        "by_kind": _by_kind(kinds, cos, rejected, enabled, cache_cfg.threshold),
        "guard_cost_us_per_pair": round(guard_us, 1),
        "similarity": {"same_mean": _mean(cos[same]), "different_mean": _mean(cos[~same])},
    }


def _point(cos: np.ndarray, same: np.ndarray, threshold: float, passed: np.ndarray | None) -> dict:
    hit = cos >= threshold
    if passed is not None:
        hit &= passed
    hits_same, hits_diff = int((hit & same).sum()), int((hit & ~same).sum())
    hits = hits_same + hits_diff
    return {"threshold": threshold, "hits_same": hits_same, "hits_different": hits_diff,
            "hit_rate": round(hits_same / max(int(same.sum()), 1), 4),
            "wrong_share": round(hits_diff / hits, 4) if hits else 0.0,
            "false_hit_rate": round(hits_diff / max(int((~same).sum()), 1), 4)}


def _best(points: list[dict]) -> dict | None:
    ok = [p for p in points if p["wrong_share"] <= TARGET["max_wrong_share"]
          and p["hit_rate"] >= TARGET["min_hit_rate"]]
    return max(ok, key=lambda p: p["hit_rate"]) if ok else None


def _by_kind(kinds, cos, rejected, enabled, threshold) -> dict:
    """Per kind, at the configured threshold: pairs, plain hits, guarded hits,
    and which guard (first in order) stopped the rest."""
    out: dict[str, dict] = {}
    for kind, score, rej in zip(kinds, cos, rejected):
        row = out.setdefault(kind, {"pairs": 0, "plain_hits": 0, "guarded_hits": 0,
                                    "stopped_by": dict.fromkeys(enabled, 0)})
        row["pairs"] += 1
        if score < threshold:
            continue
        row["plain_hits"] += 1
        first = next((g for g in enabled if g in rej), None)
        if first:
            row["stopped_by"][first] += 1
        else:
            row["guarded_hits"] += 1
    return out


# ------------------------------------------------------------------ inputs


class _Embedder:
    """Encodes each distinct text once, in batches, printing progress."""

    def __init__(self, clf):
        """`clf`: the classifier config whose embedding the cache serves."""
        from serve_app.classifier.encoder import classifier_space, make_encoder, serving_encoder

        path = serving_encoder(clf)
        self._encoder = make_encoder(clf.backend, path, clf.max_tokens, clf.torch_threads)
        self.describe = {"model": clf.model, "encoder": Path(path).name if path else "packaged all-MiniLM-L6-v2",
                         "backend": clf.backend, "max_tokens": clf.max_tokens, "space": classifier_space(clf).id}
        self._memo: dict[str, np.ndarray] = {}

    def for_cache(self, questions: list[str]) -> np.ndarray:
        """What serving embeds for the cache (Signals.cache_embedding) when
        each question arrives as a one-turn chat: the conversation in the
        cache's form, from the text the classifier classifies."""
        return self([cache_view(_classified(q)) for q in questions])

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self._memo))
        started, step = time.perf_counter(), max(len(todo) // 10, BATCH)
        for i in range(0, len(todo), BATCH):
            chunk = todo[i:i + BATCH]
            for text, vec in zip(chunk, self._encoder.encode(chunk).embeddings):
                self._memo[text] = vec
            done = i + len(chunk)
            if done % step < BATCH or done == len(todo):
                rate = done / max(time.perf_counter() - started, 1e-9)
                print(f"  embedded {done}/{len(todo)} texts ({rate:.0f}/s)", flush=True)
        return np.stack([self._memo[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)


def _default_pairs(embed, out_path: Path, limit, split, seed, source, root: Path) -> tuple[list[dict], Path]:
    src = Path(source) if source else root / PAIRS_FILE
    tune, held = pairfiles.split_pairs(pairfiles.load_pairs(src))
    same = held if split == "eval" else tune
    if limit and limit // 2 < len(same):
        same = random.Random(seed).sample(same, limit // 2)
    print(f"{split} split: {len(same)} same pairs from {src}", flush=True)
    rows = [dict(p, label="same", kind="same") for p in same]
    rows += pairfiles.different_pairs(same, seed=seed, hard=_hard_negatives(embed, same, split, root))
    path = out_path.with_name(f"{out_path.stem}_{split}_pairs.jsonl")
    pairfiles.write_pairs(path, rows)
    return rows, path


def _hard_negatives(embed, same: list[dict], split: str, root: Path):
    """NQ-open questions next to each other whose answers differ (labels the
    data vouches for); QQP's cross-group neighbours only where NQ is absent."""
    files = [root / name for name in NEGATIVE_FILES if (root / name).exists()]
    if files:
        items = [row for f in files for row in pairfiles.load_pairs(f)]
        tune, held = pairfiles.split_items(items, "question")
        items = held if split == "eval" else tune
        print(f"{split} split: {len(items)} NQ-open questions for answer-verified negatives", flush=True)
        vectors = embed.for_cache([it["question"] for it in items])
        return lambda count, rng: pairfiles.answer_verified_negatives(items, vectors, count, rng)
    vectors = embed.for_cache([t for p in same for t in (p["a"], p["b"])])
    return lambda count, rng: pairfiles.hard_negatives(same, vectors, count, rng)


def _as_cached(text: str) -> str:
    return normalise_conversation([{"role": "user", "content": text}])


def _classified(text: str) -> str:
    """The text the classifier embeds for a one-turn chat (ChatRequest.prompt_text)."""
    from serve_app.protocol import ChatRequest

    return ChatRequest.model_validate({"messages": [{"role": "user", "content": text}]}).prompt_text()


def _router_config(config: str | None):
    """The cache and classifier sections measured (default: their defaults,
    i.e. the shipped model's encoder)."""
    if not config:
        from types import SimpleNamespace

        from serve_app.config.schema import CacheConfig, ClassifierConfig

        return SimpleNamespace(cache=CacheConfig(), classifier=ClassifierConfig())
    from serve_app.config.loader import load_config

    return load_config(config)


def _mean(x: np.ndarray) -> float:
    return round(float(x.mean()), 4) if len(x) else float("nan")


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


# ------------------------------------------------------------------ output


def table(r: dict) -> str:
    m, cfg, c, p = r["mix"], r["settings"], r["configured"], r["configured_plain"]
    lines = [
        f"Semantic cache quality: {m['same']} same + {m['different']} different pairs "
        f"({r['pairs_file']})",
        f"wrong-hit share = different-pair hits / all hits; target <= "
        f"{TARGET['max_wrong_share']:.0%} with hit rate >= {TARGET['min_hit_rate']:.0%}",
        "",
        f"configured (threshold {cfg['threshold']:.2f}, guards {', '.join(cfg['guards']) or 'none'}):",
        f"  {'':<14}{'hit rate':>9}{'wrong share':>13}{'false-hit':>11}{'hits':>7}",
        f"  {'plain cosine':<14}{p['hit_rate']:>9.1%}{p['wrong_share']:>13.2%}{p['false_hit_rate']:>11.2%}"
        f"{p['hits_same'] + p['hits_different']:>7}",
        f"  {'triage':<14}{c['hit_rate']:>9.1%}{c['wrong_share']:>13.2%}{c['false_hit_rate']:>11.2%}"
        f"{c['hits_same'] + c['hits_different']:>7}",
        "",
        f"  {'threshold':<10}{'plain hit':>10}{'plain wrong':>12}{'triage hit':>11}{'triage wrong':>13}",
    ]
    for pl, gd in zip(r["sweep"]["plain"], r["sweep"]["guarded"]):
        mark = " *" if r["best"]["guarded"] and gd["threshold"] == r["best"]["guarded"]["threshold"] else ""
        lines.append(f"  {pl['threshold']:<10.2f}{pl['hit_rate']:>10.1%}{pl['wrong_share']:>12.2%}"
                     f"{gd['hit_rate']:>11.1%}{gd['wrong_share']:>13.2%}{mark}")
    low = r.get("lowest_within_wrong_target")
    if low:
        lines.append(f"lowest threshold with wrong hits <= {TARGET['max_wrong_share']:.0%}: {low['threshold']:.2f} "
                     f"(hit rate {low['hit_rate']:.1%}, wrong share {low['wrong_share']:.2%})")
    for name, b in r["best"].items():
        lines.append(f"target met by {name}: " + (f"yes, at {b['threshold']:.2f} (hit rate {b['hit_rate']:.1%}, "
                                                  f"wrong share {b['wrong_share']:.2%})" if b else "no"))
    for t, variants in r["ablation"].items():
        lines += ["", f"guard ablation at {t}:", f"  {'':<20}{'hit rate':>9}{'wrong share':>13}{'wrong hits':>11}"]
        lines += [f"  {name:<20}{v['hit_rate']:>9.1%}{v['wrong_share']:>13.2%}{v['hits_different']:>11}"
                  for name, v in variants.items()]
    lines += ["", f"by kind at {cfg['threshold']:.2f}: pairs, plain hits, triage hits, stopped by guard",
              f"  {'kind':<12}{'pairs':>6}{'plain':>7}{'triage':>7}  stopped by"]
    for kind, k in r["by_kind"].items():
        stops = ", ".join(f"{g} {n}" for g, n in k["stopped_by"].items() if n)
        lines.append(f"  {kind:<12}{k['pairs']:>6}{k['plain_hits']:>7}{k['guarded_hits']:>7}  {stops}")
    lines += ["", f"guards: {r['guard_cost_us_per_pair']:.0f} us per pair | mean cosine same "
                  f"{r['similarity']['same_mean']:.3f}, different {r['similarity']['different_mean']:.3f} | "
                  f"{r['duration_s']:.0f} s"]
    return "\n".join(lines)


def plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 5))
    for name, label in (("plain", "plain cosine"), ("guarded", "Triage (cosine + guards)")):
        pts = r["sweep"][name]
        xs, ys = [p["hit_rate"] for p in pts], [p["wrong_share"] * 100 for p in pts]
        ax.plot(xs, ys, marker="o", ms=3, label=label)
        for p in pts[::3]:
            ax.annotate(f"{p['threshold']:.2f}", (p["hit_rate"], p["wrong_share"] * 100),
                        fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.axhline(TARGET["max_wrong_share"] * 100, color="grey", ls="--", lw=0.8)
    ax.axvline(TARGET["min_hit_rate"], color="grey", ls="--", lw=0.8)
    ax.set_xlabel("hit rate on same pairs")
    ax.set_ylabel("wrong hits, % of all hits")
    ax.set_title(f"Cache quality by threshold ({r['mix']['same']} same / {r['mix']['different']} different)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--pairs", help="pair file (JSONL a/b/label); default: built from the shared QQP pairs")
    p.add_argument("--out", default="loadtest/results/cache_quality.json")
    p.add_argument("--limit", type=int, help="use at most this many pairs (seeded sample)")
    p.add_argument("--split", choices=["eval", "tune"], default="eval",
                   help="which half of the shared data builds the default file (tuning used 'tune')")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--config", help="router config whose cache and classifier sections to measure (default: the defaults)")
    p.add_argument("--datasets", default=None, help="shared datasets root (default: $TRIAGE_DATASETS or ../shared/datasets)")
    a = p.parse_args(argv)
    return run(pairs=a.pairs, out=a.out, limit=a.limit, split=a.split, seed=a.seed, config=a.config,
               datasets=a.datasets)
