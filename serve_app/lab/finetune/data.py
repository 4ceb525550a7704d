"""What the fine-tune reads: a label-balanced sample of train.jsonl, cache
pairs from the tune half of the shared paraphrases, and cached token rows.

Two cores cannot take every row for several epochs, so the sample caps each
(source, label) cell: rare labels (jailbreak and sensitive positives, small
sources) are all kept, and the big sources (MMLU-Pro, GSM8K) give way. The
paraphrase pairs come only from the "tune" half of the split that
`triage bench cache-quality` evaluates on its "eval" half, with generated
meaning-changing edits of the same pairs as hard negatives.
"""

from __future__ import annotations

import hashlib
import pickle
import random
from collections import defaultdict
from pathlib import Path

from serve_app.cache.keys import normalise_conversation


def cell(row: dict) -> tuple:
    """The balance key: a row's source and its rarest label."""
    if row.get("jailbreak"):
        return row["source"], "jailbreak"
    if row.get("sensitive"):
        return row["source"], "sensitive"
    return row["source"], row.get("tier"), row.get("domain")


def balanced_sample(rows: list[dict], size: int, seed: int) -> list[dict]:
    """About `size` rows with at most `cap` per cell, `cap` the largest that fits.

    Water-filling: cells smaller than the cap are kept whole, so the cap is
    found by bisection on the total kept."""
    cells: dict[tuple, list[dict]] = defaultdict(list)
    for r in rows:
        cells[cell(r)].append(r)
    sizes = sorted(len(v) for v in cells.values())
    lo, hi = 1, max(sizes, default=1)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sum(min(s, mid) for s in sizes) <= size:
            lo = mid
        else:
            hi = mid - 1
    rng = random.Random(seed)
    out = []
    for key in sorted(cells, key=repr):
        members = cells[key]
        out.extend(members if len(members) <= lo else rng.sample(members, lo))
    rng.shuffle(out)
    return out


def as_cached(text: str) -> str:
    """A prompt as the cache embeds it (the normalised one-turn conversation)."""
    return normalise_conversation([{"role": "user", "content": text}])


def cache_pairs(root: Path, seed: int) -> list[dict]:
    """Tune-half paraphrases {"a", "b", "hard"}: `hard` is `b` with one
    meaning-changing edit (cache_pairs.edit: numbers, negation, an entity or
    key noun swapped...), None where no edit applies.

    In the cache's form ("user: <normalised text>"), not as the classifier
    sees a prompt: trained on bare prompts, the paraphrase loss and the label
    heads share one input distribution and the heads win; a 4-layer run that
    way let 36% of guarded cache hits be wrong (README "Semantic cache
    quality"). The role prefix works like a task prefix."""
    from serve_app.cache.keys import normalise_text
    from serve_app.lab.bench import cache_pairs as pairfiles

    tune, _held_out = pairfiles.split_pairs(pairfiles.load_pairs(root / "cache_pairs" / "qqp_pairs_dev.jsonl"))
    rng = random.Random(seed)
    out = []
    for p in tune:
        hard = None
        for kind in rng.sample(pairfiles.EDIT_KINDS, len(pairfiles.EDIT_KINDS)):
            new = pairfiles.edit(kind, p["b"], rng)
            if new is not None and normalise_text(new) not in (normalise_text(p["a"]), normalise_text(p["b"])):
                hard = as_cached(new)
                break
        out.append({"a": as_cached(p["a"]), "b": as_cached(p["b"]), "hard": hard})
    return out


class TokenCache:
    """Token rows (serving truncation: TokenRows, head+tail) cached on disk by
    text hash, so a resumed or repeated run does not tokenise again."""

    def __init__(self, rows_of, path: Path):
        self.rows_of = rows_of
        self.path = Path(path)
        self._store: dict[str, tuple[list[int], int]] = {}
        if self.path.exists():
            with self.path.open("rb") as fh:
                self._store = pickle.load(fh)
        self._dirty = False

    @staticmethod
    def key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest()[:20]

    def rows(self, texts: list[str]) -> tuple[list[list[int]], list[int]]:
        keys = [self.key(t) for t in texts]
        todo = [(k, t) for k, t in dict(zip(keys, texts)).items() if k not in self._store]
        if todo:
            ids, tokens, _ = self.rows_of([t for _, t in todo])
            for (k, _), r, n in zip(todo, ids, tokens):
                self._store[k] = (r, n)
            self._dirty = True
        return [self._store[k][0] for k in keys], [self._store[k][1] for k in keys]

    def save(self) -> None:
        if not self._dirty:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as fh:
            pickle.dump(self._store, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.path)
        self._dirty = False
