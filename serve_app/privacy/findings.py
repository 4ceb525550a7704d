"""What a privacy analysis returns, and the entity types it speaks of.

Owns the result values (`Span` from a rule, `Finding`/`Findings` from the
detector) and the one table of entity types. Pure: no Presidio, no spaCy.
Findings carry offsets, never the text they cover, so they are safe to log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

# Every type the shipped recognizers emit, with what it means. Custom
# recognizers may add more; any type not in NOT_SENSITIVE counts as sensitive.
ENTITY_TYPES: dict[str, str] = {
    "ACCOUNT_NUMBER": "labelled bank/insurance account, routing number or sort code",
    "ACCOUNT_RECORD": "a named person's account record (customer number, balance, loan)",
    "API_KEY": "API key, access token, JWT or private key block",
    "CREDIT_CARD": "card number (Luhn-valid), in digits or words, or a labelled card security code",
    "CRYPTO": "cryptocurrency wallet address (Presidio)",
    "DATE_TIME": "a full date (reported only next to sensitive data: dates about a person are PHI)",
    "DATE_OF_BIRTH": "a date of birth, in digits or words",
    "DRIVER_LICENSE": "driver's licence number",
    "EMAIL_ADDRESS": "e-mail address, plain or obfuscated",
    "HEALTH_DATA": "a named person's health condition, diagnosis, medication or procedure",
    "IBAN_CODE": "IBAN (mod-97 valid)",
    "IP_ADDRESS": "a host's IPv4/IPv6 address (not network ranges or well-known resolvers)",
    "MEDICAL_RECORD_NUMBER": "medical record number / patient ID",
    "NATIONAL_ID": "labelled national ID, tax or insurance number",
    "PASSPORT": "passport number or machine-readable zone",
    "PASSWORD": "a secret given in plain words: password, PIN, passphrase, credentials in a URL",
    "PERSON": "a person's name (reported only next to sensitive data, for redaction)",
    "PHONE_NUMBER": "phone number",
    "SALARY": "a named person's salary, pay or income",
    "SPECIAL_CATEGORY": "a named person's sexuality, religion, criminal or immigration record",
    "SPELLED_NUMBER": "a long identifier spelled out in words",
    "STREET_ADDRESS": "street address or P.O. box",
    "UK_NINO": "UK National Insurance number (Presidio)",
    "US_SSN": "US social security number",
    "VEHICLE_ID": "labelled licence plate or VIN",
}

# Identifies someone, or dates something about them, but is not private by
# itself ("Alice Johnson lives in Paris", "the meeting is on 3 May 2025").
# Reported only in a text that is sensitive for another reason, for redaction.
NOT_SENSITIVE: frozenset[str] = frozenset({"PERSON", "DATE_TIME"})

# Private only when a person is near: the cue alone is a general question
# ("what are symptoms of diabetes?", "is $85,000 a good salary?").
NEEDS_PERSON: frozenset[str] = frozenset({"HEALTH_DATA", "SALARY", "ACCOUNT_RECORD", "SPECIAL_CATEGORY"})


class Span(NamedTuple):
    """One raw match from a rule function, before thresholds and context."""

    entity: str
    start: int
    end: int
    score: float


@dataclass(frozen=True, slots=True)
class Finding:
    entity_type: str
    start: int
    end: int
    score: float
    recognizer: str

    def to_dict(self) -> dict:
        return {"entity_type": self.entity_type, "start": self.start, "end": self.end,
                "score": round(self.score, 3), "recognizer": self.recognizer}


@dataclass(frozen=True, slots=True)
class Findings:
    """The sensitive spans of one text, sorted by position; empty when the text is clean.

    `items` holds PERSON and DATE_TIME spans only when something sensitive
    was found, so that redaction can replace the subject's name and dates too.
    """

    items: tuple[Finding, ...] = ()
    # Wall time of the analysis; not part of equality (results are deterministic, time is not).
    elapsed_ms: float = field(default=0.0, compare=False)

    @property
    def sensitive(self) -> bool:
        return any(f.entity_type not in NOT_SENSITIVE for f in self.items)

    @property
    def kinds(self) -> tuple[str, ...]:
        """The sorted entity types found (safe to log: no values)."""
        return tuple(sorted({f.entity_type for f in self.items}))

    def __bool__(self) -> bool:
        return self.sensitive

    def to_dict(self) -> dict:
        return {"sensitive": self.sensitive, "kinds": list(self.kinds),
                "items": [f.to_dict() for f in self.items], "elapsed_ms": round(self.elapsed_ms, 3)}
