"""Context cues: health, salary, account-record and special-category mentions.

Owns finding the *attribute* half of the person+attribute rules. A cue alone
is not sensitive ("what are the symptoms of HIV?", "is $85k a good salary?");
`serve_app.privacy.combine` keeps it only when a person is near. Lexicon
words are matched by token n-grams (hash lookups, not a 900-way regex), so
the cost stays flat as the lexicon grows.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from serve_app.privacy.findings import Span
from serve_app.privacy.rules.lexicon import HEALTH_ACRONYMS, HEALTH_HEADS, HEALTH_PHRASES, health_terms, special_terms

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’+]*")


class _Lexicon:
    """Phrases of 1-4 words, looked up by their first word."""

    def __init__(self, phrases: frozenset[str]):
        self.by_first: dict[str, list[tuple[int, str]]] = {}
        for phrase in phrases:
            words = phrase.split()
            self.by_first.setdefault(words[0], []).append((len(words), phrase))
        for options in self.by_first.values():
            options.sort(reverse=True)

    def find(self, tokens: tuple[tuple[int, int, str], ...]) -> Iterator[tuple[int, int]]:
        i = 0
        while i < len(tokens):
            options = self.by_first.get(tokens[i][2])
            hit = 0
            for n, phrase in options or ():
                if i + n <= len(tokens) and " ".join(t[2] for t in tokens[i:i + n]) == phrase:
                    hit = n
                    break
            if hit:
                yield tokens[i][0], tokens[i + hit - 1][1]
                i += hit
            else:
                i += 1


@lru_cache(maxsize=1)
def _health() -> _Lexicon:
    return _Lexicon(health_terms())


@lru_cache(maxsize=1)
def _special() -> _Lexicon:
    return _Lexicon(special_terms())


def _tokens(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, lower-case word) for each word."""
    lower = text.lower().replace("’", "'")
    if len(lower) != len(text):  # a few characters change length when lower-cased ("İ")
        return tuple((m.start(), m.end(), m.group().lower().replace("’", "'")) for m in _WORD.finditer(text))
    return tuple((m.start(), m.end(), m.group()) for m in _WORD.finditer(lower))


_HEALTH_PHRASES = re.compile("|".join(f"(?:{p})" for p in HEALTH_PHRASES), re.IGNORECASE)
# First words of HEALTH_PHRASES: the phrase regex is tried only where one of them (or a number) starts,
# since a 20-way alternation tried at every character costs more than all the rest of the rules.
_PHRASE_STARTS = frozenset(w.lower() for p in HEALTH_PHRASES for w in re.findall(r"[a-z0-9]+", p)) | {"a&e"}


# "and disease", "this disorder": not the name of a condition.
_NOT_MODIFIERS = frozenset("and the this that these those with without any other its their his her our your such "
                           "for from of disease disorder syndrome".split())


def health(text: str) -> Iterator[Span]:
    tokens = _tokens(text)
    for s, e in _health().find(tokens):
        yield Span("HEALTH_DATA", s, e, 0.85)
    for i, (s, e, word) in enumerate(tokens):
        if word in _PHRASE_STARTS or word[0].isdigit():
            m = _HEALTH_PHRASES.match(text, s)
            if m:
                yield Span("HEALTH_DATA", m.start(), m.end(), 0.85)
        if word in HEALTH_HEADS and i and len(tokens[i - 1][2]) >= 3 and s - tokens[i - 1][1] <= 2 \
                and tokens[i - 1][2] not in _NOT_MODIFIERS:
            yield Span("HEALTH_DATA", tokens[i - 1][0], e, 0.85)
        if text[s:e] in HEALTH_ACRONYMS:
            yield Span("HEALTH_DATA", s, e, 0.85)


def special_category(text: str) -> Iterator[Span]:
    for s, e in _special().find(_tokens(text)):
        yield Span("SPECIAL_CATEGORY", s, e, 0.85)


# ------------------------------------------------------------ money

_AMOUNT = re.compile(
    r"(?:[$€£¥₹]|\b(?:USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|PLN|INR|JPY|R)\s?)\s?\d[\d,.]*(?:\s?(?:k|m|mn|bn|million|thousand|grand)\b)?"
    r"|\b\d[\d,.]*\s?(?:k\b|K\b)?\s?(?:dollars|euros|pounds|francs|kronor|kroner|crowns|rupees|yen|"
    r"USD|EUR|GBP|CHF|CAD|AUD|SEK|NOK|DKK|PLN|INR)\b"
    r"|\b\d{2,3}(?:\.\d)?\s?[kK]\b(?!\s?(?:m|km|b|steps|words|tokens|rows|views|users|followers|ohm))",
)
_SALARY = re.compile(
    r"\b(?:salary|salaries|earns?|earning|earned|income|compensation|comp(?: package)?|wages?|paycheck|pay ?slip|"
    r"pay (?:rise|raise|cut|grade|band|rate|stub)|bonus|raise|remuneration|ote|stipend|take[- ]home|"
    r"(?:gets|got|is|was) paid|makes|made|per (?:year|annum|hour|month)|a year|an hour|/yr|/hr|p\.a\.|"
    r"annual(?:ly)?|hourly rate|day rate|equity|stock options|severance)\b",
    re.IGNORECASE,
)
_ACCOUNT_WORDS = re.compile(
    r"\b(?:account|acct|customer (?:number|no|id|#)|client (?:number|no|id|#)|member(?:ship)? (?:number|no|id)|"
    r"policy|loan|mortgage|balance|overdraft|credit (?:score|limit|history|rating|report)|debts?|arrears|"
    r"outstanding|owes|owed|overdue|statement|card ending(?: in)?|savings|checking|pension|401k|net worth|"
    r"portfolio|bankrupt(?:cy)?|default(?:ed)? on|collections|repossess\w*|foreclos\w*)\b",
    re.IGNORECASE,
)
# An account/customer number or a figure; a bare year ("net worth in 2021") is neither.
_RECORD_VALUE = re.compile(r"\b(?!(?:19|20)\d\d\b)\d[\d ,.-]{2,}\d\b|\b[A-Z]{1,3}-?\d{4,}\b")


def _near(cues: re.Pattern, values: re.Pattern, text: str, reach: int) -> Iterator[tuple[int, int]]:
    """Spans of `values` with a `cues` match within `reach` characters."""
    cue_spans = [(m.start(), m.end()) for m in cues.finditer(text)]
    if not cue_spans:
        return
    for m in values.finditer(text):
        if any(cs - reach <= m.end() and m.start() <= ce + reach for cs, ce in cue_spans):
            yield m.start(), m.end()


def salary(text: str) -> Iterator[Span]:
    for s, e in _near(_SALARY, _AMOUNT, text, 60):
        yield Span("SALARY", s, e, 0.85)


def account_record(text: str) -> Iterator[Span]:
    for s, e in _near(_ACCOUNT_WORDS, _RECORD_VALUE, text, 50):
        yield Span("ACCOUNT_RECORD", s, e, 0.85)
    for s, e in _near(_ACCOUNT_WORDS, _AMOUNT, text, 50):
        yield Span("ACCOUNT_RECORD", s, e, 0.85)
