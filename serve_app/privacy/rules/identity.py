"""Identity documents, dates of birth and account numbers.

Owns rules where a label or a birth cue makes a value identifying:
"driver's licence D1234567", "passport no. X12345678", "NI number
GH 25 46 21 D", "account number 0045 1237 8", "born on 14 March 1985".
Bare numbers without a label are left alone (order numbers, room numbers,
versions). Street addresses live in `addresses.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from serve_app.privacy.findings import Span

# -------------------------------------------------------- labelled values

_TOKEN = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9./-]*[A-Za-z0-9])?|[#:=]")
_FILLER = frozenset({"number", "numbers", "no", "no.", "nr", "nr.", "num", "#", "is", "was", "id", "of",
                     "the", "my", "his", "her", "their", ":", "=", "-", "code", "reads"})
_BARE_YEAR = re.compile(r"(?:19|20)\d\d")


def value_after(text: str, pos: int, *, min_digits: int = 4, max_chars: int = 28,
                mixed_ok: bool = False) -> tuple[int, int] | None:
    """The ID-like value right after a label: tokens with digits or short capitals, e.g. "GH 25 46 21 D".

    `mixed_ok` also accepts one upper-case token of 7+ letters and digits with
    fewer digits ("C3WXWM3F5", a German passport). A bare year is not an ID.
    """
    start = end = None
    digits = 0
    fillers = 0
    for m in _TOKEN.finditer(text, pos, min(len(text), pos + 90)):
        tok = m.group()
        gap = text[(end if end is not None else pos): m.start()]
        if "\n" in gap or (end is not None and any(c in gap for c in ",;()")):
            break
        if start is None and tok.lower() in _FILLER and fillers < 5:
            fillers += 1
            continue
        idlike = any(c.isdigit() for c in tok) or (tok.isupper() and len(tok) <= 3)
        if not idlike or (start is not None and m.end() - start > max_chars):
            break
        start = m.start() if start is None else start
        end = m.end()
        digits += sum(c.isdigit() for c in tok)
    if start is None or _BARE_YEAR.fullmatch(text[start:end]):
        return None
    value = text[start:end]
    mixed = mixed_ok and len(value) >= 7 and value.isalnum() and value.isupper() and digits >= 1
    if digits < min_digits and not mixed:
        return None
    return start, end


def _labelled(text: str, label: re.Pattern, entity: str, score: float, min_digits: int,
              mixed_ok: bool = False) -> Iterator[Span]:
    for m in label.finditer(text):
        found = value_after(text, m.end(), min_digits=min_digits, mixed_ok=mixed_ok)
        if found:
            yield Span(entity, found[0], found[1], score)


_LICENCE = re.compile(
    r"\b(?:driver'?s?'? ?licen[cs]e|driving licen[cs]e|licen[cs]e (?:number|no\b|#|id)|lic\. ?(?:no|#)|"
    r"dl (?:number|no\b|#)|permis de conduire|f(?:ü|ue|u)hrerschein(?:nummer)?|rijbewijs(?:nummer)?|"
    r"carnet de conducir|patente di guida|cdl)",
    re.IGNORECASE,
)
_DL = re.compile(r"\b(?:DL|D/L)\b")
# UK DVLA: 5 surname letters, 6 digits (birth), 2 initials, check digit, 2 letters.
_UK_LICENCE = re.compile(r"\b[A-Z9]{5}\d{6}[A-Z9]{2}\d[A-Z]{2}\b")
_PASSPORT = re.compile(r"\bpass ?port(?:s|'s)?\b", re.IGNORECASE)
_MRZ = re.compile(r"\bP<[A-Z]{3}[A-Z]+<<[A-Z<]{5,}")
_NATIONAL_ID = re.compile(
    r"\b(?:national (?:id(?:entity)?|identification|insurance)|ni number|nino|nhs (?:number|no\b)|"
    r"social insurance number|sin\b(?= *(?:number|no\b|#|:|is))|tax (?:id|identification|file|reference)|"
    r"\btin\b|\bitin\b|tfn|aadhaa?r|pan (?:card|number)|nif|nie|dni|bsn|cpf|curp|rfc|personnummer|pesel|"
    r"codice fiscale|steuer-?id|steueridentifikationsnummer|medicare (?:number|card|id)|medicaid (?:id|number)|"
    r"health (?:card|insurance) (?:number|no\b|id)|id card (?:number|no\b)|identity card|citizen (?:id|number)|"
    r"cnp|egn|hetu|henkil(?:ö|o)tunnus|cpr(?: number| nr)?|f(?:ø|o)dselsnummer|kennitala|ahv|oib|emšo|emso|"
    r"isikukood|rodné číslo|birth number|personal (?:id|identification|identity) (?:number|code|no\b))",
    re.IGNORECASE,
)
_ACCOUNT = re.compile(
    r"\b(?:(?:bank |checking |savings |current )?account (?:number|no\b|#|num\b)|acct\.?|a/c|"
    r"routing (?:number|no\b|#)|aba(?: number)?|sort code|bsb|swift|bic|"
    r"policy (?:number|no\b|#)|member (?:id|number|no\b)|subscriber (?:id|number)|group (?:number|no\b)|"
    r"beneficiary (?:id|number)|insurance (?:id|number|policy)|health plan (?:id|number))",
    re.IGNORECASE,
)
_ACCOUNT_BARE = re.compile(r"\baccount\s*#?\s*(?=\d{6})", re.IGNORECASE)


_VEHICLE = re.compile(r"\b(?:licen[cs]e plate|number plate|plate number|registration (?:number|plate)|reg(?:istration)? no\.?|"
                      r"vin(?: number)?|vehicle identification number)", re.IGNORECASE)


def vehicles(text: str) -> Iterator[Span]:
    yield from _labelled(text, _VEHICLE, "VEHICLE_ID", 0.85, 2)


def licences(text: str) -> Iterator[Span]:
    yield from _labelled(text, _LICENCE, "DRIVER_LICENSE", 0.9, 4)
    yield from _labelled(text, _DL, "DRIVER_LICENSE", 0.85, 5)
    for m in _UK_LICENCE.finditer(text):
        yield Span("DRIVER_LICENSE", m.start(), m.end(), 0.9)


def passports(text: str) -> Iterator[Span]:
    yield from _labelled(text, _PASSPORT, "PASSPORT", 0.9, 4, mixed_ok=True)
    for m in _MRZ.finditer(text):
        yield Span("PASSPORT", m.start(), m.end(), 0.95)


def national_ids(text: str) -> Iterator[Span]:
    yield from _labelled(text, _NATIONAL_ID, "NATIONAL_ID", 0.9, 5)


def account_numbers(text: str) -> Iterator[Span]:
    yield from _labelled(text, _ACCOUNT, "ACCOUNT_NUMBER", 0.9, 6)
    yield from _labelled(text, _ACCOUNT_BARE, "ACCOUNT_NUMBER", 0.85, 6)


# ---------------------------------------------------------- date of birth

_MONTH = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_UNIT = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TEEN = r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
_TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
_ORD_UNIT = r"(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth)"
_ORD = (rf"(?:{_ORD_UNIT}|tenth|eleventh|twelfth|(?:thir|four|fif|six|seven|eigh|nine)teenth|"
        rf"twentieth|thirtieth|(?:twenty|thirty)[ -]{_ORD_UNIT})")
_CARDINAL_DAY = rf"(?:{_UNIT}|{_TEEN}|twenty(?:[ -]{_UNIT})?|thirty(?:[ -]one)?)"
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORD}|{_CARDINAL_DAY})"
_YEAR_WORDS = (rf"(?:(?:nineteen|twenty)[ -](?:hundred|oh[ -]{_UNIT}|{_TEEN}|{_TENS}(?:[ -]{_UNIT})?)|"
               rf"two thousand(?: and)?(?:[ -](?:{_TEEN}|{_TENS}(?:[ -]{_UNIT})?|{_UNIT}))?)")
_YEAR = rf"(?:\d{{4}}|'\d{{2}}|{_YEAR_WORDS})"
_DATE = (rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}[/.-]\d{{1,2}}[/.-]\d{{1,2}}|"
         rf"(?:the )?{_DAY}(?: of)?[ -]{_MONTH},?[ -]{_YEAR}|{_MONTH} (?:the )?{_DAY},? {_YEAR})")
_BIRTH = re.compile(
    rf"\b(?:born|dob|d\.o\.b\.?|date of birth|birth ?date|birthday|date de naissance|geburtsdatum|"
    rf"fecha de nacimiento)(?=[\s:,.(-])[^\n;]{{0,32}}?\b({_DATE})",
    re.IGNORECASE,
)
# The label after the date: "14.03.1985 (DOB)", "3 May 1990 - date of birth".
_BIRTH_AFTER = re.compile(rf"\b({_DATE})\s*[(\[,-]?\s*(?:dob|d\.o\.b\.?|date of birth|born|birth ?date)\b",
                          re.IGNORECASE)
_ANY_DATE = re.compile(rf"\b{_DATE}\b", re.IGNORECASE)


def dates(text: str) -> Iterator[Span]:
    """Full dates (day, month and year). Not private alone; in a sensitive text they are PHI."""
    for m in _ANY_DATE.finditer(text):
        if _real_date(m.group()):
            yield Span("DATE_TIME", m.start(), m.end(), 0.6)


# Birth years this old belong to historical figures, not to data subjects.
_OLDEST_YEAR = 1920


_NUMERIC_DATE = re.compile(r"(\d{1,4})([/.-])(\d{1,2})([/.-])(\d{1,4})")


def _real_date(value: str) -> bool:
    """A numeric date uses one separator and a possible day and month ("36-0.64" is not one)."""
    m = _NUMERIC_DATE.fullmatch(value)
    if not m:
        return True  # written with a month name
    a, sep1, b, sep2, c = m.groups()
    if sep1 != sep2:
        return False
    first, second = (int(b), int(c)) if len(a) == 4 else (int(a), int(b))
    return 1 <= min(first, second) and max(first, second) <= 31 and min(first, second) <= 12


def dates_of_birth(text: str) -> Iterator[Span]:
    for m in list(_BIRTH.finditer(text)) + list(_BIRTH_AFTER.finditer(text)):
        if not _real_date(m.group(1)):
            continue
        year = re.search(r"\d{4}", m.group(1))
        if year and int(year.group()) < _OLDEST_YEAR and not re.match(r"\d{4}[/.-]", m.group(1)):
            continue
        yield Span("DATE_OF_BIRTH", m.start(1), m.end(1), 0.95)
