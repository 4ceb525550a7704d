"""`PrivacyDetector`: one Presidio analyzer over Triage's recognizers, then the context rules.

Owns building the analyzer from `PrivacySettings` (which recognizers, which
spaCy pipeline, which Presidio extras) and the one call the request path
makes, `analyze(text) -> Findings`. Presidio and spaCy are imported when a
detector is constructed, never at import time.

Cost model: every rule is a regex or a hash lookup over the text (about
1-3 ms for 200 tokens on one core); spaCy NER (the expensive part) reads
only the text within `context_chars` of a health/salary/account/special
cue, and not at all when there is none. Presidio's own NLP step is a
no-op engine: no recognizer here needs its tokens or lemmas.

Thread safety: analysis keeps no state between calls (what rules share
lives in a per-call object, so no prompt outlives its request in a cache); the spaCy call is
serialised by a lock inside `CueNameRecognizer`. Safe to call from
`asyncio.to_thread` workers. Deterministic: same text and settings, same
Findings.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from typing import Any

from serve_app.privacy.combine import combine
from serve_app.privacy.findings import Finding, Findings
from serve_app.privacy.settings import PrivacySettings


class PrivacyDetector:
    """Finds personal, health, financial and secret data in text.

    `extra_recognizers` are Presidio recognizers an operator adds in code
    (a `PatternRecognizer` for employee IDs, a deny list of project names);
    any entity type they report counts as sensitive unless it is PERSON or
    DATE_TIME.
    """

    def __init__(self, settings: PrivacySettings | None = None, extra_recognizers: Sequence[Any] = ()):
        self.settings = settings or PrivacySettings()
        self._analyzer, self._names, self._artifacts = _build(self.settings, extra_recognizers)

    @property
    def recognizers(self) -> tuple[str, ...]:
        """Names of the recognizers in use, for logs and the startup report."""
        return tuple(sorted(r.name for r in self._analyzer.registry.recognizers))

    def analyze(self, text: str, *, all_names: bool = False) -> Findings:
        """The sensitive spans of `text`.

        `all_names=True` (for redaction) also runs NER over the whole text, so
        every person named in a sensitive text is found, not only those near
        a cue. It does not change whether a text is sensitive.
        """
        started = time.perf_counter()
        if not text or not text.strip():
            return Findings()
        if _INVISIBLE.search(text):
            return _invisible_removed(self, text, all_names, started)
        results = self._analyzer.analyze(text=text, language="en", score_threshold=self.settings.score_threshold,
                                         nlp_artifacts=self._artifacts())
        raw = [Finding(r.entity_type, r.start, r.end, r.score,
                       r.recognition_metadata.get("recognizer_name", "")) for r in results]
        items = combine(text, raw, self.settings.context_chars, self.settings.entities)
        if all_names and items and self._names is not None:
            extra = [Finding(s.entity, s.start, s.end, s.score, self._names.name)
                     for s in self._names.names(text, [(0, len(text))])]
            items = combine(text, list(items) + extra, self.settings.context_chars, self.settings.entities)
        return Findings(items, elapsed_ms=(time.perf_counter() - started) * 1000)


# Zero-width and format characters split a value for the eye of a regex, not of a reader
# ("jane\u200b@example.com", a byte-order mark inside a name). They are read through.
_INVISIBLE = re.compile("[\u00ad\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


def _invisible_removed(detector: PrivacyDetector, text: str, all_names: bool, started: float) -> Findings:
    keep = [i for i, ch in enumerate(text) if not _INVISIBLE.match(ch)]
    inner = detector.analyze("".join(text[i] for i in keep), all_names=all_names)
    keep.append(len(text))
    items = tuple(Finding(f.entity_type, keep[f.start], keep[f.end - 1] + 1, f.score, f.recognizer) for f in inner.items)
    return Findings(items, elapsed_ms=(time.perf_counter() - started) * 1000)


def _build(settings: PrivacySettings, extra: Sequence[Any]):
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
    from presidio_analyzer import predefined_recognizers as predefined
    from presidio_analyzer.nlp_engine import NoOpNlpEngine

    from serve_app.privacy import recognizers as rec
    from serve_app.privacy.rules import cues

    rules = settings.rules
    chosen: list = [rec.CardRecognizer(), rec.IbanRecognizer(), rec.SsnRecognizer(), rec.EmailRecognizer(),
                    rec.PhoneRecognizer(), rec.IpRecognizer(), rec.ApiKeyRecognizer(), rec.MedicalIdRecognizer(),
                    rec.PatternPersonRecognizer(), rec.DateRecognizer()]
    switches = (
        (rules.obfuscated_email, rec.ObfuscatedEmailRecognizer),
        (rules.date_of_birth, rec.DateOfBirthRecognizer),
        (rules.identity_documents, rec.IdentityDocumentRecognizer),
        (rules.account_numbers, rec.AccountNumberRecognizer),
        (rules.addresses, rec.AddressRecognizer),
        (rules.secrets, rec.SecretRecognizer),
        (rules.spelled_numbers, rec.SpelledNumberRecognizer),
        (rules.health, rec.HealthCueRecognizer),
        (rules.salary, rec.SalaryCueRecognizer),
        (rules.account_record, rec.AccountRecordCueRecognizer),
        (rules.special_category, rec.SpecialCategoryCueRecognizer),
    )
    chosen += [cls() for on, cls in switches if on]
    cue_finders = [finder for on, finder in ((rules.health, cues.health), (rules.salary, cues.salary),
                                             (rules.account_record, cues.account_record),
                                             (rules.special_category, cues.special_category)) if on]
    names = None
    if cue_finders:
        names = rec.CueNameRecognizer(settings.spacy_model if settings.ner else None, settings.context_chars, cue_finders)
        chosen.append(names)
    for name in settings.presidio_recognizers:
        cls = getattr(predefined, name, None)
        if cls is None:
            raise ValueError(f"unknown Presidio recognizer {name!r} in privacy.presidio_recognizers")
        chosen.append(cls())
    chosen += list(extra)

    registry = RecognizerRegistry(recognizers=chosen, supported_languages=["en"])
    engine = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    analyzer = AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"],
                              context_aware_enhancer=rec.WindowContextEnhancer(),
                              default_score_threshold=settings.score_threshold)
    return analyzer, names, rec.RuleArtifacts
