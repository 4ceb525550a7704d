"""Triage's rules as Presidio recognizers, plus spaCy person names and a text-window context enhancer.

Owns the Presidio side: each rule family of `serve_app.privacy.rules` becomes
an `EntityRecognizer` subclass (one class per family, so an operator can
import, subclass or drop one), `CueNameRecognizer` looks for names (spaCy
NER and capitalised runs) only around context cues, and
`WindowContextEnhancer` lets Presidio's predefined recognizers use their
context words without a lemmatizer. Imports Presidio at module level: only
`detector.py` imports this module, when a detector is built.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer
from presidio_analyzer.nlp_engine import NlpArtifacts

from serve_app.privacy.combine import SpanIndex
from serve_app.privacy.findings import Span
from serve_app.privacy.rules import addresses, cues, identity, persons, secrets, spelled, validated

Finder = Callable[[str], Iterator[Span]]


class RuleRecognizer(EntityRecognizer):
    """A Presidio recognizer whose spans come from one pure rule function."""

    ENTITIES: tuple[str, ...] = ()
    find: Finder

    def __init__(self) -> None:
        super().__init__(supported_entities=list(self.ENTITIES), name=type(self).__name__, supported_language="en")

    def load(self) -> None:  # nothing to load: rules are compiled regexes
        pass

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        wanted = set(entities) if entities else set(self.ENTITIES)
        return [_result(self, span) for span in spans_of(type(self).find, text, nlp_artifacts)
                if span.entity in wanted]


class RuleArtifacts(NlpArtifacts):
    """Presidio's per-call NLP slot, used for what our rules share within one call: their spans.

    Lives as long as one analyze() call, so no text outlives its request in a cache.
    """

    def __init__(self) -> None:
        super().__init__(entities=[], tokens=None, tokens_indices=[], lemmas=[], nlp_engine=None, language="en")
        self.spans: dict[Finder, tuple[Span, ...]] = {}


def spans_of(find: Finder, text: str, artifacts=None) -> tuple[Span, ...]:
    """A rule's spans, memoised for the call: the cue rules run as recognizers and to place NER windows."""
    memo = getattr(artifacts, "spans", None)
    if memo is None:
        return tuple(find(text))
    if find not in memo:
        memo[find] = tuple(find(text))
    return memo[find]


def _result(recognizer: EntityRecognizer, span: Span) -> RecognizerResult:
    return RecognizerResult(
        span.entity, span.start, span.end, span.score,
        recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
                              RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id},
    )


# ---------------------------------------------- Triage's validators (old verdicts)


class CardRecognizer(RuleRecognizer):
    ENTITIES = ("CREDIT_CARD",)
    find = staticmethod(validated.cards)


class IbanRecognizer(RuleRecognizer):
    ENTITIES = ("IBAN_CODE",)
    find = staticmethod(validated.ibans)


class SsnRecognizer(RuleRecognizer):
    ENTITIES = ("US_SSN",)
    find = staticmethod(validated.ssns)


class EmailRecognizer(RuleRecognizer):
    ENTITIES = ("EMAIL_ADDRESS",)
    find = staticmethod(validated.emails)


class PhoneRecognizer(RuleRecognizer):
    ENTITIES = ("PHONE_NUMBER",)
    find = staticmethod(validated.phones)


class IpRecognizer(RuleRecognizer):
    ENTITIES = ("IP_ADDRESS",)
    find = staticmethod(validated.ips)


class ApiKeyRecognizer(RuleRecognizer):
    ENTITIES = ("API_KEY",)
    find = staticmethod(validated.api_keys)


class MedicalIdRecognizer(RuleRecognizer):
    ENTITIES = ("MEDICAL_RECORD_NUMBER", "DATE_OF_BIRTH")
    find = staticmethod(validated.medical_ids)


# ------------------------------------------------------------- new rules


class ObfuscatedEmailRecognizer(RuleRecognizer):
    ENTITIES = ("EMAIL_ADDRESS",)
    find = staticmethod(validated.obfuscated_emails)


