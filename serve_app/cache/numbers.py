"""Numbers in text, for the numbers guard: values and arithmetic.

"seven levels" and "7 levels" hold one value; "2+2" and "2*2" hold the same
values but different arithmetic. Pure functions.
"""

from __future__ import annotations

import re

from serve_app.cache.lexicon import NUMBER_WORDS, OPERATOR_WORDS, SCALES

_NUM_TOKEN = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?(?:st|nd|rd|th|k)?(?![a-z\d])|[a-z\d]+|[-+*/^=<>%×÷]")
_PLAIN_NUMBER = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)(st|nd|rd|th|k)?$")


def mixed(word: str) -> bool:
    """A token of letters and digits ("2fa", "ipv6", "mp3"); not "1st" or "30k"."""
    return any(c.isdigit() for c in word) and any(c.isalpha() for c in word) \
        and not _PLAIN_NUMBER.match(word)


def read_numbers(text: str) -> tuple[list[float], list[str]]:
    """Numeric values (digits, number words, "3 million") and arithmetic
    signatures ("2+2", "5^2"). A "-" right before a digit, after a space or
    "(", is a sign; between two numbers it is a minus."""
    toks = [(m.group(), m.start()) for m in _NUM_TOKEN.finditer(text)]
    values: list[float] = []
    items: list = []  # float, operator str, or None for any other word
    i = 0
    while i < len(toks):
        value, i = _read_number(toks, i, text)
        if value is not None:
            values.append(value)
            items.append(value)
            continue
        tok = toks[i][0]
        op = OPERATOR_WORDS.get(tok) or (tok if len(tok) == 1 and not tok.isalnum() else None)
        if op and op.startswith("^") and len(op) > 1:  # "squared": ^ 2
            items += ["^", float(op[1:])]
            values.append(float(op[1:]))
        else:
            items.append(op)
        i += 2 if tok in ("divided", "multiplied") and i + 1 < len(toks) and toks[i + 1][0] == "by" else 1
    return values, _expressions(items)


def _read_number(toks, i, text) -> tuple[float | None, int]:
    """The number starting at toks[i] and the index after it, or (None, i)."""
    tok, start = toks[i]
    plain = _PLAIN_NUMBER.match(tok)
    if plain:
        value = float(plain.group(1).replace(",", "")) * (1000 if plain.group(2) == "k" else 1)
        if start >= 1 and text[start - 1] == "-" and (start == 1 or text[start - 2] in " ("):
            value = -value
        i += 1
        while i < len(toks) and toks[i][0] in SCALES:  # "3 million"
            value *= SCALES[toks[i][0]]
            i += 1
        return value, i
    total = group = 0.0
    seen, last = False, None  # last: "unit" | "tens" | "scale"
    while i < len(toks):
        tok = toks[i][0]
        nxt = toks[i + 1][0] if i + 1 < len(toks) else ""
        if tok in SCALES:
            scale = SCALES[tok]
            group = (group or 1.0) * scale if scale == 100 else group
            if scale >= 1000:
                total, group = total + (group or 1.0) * scale, 0.0
            seen, last = True, "scale"
        elif tok in NUMBER_WORDS or (tok == "one" and (nxt in SCALES or last == "tens")):
            value = float(NUMBER_WORDS.get(tok, 1))
            if seen and not (last == "scale" or (last == "tens" and value < 10)):
                break  # "two three" is two numbers
            group += value
            seen, last = True, ("tens" if value >= 20 and value % 10 == 0 else "unit")
        elif tok == "and" and seen and (nxt in NUMBER_WORDS or nxt in SCALES):
            pass
        else:
            break
        i += 1
    return (total + group if seen else None), i


def _expressions(items: list) -> list[str]:
    """Runs of number (operator number)+ as signatures: "2+2", "5^2"."""
    out, run = [], []
    for item in items + [None]:
        expect_number = not run or isinstance(run[-1], str)
        if isinstance(item, float) and expect_number:
            run.append(item)
            continue
        if isinstance(item, str) and run and not expect_number:
            run.append(item)
            continue
        if len(run) >= 3:
            complete = run if isinstance(run[-1], float) else run[:-1]
            out.append("".join(_fmt(x) for x in complete))
        run = [item] if isinstance(item, float) else []
    return out


def _fmt(x) -> str:
    return (str(int(x)) if x.is_integer() else str(x)) if isinstance(x, float) else x
