"""The three outcome sources -> rows with per-model "answered well" scores.

Each loader yields `{id, prompt, source, benchmark, category, domain, group,
scores}` where `scores[model]` is in [0, 1] (None: not scored). Per-source
rescaling, so that 1 means "answered well" everywhere:

- mmlu_pro: 5-shot multiple choice correct, 0/1 (as shipped). The prompt is
  the question plus its lettered options, as a user would paste it.
- routing_outcomes: 0/1 as shipped (final answer / unit tests / option /
  binarised F1), except commongen's concept coverage c in [0, 1]:
  answered well = c >= COMMONGEN_WELL (0.7: 27% of the scores; a sentence
  that leaves out 3 of 10 required concepts has not done the task).
- alpaca_eval: the judge's preference p in [1, 2] against GPT-4-turbo;
  answered well = p - 1 >= 0.5, i.e. the judge prefers the model's answer to
  GPT-4-turbo's at least half the time (at least as good as the reference).
"""

from __future__ import annotations

import csv
import json
import string
from collections.abc import Iterator
from pathlib import Path

from serve_app.lab.outcomes import tiers

COMMONGEN_WELL = 0.7
ALPACA_WELL = 0.5

MMLU_DOMAIN = {
    "biology": "science", "chemistry": "science", "physics": "science",
    "business": "financial", "economics": "financial",
    "computer science": "code", "engineering": "engineering", "health": "medical",
    "history": "humanities", "philosophy": "humanities", "psychology": "humanities",
    "law": "legal", "math": "math", "other": "general",
}
ROUTING_DOMAIN = {
    "gsm8k": "math", "mbpp": "code", "agentverse-logicgrid": "reasoning", "commongen": "general",
    "commonsense_qa": "general", "openbook_qa": "science", "arc_challenge": "science",
    "trivia_qa": "general", "natural_qa": "general",
}


def _jsonl(path: Path) -> Iterator[dict]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _csv(path: Path) -> list[dict]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _num(v) -> float | None:
    return None if v in ("", None) else float(v)


def mmlu_prompt(question: str, options: list[str]) -> str:
    return question + "\n" + "\n".join(f"{string.ascii_uppercase[i]}. {o}" for i, o in enumerate(options))


def load_mmlu_pro(root: Path) -> Iterator[dict]:
    d = Path(root) / "mmlu_pro_derived"
    per_model = _csv(d / "mmlu_pro_per_model_correct.csv")
    cols = [c for c in per_model[0] if c.endswith("_5shots")]
    tiers.check_columns("mmlu_pro", [c.removesuffix("_5shots") for c in cols])
    scored = {r["question_id"]: r for r in per_model}
    for q in _jsonl(d / "mmlu_pro_test_questions.jsonl"):
        r = scored.get(str(q["question_id"]))
        if r is None:
            continue
        origin = q["src"].split("-")[0]  # ori_mmlu-<subject>, stemez-<book>, theoremQA-<x>, scibench-<x>
        yield {"id": f"mmlu_pro:{q['question_id']}", "prompt": mmlu_prompt(q["question"], q["options"]),
               "source": "mmlu_pro", "benchmark": f"mmlu_pro:{origin}", "category": q["category"],
               "domain": MMLU_DOMAIN[q["category"]], "group": f"mmlu_pro:{q['question_id']}",
               "scores": {c.removesuffix("_5shots"): _num(r[c]) for c in cols}}


def routing_score(subtask: str, value) -> float | None:
    if value is None:
        return None
    if subtask == "commongen":
        return 1.0 if float(value) >= COMMONGEN_WELL - 1e-9 else 0.0
    return float(value)


def load_routing_outcomes(root: Path) -> Iterator[dict]:
    d = Path(root) / "routing_outcomes" / "llmrouter_graphrouter"
    first = True
    for r in _jsonl(d / "outcomes.jsonl"):
        if first:
            tiers.check_columns("routing_outcomes", list(r["outcomes"]))
            first = False
        sub = r["subtask"]
        yield {"id": f"routing:{r['id']}", "prompt": r["prompt"], "source": "routing_outcomes",
               "benchmark": f"routing:{sub}", "category": sub, "domain": ROUTING_DOMAIN.get(sub),
               "group": f"routing:{r['id']}",
               "scores": {m: routing_score(sub, v) for m, v in r["outcomes"].items()}}


def alpaca_score(pref: float | None) -> float | None:
    return None if pref is None else (1.0 if pref - 1.0 >= ALPACA_WELL - 1e-9 else 0.0)


def load_alpaca_eval(root: Path) -> Iterator[dict]:
    d = Path(root) / "alpaca_eval_derived"
    prefs = {r["idx"]: r for r in _csv(d / "alpaca_eval_per_model_preference_vs_gpt4turbo.csv")}
    cols = [c for c in next(iter(prefs.values())) if c != "idx"]
    tiers.check_columns("alpaca_eval", cols)
    for q in _jsonl(d / "alpaca_eval_instructions.jsonl"):
        r = prefs.get(str(q["idx"]))
        if r is None:
            continue
        yield {"id": f"alpaca_eval:{q['idx']}", "prompt": q["instruction"], "source": "alpaca_eval",
               "benchmark": f"alpaca_eval:{q['dataset']}", "category": q["dataset"], "domain": None,
               "group": f"alpaca_eval:{q['idx']}",
               "scores": {m: alpaca_score(_num(r[m])) for m in cols}}


LOADERS = {"mmlu_pro": load_mmlu_pro, "routing_outcomes": load_routing_outcomes, "alpaca_eval": load_alpaca_eval}
