"""Prompt mixes for the load tests, read from the shared datasets folder at run time.

No prompt file lives in the repository: the mixes are drawn from
`../shared/datasets` (relative to the working directory; `--datasets` or the
TRIAGE_DATASETS variable move it). When that folder is missing, every mix
falls back to the small built-in list below, so the CI test runs anywhere.

| mix        | drawn from                                               |
|------------|----------------------------------------------------------|
| simple     | nq_open questions (short factual lookups)                |
| reasoning  | gsm8k word problems + bbh tasks + mmlu_pro questions     |
| repeated   | REPEATED_COUNT nq_open questions, asked over and over    |
| builtin    | the built-in list (no files read)                        |
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from serve_app.lab.paths import ENV, FALLBACK

MIXES = ("simple", "reasoning", "repeated", "builtin")
REPEATED_COUNT = 20
PER_SOURCE = 1000  # prompts sampled from each source file (enough variety, quick to load)


BUILTIN = (
    "What is the capital of France?",
    "Name three primary colors.",
    "Who wrote Pride and Prejudice?",
    "How many legs does a spider have?",
    "Translate 'good morning' into Spanish.",
    "Make this a bullet list: apples, pears, plums.",
    "What is the boiling point of water at sea level in Celsius?",
    "Give a synonym for 'happy'.",
    "Which planet is known as the red planet?",
    "What year did the first person walk on the moon?",
    "A train travels 60 km in 45 minutes. What is its average speed in km/h?",
    "If 3 pencils cost 45 cents, how much do 10 pencils cost?",
    "Write a Python function that reverses a list.",
    "Is 221 a prime number? Explain briefly.",
    "Sarah has twice as many apples as Tom, and together they have 18. How many does Tom have?",
    "Sort these words alphabetically: pear, apple, mango, banana.",
    "Summarise the water cycle in two sentences.",
    "What is 17 multiplied by 23?",
    "Explain the difference between a list and a tuple in Python.",
    "Prove that the sum of two even numbers is even.",
)


def default_datasets() -> Path:
    return Path(os.environ.get(ENV) or FALLBACK)


def load_mix(name: str, datasets: str | Path | None = None, seed: int = 0) -> tuple[list[str], str]:
    """The prompts of mix `name` and where they came from ("builtin" when no dataset was read)."""
    if name not in MIXES:
        raise ValueError(f"unknown mix {name!r}; choose one of {', '.join(MIXES)}")
    folder = Path(datasets) if datasets else default_datasets()
    rng = random.Random(seed)
    if name == "builtin" or not folder.is_dir():
        prompts = list(BUILTIN)
        if name == "repeated":
            prompts = prompts[:REPEATED_COUNT]
        return prompts, "builtin"
    if name == "simple":
        prompts = _nq_open(folder, rng, PER_SOURCE)
    elif name == "repeated":
        prompts = _nq_open(folder, rng, REPEATED_COUNT)
    else:
        prompts = _gsm8k(folder, rng) + _bbh(folder, rng) + _mmlu_pro(folder, rng)
    if not prompts:
        return list(BUILTIN), "builtin"
    return prompts, str(folder)


def _sample(rng: random.Random, items: list, k: int) -> list:
    return rng.sample(items, k) if len(items) > k else list(items)


def _jsonl_field(path: Path, field: str, rng: random.Random, k: int) -> list[str]:
    if not path.is_file():
        return []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [json.loads(line)[field] for line in _sample(rng, lines, k)]


def _nq_open(folder: Path, rng: random.Random, k: int) -> list[str]:
    questions: list[str] = []
    for name in ("NQ-open.dev.jsonl", "NQ-open.efficientqa.dev.1.1.jsonl"):
        questions += _jsonl_field(folder / "nq_open" / name, "question", random.Random(0), 10**9)
    questions = sorted(set(questions))
    return [q[:1].upper() + q[1:] + ("" if q.endswith("?") else "?") for q in _sample(rng, questions, k)]


def _gsm8k(folder: Path, rng: random.Random) -> list[str]:
    return _jsonl_field(folder / "gsm8k" / "train.jsonl", "question", rng, PER_SOURCE)


def _bbh(folder: Path, rng: random.Random) -> list[str]:
    inputs: list[str] = []
    for path in sorted((folder / "bbh").glob("*.json")):
        inputs += [ex["input"] for ex in json.loads(path.read_text(encoding="utf-8"))["examples"]]
    return _sample(rng, inputs, PER_SOURCE)


def _mmlu_pro(folder: Path, rng: random.Random) -> list[str]:
    path = folder / "mmlu_pro_derived" / "mmlu_pro_test_questions.jsonl"
    if not path.is_file():
        return []
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for line in _sample(rng, lines, PER_SOURCE):
        row = json.loads(line)
        options = "\n".join(f"{chr(65 + i)}. {opt}" for i, opt in enumerate(row.get("options") or []))
        out.append(f"{row['question']}\n{options}".strip())
    return out
