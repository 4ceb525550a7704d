"""Deterministic sensitive-data detection: regex shapes confirmed by checksums.

No ML on purpose: the privacy rule (sensitive prompts stay on local models)
must be explainable and must not drift with an encoder. Each kind pairs a
loose shape with a validator (Luhn, mod-97, SSN rules, octet ranges, NANP
rules) so that prices, years, order numbers and version strings do not trip it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

# ---------------------------------------------------------------- shapes

_EMAIL = re.compile(
    r"(?<![\w.+-])[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b"
)

# International numbers must carry "+CC"; without it, digit groups are too
# ambiguous (amounts, IDs). The digit count is checked afterwards (E.164).
_PHONE_INTL = re.compile(r"(?<![\w+])\+\d{1,3}(?:[ .-]?\(?\d{1,5}\)?){2,7}(?!\d)")
# North American: (415) 555-0100, 415-555-0100, 415.555.0100, 1-415-555-0100.
# Separators are required so a bare 10-digit ID is not a phone number.
_PHONE_US = re.compile(
    r"(?<![\w+-])(?:\+?1[ .-]?)?(?:\((\d{3})\)\s?|(\d{3})[ .-])(\d{3})[ .-](\d{4})(?![\d-]|\.\d)"
)

# 13-19 digits, single spaces or dashes allowed between any two of them.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d]|-\d)")

# Two letters, two check digits, then 11-30 alphanumerics in groups.
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", re.IGNORECASE)

_SSN = re.compile(r"(?<![\d-])(\d{3})-(\d{2})-(\d{4})(?![\d-]|\.\d)")

_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
# Exactly four octets: "1.2.3" and "1.2.3.4.5" are versions or section numbers.
_IPV4 = re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\.?\d|\w)")
# "version 10.0.19041.1" has four parts too; the word before it says so.
_VERSION_BEFORE = re.compile(r"\b(?:version|ver\.?|release|build|v)\s*$", re.IGNORECASE)

_API_KEYS = re.compile(
    "|".join(
        (
            # OpenAI/Anthropic style; the digit lookahead spares words like "sk-learn".
            r"\bsk-(?:proj-|ant-|live-|test-|svcacct-)?(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}",
            r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
            r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",  # AWS access key id
            r"\bgh[pousr]_[A-Za-z0-9]{30,}\b",  # GitHub tokens
            r"\bgithub_pat_[A-Za-z0-9_]{22,}",
            r"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
            r"\bAIza[0-9A-Za-z_-]{35}",  # Google API key
            r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
            r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----",
        )
    )
)

# ISO 13616 registry lengths. A known country fixes where the IBAN ends, so the
# words after it ("GB82 ... 32 is mine") are not glued onto the candidate.
_IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22,
    "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27,
    "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28,
    "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20,
    "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24,
    "ME": 22, "MK": 19, "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24,
    "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SC": 31,
    "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23, "TN": 24,
    "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}


# ------------------------------------------------------------ validators


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_ok(compact: str) -> bool:
    """ISO 13616 / ISO 7064 mod 97-10 on an upper-case IBAN without spaces."""
    if not 15 <= len(compact) <= 34 or not compact.isalnum():
        return False
    rearranged = compact[4:] + compact[:4]
    # int(ch, 36) maps digits to themselves and A..Z to 10..35, as the standard asks.
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _emails(text: str) -> bool:
    return "@" in text and _EMAIL.search(text) is not None


def _phones(text: str) -> bool:
    for m in _PHONE_US.finditer(text):
        area = m.group(1) or m.group(2)
        # NANP: area code and exchange never start with 0 or 1.
        if area[0] in "23456789" and m.group(3)[0] in "23456789":
            return True
    for m in _PHONE_INTL.finditer(text):
        if 8 <= sum(ch.isdigit() for ch in m.group()) <= 15:
            return True
    return False


def _cards(text: str) -> bool:
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        # Issuer ranges start with 2-6 (Mastercard 2-series, Amex/Diners/JCB,
        # Visa, Mastercard, Discover/UnionPay); this drops zero-padded IDs.
        if digits[0] in "23456" and luhn_ok(digits):
            return True
    return False


def _ibans(text: str) -> bool:
    for m in _IBAN.finditer(text):
        raw = m.group().upper()
        for candidate in _iban_candidates(raw):
            if iban_ok(candidate):
                return True
    return False


def _iban_candidates(raw: str) -> Iterator[str]:
    """Prefixes of the match that could be the whole IBAN."""
    compact = raw.replace(" ", "")
    length = _IBAN_LENGTHS.get(raw[:2])
    if length is not None:
        if len(compact) >= length:
            yield compact[:length]
        return
    # Unknown country: try each end of a space-separated group.
    pos = 0
    for group in raw.split(" "):
        pos += len(group)
        if pos >= 15:
            yield compact[:pos]


def _ssns(text: str) -> bool:
    for m in _SSN.finditer(text):
        area, group, serial = m.groups()
        if area != "000" and area != "666" and area[0] != "9" and group != "00" and serial != "0000":
            return True
    return False


def _ips(text: str) -> bool:
    for m in _IPV4.finditer(text):
        if not _VERSION_BEFORE.search(text, max(0, m.start() - 10), m.start()):
            return True
    return False


def _api_keys(text: str) -> bool:
    return _API_KEYS.search(text) is not None


# PHI: a labelled date of birth or medical record number. The label is what
# makes it an identifier: "born in 1961" or a bare date is not one.
_DOB = re.compile(r"\b(?:DOB|D\.O\.B\.?|date of birth|born on)\s*[:#-]?\s*"
                  r"(?:\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{1,2}\s+[A-Za-z]{3,9}\s+\d{4}|[A-Za-z]{3,9}\s+\d{1,2},?\s+\d{4})",
                  re.IGNORECASE)
_MRN = re.compile(r"\b(?:MRN|medical record (?:number|no\.?|#))\s*[:#-]?\s*[A-Z]{0,3}\d{5,}\b", re.IGNORECASE)


def _medical_ids(text: str) -> bool:
    return _DOB.search(text) is not None or _MRN.search(text) is not None


_DETECTORS: tuple[tuple[str, Callable[[str], bool]], ...] = (
    ("api_key", _api_keys),
    ("card", _cards),
    ("email", _emails),
    ("iban", _ibans),
    ("ip_address", _ips),
    ("medical_id", _medical_ids),
    ("phone", _phones),
    ("ssn", _ssns),
)
KINDS: tuple[str, ...] = tuple(kind for kind, _ in _DETECTORS)


def detect_sensitive(text: str) -> tuple[str, ...]:
    """The sorted kinds of sensitive data found in `text` (empty when none)."""
    if not text:
        return ()
    # _DETECTORS is in alphabetical order, so the result is already sorted.
    return tuple(kind for kind, found in _DETECTORS if found(text))
