"""Row construction, dedup, grouped split, report and JSONL output.

Kept free of source knowledge: sources.py yields rows, this module only
cleans, splits and counts them, so each step is testable on hand-made rows.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

HEADS = ("tier", "domain", "sensitive", "jailbreak")
# Per-model outcomes where a source has them (MMLU-Pro): `difficulty` is the
# share of the small-model group that fails the question (the difficulty
# head's target); weak/strong_correct feed `triage eval routing`.
OUTCOMES = ("difficulty", "weak_correct", "strong_correct")
FIELDS = ("id", "prompt", *HEADS, *OUTCOMES, "source", "group", "label_rule")


def make_row(source: str, rid: str, prompt: str, group: str, rule: str, **labels) -> dict:
    unknown = set(labels) - set(HEADS) - set(OUTCOMES) - {"noncommercial"}
    if unknown:
        raise ValueError(f"unknown label keys {sorted(unknown)}")
    row = {"id": f"{source}:{rid}", "prompt": prompt.strip(), "source": source,
           "group": f"{source}:{group}", "label_rule": rule}
    for head in (*HEADS, *OUTCOMES):
        row[head] = labels.get(head)
    # Per-row licence flag (e.g. one LegalBench task); dropped before writing.
    row["noncommercial"] = bool(labels.get("noncommercial", False))
    return row


def exact_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).lower().split())


# Unicode-aware: an ASCII-only class would erase Chinese or Cyrillic prompts.
_NON_ALNUM = re.compile(r"[\W_]+")


def near_key(text: str, prefix: int | None = None) -> str:
    """Cheap near-duplicate key: case, spacing and punctuation ignored.

    Whole text by default: a 200-char prefix collapsed 1,526 distinct BBH
    questions that only share their task preamble. `prefix` keeps that option
    for sources whose copies differ only in the tail.
    """
    key = _NON_ALNUM.sub("", unicodedata.normalize("NFKC", text).lower())
    return key[:prefix] if prefix else key


def dedup(rows: Iterable[dict], stats: dict | None = None) -> list[dict]:
    """Keep the first row per exact and per near key; count drops per source."""
    stats = stats if stats is not None else {}
    seen_exact: set[str] = set()
    seen_near: set[str] = set()
    kept = []
    for row in rows:
        ek, nk = exact_key(row["prompt"]), near_key(row["prompt"])
        per = stats.setdefault(row["source"], {"in": 0, "exact_dup": 0, "near_dup": 0, "empty": 0})
        per["in"] += 1
        if not nk:
            per["empty"] += 1
        elif ek in seen_exact:
            per["exact_dup"] += 1
        elif nk in seen_near:
            per["near_dup"] += 1
        else:
            seen_exact.add(ek)
            seen_near.add(nk)
            kept.append(row)
    return kept


def is_val_group(group: str, val_percent: int = 10) -> bool:
    """Deterministic across runs and machines (no Python hash randomisation)."""
    digest = hashlib.sha1(group.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < val_percent


def split(rows: Iterable[dict], heldout_sources: set[str], val_percent: int = 10) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {"train": [], "val": [], "heldout": []}
    for row in rows:
        if row["source"] in heldout_sources:
            out["heldout"].append(row)
        elif is_val_group(row["group"], val_percent):
            out["val"].append(row)
        else:
            out["train"].append(row)
    return out


def label_counts(rows: Iterable[dict]) -> dict[str, dict[str, int]]:
    counts: dict[str, Counter] = {h: Counter() for h in HEADS}
    for row in rows:
        for head in HEADS:
            counts[head][json.dumps(row[head])] += 1  # "null", "true", '"slm"'
    return {h: dict(sorted(c.items())) for h, c in counts.items()}


def build_report(splits: dict[str, list[dict]], dedup_stats: dict, excluded: dict) -> dict:
    per_source: dict[str, dict] = defaultdict(dict)
    for name, rows in splits.items():
        by_src: dict[str, list] = defaultdict(list)
        for row in rows:
            by_src[row["source"]].append(row)
        for src, src_rows in by_src.items():
            per_source[src][name] = {"rows": len(src_rows), "labels": label_counts(src_rows),
                                     "rules": dict(Counter(r["label_rule"] for r in src_rows))}
    return {
        "split_sizes": {k: len(v) for k, v in splits.items()},
        "labels": {k: label_counts(v) for k, v in splits.items()},
        "per_source": dict(sorted(per_source.items())),
        "dedup": dedup_stats,
        "excluded": excluded,
    }


def write_jsonl(path: Path, rows: Iterable[dict], fields: tuple[str, ...] = FIELDS) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({k: row.get(k) for k in fields}, ensure_ascii=False) + "\n")
            n += 1
    return n
