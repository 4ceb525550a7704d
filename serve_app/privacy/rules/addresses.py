"""Street addresses and P.O. boxes, in English and in the European forms the corpus meets.

Owns "221B Baker Street", "12 rue de Rivoli", "Via Torre di Mezzavia 48",
"Jakobstrasse 89, 4943 Oeschenbach", "Edeby 55, Apt. 297", "PO Box 255",
military post ("DPO AE 90744") and cue phrases ("I live at ...", "ship it
to ..."). A house number is required: a city or a street name alone is not
an address. Every pattern has a trigger (a word or substring it cannot match
without), checked with set lookups first: Python's regex engine tries a
many-word alternation at every character, which would cost more than all
other rules together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from serve_app.privacy.findings import Span

_CAP = r"[^\W\d_a-z][\w'’.-]*"
_LINK = r"(?:de|del|della|dei|degli|delle|dello|di|da|do|dos|das|la|le|du|des|van|von|der|den|of|the|y)"
_EN = ("Street St Avenue Ave Road Rd Boulevard Blvd Lane Ln Drive Dr Court Ct Place Pl Square Sq Terrace Terr Way "
       "Close Crescent Cres Parkway Pkwy Highway Hwy Circle Cir Trail Alley Row Gardens Grove Mews Walk Hill "
       "Heights Loop Pike Plaza Ridge Run Crossing Point").split()
_PREFIX = ("C/ Avda. Via Viale Piazza Piazzale Corso Vicolo Calle Avenida Av. Rua Travessa Largo Praça Carrer "
           "Passeig Paseo Plaza Camino Rue rue Avenue Boulevard Chemin chemin Cours Impasse Allée Quai Strada Ulica "
           "ul. al. Aleja Plac Osiedle Odos Leoforos Ulitsa Prospekt Rruga Calea").split()
# Street-type endings of compound names ("Jakobstrasse 89", "Kerkkolankatu 83"). English
# look-alikes are left out ("-ring" in During, "-gate" in delegate, "-tee" in committee).
_SUFFIXES = ("straße strasse str. gasse weg platz allee damm ufer gata gatan vägen väg vej veien vegen vei veg gade "
             "gränd stig backe torg plass vænget straat laan gracht plein kade singel katu tie polku kuja utca út tér "
             "u. krt. rkp. stræti straeti stræde braut vegur stien terrasse wei ulica cesta ulice náměstí sokak "
             "caddesi").split()
_UNITS = ("apt", "apartment", "suite", "ste", "flat")


def _alt(words: list[str]) -> str:
    return "(?:" + "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)) + ")"


_EN_TYPES, _PREFIX_TYPES, _SUFFIX_WORDS = _alt(_EN), _alt(_PREFIX), _alt(_SUFFIXES)
_NUM = r"\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
_UNIT = r"(?i:Apt|Apartment|Suite|Ste|Flat)\.?\s*#?\s*\d+[A-Za-z]?"
_POSTCODE = r"(?:[A-Z]{1,2}-?)?\d{3,5}(?:[ -]\d{2,3})?(?: [A-Z]{2})?"

_EN_WORDS = frozenset(w.lower() for w in _EN)
_PREFIX_WORDS = frozenset(w.lower().strip("./") for w in _PREFIX)
_SUFFIX_STRINGS = tuple(_SUFFIXES)
# (words any of which must occur, substrings any of which must occur, pattern); None: no such condition.
_PATTERNS: tuple[tuple[frozenset | None, tuple | None, re.Pattern], ...] = (
    (_EN_WORDS, None, re.compile(rf"\b{_NUM},?\s+(?:(?:{_CAP}|{_LINK})\s+){{0,4}}{_EN_TYPES}\b\.?")),
    (_PREFIX_WORDS, None, re.compile(rf"\b{_NUM},?\s+(?i:{_PREFIX_TYPES})\s+(?:(?:{_LINK}|l'|d')\s*)?{_CAP}(?:\s+{_CAP}){{0,3}}")),
    (_PREFIX_WORDS, None, re.compile(rf"(?<!\w){_PREFIX_TYPES}\s+(?:(?:{_CAP}|{_LINK}|\d{{1,2}})\s+){{0,5}}?{_NUM}\b(?![.,]\d)")),
    (None, _SUFFIX_STRINGS, re.compile(rf"\b{_CAP}(?i:{_SUFFIX_WORDS})\s+{_NUM}\b")),
    (None, _SUFFIX_STRINGS, re.compile(rf"\b{_NUM}\s+(?:{_CAP}\s+){{0,3}}{_CAP}(?i:{_SUFFIX_WORDS})(?!\w)")),
    (None, _SUFFIX_STRINGS, re.compile(rf"\b[a-zà-ž]{{3,}}{_SUFFIX_WORDS}\s+{_NUM}\b")),
    (None, _SUFFIX_STRINGS + ("gate",), re.compile(rf"\b{_CAP}\s+(?:{_CAP}\s+)?(?i:{_SUFFIX_WORDS}|gate)\s+{_NUM}\b")),
    # US military post: "Unit 8505 Box 9220, DPO AE 90744", "USNS Møller, FPO AA 85844".
    (frozenset({"apo", "fpo", "dpo"}), None, re.compile(r"\b(?:APO|FPO|DPO)\s+(?:AA|AE|AP)\s+\d{5}\b", re.IGNORECASE)),
    (None, ("box", "postfach", "apartado", "casilla", "boîte", "bp"), re.compile(
        r"\b(?:P\.? ?O\.? ?Box|Post ?box|Postfach|Apartado(?: de correos)?|Casilla|Boîte postale|BP)\s*\d{1,6}\b",
        re.IGNORECASE)),
    # Street words and a house number, then a postcode and a town: "Na Kopci 278, 533 41 Lázne",
    # or a town and a postcode: "Skrogvegen 9, HARSTAD 9411".
    (None, (",",), re.compile(rf"\b(?:{_CAP}\s+){{1,4}}{_NUM},\s*{_POSTCODE}\s+{_CAP}")),
    (None, (",",), re.compile(rf"\b(?:{_CAP}\s+){{1,4}}{_NUM}\.?,\s*{_CAP}(?:[\s-]+{_CAP}){{0,3}}\s+{_POSTCODE}\b")),
    (None, (",",), re.compile(rf"\b{_NUM}\s+{_CAP}(?:\s+{_CAP}){{0,3}},\s*{_CAP}(?:\s+{_CAP}){{0,2}}\s+{_POSTCODE}\b")),
    # A street line with a house number, then a unit: "544 Aqqusinersuaq\n Apt. 810", "Edeby 55, Apt. 297".
    (frozenset(_UNITS), None, re.compile(rf"\b{_NUM}\s+{_CAP}(?:\s+{_CAP}){{0,3}}\s*[,\n]?[\s>|?]*{_UNIT}")),
    (frozenset(_UNITS), None, re.compile(
        rf"(?<![\w-])(?:{_NUM}\s+)?{_CAP}[^\n,;:?!]{{0,40}}?\s\d{{1,5}}[A-Za-z]?\.?\s*[,\n/]?[\s>|?/]*{_UNIT}")),
)
_ADDRESS_CUE = re.compile(
    r"\b(?:address(?: is| to| of [\w ]{1,30} is|:| here)|address(?:es)?,? (?:here )?(?:it is|they are|is)|"
    r"(?:live|lives|living|reside|resides|stay|stays|located|situated) (?:at|on)|taxi to|(?:is|are) on|"
    r"(?:ship|send|deliver|mail|post|return|forward) (?:it |them |this |that |the \w+ |everything )?to|"
    r"moved to|relocated to|residing at|domiciled at)\s+",
    re.IGNORECASE,
)
_CUE_WORDS = frozenset({"address", "addresses", "live", "lives", "living", "reside", "resides", "stay", "stays",
                        "located", "situated", "taxi", "ship", "send", "deliver", "mail", "post", "return",
                        "forward", "moved", "relocated", "residing", "domiciled"})
_NOT_PLACE = re.compile(r"(?:room|gate|table|desk|floor|page|line|step|version|chapter|section|level|"
                        r"terminal|platform|seat|slide|row|item|task|ticket|order)\b", re.IGNORECASE)
_ADDRESS_CORE = re.compile(rf"(?:{_NUM},?\s+(?:{_CAP}|(?:rue|via|calle|avenida|rua|chemin|avenue|street|road)\b)|"
                           rf"(?:{_CAP}\s+){{1,4}}{_NUM}\b)")
_ENDS_WITH_YEAR = re.compile(r"\b(?:19|20)\d\d\b\W*$")
_ENGLISH_LOOKALIKES = frozenset({"brigade", "renegade"})


def addresses(text: str) -> Iterator[Span]:
    if not any(c.isdigit() for c in text):
        return  # every form needs a house or box number
    lower = text.lower()
    words = set(re.findall(r"[^\W\d_]+", lower))
    for need_words, need_strings, pattern in _PATTERNS:
        if need_words is not None and not (words & need_words):
            continue
        if need_strings is not None and not any(s in lower for s in need_strings):
            continue
        for m in pattern.finditer(text):
            # "During 1998", "Brigade 1917": a year after a word is a date, not a house number.
            if _ENDS_WITH_YEAR.search(m.group()) or m.group().split()[0].lower() in _ENGLISH_LOOKALIKES:
                continue
            yield Span("STREET_ADDRESS", m.start(), m.end(), 0.85)
    if words & _CUE_WORDS:
        yield from _after_cue(text)


def _after_cue(text: str) -> Iterator[Span]:
    for m in _ADDRESS_CUE.finditer(text):
        chunk = re.match(r"(?:[^.\n;!?]|\.(?!\s+[A-Z][a-z]+\s+[a-z]))+", text[m.end(): m.end() + 90])
        if not chunk or len(chunk.group()) < 4 or _NOT_PLACE.match(chunk.group()):
            continue
        words = chunk.group()
        # A house number next to a name, early on: "the north side of Rua Diadema 1903".
        if _ADDRESS_CORE.search(words[:48]) and not re.match(r"\s*\d{1,2}(?::\d\d|\s*(?:am|pm|o'clock))", words, re.I):
            yield Span("STREET_ADDRESS", m.end(), m.end() + len(words.rstrip(" ,")), 0.75)
