"""Triage's checksum- and shape-validated identifiers, as span finders.

Reuses the shapes and validators of `serve_app.privacy.validators` (Luhn,
IBAN mod-97, SSN ranges, NANP rules, octet ranges, key formats, labelled
DOB/MRN) so the old verdicts hold, and widens them where leaks showed gaps:
cards behind a stray digit or in dotted layouts, labelled phones without a
country code, IPv6, more token formats. Network ranges, netmasks and public
resolvers are not a host's address and are not reported.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from serve_app.privacy.findings import Span
from serve_app.privacy.validators import (  # the validators this package builds on
    _API_KEYS,
    _DOB,
    _EMAIL,
    _IBAN,
    _IPV4,
    _MRN,
    _PHONE_INTL,
    _PHONE_US,
    _SSN,
    _VERSION_BEFORE,
    _iban_candidates,
    iban_ok,
    luhn_ok,
)

# ------------------------------------------------------------------ cards

# Digit groups joined by a short separator: "4111 1111 1111 1111",
# "4111.1111.1111.1111", "4111 - 1111 - ...", "4 1 1 1 ...".
_DIGIT_RUN = re.compile(r"(?<![\w,-])\d+(?:(?: ?[-./_] ?| {1,2})\d+)*(?!\w)")
_GROUP = re.compile(r"\d+")
_MATH_NEAR = re.compile(
    r"[+*/^=×÷%]|\b(?:prime|factori[sz]e|factors?|divisible|mod(?:ulo)?|compute|calculate|multiply|"
    r"product|sum|digits|remainder|gcd|lcm|square|cube|root|log|sqrt|binary|hex|convert|round)\b",
    re.IGNORECASE,
)
_CARD_WORDS = re.compile(r"\b(?:card|visa|master ?card|amex|american express|discover|credit|debit|cc|cvv|"
                         r"pay(?:ment)?|charge|billing|expir\w*)\b", re.IGNORECASE)


def _card_ok(digits: str, labelled: bool = False) -> bool:
    # Issuer ranges start with 2-6 (see sensitive._cards): drops zero-padded IDs.
    # After a card label ("card #", "credit card number is") Maestro's 12-digit
    # and JCB's 1800/2131 15-digit numbers count too; Luhn still decides.
    if labelled:
        return 12 <= len(digits) <= 19 and luhn_ok(digits) and len(set(digits)) > 1
    return 13 <= len(digits) <= 19 and digits[0] in "23456" and luhn_ok(digits)


_CARD_LABEL = re.compile(r"\b(?:card|cc|visa|mastercard|amex|maestro|jcb|discover)(?:\s*(?:number|no\.?|#|num))?"
                         r"(?:\s*(?:is|was|:|#|=))?\s*$", re.IGNORECASE)


def cards(text: str) -> Iterator[Span]:
    for run in _DIGIT_RUN.finditer(text):
        groups = [(m.start(), m.end()) for m in _GROUP.finditer(run.group())]
        if sum(e - s for s, e in groups) < 12:
            continue
        base = run.start()
        labelled = _CARD_LABEL.search(text, max(0, base - 30), base) is not None
        found = _card_in_groups(run.group(), groups, labelled)
        if found is None:
            continue
        s, e = found
        if len(groups) == 1 and not labelled and _arithmetic(text, base + s, base + e):
            continue
        yield Span("CREDIT_CARD", base + s, base + e, 1.0)


def _card_in_groups(run: str, groups: list[tuple[int, int]], labelled: bool = False) -> tuple[int, int] | None:
    """The whole run, else its longest valid prefix, else its longest valid suffix."""
    n = len(groups)
    spans = [(0, n)] + [(0, j) for j in range(n - 1, 0, -1)] + [(i, n) for i in range(1, n)]
    for i, j in spans:
        s, e = groups[i][0], groups[j - 1][1]
        digits = "".join(run[a:b] for a, b in groups[i:j])
        if _card_ok(digits, labelled and i == 0):
            return s, e
    return None


def _arithmetic(text: str, start: int, end: int) -> bool:
    """A bare long number next to arithmetic and far from card words is math, not a card."""
    window = text[max(0, start - 40): end + 40]
    return bool(_MATH_NEAR.search(window)) and not _CARD_WORDS.search(window)


# ------------------------------------------------------------ iban / ssn


def ibans(text: str) -> Iterator[Span]:
    for m in _IBAN.finditer(text):
        raw = m.group().upper()
        for candidate in _iban_candidates(raw):
            if iban_ok(candidate):
                yield Span("IBAN_CODE", m.start(), m.start() + _raw_length(raw, len(candidate)), 1.0)
                break


def _raw_length(raw: str, compact_len: int) -> int:
    """Characters of `raw` (with spaces) that hold the first `compact_len` alphanumerics."""
    seen = 0
    for i, ch in enumerate(raw):
        if ch != " ":
            seen += 1
            if seen == compact_len:
                return i + 1
    return len(raw)


def _ssn_ok(area: str, group: str, serial: str) -> bool:
    return area not in ("000", "666") and area[0] != "9" and group != "00" and serial != "0000"


_SSN_LABELLED = re.compile(
    r"\b(?:SSN|SS#|social security(?: number| no\.?| #)?|social(?: number)?)\s*(?:is|was|:|#|=|-)?\s*"
    r"(?:number\s*)?(?:is\s*)?(\d{3})[ .]?(\d{2})[ .]?(\d{4})(?!\d)",
    re.IGNORECASE,
)


def ssns(text: str) -> Iterator[Span]:
    for m in _SSN.finditer(text):
        if _ssn_ok(*m.groups()):
            yield Span("US_SSN", m.start(), m.end(), 1.0)
    for m in _SSN_LABELLED.finditer(text):
        if _ssn_ok(*m.groups()):
            yield Span("US_SSN", m.start(1), m.end(3), 0.95)


# ------------------------------------------------------- email / phone


def emails(text: str) -> Iterator[Span]:
    if "@" in text:
        for m in _EMAIL.finditer(text):
            yield Span("EMAIL_ADDRESS", m.start(), m.end(), 1.0)


_AT = r"(?:\s*(?:\(at\)|\[at\]|\{at\}|<at>|\(@\)|\[@\])\s*|\s+(?:at|AT)\s+|\s*@\s+|\s+@\s*)"
_DOT = r"(?:\s*(?:\(dot\)|\[dot\]|\{dot\}|<dot>|\(\.\)|\[\.\])\s*|\s+(?:dot|DOT)\s+|\.)"
_TLD = (r"(?i:com|net|org|edu|gov|mil|io|co|uk|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|cz|pt|br|ca|au|nz|jp|cn|"
        r"in|ru|us|info|biz|me|tv|ai|app|dev|eu|ie|mx|ar|za|kr|tw|hk|sg|gr|hu|ro|sk|si|ee|lt|lv|is|gl|tn|uy)")
_OBFUSCATED = re.compile(
    rf"(?<![\w.+-])(?P<local>[A-Za-z0-9][\w+-]*(?:{_DOT}[\w+-]+)*){_AT}"
    rf"(?P<domain>[A-Za-z0-9][\w-]*(?:{_DOT}[A-Za-z0-9][\w-]*)*{_DOT}{_TLD})\b",
)
# "look at example.com" is not an address: the word before "at" must not be ordinary English.
_NOT_LOCAL = frozenset("""
look looking looked be is are was were am arrive arrived meet met stay stayed live lives lived work works worked
found find hosted posted published available located online sign signed log logged it this that here there me
us them him her you we they one someone anyone everyone nothing something what which who see seen check
checked go went visit visited click shop buy bought sold sell listed aimed good bad best great home away
""".split())


_MAIL_CUE = re.compile(r"\b(?:e-?mail|mail|contact|write|reach|address|inbox)\b", re.IGNORECASE)


def obfuscated_emails(text: str) -> Iterator[Span]:
    lower = text.lower()
    if not any(h in lower for h in (" at ", "(at)", "[at]", "{at}", "<at>", "@")):
        return
    for m in _OBFUSCATED.finditer(text):
        local, whole = m.group("local"), m.group()
        if "@" in whole and " " not in whole:
            continue  # a plain address; emails() reports it
        plain_at = re.search(r"\s(?:at|AT)\s", whole[len(local):]) is not None
        spelled_dot = re.search(r"dot|DOT|\(\.\)|\[\.\]", whole) is not None
        if plain_at and not spelled_dot and not re.search(r"[._\d]", local) and not _MAIL_CUE.search(
                text, max(0, m.start() - 40), m.start()):
            continue
        if plain_at and local.lower() in _NOT_LOCAL:
            continue
        yield Span("EMAIL_ADDRESS", m.start(), m.end(), 0.9)

_PHONE_LABEL = re.compile(
    r"\b(?:phone|tel|telephone|mobile|cell(?:phone)?|landline|whats ?app|fax|hotline|"
    r"(?:call|text|ring|reach|contact|sms) (?:me|him|her|them|us)(?: back)?|dial|answering at|"
    r"(?:messages?|texts?|sms|calls?) (?:to|from|at)|registered(?: mobile| phone| number)?|"
    r"(?:my|his|her|their|your|mobile|cell|phone|contact) (?:number|no\.?|#))\b"
    r"[^\d+\n]{0,18}(\+?\(?\d[\d ().-]{5,20}\d)",
    re.IGNORECASE,
)
_PHONE_HINTS = ("phone", "tel", "mobile", "cell", "landline", "whats", "fax", "hotline", "call", "text", "ring",
                "reach", "contact", "sms", "number", "no", "#", "dial", "answering", "message", "registered")
# National format with a trunk 0 and three or more groups: "020 7946 0958", "0521 61 09 13".
_PHONE_TRUNK = re.compile(r"(?<![\w.+-])\(?0[1-9]\d{0,3}\)?(?:(?:[ .-]\d{2,4}){2,4}|-\d{6,8})(?![\w-]|\.\d)")


def phones(text: str) -> Iterator[Span]:
    for m in _PHONE_US.finditer(text):
        area = m.group(1) or m.group(2)
        if area[0] in "23456789" and m.group(3)[0] in "23456789":
            yield Span("PHONE_NUMBER", m.start(), m.end(), 1.0)
    for m in _PHONE_INTL.finditer(text):
        if 8 <= sum(ch.isdigit() for ch in m.group()) <= 15:
            yield Span("PHONE_NUMBER", m.start(), m.end(), 1.0)
    lower = text.lower()
    if any(h in lower for h in _PHONE_HINTS):
        for m in _PHONE_LABEL.finditer(text):
            if 7 <= sum(ch.isdigit() for ch in m.group(1)) <= 15:
                yield Span("PHONE_NUMBER", m.start(1), m.end(1), 0.9)
    for m in _PHONE_TRUNK.finditer(text):
        if 9 <= sum(ch.isdigit() for ch in m.group()) <= 12:
            yield Span("PHONE_NUMBER", m.start(), m.end(), 0.7)


# ------------------------------------------------------------------- ip

_NOT_A_HOST = ("0.0.0.0", "255.255.255.255", "8.8.8.8", "8.8.4.4", "1.1.1.1", "1.0.0.1", "9.9.9.9")
_IPV6 = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])")


# Dotted numbers that are not hosts: "EC 3.1.1.11" (enzymes), "section 4.2.1.3", "figure 2.1.3.4".
_NUMBERING_BEFORE = re.compile(r"\b(?:EC|section|sec|chapter|figure|fig|table|clause|article|art|step|item|rule|"
                               r"para|paragraph|appendix|§)\.?\s*$", re.IGNORECASE)


def ips(text: str) -> Iterator[Span]:
    for m in _IPV4.finditer(text):
        ip = m.group()
        before = text[max(0, m.start() - 12): m.start()]
        if _VERSION_BEFORE.search(before) or _NUMBERING_BEFORE.search(before):
            continue
        cidr = text[m.end(): m.end() + 1] == "/" and text[m.end() + 1: m.end() + 2].isdigit()
        if cidr or ip in _NOT_A_HOST or ip.startswith(("127.", "255.")):
            continue
        yield Span("IP_ADDRESS", m.start(), m.end(), 1.0)
    if "::" in text or text.count(":") >= 5:
        for m in _IPV6.finditer(text):
            if m.group().count(":") < 3:
                continue
            try:
                addr = ipaddress.IPv6Address(m.group())
            except ValueError:
                continue
            if not (addr.is_loopback or addr.is_unspecified):
                yield Span("IP_ADDRESS", m.start(), m.end(), 1.0)


# ------------------------------------------------------------- api keys

_MORE_KEYS = re.compile(
    "|".join((
        r"\bsk-ant-[A-Za-z0-9_-]{20,}",  # Anthropic
        r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
        r"\bglpat-[A-Za-z0-9_-]{20,}",  # GitLab
        r"\bnpm_[A-Za-z0-9]{36}\b",
        r"\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}",  # SendGrid
        r"\bSK[0-9a-f]{32}\b",  # Twilio
        r"\bAC[0-9a-f]{32}\b",
        r"\bya29\.[A-Za-z0-9_-]{20,}",  # Google OAuth access token
        r"\b(?:pk|sk|rk)_(?:live|test)_[A-Za-z0-9]{10,}",
        r"\bdop_v1_[a-f0-9]{64}\b",  # DigitalOcean
        r"\bshpat_[a-fA-F0-9]{32}\b",  # Shopify
        r"\bxapp-\d-[A-Za-z0-9-]{10,}",
        r"\bAccountKey=[A-Za-z0-9+/=]{40,}",  # Azure storage connection string
        r"-----BEGIN (?:OPENSSH|PGP|ENCRYPTED) PRIVATE KEY(?: BLOCK)?-----",
    ))
)


_KEY_BLOCK_END = re.compile(r"-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\n\s*\n|$")


def api_keys(text: str) -> Iterator[Span]:
    for pattern in (_API_KEYS, _MORE_KEYS):
        for m in pattern.finditer(text):
            end = m.end()
            if "PRIVATE KEY" in m.group():
                # The key material is the secret, not the header: reach the END line (or the block's end).
                end = _KEY_BLOCK_END.search(text, end).end()
            yield Span("API_KEY", m.start(), end, 1.0)


# ------------------------------------------------ labelled medical ids

_PATIENT_ID = re.compile(
    r"\b(?:patient (?:id|identifier|number|no\.?|#)|chart (?:number|no\.?|#)|hospital (?:number|no\.?|id)|"
    r"medical record|health record (?:number|no\.?|#)|NHI|MRN)\s*(?:number|no\.?|#)?\s*(?:is|:|#|-)?\s*"
    r"([A-Z]{0,3}[- ]?\d[\d-]{4,})\b",
    re.IGNORECASE,
)


def _value_part(m: re.Match) -> int:
    """Where the value starts inside a labelled match ("MRN: 00123456" -> "00123456"): the label stays readable."""
    label_end = re.match(r"\D*?(?=[A-Z]{0,3}\d|\b(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d)",
                         m.group())
    return m.start() + (len(label_end.group()) if label_end else 0)


def medical_ids(text: str) -> Iterator[Span]:
    for m in _MRN.finditer(text):
        yield Span("MEDICAL_RECORD_NUMBER", _value_part(m), m.end(), 1.0)
    for m in _PATIENT_ID.finditer(text):
        yield Span("MEDICAL_RECORD_NUMBER", m.start(1), m.end(1), 0.95)
    for m in _DOB.finditer(text):
        year = re.search(r"(?<!\d)(\d{4})(?!\d)", m.group())
        # Born before 1920: a historical figure ("Einstein was born on 14 March 1879"), see identity.py.
        if year and int(year.group(1)) < 1920 and not re.search(r"\d{4}[/.-]\d", m.group()):
            continue
        yield Span("DATE_OF_BIRTH", _value_part(m), m.end(), 1.0)

