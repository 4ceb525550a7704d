"""Pair files for tuning and evaluating the cache: splits and "different" pairs.

The shared data (QQP via GPTCache) has only paraphrases. A "different" pair
is built from one of them by a minimal edit that changes the meaning, or by
taking the nearest question of another group ("hard random"). All choices
come from a seeded `random.Random`, so a seed and an input give one file.

Split rule: questions that occur together in any pair form a group
(connected components over normalised text); a group goes to "eval" when the
first 8 hex digits of sha256(its alphabetically first normalised question),
as an integer, mod 100 is below `eval_percent`, else to "tune". The rule
depends on the text only, not on file order, so the two splits never share
a question.

Natural negatives: `answer_verified_negatives` pairs each NQ-open question
with its nearest neighbour whose known answers share nothing (the default
for benches); `hard_negatives` takes the nearest question of another QQP
group, but QQP's groups are incomplete and on the tune split most such
pairs above 0.9 cosine were unlabelled paraphrases.

The edit word lists below are the generator's own. Named entities come from
`lexicon.py`, which the entity guard also uses: numbers on those kinds are
optimistic by construction. "keynoun" swaps use nouns the guards have no
list for, so they measure the general substitution rule.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from serve_app.cache.keys import normalise_text
from serve_app.cache.lexicon import ANTONYMS, ENTITIES

# Rarest first: a source pair serves one kind only, and the common kinds
# (negation applies to almost any question) must not use up the rare ones.
EDIT_KINDS = ("order", "keynoun", "entity", "numbers", "relation", "negation")
KINDS = EDIT_KINDS + ("hard_random", "answer_verified")

KEY_NOUNS = {
    "animal": "cat dog horse cow lion tiger elephant snake rabbit monkey wolf bear shark",
    "food": "banana rice bread coffee tea milk beer wine chocolate pizza egg cheese sugar",
    "job": "doctor engineer lawyer teacher nurse pilot architect accountant designer chef",
    "sport": "football cricket tennis basketball chess golf baseball hockey swimming boxing",
    "instrument": "guitar piano violin drum flute saxophone",
    "vehicle": "car bike bicycle motorcycle bus train plane truck boat",
    "organ": "heart brain liver kidney lung skin stomach",
    "metal": "gold silver iron copper steel aluminium",
    "colour": "red blue green black white yellow pink purple",
    "body": "sun moon mars venus jupiter saturn",
    "degree": "mba phd btech mtech mbbs bachelor master diploma",
    "device": "laptop phone tablet camera printer television keyboard",
}
_AUX = "is are was were can could should would will do does did has have must"
_CONTRACT = {"is": "isn't", "are": "aren't", "was": "wasn't", "were": "weren't", "can": "can't",
             "could": "couldn't", "should": "shouldn't", "would": "wouldn't", "will": "won't",
             "do": "don't", "does": "doesn't", "did": "didn't", "has": "hasn't",
             "have": "haven't", "must": "mustn't"}
_PRONOUN = "i you we they he she it one people someone"
_REMOVE_NEGATION = [(re.compile(r"\bcan(?:'t|not)\b", re.I), "can"),
                    (re.compile(r"\bwon't\b", re.I), "will"),
                    (re.compile(r"\b(\w+)n't\b", re.I), r"\1"),
                    (re.compile(r"\bnot\s+", re.I), ""),
                    (re.compile(r"\bnever\b", re.I), "always")]
_DIRECTIONAL = "to|into|than|from|before|after"
# Words whose other senses make a swap nonsense ("what is it like").
_AMBIGUOUS = set("like even present base pass head light top back front".split())
_NUMBER_WORDS = "two three four five six seven eight nine ten twelve twenty hundred".split()


def load_pairs(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def write_pairs(path: str | Path, pairs: Iterable[dict]) -> int:
    """JSONL in DESIGN.md's format: {"a", "b", "label"} plus optional "kind"."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for p in pairs:
            row = {"a": p["a"], "b": p["b"], "label": p["label"]}
            if p.get("kind"):
                row["kind"] = p["kind"]
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
    return n


