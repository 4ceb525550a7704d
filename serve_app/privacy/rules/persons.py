"""Person names from wording alone, and the windows where spaCy should look.

Owns the cheap half of person detection: titles ("Mrs. Hamanová"),
relations ("my patient Anna Kowalski", "employee Tom Becker"), form labels
("Name: Jean Dupont") and "named X". These catch names that a small NER
model misses (rare or foreign names, lower-case text after a relation).
spaCy NER runs only inside `windows()`: the stretches around a context cue,
since a person far from any cue never makes a text sensitive.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from serve_app.privacy.findings import Span
from serve_app.privacy.rules.namewords import (
    EPONYM_HEADS,
    FIRST_NAMES,
    INSTITUTION_WORDS,
    NOT_LOWER_NAMES,
    NOT_NAME_SUFFIXES,
    NOT_NAMES,
    NOT_PERSON_WORDS,
    SINGLE_WORD_SUFFIXES,
)

_NAME = r"[^\W\d_a-z][\w'’-]+(?:\s+[^\W\d_a-z][\w'’-]+){0,2}"
_TITLE = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Mister|Madam|Mme|Herr|Frau|Señora?|Sra?|Sir|Dame|Lady|Lord)\.?\s+({_NAME})")
_RELATION = (r"patient|client|customer|employee|colleague|co-?worker|tenant|student|pupil|resident|applicant|"
             r"candidate|manager|boss|friend|neighbou?r|wife|husband|partner|spouse|son|daughter|mother|father|"
             r"mom|mum|dad|brother|sister|uncle|aunt|cousin|grandmother|grandfather|grandma|grandpa|niece|nephew|"
             r"boyfriend|girlfriend|fianc[ée]e?|child|kid|baby|subordinate|report|contractor|teammate|intern|"
             r"member|user|guest|caller|claimant|insured|beneficiary|account holder|cardholder|landlord|roommate")
_RELATION_NAME = re.compile(rf"\b(?i:{_RELATION})\b,?\s+(?:named\s+|called\s+)?({_NAME})")
# Lower-case writing: "my patient john smith has hiv". Only after a possessive, and only words that
# are not function words, verbs or the nouns that follow these words in compounds ("patient care").
_RELATION_LOWER = re.compile(rf"\b(?i:my|our|his|her|their|your)\s+(?i:{_RELATION})\s+(?:named\s+|called\s+)?"
                             r"([a-z][a-z'’-]+(?:\s+[a-z][a-z'’-]+)?)")
_LABEL = re.compile(r"\b(?:name|full name|patient name|employee name|customer name|client name|patient|employee|"
                    r"customer|client|account holder|insured|beneficiary|applicant|subject)\s*[:=]\s*"
                    r"([A-Za-z][\w'’-]+(?:[ \t]+[A-Za-z][\w'’-]+){0,2})", re.IGNORECASE)
_NAMED = re.compile(rf"\b(?:named|called|Dear|Hi|Hello|Attn:?|attention|(?i:tell|ask|remind|email|e-mail|text|call|"
                    rf"thank|congratulate|visit|help|message|ping|warn|notify|inform))\s+({_NAME})")
# "Dr. Patel", "Nurse Okafor": the carer, not the patient. A full stop only after an abbreviation,
# so "I'm a nurse. Dan Groot ..." does not make Dan a nurse.
_CLINICIAN = re.compile(r"\b(?:(?:Dr|Prof|RN|NP|PA)\.?|Doctor|Professor|Nurse|Physician|Surgeon|Therapist|"
                        r"Oncologist|Cardiologist|Psychiatrist|Pharmacist|Dentist|Midwife)\s*$", re.IGNORECASE)


def _clean(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Trim possessives and trailing non-names; None when nothing name-like remains."""
    words = list(re.finditer(r"\S+", text[start:end]))
    kept = []
    for w in words:
        word = w.group().rstrip(",.;:!?")
        if word.removesuffix("'s").removesuffix("’s") in NOT_NAMES or not word[:1].isalpha():
            break
        kept.append((start + w.start(), start + w.start() + len(word)))
        if word.endswith(("'s", "’s")):
            break
    if not kept:
        return None
    s, e = kept[0][0], kept[-1][1]
    if text[s:e].endswith(("'s", "’s")):
        e -= 2
    return (s, e) if e - s >= 2 else None


def pattern_persons(text: str) -> Iterator[Span]:
    for pattern, score in ((_TITLE, 0.85), (_RELATION_NAME, 0.8), (_LABEL, 0.85), (_NAMED, 0.8)):
        for m in pattern.finditer(text):
            found = _clean(text, m.start(1), m.end(1))
            if found and pattern is not _TITLE:
                found = plausible(text, *found)
            if found:
                yield Span("PERSON", found[0], found[1], score)
    for m in _RELATION_LOWER.finditer(text):
        words = list(re.finditer(r"\S+", m.group(1)))
        kept = []
        for w in words:
            word = w.group().rstrip("'’s") if w.group().endswith(("'s", "’s")) else w.group()
            if word in NOT_LOWER_NAMES or word.endswith(("ed", "ing", "ly")) or len(word) < 2:
                break
            kept.append((m.start(1) + w.start(), m.start(1) + w.start() + len(word)))
            if word != w.group():
                break
        if kept:
            yield Span("PERSON", kept[0][0], kept[-1][1], 0.7)


