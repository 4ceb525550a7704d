"""Hit guards: reject a near-duplicate whose meaning differs.

An embedding puts "what is 2+2" next to "what is 2+3" and "enable 2FA" next to
"disable 2FA". After a candidate passes the similarity threshold, `check`
compares the two texts for the small edits that flip an answer. Each guard
looks for one kind of edit:

- numbers: the values differ ("2+2" / "2+3", "7 layers" / "eight layers"),
  or the arithmetic between them does ("2+2" / "2*2").
- negation: a negation cue appears on one side only, or their count differs
  in parity ("is it safe" / "is it not safe").
- entities: what the question is about or asks for differs: a named entity
  ("france" / "spain", "python" / "java"), one content word swapped in
  otherwise identical text ("do cats purr" / "do dogs purr"), or the kind of
  answer an opening wh-word asks for ("when was x built" / "who built x").
- relations: a word is swapped for its opposite ("enable" / "disable",
  "flights to x" / "flights from x"), or two terms swap sides of a
  directional word ("usd to eur" / "eur to usd").

Pure and deterministic; texts may be raw or already normalised (both go
through the same normalisation). Capitalisation is not used: the cache keeps
normalised text, so names are recognised by `lexicon.py`'s lists.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache

from serve_app.cache.keys import normalise_text
from serve_app.cache.lexicon import NEGATING_PREFIXES, lexicon
from serve_app.cache.numbers import mixed, read_numbers

GUARD_ORDER = ("numbers", "negation", "entities", "relations")

# The substitution rule of the entity guard: content words swapped (at most
# this many on each side) when nothing else differs. Tuned on the tune split
# (see bench/cache_quality.py): also rejecting swaps inside longer rewrites
# (2 words, with half the rest aligned) cost 2.3x as many true paraphrases
# for about the same wrong-hit share at each hit rate. It cannot tell
# "levels"/"layers" from "cats"/"dogs"; SYNONYMS lists common swaps.
MAX_SUBSTITUTION = 1
# Shared leading letters that mark two words as forms of one word (typos,
# inflections: "programmer" / "programming"), not a substitution.
SAME_WORD_PREFIX = 5
# Character similarity above which two words are one word misspelt ("contries").
TYPO_RATIO = 0.8
# Terms compared for order flips (the last ones: where the question usually
# is); bounds the quadratic pair scan on long conversations.
MAX_ORDER_TERMS = 40

_WORD = re.compile(r"[a-z0-9]+(?:[.'][a-z0-9]+)*(?:\+\+|#)?|->|=>")
_SENTENCE = re.compile(r"[.?!;\n]+\s*|^\w+: ", re.M)  # sentence breaks and role tags
_WH = {"when": "time", "where": "place", "who": "person", "whom": "person", "whose": "person",
       "why": "reason"}
_NEGATION_IDIOMS = re.compile(r"\bnot only\b|\bno matter\b|\bor not\b|\bor why not\b|\bno doubt\b"
                              r"|\bif not\b|\byes\W+(?:or\W+)?no\b")


@dataclass(frozen=True)
class Analysis:
    words: tuple[str, ...]  # every word token
    terms: Counter  # stems of every word and stemmed bigrams, counted (for antonym lookup)
    content: tuple[str, ...]  # stems of content words in order (no stopwords, names or numbers)
    neighbours: tuple[tuple[str, str, str], ...]  # (left, word, right) around function words
    salient: tuple[tuple[str, int], ...]  # (name, content stem or number, word position)
    directional: tuple[int, ...]  # positions of directional words ("to", "than", ...)
    entities: frozenset  # (kind, canonical name) of known entities
    numbers: tuple  # sorted numeric values
    expressions: tuple  # sorted "2+2"-style arithmetic signatures
    codes: frozenset  # tokens mixing letters and digits: "2fa", "ipv6", "mp3"
    asks: frozenset  # kinds of answer asked for by a leading wh-word: time, place, person...
    negations: int


def check(query_text: str, cached_text: str, guards) -> str | None:
    """The name of the first enabled guard that rejects the pair, or None."""
    a, b = analyse(query_text), analyse(cached_text)
    for name in GUARD_ORDER:
        if getattr(guards, name) and _REJECTS[name](a, b):
            return name
    return None


def rejections(query_text: str, cached_text: str) -> tuple[str, ...]:
    """Every guard that would reject the pair, enabled or not (for benches)."""
    a, b = analyse(query_text), analyse(cached_text)
    return tuple(name for name in GUARD_ORDER if _REJECTS[name](a, b))


@lru_cache(maxsize=4096)
def analyse(text: str) -> Analysis:
    """Everything the guards compare, computed once per text."""
    lex = lexicon()
    # Line by line, so the turns of a normalised conversation stay apart.
    text = "\n".join(normalise_text(line) for line in text.split("\n"))
    words = [w.removesuffix("'s").replace("'", "") for w in _WORD.findall(text)]
    entities, entity_at = _entities(words, lex)
    stems = [stem(w) for w in words]
    stop = lex["stop"]
    content_at = [i for i, w in enumerate(words)
                  if i not in entity_at and w not in stop and w.isalpha() and len(w) > 1]
    content = tuple(stems[i] for i in content_at)
    salient = sorted([(name, i) for (_, name), i in entities.items()]
                     + [(stems[i], i) for i in content_at]
                     + [(w, i) for i, w in enumerate(words) if any(c.isdigit() for c in w)],
                     key=lambda item: item[1])
    terms = Counter(stems) + Counter(f"{x} {y}" for x, y in zip(stems, stems[1:]))
    numbers, expressions = read_numbers(text)
    # Idioms like "not only" hold a cue without negating anything.
    idioms = len(_NEGATION_IDIOMS.findall(" ".join(words)))
    negations = sum(w in lex["negation"] for w in words) - idioms
    return Analysis(
        words=tuple(words), terms=terms, content=content,
        neighbours=tuple(_neighbours(words, stems, stop)), entities=frozenset(entities),
        salient=tuple(salient),
        directional=tuple(i for i, w in enumerate(words) if w in lex["directional"]),
        numbers=tuple(sorted(numbers)), expressions=tuple(sorted(expressions)),
        codes=frozenset(w for w in words if mixed(w)), negations=negations,
        asks=frozenset(_asks(text)),
    )


def stem(word: str) -> str:
    """A light suffix stripper: enough to match enable/enabled/enabling."""
    if len(word) <= 3 or not word.isalpha():
        return word
    for suffix, repl in (("ies", "y"), ("ied", "y"), ("ing", ""), ("ed", ""), ("es", ""),
                         ("ly", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: len(word) - len(suffix)] + repl
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    return word


# ------------------------------------------------------------------ guards


def _numbers_differ(a: Analysis, b: Analysis) -> bool:
    return a.numbers != b.numbers or a.expressions != b.expressions or a.codes != b.codes


def _negation_differs(a: Analysis, b: Analysis) -> bool:
    return (a.negations > 0) != (b.negations > 0) or a.negations % 2 != b.negations % 2


def _entities_differ(a: Analysis, b: Analysis) -> bool:
    if a.asks - b.asks and b.asks - a.asks:
        return True  # "when was x built" / "who built x": another thing is asked for
    only_a, only_b = a.entities - b.entities, b.entities - a.entities
    if only_a and only_b:
        return True  # "france" / "spain", "python" / "java"
    # A name on one side only changes the question when it joins one of its
    # kind ("france" / "france and germany"); a qualifier of another kind
    # usually repeats what the other side implies ("mumbai" / "mumbai, india").
    extra, other = (only_a, b) if only_a else (only_b, a)
    if {kind for kind, _ in extra} & {kind for kind, _ in other.entities}:
        return True
    return _substituted(a.content, b.content)


def _relation_flipped(a: Analysis, b: Analysis) -> bool:
    lex = lexicon()
    # Counted, so "pros and cons" / "cons and cons" shows pros lost, cons gained.
    only_a, only_b = set(a.terms - b.terms), set(b.terms - a.terms)
    antonyms = _stem_pairs("antonyms")
    if any(antonyms.get(x, set()) & only_b for x in only_a):
        return True
    if _prefix_negated(only_a, only_b) or _prefix_negated(only_b, only_a):
        return True
    for only, side in ((only_a, a), (only_b, b)):
        # "more attractive" / "less attractive" / "attractive"; but not
        # "more or less", where the side already holds both directions.
        if only & _LESSER and not side.terms.keys() & _MORE:
            return True
    if _order_flipped(a, b):
        return True
    na, nb = set(a.neighbours), set(b.neighbours)
    for left, word, right in na - nb:
        for opposite in lex["prepositions"].get(word, ()):
            if any(o == opposite and r == right for _, o, r in nb - na):
                return True  # "flights to london" / "flights from london"
        for opposite in lex["particles"].get(word, ()):
            if any(o == opposite and lft == left for lft, o, _ in nb - na):
                return True  # "turn on wifi" / "turn off wifi"
    return False


# Words that turn a question around when only one side has them; unlike
# "best" or "more", paraphrases do not add them for emphasis.
_LESSER = frozenset({"less", "least", "fewer", "fewest", "worse", "worst"})
_MORE = frozenset({"more", "most", "better", "best"})

_REJECTS = {"numbers": _numbers_differ, "negation": _negation_differs,
            "entities": _entities_differ, "relations": _relation_flipped}


# ----------------------------------------------------------------- helpers


def _order_flipped(a: Analysis, b: Analysis) -> bool:
    """Two terms swap sides of a directional word: "usd to eur" / "eur to usd",
    "is london bigger than paris" / "is paris bigger than london"."""
    if not a.directional or not b.directional:
        return False
    pa, pb = _unique_positions(a.salient), _unique_positions(b.salient)
    common = [t for t in pa if t in pb][-MAX_ORDER_TERMS:]
    for i, x in enumerate(common):
        for y in common[i + 1:]:
            if (pa[x] < pa[y]) != (pb[x] < pb[y]) \
                    and _between(a.directional, pa[x], pa[y]) and _between(b.directional, pb[x], pb[y]):
                return True
    return False


def _unique_positions(salient) -> dict[str, int]:
    counts: dict[str, int] = {}
    for term, _ in salient:
        counts[term] = counts.get(term, 0) + 1
    return {term: pos for term, pos in salient if counts[term] == 1}


def _between(positions: tuple[int, ...], x: int, y: int) -> bool:
    lo, hi = min(x, y), max(x, y)
    return any(lo < p < hi for p in positions)


def _substituted(ca: tuple[str, ...], cb: tuple[str, ...]) -> bool:
    """True when the only difference between the content words is one word
    swapped for an unrelated one ("do cats purr" / "do dogs purr")."""
    matcher = SequenceMatcher(None, ca, cb, autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if len(changes) != 1 or changes[0][0] != "replace":
        return False
    _, i1, i2, j1, j2 = changes[0]
    if i2 - i1 > MAX_SUBSTITUTION or j2 - j1 > MAX_SUBSTITUTION or len(ca) == i2 - i1:
        return False  # a longer rewrite, or nothing else left to line up
    return not _related(ca[i1:i2], cb[j1:j2])


def _related(xs: tuple[str, ...], ys: tuple[str, ...]) -> bool:
    """Some word on one side is a form or a listed synonym of one on the other."""
    synonyms, antonyms = _stem_pairs("synonyms"), _stem_pairs("antonyms")
    for x in xs:
        for y in ys:
            if x[:SAME_WORD_PREFIX] == y[:SAME_WORD_PREFIX] or x in y or y in x \
                    or SequenceMatcher(None, x, y).ratio() >= TYPO_RATIO:
                return True
            # Opposites are the relations guard's to judge, so each guard's
            # ablation shows what it alone buys.
            if y in synonyms.get(x, ()) or y in antonyms.get(x, ()):
                return True
    return False


def _prefix_negated(xs: frozenset, ys: frozenset) -> bool:
    """"install" on one side, "uninstall" on the other."""
    for y in ys:
        for prefix, min_len in NEGATING_PREFIXES.items():
            if y.startswith(prefix) and len(y) - len(prefix) >= min_len and y[len(prefix):] in xs:
                return True
    return False


@lru_cache(maxsize=4)
def _stem_pairs(name: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for word, others in lexicon()[name].items():
        key = " ".join(stem(w) for w in word.split())
        out.setdefault(key, set()).update(" ".join(stem(w) for w in o.split()) for o in others)
    return out


def _entities(words: list[str], lex: dict) -> tuple[dict[tuple[str, str], int], set[int]]:
    """Known names (longest phrase first) with their first position, and the
    word positions they cover."""
    alias, longest = lex["entities"], lex["max_phrase"]
    found, covered, i = {}, set(), 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            hit = alias.get(" ".join(words[i:i + n]))
            if hit:
                found.setdefault(hit, i)
                covered.update(range(i, i + n))
                i += n
                break
        else:
            i += 1
    return found, covered


def _neighbours(words: list[str], stems: list[str], stop: frozenset):
    """(nearest content word left, function word, nearest content word right)."""
    lex = lexicon()
    watched = lex["directional"] | set(lex["prepositions"]) | set(lex["particles"])
    for i, w in enumerate(words):
        if w in watched:
            yield _nearest(words, stems, stop, range(i - 1, max(i - 5, -1), -1)), w, \
                _nearest(words, stems, stop, range(i + 1, min(i + 5, len(words))))


def _nearest(words, stems, stop, positions) -> str:
    for j in positions:
        if words[j] not in stop:
            return stems[j]
    return ""


def _asks(text: str):
    """The answer kinds asked for by wh-words that open a sentence. "what",
    "which" and "how" ask for anything, so only the specific ones count."""
    for sentence in _SENTENCE.split(text):
        words = sentence.split(maxsplit=2)
        if words and words[0] in _WH:
            yield _WH[words[0]]
        if len(words) > 1 and words[0] == "how" and words[1] in ("many", "much"):
            yield "amount"
