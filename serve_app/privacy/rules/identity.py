"""Identity documents, dates of birth, account numbers and street addresses.

Owns rules where a label or a street/birth cue makes a value identifying:
"driver's licence D1234567", "passport no. X12345678", "NI number
GH 25 46 21 D", "account number 0045 1237 8", "born on 14 March 1985",
"Jakobstrasse 89, 4943 Oeschenbach". Bare numbers without a label are
left alone (order numbers, room numbers, versions).
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
_DAY = rf"(?:\d{{1,2}}(?:st|nd|rd|th)?|{_ORD})"
_YEAR_WORDS = (rf"(?:(?:nineteen|twenty)[ -](?:hundred|oh[ -]{_UNIT}|{_TEEN}|{_TENS}(?:[ -]{_UNIT})?)|"
               rf"two thousand(?: and)?(?:[ -](?:{_TEEN}|{_TENS}(?:[ -]{_UNIT})?|{_UNIT}))?)")
_YEAR = rf"(?:\d{{4}}|'\d{{2}}|{_YEAR_WORDS})"
_DATE = (rf"(?:\d{{1,2}}[/.-]\d{{1,2}}[/.-](?:\d{{4}}|\d{{2}})|\d{{4}}[/.-]\d{{1,2}}[/.-]\d{{1,2}}|"
         rf"(?:the )?{_DAY}(?: of)?[ -]{_MONTH},?[ -]{_YEAR}|{_MONTH} (?:the )?{_DAY},? {_YEAR})")
_BIRTH = re.compile(
    rf"\b(?:born|dob|d\.o\.b\.?|date of birth|birth ?date|birthday|date de naissance|geburtsdatum|"
    rf"fecha de nacimiento|b\.)(?=[\s:,.(-])[^\n;]{{0,32}}?\b({_DATE})",
    re.IGNORECASE,
)
_ANY_DATE = re.compile(rf"\b{_DATE}\b", re.IGNORECASE)


def dates(text: str) -> Iterator[Span]:
    """Full dates (day, month and year). Not private alone; in a sensitive text they are PHI."""
    for m in _ANY_DATE.finditer(text):
        yield Span("DATE_TIME", m.start(), m.end(), 0.6)


# Birth years this old belong to historical figures, not to data subjects.
_OLDEST_YEAR = 1920


def dates_of_birth(text: str) -> Iterator[Span]:
    for m in _BIRTH.finditer(text):
        year = re.search(r"\d{4}", m.group(1))
        if year and int(year.group()) < _OLDEST_YEAR and not re.match(r"\d{4}[/.-]", m.group(1)):
            continue
        yield Span("DATE_OF_BIRTH", m.start(1), m.end(1), 0.95)


# --------------------------------------------------------------- addresses

_CAP = r"[^\W\d_a-z][\w'’.-]*"
_LINK = r"(?:de|del|della|di|da|do|dos|la|le|du|des|van|von|der|den|of|the|y)"
_EN_TYPES = (r"(?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Place|Pl|Square|Sq|"
             r"Terrace|Terr|Way|Close|Crescent|Cres|Parkway|Pkwy|Highway|Hwy|Circle|Cir|Trail|Alley|Row|"
             r"Gardens|Grove|Mews|Walk|Hill|Heights|Loop|Pike|Plaza|Ridge|Run|Crossing|Point)")
_PREFIX_TYPES = (r"(?:C/|Avda\.|Via|Viale|Piazza|Piazzale|Corso|Vicolo|Calle|Avenida|Av\.|Rua|Travessa|Largo|Praça|Carrer|"
                 r"Passeig|Paseo|Plaza|Camino|Rue|rue|Avenue|Boulevard|Chemin|chemin|Cours|Impasse|Allée|Quai|"
                 r"Strada|Ulica|ul\.|al\.|Aleja|Plac|Osiedle|Odos|Leoforos|Ulitsa|Prospekt|Rruga|Calea)")
# Street-type endings of compound names ("Jakobstrasse 89", "Kerkkolankatu 83"). English
# look-alikes are left out ("-ring" in During, "-gate" in delegate, "-tee" in committee).
_SUFFIX_WORDS = (r"(?:straße|strasse|str\.|gasse|weg|platz|allee|damm|ufer|gata|gatan|vägen|väg|vej|veien|"
                 r"vegen|vei|veg|gade|gränd|stig|backe|torg|plass|vænget|straat|laan|gracht|plein|kade|singel|katu|tie|"
                 r"polku|kuja|utca|út|tér|u\.|krt\.|rkp\.|stræti|straeti|stræde|braut|vegur|stien|terrasse|wei|"
                 r"ulica|cesta|ulice|náměstí|sokak|caddesi)")
_NUM = r"\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?)?"
_UNIT = r"(?i:Apt|Apartment|Suite|Ste|Flat)\.?\s*#?\s*\d+[A-Za-z]?"
_POSTCODE = r"(?:[A-Z]{1,2}-?)?\d{3,5}(?:[ -]\d{2,3})?(?: [A-Z]{2})?"
_ADDRESSES = (
    re.compile(rf"\b{_NUM},?\s+(?:(?:{_CAP}|{_LINK})\s+){{0,4}}{_EN_TYPES}\b\.?"),
    re.compile(rf"\b{_NUM},?\s+(?i:{_PREFIX_TYPES})\s+(?:(?:{_LINK}|l'|d')\s*)?{_CAP}(?:\s+{_CAP}){{0,3}}"),
    re.compile(rf"(?<!\w){_PREFIX_TYPES}\s+(?:(?:{_CAP}|{_LINK}|\d{{1,2}})\s+){{0,5}}?{_NUM}\b(?![.,]\d)"),
    re.compile(rf"\b{_CAP}(?i:{_SUFFIX_WORDS})\s+{_NUM}\b"),
    re.compile(rf"\b{_NUM}\s+(?:{_CAP}\s+){{0,3}}{_CAP}(?i:{_SUFFIX_WORDS})(?!\w)"),
    re.compile(rf"\b[a-zà-ž]{{3,}}(?:{_SUFFIX_WORDS})\s+{_NUM}\b"),
    re.compile(rf"\b{_CAP}\s+(?:{_CAP}\s+)?(?i:{_SUFFIX_WORDS}|gate)\s+{_NUM}\b"),
    # US military post: "Unit 8505 Box 9220, DPO AE 90744", "USNS Møller, FPO AA 85844".
    re.compile(r"\b(?:APO|FPO|DPO)\s+(?:AA|AE|AP)\s+\d{5}\b", re.IGNORECASE),
    re.compile(r"\b(?:P\.? ?O\.? ?Box|Post ?box|Postfach|Apartado(?: de correos)?|Casilla|Boîte postale|BP)\s*\d{1,6}\b",
               re.IGNORECASE),
    # Street words and a house number, then a postcode and a town: "Na Kopci 278, 533 41 Lázne",
    # or a town and a postcode: "Skrogvegen 9, HARSTAD 9411".
    re.compile(rf"\b(?:{_CAP}\s+){{1,4}}{_NUM},\s*{_POSTCODE}\s+{_CAP}"),
    re.compile(rf"\b(?:{_CAP}\s+){{1,4}}{_NUM}\.?,\s*{_CAP}(?:[\s-]+{_CAP}){{0,3}}\s+{_POSTCODE}\b"),
    re.compile(rf"\b{_NUM}\s+{_CAP}(?:\s+{_CAP}){{0,3}},\s*{_CAP}(?:\s+{_CAP}){{0,2}}\s+{_POSTCODE}\b"),
    # A street line with a house number, then a unit: "544 Aqqusinersuaq\n Apt. 810", "Edeby 55, Apt. 297".
    re.compile(rf"\b{_NUM}\s+{_CAP}(?:\s+{_CAP}){{0,3}}\s*[,\n]?[\s>|?]*{_UNIT}"),
    re.compile(rf"(?<![\w-])(?:{_NUM}\s+)?{_CAP}[^\n,;:?!]{{0,40}}?\s\d{{1,5}}[A-Za-z]?\.?\s*[,\n/]?[\s>|?/]*{_UNIT}"),
)
_ADDRESS_CUE = re.compile(
    r"\b(?:address(?: is| to| of [\w ]{1,30} is|:| here)|address(?:es)?,? (?:here )?(?:it is|they are|is)|"
    r"(?:live|lives|living|reside|resides|stay|stays|located|situated|based) (?:at|on)|taxi to|"
    r"(?:ship|send|deliver|mail|post|return|forward) (?:it |them |this |that |the \w+ |everything )?to|"
    r"moved to|relocated to|residing at|domiciled at)\s+",
    re.IGNORECASE,
)
_NOT_PLACE = re.compile(r"(?:room|gate|table|desk|floor|page|line|step|version|chapter|section|level|"
                        r"terminal|platform|seat|slide|row|item|task|ticket|order)\b", re.IGNORECASE)


_ENDS_WITH_YEAR = re.compile(r"\b(?:19|20)\d\d\b\W*$")
_ENGLISH_LOOKALIKES = frozenset({"brigade", "renegade"})


def addresses(text: str) -> Iterator[Span]:
    for pattern in _ADDRESSES:
        for m in pattern.finditer(text):
            # "During 1998", "Brigade 1917": a year after a word is a date, not a house number.
            if _ENDS_WITH_YEAR.search(m.group()) or m.group().split()[0].lower() in _ENGLISH_LOOKALIKES:
                continue
            yield Span("STREET_ADDRESS", m.start(), m.end(), 0.85)
    for m in _ADDRESS_CUE.finditer(text):
        chunk = re.match(r"(?:[^.\n;!?]|\.(?!\s+[A-Z][a-z]+\s+[a-z]))+", text[m.end(): m.end() + 90])
        if not chunk or len(chunk.group()) < 4 or _NOT_PLACE.match(chunk.group()):
            continue
        words = chunk.group()
        if re.search(r"\b\d{1,5}[A-Za-z]?\b", words) and re.search(r"[^\W\d_a-z][^\W\d_A-Z]{2,}", words) \
                and not re.match(r"\s*\d{1,2}(?::\d\d|\s*(?:am|pm|o'clock))", words, re.IGNORECASE):
            yield Span("STREET_ADDRESS", m.end(), m.end() + len(words.rstrip(" ,")), 0.75)