_INNER_CAPS_OK = re.compile(r"^(?:Mc|Mac|De|Di|Da|Du|La|Le|Van|Von)[A-Z]")
_AFTER = re.compile(r"(?:['’]s)?\s+([A-Za-z]+)(?:\s+(al)\b)?")


def plausible(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span trimmed to what can be a person's name, or None.

    Not a name: acronyms ("SLM", "HHLs"), tokens with digits or symbols
    ("CA125", "P<.05"), organisation and study nouns ("Task Force"),
    English word endings ("Prospective", "Arthralgia"), eponyms ("Cox
    regression", "Gleason score") and citations ("Lenke et al").
    """
    if any(c in text[start:end] for c in "()[]{}"):
        return None
    words = [(m.start() + start, m.end() + start, m.group()) for m in re.finditer(r"\S+", text[start:end])]
    while words and words[0][2].strip(",.;:") in NOT_PERSON_WORDS:
        words.pop(0)
    if not words:
        return None
    for _, _, word in words:
        if not word[:1].isupper() and word not in _PARTICLES:
            return None  # "mm Hg", "cystatin C"
        core = word.strip(",.;:()").removesuffix("'s").removesuffix("’s")
        if not core or any(c.isdigit() or c in "<>/=%+&@#" for c in core) or core in INSTITUTION_WORDS:
            return None
        inner = [c for i, c in enumerate(core) if i and c.isupper() and core[i - 1] not in "-'’"]
        if inner and not _INNER_CAPS_OK.match(core):
            return None
        if len(core) >= 6 and core.lower().endswith(NOT_NAME_SUFFIXES):
            return None
    start, end = words[0][0], words[-1][1]
    after = _AFTER.match(text, end)
    if after and (after.group(1).lower() in EPONYM_HEADS or (after.group(1) == "et" and after.group(2))):
        return None
    return start, end


_SUBJECT_NEXT = re.compile(
    r"(?:['’]s\s+[a-z]|\s+(?:is|was|has|had|have|takes|took|needs|needed|earns|earned|makes|made|gets|got|says|said|"
    r"told|wants|wanted|asks|asked|suffers|suffered|lives|lived|works|worked|will|would|can|could|should|must|"
    r"does|did|isn't|wasn't|hasn't|doesn't|didn't|tested|started|stopped|began|underwent|died|passed|just|also|"
    r"recently|still|now)\b|\s*[,:;]\s*(?:he|she|they|who|whose|his|her|their)\b)")
_INTRO_BEFORE = re.compile(r"\b(?:to|for|with|tell|ask|remind|email|call|text|dear|hi|hello|about|visit|help|"
                           r"congratulate|thank|from|named|called)\s+$", re.IGNORECASE)


def lone_name_ok(text: str, start: int, end: int) -> bool:
    """May one capitalised word from NER stand for a person? A known given name may; another word
    if it is introduced ("remind Bea") or acts ("Olumide was diagnosed"), unless it reads as a
    medical or common noun ("Seroma was seen", "Biopsy showed")."""
    word = text[start:end]
    if word in FIRST_NAMES:
        return True
    if word in NOT_PERSON_WORDS or (len(word) >= 6 and word.lower().endswith(SINGLE_WORD_SUFFIXES + NOT_NAME_SUFFIXES)):
        return False
    before = text[max(0, start - 24): start]
    opening = not before.strip() or before.rstrip()[-1:] in ".!?:\n\"'(“"
    return bool(_SUBJECT_NEXT.match(text, end)) or (not opening and bool(_INTRO_BEFORE.search(before)))


# One capitalised word acting as a person: "Olumide was diagnosed", "Rendor takes sertraline".
# ("Seroma was seen" does not: a plain "was" needs a condition right after it, see lone_names.)
_LONE = re.compile(
    r"(?<![\w'’-])([^\W\d_a-z][^\W\d_A-Z]{2,})(?:['’]s)?\s+(?:(?P<acts>takes|took|needs|needed|earns|earned|makes|"
    r"gets|got|says|said|told|wants|asked|suffers|suffered|lives|lived|works|worked|tested|started|stopped|began|"
    r"underwent|died|passed away|(?:was|is|has been|had been|got)\s+(?:diagnosed|admitted|hospitali[sz]ed|prescribed|"
    r"treated|arrested|convicted|pregnant|paid))\b|(?P<aux>(?:has had|had had|has|had|is|was|suffers from)(?: an?)?)\s)")


def lone_names(text: str, lo: int, hi: int, cue_starts: list[int]) -> Iterator[Span]:
    """Single-word names that act like a person near a cue (no NER needed)."""
    for m in _LONE.finditer(text, lo, hi):
        if m.group("aux") and not any(m.end() <= c <= m.end() + 3 for c in cue_starts):
            continue  # "Survival has improved for leukemia": only "X has <condition>" counts
        span = plausible(text, m.start(1), m.end(1))
        word = m.group(1)
        if span and word not in NOT_PERSON_WORDS and not (
                len(word) >= 6 and word.lower().endswith(SINGLE_WORD_SUFFIXES + NOT_NAME_SUFFIXES)):
            yield Span("PERSON", span[0], span[1], 0.7)


def is_clinician(text: str, start: int) -> bool:
    """Is the name at `start` introduced as a doctor or nurse (the carer, not the patient)?"""
    return _CLINICIAN.search(text[max(0, start - 16): start]) is not None


_TITLE_WORD = re.compile(r"[^\W\d_a-z][^\W\d_]*(?:['’-][^\W\d_]+)*")
_PARTICLES = frozenset({"van", "von", "de", "da", "di", "del", "der", "den", "le", "la", "du", "dos", "das", "bin", "al", "ibn", "y"})


def headline(text: str) -> bool:
    """Title Case text ("A New Therapeutic Concept for Opioid Administration"): capitals say nothing."""
    # Sentence-initial words are capitalised anyway: leave them out of the count.
    words = [m.group() for m in re.finditer(r"(?<![.!?:]\s)(?<!^)\b[^\W\d_]{4,}", text)]
    return len(words) >= 5 and sum(w[0].isupper() for w in words) > 0.6 * len(words)


def capitalised_names(text: str, lo: int, hi: int) -> Iterator[Span]:
    """Runs of 2-4 title-case words in text[lo:hi] that are not sentence openers, places or organisations,
    and known given names standing alone."""
    if headline(text[lo:hi]):
        return
    run: list[tuple[int, int, str]] = []
    for m in re.finditer(r"\S+", text[lo:hi]):
        word = m.group().strip(",.;:!?()[]\"|/")
        start = lo + m.start() + m.group().find(word) if word else lo + m.start()
        possessive = word.endswith(("'s", "’s"))
        core = word[:-2] if possessive else word
        # "I'm", "Don't": contractions are not names ("O'Brien" and "D'Souza" are).
        contraction = re.search(r"['’](?:m|ve|ll|d|re|t|s)$", core) is not None
        titled = (bool(core) and not contraction and _TITLE_WORD.fullmatch(core) is not None
                  and any(c.islower() for c in core))
        if titled and core not in NOT_PERSON_WORDS:
            run.append((start, start + len(core), core))
        elif not (core in _PARTICLES and run):
            yield from _name_run(run, text)
            run = []
            continue
        # A name ends at a possessive or at punctuation after the word.
        if possessive or m.group().rstrip()[-1:] in ",.;:!?)|/":
            yield from _name_run(run, text)
            run = []
    yield from _name_run(run, text)


def _name_run(run: list[tuple[int, int, str]], text: str) -> Iterator[Span]:
    words = [w for w in run if w[2] not in _PARTICLES]
    if len(words) == 1 and words[0][2] in FIRST_NAMES and plausible(text, words[0][0], words[0][1]):
        yield Span("PERSON", words[0][0], words[0][1], 0.75)  # "Anna has HIV": a known given name alone
    if 2 <= len(words) <= 4:
        span = plausible(text, run[0][0], run[-1][1])
        if span and span[1] - span[0] >= 3:
            yield Span("PERSON", span[0], span[1], 0.7)


def windows(text: str, cues: Iterable[tuple[int, int]], reach: int) -> list[tuple[int, int]]:
    """Merged stretches of `text` within `reach` characters of a cue, widened to word boundaries."""
    merged: list[list[int]] = []
    for s, e in sorted(cues):
        lo, hi = max(0, s - reach), min(len(text), e + reach)
        while lo > 0 and not text[lo - 1].isspace():
            lo -= 1
        while hi < len(text) and not text[hi].isspace():
            hi += 1
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    return [(lo, hi) for lo, hi in merged]


_CANDIDATE = re.compile(r"(?<![\w'’-])[^\W\d_a-z][\w'’-]*")


def candidate_windows(text: str, regions: list[tuple[int, int]], reach: int = 50) -> list[tuple[int, int]]:
    """The parts of `regions` around capitalised words that could be names: all NER needs to read.

    A person NER can report has a capital letter, and a word in the stop lists is not one.
    """
    spots = [(m.start(), m.end()) for lo, hi in regions for m in _CANDIDATE.finditer(text, lo, hi)
             if m.group().removesuffix("'s").removesuffix("’s").rstrip(".,") not in NOT_PERSON_WORDS]
    clipped = set()
    for lo, hi in windows(text, spots, reach) if spots else ():
        for rlo, rhi in regions:
            if lo < rhi and rlo < hi:
                clipped.add((max(lo, rlo), min(hi, rhi)))
    return sorted(clipped)
