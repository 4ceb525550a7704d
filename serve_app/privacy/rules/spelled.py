"""Numbers spelled out in words, alone or mixed with digits.

Owns "four one one one, one one one one, ...", "5 3 6 two two 1 2 3 4",
"double five, triple oh": a run of number words becomes a digit string,
then the same checks as for digits apply (Luhn for cards, SSN ranges) or
the label before it names what it is (SSN, phone, account, PIN).
Nobody spells out nine or more digits in words except to dodge a filter
or to dictate an identifier, so a long run is reported even unlabelled.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from serve_app.privacy.findings import Span
from serve_app.privacy.validators import luhn_ok

_UNITS = {"zero": "0", "oh": "0", "o": "0", "nil": "0", "nought": "0", "one": "1", "two": "2", "three": "3",
          "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9"}
_TEENS = {"ten": "10", "eleven": "11", "twelve": "12", "thirteen": "13", "fourteen": "14", "fifteen": "15",
          "sixteen": "16", "seventeen": "17", "eighteen": "18", "nineteen": "19"}
_TENS = {"twenty": "2", "thirty": "3", "forty": "4", "fourty": "4", "fifty": "5", "sixty": "6",
         "seventy": "7", "eighty": "8", "ninety": "9"}
_REPEAT = {"double": 2, "triple": 3}
_ZEROS = {"hundred": "00", "thousand": "000"}
_TOKEN = re.compile(r"[A-Za-z]+|\d+")
_GAP = re.compile(r"[\s,\-/]{0,3}")
_CUES = (
    ("US_SSN", re.compile(r"\b(?:ssn|social security|social)\b", re.IGNORECASE)),
    ("PASSWORD", re.compile(r"\b(?:pin|passcode|password|code|combination)\b", re.IGNORECASE)),
    ("CREDIT_CARD", re.compile(r"\b(?:card|visa|mastercard|amex|credit|debit|cvv)\b", re.IGNORECASE)),
    ("ACCOUNT_NUMBER", re.compile(r"\b(?:account|acct|routing|iban|sort code)\b", re.IGNORECASE)),
    ("PASSPORT", re.compile(r"\bpassport\b", re.IGNORECASE)),
    ("DRIVER_LICENSE", re.compile(r"\blicen[cs]e\b", re.IGNORECASE)),
    ("PHONE_NUMBER", re.compile(r"\b(?:phone|call|mobile|cell|number|text me|reach me|dial)\b", re.IGNORECASE)),
)


def _runs(text: str) -> Iterator[tuple[int, int, str, list[str], bool]]:
    """(start, end, digits, per-token digits, has a word) for each run of number tokens."""
    start = end = None
    digits: list[str] = []
    has_word = False
    repeat = 1
    pending_tens = None  # "forty" waits for a unit: "forty one" -> 41
    for m in _TOKEN.finditer(text):
        tok = m.group().lower()
        contiguous = end is not None and _GAP.fullmatch(text[end:m.start()]) is not None
        value = _UNITS.get(tok) if (tok != "o" or contiguous) else None
        is_number = (value is not None or tok in _TEENS or tok in _TENS or tok in _REPEAT or tok.isdigit()
                     or (tok in _ZEROS and start is not None and contiguous))
        if not is_number or (end is not None and not contiguous):
            if start is not None:
                yield start, end, "".join(digits), digits, has_word
            start = end = None
            digits, has_word, repeat, pending_tens = [], False, 1, None
            if not is_number:
                continue
        if start is None:
            start = m.start()
        end = m.end()
        if tok in _ZEROS:
            digits.append(_ZEROS[tok])
            pending_tens = None
            continue
        if tok in _REPEAT:
            repeat = _REPEAT[tok]
            has_word = True
            continue
        if tok in _TENS:
            pending_tens = _TENS[tok]
            digits.append(pending_tens + "0")
            has_word = True
            continue
        if value is not None and pending_tens is not None:
            digits[-1] = pending_tens + value
            pending_tens = None
            continue
        pending_tens = None
        word = _TEENS.get(tok) or value or tok
        has_word = has_word or not tok.isdigit()
        digits.append(word * repeat)
        repeat = 1
    if start is not None:
        yield start, end, "".join(digits), digits, has_word


def _counting(parts: list[str]) -> bool:
    """1 2 3 4 5 ... or 10 9 8 7 ...: a count, not an identifier."""
    try:
        values = [int(p) for p in parts]
    except ValueError:
        return False
    steps = {b - a for a, b in zip(values, values[1:])}
    return len(values) >= 3 and steps in ({1}, {-1})


def _cardinal(words: str) -> bool:
    """"one thousand two hundred forty-eight" is a quantity, not dictated digits."""
    return re.search(r"\b(?:thousand|million|billion)\b", words, re.IGNORECASE) is not None


def _cue(text: str, start: int) -> str | None:
    before = text[max(0, start - 60): start]
    for entity, pattern in _CUES:
        if pattern.search(before):
            return entity
    return None


def _card(digits: str) -> bool:
    return any(13 <= n <= 19 and digits[0] in "23456" and luhn_ok(digits[:n]) for n in range(len(digits), 12, -1))


def spelled_numbers(text: str) -> Iterator[Span]:
    for start, end, digits, parts, has_word in _runs(text):
        if not has_word or len(digits) < 4:
            continue
        cue = _cue(text, start)
        if _card(digits):
            yield Span("CREDIT_CARD", start, end, 0.95)
        elif cue == "PASSWORD" and 4 <= len(digits) <= 8:
            yield Span("PASSWORD", start, end, 0.85)
        elif cue == "US_SSN" and len(digits) == 9:
            yield Span("US_SSN", start, end, 0.95)
        elif cue is not None and cue != "PASSWORD" and len(digits) >= 7:
            yield Span(cue, start, end, 0.85)
        elif len(digits) >= 9 and not _counting(parts) and not _cardinal(text[start:end]):
            yield Span("SPELLED_NUMBER", start, end, 0.7)