class DateOfBirthRecognizer(RuleRecognizer):
    ENTITIES = ("DATE_OF_BIRTH",)
    find = staticmethod(identity.dates_of_birth)


class DateRecognizer(RuleRecognizer):
    ENTITIES = ("DATE_TIME",)
    find = staticmethod(identity.dates)


def _documents(text: str) -> Iterator[Span]:
    yield from identity.licences(text)
    yield from identity.vehicles(text)
    yield from identity.passports(text)
    yield from identity.national_ids(text)


class IdentityDocumentRecognizer(RuleRecognizer):
    ENTITIES = ("DRIVER_LICENSE", "PASSPORT", "NATIONAL_ID", "VEHICLE_ID")
    find = staticmethod(_documents)


class AccountNumberRecognizer(RuleRecognizer):
    ENTITIES = ("ACCOUNT_NUMBER",)
    find = staticmethod(identity.account_numbers)


class AddressRecognizer(RuleRecognizer):
    ENTITIES = ("STREET_ADDRESS",)
    find = staticmethod(addresses.addresses)


class SecretRecognizer(RuleRecognizer):
    ENTITIES = ("PASSWORD", "CREDIT_CARD")
    find = staticmethod(secrets.secrets)


class SpelledNumberRecognizer(RuleRecognizer):
    ENTITIES = ("CREDIT_CARD", "US_SSN", "PHONE_NUMBER", "ACCOUNT_NUMBER", "PASSPORT", "DRIVER_LICENSE",
                "PASSWORD", "SPELLED_NUMBER")
    find = staticmethod(spelled.spelled_numbers)


class HealthCueRecognizer(RuleRecognizer):
    ENTITIES = ("HEALTH_DATA",)
    find = staticmethod(cues.health)


class SalaryCueRecognizer(RuleRecognizer):
    ENTITIES = ("SALARY",)
    find = staticmethod(cues.salary)


class AccountRecordCueRecognizer(RuleRecognizer):
    ENTITIES = ("ACCOUNT_RECORD",)
    find = staticmethod(cues.account_record)


class SpecialCategoryCueRecognizer(RuleRecognizer):
    ENTITIES = ("SPECIAL_CATEGORY",)
    find = staticmethod(cues.special_category)


class PatternPersonRecognizer(RuleRecognizer):
    ENTITIES = ("PERSON",)
    find = staticmethod(persons.pattern_persons)


# ---------------------------------------------------------------- spaCy

# Components NER does not need: dropping them takes spaCy from ~15 to ~9 ms per 100 tokens here.
_UNUSED_COMPONENTS = ("parser", "tagger", "morphologizer", "attribute_ruler", "lemmatizer", "senter")
_PERSON_LABELS = frozenset({"PERSON", "PER"})