def split_pairs(pairs: list[dict], eval_percent: int = 50) -> tuple[list[dict], list[dict]]:
    """(tune, eval) by question group; see the module docstring for the rule."""
    tune, held = [], []
    for p, root in zip(pairs, _group_roots(pairs)):
        (held if _bucket(root) < eval_percent else tune).append(p)
    return tune, held


def group_ids(pairs: list[dict]) -> list[int]:
    """Group of each pair: pairs sharing a question (transitively) share a group."""
    index: dict[str, int] = {}
    return [index.setdefault(root, len(index)) for root in _group_roots(pairs)]


def _group_roots(pairs: list[dict]) -> list[str]:
    """Each pair's group, named by the group's alphabetically first normalised text."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    keys = [(normalise_text(p["a"]), normalise_text(p["b"])) for p in pairs]
    for a, b in keys:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(a) for a, _ in keys]


# ------------------------------------------------------------------ edits


def edit(kind: str, text: str, rng: random.Random) -> str | None:
    """`text` with one meaning-changing edit of `kind`, or None if none applies."""
    return _EDITS[kind](text, rng)


def edit_number(text: str, rng: random.Random) -> str | None:
    found = list(re.finditer(r"\d+(?:\.\d+)?", text))
    if found:
        m = rng.choice(found)
        value = float(m.group())
        new = value + rng.choice([1, 2, 3, 5, 10]) if rng.random() < 0.7 else value * 2
        s = str(int(new)) if new.is_integer() and "." not in m.group() else f"{new:.{_decimals(m.group())}f}"
        return text[: m.start()] + s + text[m.end():]
    words = [m for m in re.finditer(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", text, re.I)]
    if not words:
        return None
    m = rng.choice(words)
    other = rng.choice([w for w in _NUMBER_WORDS if w != m.group().lower()])
    return text[: m.start()] + other + text[m.end():]


def edit_negation(text: str, rng: random.Random) -> str | None:
    for pattern, repl in _REMOVE_NEGATION:
        if pattern.search(text):
            return pattern.sub(repl, text, count=1)
    m = re.search(r"\b(" + _AUX.replace(" ", "|") + r")\b(\s+)(\w+)", text, re.I)
    if not m:
        return None
    aux, space, nxt = m.group(1), m.group(2), m.group(3)
    if nxt.lower() in _PRONOUN.split():  # "how do I learn" -> "how do I not learn"
        return text[: m.end()] + " not" + text[m.end():]
    contracted = _CONTRACT[aux.lower()]  # "why is X popular" -> "why isn't X popular"
    if aux[0].isupper():
        contracted = contracted.capitalize()
    return text[: m.start()] + contracted + space + nxt + text[m.end():]


def edit_entity(text: str, rng: random.Random) -> str | None:
    return _swap_word(text, rng, _entity_kinds(), plural=False)


def edit_keynoun(text: str, rng: random.Random) -> str | None:
    return _swap_word(text, rng, {k: v.split() for k, v in KEY_NOUNS.items()}, plural=True)


def edit_relation(text: str, rng: random.Random) -> str | None:
    opposites: dict[str, list[str]] = {}
    for item in ANTONYMS.split() + "before:after above:below over:under".split():
        a, b = (w.replace("_", " ") for w in item.split(":"))
        if a in _AMBIGUOUS or b in _AMBIGUOUS:
            continue
        opposites.setdefault(a, []).append(b)
        opposites.setdefault(b, []).append(a)
    found = _find_words(text, opposites)
    if not found:
        return None
    m = rng.choice(found)
    other = rng.choice(opposites[m.group().lower()])
    return text[: m.start()] + _match_case(m.group(), other) + text[m.end():]


def edit_order(text: str, rng: random.Random) -> str | None:
    """Swap two known terms of one kind around a directional word: "X to Y" -> "Y to X"."""
    kinds = _entity_kinds() | {k: v.split() for k, v in KEY_NOUNS.items()}
    kind_of = {n: k for k, names in kinds.items() for n in names}
    term = r"\b(" + "|".join(sorted(map(re.escape, kind_of), key=len, reverse=True)) + r")\b"
    pattern = re.compile(term + r"((?:\W+\w+){0,2}?\W+(?:" + _DIRECTIONAL + r")\W+(?:\w+\W+){0,2}?)" + term, re.I)
    found = [m for m in pattern.finditer(text) if m.group(1).lower() != m.group(3).lower()
             and kind_of[m.group(1).lower()] == kind_of[m.group(3).lower()]]
    if not found:
        return None
    m = rng.choice(found)
    return text[: m.start()] + m.group(3) + m.group(2) + m.group(1) + text[m.end():]


_EDITS: dict[str, Callable[[str, random.Random], str | None]] = {
    "numbers": edit_number, "negation": edit_negation, "entity": edit_entity,
    "keynoun": edit_keynoun, "relation": edit_relation, "order": edit_order,
}


# ------------------------------------------------------------- pair files


def different_pairs(same: list[dict], seed: int = 0,
                    hard: Callable[[int, random.Random], list[dict]] | None = None) -> list[dict]:
    """As many "different" pairs as `same` has, each with its `kind`.

    Each edit kind gets an equal share of 1/(edit kinds + 1) as far as
    sources allow (each source pair serves one edit); `hard(count, rng)`
    fills the rest with natural different questions (`hard_negatives` or
    `answer_verified_negatives`). An edit is applied to one side and paired
    with the other side (a paraphrase with a changed meaning) or with itself
    (a one-edit near duplicate), half each.
    """
    rng = random.Random(seed)
    order = list(range(len(same)))
    rng.shuffle(order)
    quota = len(same) // (len(EDIT_KINDS) + 1)
    used: set[int] = set()
    out: list[dict] = []
    for kind in EDIT_KINDS:
        made = 0
        for i in order:
            if made >= quota:
                break
            if i in used:
                continue
            p = same[i]
            src, other = (p["b"], p["a"]) if rng.random() < 0.5 else (p["a"], p["b"])
            new = edit(kind, src, rng)
            partner = other if rng.random() < 0.5 else src
            # QQP has "same" pairs that differ by exactly such an edit
            # ("female teens" / "male teens"): the edit may land on the partner.
            if new is None or normalise_text(new) in (normalise_text(src), normalise_text(partner)):
                continue
            out.append({"a": partner, "b": new, "label": "different", "kind": kind})
            used.add(i)
            made += 1
    if hard is not None:
        out += hard(len(same) - len(out), rng)
    return out


def hard_negatives(same: list[dict], embeddings: np.ndarray, count: int,
                   rng: random.Random) -> list[dict]:
    """For `count` sampled questions, the most similar question of another group.

    `embeddings`: rows a0, b0, a1, b1... of `same` as the cache embeds them.
    Caution: QQP's groups are incomplete, so another group's nearest
    question is often an unlabelled paraphrase; prefer
    `answer_verified_negatives` where answers are known.
    """
    texts = [t for p in same for t in (p["a"], p["b"])]
    groups = np.repeat(np.array(group_ids(same)), 2)
    picks = rng.sample(range(len(texts)), min(count, len(texts)))
    return [{"a": texts[i], "b": texts[j], "label": "different", "kind": "hard_random"}
            for i, j in _nearest(embeddings, picks, groups)]


def answer_verified_negatives(items: list[dict], embeddings: np.ndarray, count: int,
                              rng: random.Random) -> list[dict]:
    """Nearest-neighbour question pairs whose known answers share nothing.

    `items`: {"question", "answer": [...]} (NQ-open); `embeddings` one row
    per item. Serving one's answer for the other is wrong by the data's own
    labels, so unlike `hard_negatives` these need no trust in a grouping.
    """
    answers = [frozenset(w for a in it["answer"] for w in _answer_words(a)) for it in items]
    texts = [normalise_text(it["question"]) for it in items]
    # Same answer or same text: one group (a paraphrase or a coincidence; skip both).
    keys: dict = {}
    groups = np.array([keys.setdefault(t, len(keys)) for t in texts])
    picks = list(range(len(items)))
    rng.shuffle(picks)
    out, seen = [], set()
    for i, j in _nearest(embeddings, picks, groups, answers):
        pair = (min(i, j), max(i, j))
        if pair not in seen and len(out) < count:
            seen.add(pair)
            out.append({"a": items[i]["question"], "b": items[j]["question"], "label": "different",
                        "kind": "answer_verified"})
    return out


def split_items(items: list[dict], field: str, eval_percent: int = 50) -> tuple[list[dict], list[dict]]:
    """(tune, eval) of single questions by the same hash rule as `split_pairs`."""
    tune, held = [], []
    for it in items:
        (held if _bucket(normalise_text(it[field])) < eval_percent else tune).append(it)
    return tune, held


def _nearest(embeddings: np.ndarray, picks: list[int], groups: np.ndarray, answers=None):
    """(i, j): for each picked row i, the most similar row j of another group
    (and, given answers, with no answer in common)."""
    for start in range(0, len(picks), 512):
        rows = np.array(picks[start:start + 512], dtype=int)
        sims = embeddings[rows] @ embeddings.T
        sims[groups[rows][:, None] == groups[None, :]] = -2.0  # never its own group
        for k, i in enumerate(rows):
            for j in np.argsort(-sims[k])[:20]:
                if sims[k, j] <= -2.0:
                    break
                if answers is None or not answers[i] & answers[j]:
                    yield int(i), int(j)
                    break


def _answer_words(answer: str) -> set[str]:
    """Words of an answer; two answers sharing any count as possibly equal.
    Loose on purpose: "Nicklaus" / "Jack Nicklaus (6)" and "June 1979" /
    "1979-80 season" are one answer written two ways, and a pair labelled
    different must really be different."""
    words = re.sub(r"[^a-z0-9 ]", " ", normalise_text(answer)).split()
    return {w for w in words if (len(w) > 2 or w.isdigit()) and w not in _ANSWER_STOP}


_ANSWER_STOP = frozenset("the and of in on at for from with by".split())


def _bucket(text: str) -> int:
    return int(hashlib.sha256(text.encode()).hexdigest()[:8], 16) % 100


# ----------------------------------------------------------------- helpers


def _entity_kinds() -> dict[str, list[str]]:
    """Canonical entity names per kind, as they would be written."""
    out = {}
    for kind, text in ENTITIES.items():
        names = [item.split("=")[0].replace("_", " ") for item in text.split()]
        out[kind] = [n for n in names if len(n) > 2]  # "c", "uk": too ambiguous to swap in text
    return out


def _swap_word(text: str, rng: random.Random, kinds: dict[str, list[str]], plural: bool) -> str | None:
    owner = {w: k for k, words in kinds.items() for w in words}
    suffix = "(s|es)?" if plural else "()"
    pattern = r"\b(" + "|".join(sorted(map(re.escape, owner), key=len, reverse=True)) + r")" + suffix + r"\b"
    found = list(re.finditer(pattern, text, re.I))
    if not found:
        return None
    m = rng.choice(found)
    word = m.group(1).lower()
    other = rng.choice([w for w in kinds[owner[word]] if w != word])
    plural_suffix = ("es" if other.endswith(("s", "x", "ch", "sh")) else "s") if m.group(2) else ""
    new = _match_case(m.group(1), other) + plural_suffix
    return text[: m.start()] + new + text[m.end():]


def _find_words(text: str, words: dict) -> list[re.Match]:
    pattern = r"\b(" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + r")\b"
    return list(re.finditer(pattern, text, re.I))


def _match_case(original: str, new: str) -> str:
    if original.isupper() and len(original) > 1:
        return new.upper()
    if original[:1].isupper():
        return " ".join(w.capitalize() for w in new.split())
    return new


def _decimals(s: str) -> int:
    return len(s.split(".")[1]) if "." in s else 0
