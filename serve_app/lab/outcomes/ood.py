"""Prompts unlike anything with outcomes, to measure coverage of the outcome memory.

Arena-Hard v2.0 (Apache-2.0): creative writing, hard coding and hard math user
prompts; and summarisation requests built here from PubMedQA abstracts (MIT):
"Summarise ... :" + the abstract. None of them has model outcomes.
"""

from __future__ import annotations

import json
from pathlib import Path

SUMMARY_ASK = "Summarise this abstract in three sentences for a general reader:\n\n"


def ood_prompts(datasets: str | Path = "../shared/datasets", n_summaries: int = 100) -> dict[str, list[str]]:
    root = Path(datasets)
    groups: dict[str, list[str]] = {}
    with (root / "arena_hard" / "arena_hard_v2.0_question.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            groups.setdefault(f"arena_hard:{r['subcategory']}", []).append(r["prompt"])
    pub = json.loads((root / "pubmedqa" / "ori_pqal.json").read_text(encoding="utf-8"))
    groups["summarise:pubmedqa"] = [SUMMARY_ASK + " ".join(v["CONTEXTS"]) for v in list(pub.values())[:n_summaries]]
    return groups