class CueNameRecognizer(EntityRecognizer):
    """Person names near a context cue: spaCy NER plus capitalised-name runs.

    Small NER models tag many foreign names as ORG or FAC, or miss them
    ("Izaket Musliyevich suffers from ..."), so runs of title-case words
    that are not openers, places or organisations count too. Both look only
    within `reach` of a cue. With `model=None` spaCy is not loaded.
    """

    def __init__(self, model: str | None, reach: int, cue_finders: Iterable[Finder]):
        self.model = model
        self.reach = reach
        self.cue_finders = tuple(cue_finders)
        self._nlp = None
        # spaCy's string store grows as it meets new words: one text at a time.
        self._lock = threading.Lock()
        # Presidio's constructor calls load(): the pipeline is ready when this returns.
        super().__init__(supported_entities=["PERSON"], name="CueNameRecognizer", supported_language="en")

    def load(self) -> None:
        if self.model is None:
            return
        import spacy  # heavy: only when a detector is built

        self._nlp = spacy.load(self.model, exclude=list(_UNUSED_COMPONENTS))
        if "ner" not in self._nlp.pipe_names:
            raise ValueError(f"spaCy pipeline {self.model!r} has no 'ner' component")
        self._nlp("Warm up with Jane Doe.")  # the first call allocates; keep it off the request path

    def analyze(self, text: str, entities: list[str], nlp_artifacts=None) -> list[RecognizerResult]:
        cues = [(s.start, s.end) for find in self.cue_finders for s in spans_of(find, text, nlp_artifacts)]
        if not cues:
            return []
        starts = sorted(c[0] for c in cues)
        found = [span for lo, hi in persons.windows(text, cues, self.reach)
                 for span in (*persons.capitalised_names(text, lo, hi), *persons.lone_names(text, lo, hi, starts))]
        # NER only where wording found nobody for a cue: it is the one costly step.
        known = SpanIndex(found + list(persons.pattern_persons(text)))
        open_cues = [c for c in cues if not any(
            not persons.is_clinician(text, p.start) for p in known.near(c[0], c[1], self.reach))]
        if open_cues and self._nlp is not None:
            windows = persons.windows(text, open_cues, self.reach)
            found += self._ner(text, persons.candidate_windows(text, windows))
        return [_result(self, span) for span in found]

    def names(self, text: str, windows: list[tuple[int, int]]) -> list[Span]:
        """Every PERSON span inside `windows` (offsets in `text`): wording and NER."""
        found = [span for lo, hi in windows for span in persons.capitalised_names(text, lo, hi)]
        return found + self._ner(text, windows) if self._nlp is not None else found

    def _ner(self, text: str, windows: list[tuple[int, int]]) -> list[Span]:
        # NER on Title Case text tags every capitalised run as a name: skip those windows.
        windows = [(lo, hi) for lo, hi in windows if not persons.headline(text[lo:hi])]
        if not windows:
            return []
        # One doc for all windows (spaCy's cost per call dominates for short texts); a blank
        # line between them keeps entities from running across.
        offsets, pieces, at = [], [], 0
        for lo, hi in windows:
            offsets.append((at, at + hi - lo, lo))
            pieces.append(text[lo:hi])
            at += hi - lo + 2
        with self._lock:
            doc = self._nlp("\n\n".join(pieces))
        found = []
        for ent in doc.ents:
            if ent.label_ not in _PERSON_LABELS or not any(ch.isupper() for ch in ent.text):
                continue
            for a, b, lo in offsets:
                if a <= ent.start_char and ent.end_char <= b:
                    start, end = lo + ent.start_char - a, lo + ent.end_char - a
                    if text[start:end].endswith(("'s", "’s")):
                        end -= 2
                    span = persons.plausible(text, start, end)
                    if span and (" " in text[span[0]:span[1]] or persons.lone_name_ok(text, *span)):
                        found.append(Span("PERSON", span[0], span[1], 0.85))
        return found


# ------------------------------------------------------- context enhancer

_WORDS = re.compile(r"[a-z0-9]+")


class WindowContextEnhancer(ContextAwareEnhancer):
    """Presidio's context boost, read from the raw text around a span instead of spaCy lemmas.

    Our own rules carry no context words and pass through unchanged; Presidio's
    predefined recognizers (weak base scores plus context words) get the usual
    +0.35 when one of their words is within `reach` characters.
    """

    def __init__(self, reach: int = 60):
        super().__init__(context_similarity_factor=0.35, min_score_with_context_similarity=0.4,
                         context_prefix_count=5, context_suffix_count=0)
        self.reach = reach

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):
        by_id = {r.id: r for r in recognizers}
        for result in raw_results:
            rec = by_id.get(result.recognition_metadata.get(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY))
            words = [w.lower() for w in (getattr(rec, "context", None) or [])] + [w.lower() for w in context or []]
            if not words:
                continue
            near = set(_WORDS.findall(text[max(0, result.start - self.reach): result.start].lower()))
            if any(w in near or any(n.startswith(w) for n in near) for w in words):
                result.score = min(self.MAX_SCORE, max(result.score + self.context_similarity_factor,
                                                       self.min_score_with_context_similarity))
        return raw_results
