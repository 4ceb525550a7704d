"""The context rules: raw recognizer hits -> the findings that make a text sensitive.

Owns the decisions that need more than one span: a health, salary,
account-record or special-category cue counts only with a person within
`context_chars` (and, for health, a person who is not introduced as the
doctor); names inside a cue ("Crohn's disease") are not people; a cue
inside a name ("Christian Müller") is not a cue; overlapping spans keep the
strongest. Person names and dates are reported only when the text is
sensitive, and then every occurrence of a name, so redaction leaves no copy
behind. Pure.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence

from serve_app.privacy.findings import NEEDS_PERSON, NOT_SENSITIVE, Finding
from serve_app.privacy.rules.persons import is_clinician


def _contains(outer: Finding, inner: Finding) -> bool:
    return outer.start <= inner.start and inner.end <= outer.end


def _overlaps(a: Finding, b: Finding) -> bool:
    return a.start < b.end and b.start < a.end


def _gap(a, b) -> int:
    return max(0, max(a.start, b.start) - min(a.end, b.end))


class SpanIndex:
    """Spans sorted by start, to find those within `reach` of a span without scanning them all."""

    def __init__(self, spans):
        self.spans = sorted(spans, key=lambda s: s.start)
        self.starts = [s.start for s in self.spans]
        self.longest = max((s.end - s.start for s in self.spans), default=0)

    def near(self, start: int, end: int, reach: int = 0):
        """Spans overlapping [start - reach, end + reach)."""
        lo = bisect.bisect_left(self.starts, start - reach - self.longest)
        hi = bisect.bisect_left(self.starts, end + reach + 1)
        for s in self.spans[lo:hi]:
            if s.end >= start - reach and s.start <= end + reach:
                yield s


def combine(text: str, raw: Sequence[Finding], context_chars: int,
            entities: Sequence[str] | None = None) -> tuple[Finding, ...]:
    """The sensitive findings of `text` (with the people they concern), sorted; () when clean."""
    if entities is not None:
        allowed = set(entities)
        raw = [f for f in raw if f.entity_type in allowed]
    people = [f for f in raw if f.entity_type == "PERSON"]
    cues = [f for f in raw if f.entity_type in NEEDS_PERSON]
    dates = [f for f in raw if f.entity_type in NOT_SENSITIVE and f.entity_type != "PERSON"]
    others = [f for f in raw if f.entity_type not in NOT_SENSITIVE and f.entity_type not in NEEDS_PERSON]

    # "Crohn's disease", "Hodgkin lymphoma", "Metformin takes weeks": the "name" is (part of) the cue.
    cue_index = SpanIndex(cues)
    people = [p for p in people if not any(_contains(c, p) for c in cue_index.near(p.start, p.end))]
    # "Christian Müller", "Gerd Schmidt": the cue word is part of a name.
    person_index = SpanIndex(people)
    cues = [c for c in cues if not any(_overlaps(p, c) for p in person_index.near(c.start, c.end))]

    kept = [c for c in cues if any(
        _gap(c, p) <= context_chars and not (c.entity_type == "HEALTH_DATA" and is_clinician(text, p.start))
        for p in person_index.near(c.start, c.end, context_chars))]
    sensitive = others + kept
    if not sensitive:
        return ()
    return _resolve(sensitive + dates + _every_occurrence(text, people))


_NAME_WORD = re.compile(r"[^\W\d_a-z][\w'’-]{2,}")


def _every_occurrence(text: str, people: list[Finding]) -> list[Finding]:
    """Each name found, plus its other mentions and its parts ("Anna Kowalski" ... "Anna")."""
    out = list(people)
    seen: set[str] = set()
    for p in people:
        name = text[p.start:p.end]
        for needle in [name] + _NAME_WORD.findall(name):
            if needle in seen:
                continue
            seen.add(needle)
            for m in re.finditer(rf"(?<!\w){re.escape(needle)}(?!\w)", text):
                out.append(Finding("PERSON", m.start(), m.end(), p.score, p.recognizer))
    return out


def _resolve(findings: list[Finding]) -> tuple[Finding, ...]:
    """Drop repeats and overlaps: sensitive data beats a name, then the higher score, then the longer span."""
    order = sorted(set(findings), key=lambda f: (f.entity_type in NOT_SENSITIVE, -f.score, f.start - f.end,
                                                f.start, f.entity_type, f.recognizer))
    starts: list[int] = []  # chosen spans, kept sorted by start (they never overlap)
    chosen: list[Finding] = []
    for f in order:
        i = bisect.bisect_left(starts, f.start)
        if (i < len(chosen) and chosen[i].start < f.end) or (i > 0 and chosen[i - 1].end > f.start):
            continue
        starts.insert(i, f.start)
        chosen.insert(i, f)
    return tuple(sorted(chosen, key=lambda f: (f.start, f.end, f.entity_type)))
