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

_NAME = r"[^\W\d_a-z][\w'’-]+(?:\s+[^\W\d_a-z][\w'’-]+){0,2}"
_TITLE = re.compile(rf"\b(?:Mr|Mrs|Ms|Miss|Mx|Mister|Madam|Mme|Herr|Frau|Señora?|Sra?|Sir|Dame|Lady|Lord)\.?\s+({_NAME})")
_RELATION = (r"patient|client|customer|employee|colleague|co-?worker|tenant|student|pupil|resident|applicant|"
             r"candidate|manager|boss|friend|neighbou?r|wife|husband|partner|spouse|son|daughter|mother|father|"
             r"mom|mum|dad|brother|sister|uncle|aunt|cousin|grandmother|grandfather|grandma|grandpa|niece|nephew|"
             r"boyfriend|girlfriend|fianc[ée]e?|child|kid|baby|subordinate|report|contractor|teammate|intern|"
             r"member|user|guest|caller|claimant|insured|beneficiary|account holder|cardholder|landlord|roommate")
_RELATION_NAME = re.compile(rf"\b(?i:{_RELATION})s?\b,?\s+(?:named\s+|called\s+)?({_NAME})")
_LABEL = re.compile(r"\b(?:name|full name|patient name|employee name|customer name|client name|patient|employee|"
                    r"customer|client|account holder|insured|beneficiary|applicant|subject)\s*[:=]\s*"
                    r"([A-Za-z][\w'’-]+(?:[ \t]+[A-Za-z][\w'’-]+){0,2})", re.IGNORECASE)
_NAMED = re.compile(rf"\b(?:named|called|Dear|Hi|Hello|Attn:?|attention)\s+({_NAME})")
# Words that can follow a relation word with a capital but are not names.
_NOT_NAMES = frozenset("""
I The A An This That These Those He She It They We You His Her Their Our My Your Who Whom Whose Which What
When Where Why How Has Have Had Is Was Are Were Will Would Can Could Should May Might Must Do Does Did And Or
But With At In On From Of For To By As If Then So Not No Yes Portal Services Service Support Team Account ID
Number Record Records Care Relations Experience Success Data Information Details Profile Name Names Monday
Tuesday Wednesday Thursday Friday Saturday Sunday January February March April May June July August
September October November December Today Tomorrow Yesterday All Every Each Some Any Please Thanks Thank
""".split())
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
        if word.removesuffix("'s").removesuffix("’s") in _NOT_NAMES or not word[:1].isalpha():
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
            if found:
                yield Span("PERSON", found[0], found[1], score)


def is_clinician(text: str, start: int) -> bool:
    """Is the name at `start` introduced as a doctor or nurse (the carer, not the patient)?"""
    return _CLINICIAN.search(text[max(0, start - 16): start]) is not None


# Capitalised words that start sentences, name places, organisations or conditions: not people.
_NOT_PERSON_WORDS = _NOT_NAMES | frozenset("""
Write Draft Summarise Summarize Translate Remind Format Prepare Ask Send Tell Check Make Book Fill Find Attach Add
Explain Help Give Create Generate Compare List Show Let Set Get Use Update Verify Register Rewrite Forward Remember
Call Text Email Mail Leave Transfer Pay Charge Block Cancel Review Read Plan Schedule Note Notes Summary Subject
Dear Hi Hello Regards Kind Best Sincerely Cheers Re Fwd Patient Client Customer Employee Member Holder Name Date
Diagnosis Assessment History Complaint Allergies Medications Labs Vitals Discharge Admission Referral Letter
Type Stage Grade Phase Level Mount Saint St Lake River New North South East West Hospital Clinic University Bank Inc
Corp Ltd LLC Street Avenue Road Health Medical Center Centre Institute Foundation Group Department Ministry Council
School College Church Disease Syndrome Cancer Services Office Court Police Insurance Airlines Hotel Company Trust
Fund Capital Partners Labs Systems Software Solutions Global International National Royal General County Republic
Kingdom United Union Association Society Club Press News Times Journal HR IT CEO CFO CTO VP English Spanish French
German Italian Portuguese Dutch Chinese Japanese Russian Arabic American British European Christmas Easter Google
Microsoft Apple Amazon Facebook Meta OpenAI Slack Teams Zoom Excel Word PowerPoint Outlook Gmail Visa Mastercard
Technologies Technology Tech Industries Corporation Holdings Enterprises Consulting Media Networks Pharma Motors
Energy Airways Logistics Bank Financial Analytics Studios Ventures Associates Agency Hospitality Foods Retail
Now Then Here There Also Just Still Maybe Perhaps Sorry Okay OK Well Oh Yesterday Tonight Later Soon Again
""".split())
_TITLE_WORD = re.compile(r"[^\W\d_a-z][^\W\d_]*(?:['’-][^\W\d_]+)*")
_PARTICLES = frozenset({"van", "von", "de", "da", "di", "del", "der", "den", "le", "la", "du", "dos", "das", "bin", "al", "ibn", "y"})


def headline(text: str) -> bool:
    """Title Case text ("A New Therapeutic Concept for Opioid Administration"): capitals say nothing."""
    # Sentence-initial words are capitalised anyway: leave them out of the count.
    words = [m.group() for m in re.finditer(r"(?<![.!?:]\s)(?<!^)\b[^\W\d_]{4,}", text)]
    return len(words) >= 5 and sum(w[0].isupper() for w in words) > 0.6 * len(words)


def capitalised_names(text: str, lo: int, hi: int) -> Iterator[Span]:
    """Runs of 2-4 title-case words in text[lo:hi] that are not sentence openers, places or organisations."""
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
        if titled and core not in _NOT_PERSON_WORDS:
            run.append((start, start + len(core), core))
        elif not (core in _PARTICLES and run):
            yield from _name_run(run)
            run = []
            continue
        # A name ends at a possessive or at punctuation after the word.
        if possessive or m.group().rstrip()[-1:] in ",.;:!?)|/":
            yield from _name_run(run)
            run = []
    yield from _name_run(run)


def _name_run(run: list[tuple[int, int, str]]) -> Iterator[Span]:
    words = [w for w in run if w[2] not in _PARTICLES]
    if 2 <= len(words) <= 4:
        yield Span("PERSON", run[0][0], run[-1][1], 0.7)


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
             if m.group().removesuffix("'s").removesuffix("’s").rstrip(".,") not in _NOT_PERSON_WORDS]
    clipped = set()
    for lo, hi in windows(text, spots, reach) if spots else ():
        for rlo, rhi in regions:
            if lo < rhi and rlo < hi:
                clipped.add((max(lo, rlo), min(hi, rhi)))
    return sorted(clipped)
