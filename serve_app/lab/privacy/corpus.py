"""The privacy corpus: templates x seeded values -> labelled JSONL rows, split by template.

Owns rendering (slots -> values, with entity spans), the train/bench split
(by template, never by row: a benchmark template is never seen in training)
and the extra sources: Presidio's templates.txt (split the same way) and
PubMedQA questions (medical text about nobody: hard negatives).

    python -m serve_app.lab.privacy corpus --datasets /work/shared/datasets --out privacy_corpus.jsonl

Rows: {"id", "prompt", "sensitive", "form", "template", "split", "entities": [{"type", "start", "end"}]}.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from serve_app.lab.privacy import values as v
from serve_app.lab.privacy.clean_templates import CLEAN
from serve_app.lab.privacy.sensitive_templates import SENSITIVE

SEED = 20240611
_SLOT = re.compile(r"\{(\w+)\}")
_PRESIDIO_SLOT = re.compile(r"\{\{(\w+)\}\}")
# Presidio template slots that make a sentence sensitive (README rules, except that a
# street name alone, "lives on X street", is not an address, and a date is a DOB only when born).
_PRESIDIO_SENSITIVE = {"credit_card_number", "iban", "ssn", "phone_number", "email", "address", "ip_address",
                       "us_driver_license"}


def split_of(position: int) -> str:
    """Two templates in five go to the benchmark: every form with 2+ templates has both splits."""
    return "bench" if position % 5 in (1, 3) else "train"


class Filler:
    """Values for one rendered prompt; identities and value pools depend on the split."""

    def __init__(self, rng: random.Random, identities: list[v.Identity], split: str):
        self.rng = rng
        half = 0 if split == "train" else 1
        self.ident = rng.choice(identities[half::2])
        self.other = rng.choice(identities[half::2])
        self.conditions = v.CONDITIONS[half::2]
        self.medications = v.MEDICATIONS[half::2]
        self._card = v.card_digits(rng)

    def value(self, slot: str) -> tuple[str, str | None]:
        """(text, entity type or None) for a slot."""
        r, i = self.rng, self.ident
        simple: dict[str, Callable[[], tuple[str, str | None]]] = {
            "name": lambda: (i.name, "PERSON"), "first": lambda: (i.first, "PERSON"), "last": lambda: (i.last, "PERSON"),
            "name2": lambda: (self.other.name, "PERSON"), "email": lambda: (i.email, "EMAIL_ADDRESS"),
            "email_obf": lambda: (v.obfuscate_email(i.email, r), "EMAIL_ADDRESS"),
            "phone": lambda: (v.phone(i, r), "PHONE_NUMBER"),
            "card": lambda: (v.card_layout(self._card, r), "CREDIT_CARD"),
            "card_words": lambda: (v.digits_in_words(self._card, r), "CREDIT_CARD"),
            "card_mixed": lambda: (v.digits_in_words(self._card, r, mix=True), "CREDIT_CARD"),
            "iban": lambda: (v.iban(r), "IBAN_CODE"), "ssn": lambda: (v.ssn(r), "US_SSN"),
            "ssn_spaced": lambda: (v.ssn(r).replace("-", " "), "US_SSN"),
            "ssn_compact": lambda: (v.ssn(r).replace("-", ""), "US_SSN"),
            "ssn_words": lambda: (v.digits_in_words(v.ssn(r).replace("-", ""), r), "US_SSN"),
            "account_words": lambda: (v.digits_in_words(v.account_number(r).replace(" ", ""), r), "ACCOUNT_NUMBER"),
            "phone_words": lambda: (v.digits_in_words(f"{r.randint(201, 989)}555{r.randint(0, 9999):04d}", r), "PHONE_NUMBER"),
            "passport_words": lambda: (v.digits_in_words("".join(r.choice("0123456789") for _ in range(9)), r), "PASSPORT"),
            "api_key": lambda: (v.api_key(r), "API_KEY"), "jwt": lambda: (v.jwt(r, i.email), "API_KEY"),
            "key_body": lambda: ("".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
                                         for _ in range(64)), "API_KEY"),
            "ip": lambda: (v.ip(r), "IP_ADDRESS"), "ipv6": lambda: (v.ipv6(r), "IP_ADDRESS"),
            "address": lambda: (self._address(), "STREET_ADDRESS"),
            "passport": lambda: (v.passport(r), "PASSPORT"), "licence": lambda: (v.licence(r), "DRIVER_LICENSE"),
            "nino": lambda: (f"{r.choice(['AB', 'GH', 'JK', 'NP', 'XZ'])} {r.randint(10, 99)} {r.randint(10, 99)} "
                             f"{r.randint(10, 99)} {r.choice('ABCD')}", "NATIONAL_ID"),
            "national_id": lambda: (f"{r.randint(10**10, 10**11 - 1)}", "NATIONAL_ID"),
            "mrn": lambda: (v.mrn(r), "MEDICAL_RECORD_NUMBER"),
            "dob": lambda: (v.dob_numeric(i, r), "DATE_OF_BIRTH"), "dob_words": lambda: (v.dob_words(i, r), "DATE_OF_BIRTH"),
            "dob_spelled": lambda: (v.dob_spelled(i, r), "DATE_OF_BIRTH"),
            "condition": lambda: (r.choice(self.conditions), "HEALTH_DATA"),
            "medication": lambda: (r.choice(self.medications), "HEALTH_DATA"),
            "special": lambda: (r.choice(v.SPECIAL), "SPECIAL_CATEGORY"),
            "salary": lambda: (v.salary(r), "SALARY"), "amount": lambda: (v.amount(r), "ACCOUNT_RECORD"),
            "account": lambda: (v.account_number(r), "ACCOUNT_NUMBER"),
            "password": lambda: (v.password(i, r), "PASSWORD"), "pin": lambda: (f"{r.randint(0, 9999):04d}", "PASSWORD"),
            "secret": lambda: ("django-insecure-" + "".join(r.choice("abcdefghijklmnop0123456789!@#$%^&*(-_=+)")
                                                             for _ in range(40)), "PASSWORD"),
            "word1": lambda: (r.choice(["horse", "lantern", "copper", "meadow"]), "PASSWORD"),
            "word2": lambda: (r.choice(["staple", "violin", "harbor", "pepper"]), "PASSWORD"),
        }
        if slot in simple:
            return simple[slot]()
        return self._harmless(slot), None

    def _address(self) -> str:
        i, r = self.ident, self.rng
        return r.choice([f"{i.street}, {i.zipcode} {i.city}", f"{i.street}, {i.city} {i.zipcode}",
                         f"{r.randint(1, 9999)} {r.choice(['Maple', 'Oak', 'Cedar', 'Elm', 'Birch'])} "
                         f"{r.choice(['Street', 'Avenue', 'Road', 'Lane', 'Drive'])}, {i.city}"])

    def _harmless(self, slot: str) -> str:
        r, i = self.rng, self.ident
        table: dict[str, Callable[[], str]] = {
            "age": lambda: str(r.randint(19, 88)), "city": lambda: i.city, "occupation": lambda: i.occupation.lower(),
            "employer": lambda: r.choice(v.EMPLOYERS), "order": lambda: str(r.randint(10000, 9999999)),
            "small": lambda: str(r.randint(100, 9999)), "year": lambda: str(r.randint(1995, 2026)),
            "time": lambda: f"{r.randint(7, 18)}:{r.choice(['00', '15', '30', '45'])}",
            "room": lambda: str(r.randint(100, 999)), "room_small": lambda: str(r.randint(1, 40)),
            "condition_general": lambda: r.choice(v.CONDITIONS), "medication_general": lambda: r.choice(v.MEDICATIONS),
            "salary_general": lambda: v.salary(r), "big": lambda: str(r.randint(10**9, 10**19)),
            "big2": lambda: str(r.randint(10**6, 10**12)), "ver": lambda: f"{r.randint(0, 9)}.{r.randint(0, 20)}.{r.randint(0, 30)}",
            "minor": lambda: str(r.randint(8, 31)), "patch": lambda: str(r.randint(0, 30)),
            "day": lambda: str(r.randint(1, 14)), "day2": lambda: str(r.randint(15, 28)),
            "iso_date": lambda: f"{r.randint(2023, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}",
            "rate": lambda: f"{r.randint(1, 7)}.{r.randint(0, 9)}",
        }
        if slot not in table:
            raise KeyError(f"unknown template slot {slot!r}")
        return table[slot]()


def render(template: str, fill: Callable[[str], tuple[str, str | None]], slot: re.Pattern = _SLOT) -> tuple[str, list[dict]]:
    """The prompt and the entity spans of its sensitive slots."""
    out, entities, pos = [], [], 0
    length = 0
    for m in slot.finditer(template):
        literal = template[pos:m.start()]
        out.append(literal)
        length += len(literal)
        text, entity = fill(m.group(1))
        if entity:
            entities.append({"type": entity, "start": length, "end": length + len(text)})
        out.append(text)
        length += len(text)
        pos = m.end()
    out.append(template[pos:])
    return "".join(out), entities


def _rows_from(templates: dict[str, list[str]], sensitive: bool, identities, seed: int) -> Iterator[dict]:
    for form, items in sorted(templates.items()):
        renders = max(4, math.ceil(24 / len(items)))
        for position, template in enumerate(items):
            tid, split = f"{form}.{position:02d}", split_of(position)
            seen = set()
            for k in range(renders if _SLOT.search(template) else 1):
                filler = Filler(random.Random(f"{seed}:{tid}:{k}"), identities, split)
                prompt, entities = render(template, filler.value)
                if prompt not in seen:
                    seen.add(prompt)
                    yield _row(f"{tid}#{k}", prompt, sensitive, form, tid, split, entities)


def _row(rid, prompt, sensitive, form, template, split, entities) -> dict:
    return {"id": rid, "prompt": prompt, "sensitive": sensitive, "form": form, "template": template,
            "split": split, "entities": entities}


_PRESIDIO_FILL = {
    "person": "name", "name": "name", "name_male": "name", "name_female": "name", "first_name": "first",
    "first_name_male": "first", "first_name_female": "first", "first_name_nonbinary": "first", "last_name": "last",
    "last_name_male": "last", "last_name_female": "last", "credit_card_number": "card", "phone_number": "phone",
    "ip_address": "ip", "us_driver_license": "licence", "date_of_birth": "dob_words",
}


def _presidio_rows(path: Path, identities, seed: int) -> Iterator[dict]:
    lines = [line.strip().replace("\\n", "\n") for line in path.read_text(encoding="utf-8", errors="replace").splitlines()]
    for position, template in enumerate(line for line in lines if line):
        slots = set(_PRESIDIO_SLOT.findall(template))
        born = "date_of_birth" in slots and re.search(r"born|birth", _PRESIDIO_SLOT.sub("", template), re.IGNORECASE)
        sensitive = bool(slots & _PRESIDIO_SENSITIVE) or bool(born) or {"building_number", "street_name"} <= slots
        tid, split = f"presidio.{position:03d}", split_of(position)
        seen = set()
        for k in range(2 if slots else 1):
            filler = Filler(random.Random(f"{seed}:{tid}:{k}"), identities, split)
            prompt, entities = render(template, lambda s, f=filler: _presidio_value(s, f), _PRESIDIO_SLOT)
            if prompt in seen:
                continue
            seen.add(prompt)
            if not sensitive:
                entities = []
            yield _row(f"{tid}#{k}", prompt, sensitive, "presidio_sensitive" if sensitive else "presidio_clean",
                       tid, split, entities)


def _presidio_value(slot: str, f: Filler) -> tuple[str, str | None]:
    if slot in _PRESIDIO_FILL:
        text, entity = f.value(_PRESIDIO_FILL[slot])
        return text, entity if entity != "PERSON" else None
    if slot in ("email", "iban", "ssn", "address"):
        return f.value(slot)
    r, i = f.rng, f.ident
    other = {"street_name": re.sub(r"\s*\d+[a-zA-Z]?\.?\s*", " ", i.street).strip() or "Main",
             "building_number": str(r.randint(1, 999)), "secondary_address": f"Apt. {r.randint(1, 999)}",
             "city": i.city, "country": r.choice(["Norway", "Spain", "Canada", "Poland", "Brazil"]),
             "postcode": i.zipcode, "zipcode": i.zipcode, "state_abbr": r.choice(["CA", "NY", "TX", "WA"]),
             "organization": r.choice(v.EMPLOYERS), "job": i.occupation, "age": str(r.randint(19, 88)),
             "year": str(r.randint(1990, 2024)), "date_time": f"{r.randint(1, 28)} {r.choice(v.MONTHS)} {r.randint(2000, 2024)}",
             "day_of_week": r.choice(["Monday", "Friday", "Sunday"]), "nationality": r.choice(["French", "Danish", "Greek"]),
             "nation_woman": "Danish woman", "nation_plural": "Italians", "url": "https://www.example.org",
             "prefix_male": "Mr.", "prefix_female": "Mrs.", "prefix": "Dr."}
    return other.get(slot, slot), None


def _pubmedqa_rows(path: Path, seed: int, count: int = 80) -> Iterator[dict]:
    data = json.loads(path.read_text())
    pmids = sorted(data)
    chosen = sorted(random.Random(seed).sample(pmids, min(count, len(pmids))))
    for position, pmid in enumerate(chosen):
        yield _row(f"pubmedqa.{pmid}#0", data[pmid]["QUESTION"], False, "medical_research_question",
                   f"pubmedqa.{pmid}", split_of(position), [])


def build(datasets: Path, seed: int = SEED) -> list[dict]:
    """Every corpus row, in a stable order."""
    synth = datasets / "presidio_synth"
    identities = v.load_identities(synth / "FakeNameGenerator.com_3000.csv")
    rows = list(_rows_from(SENSITIVE, True, identities, seed))
    rows += _rows_from(CLEAN, False, identities, seed)
    rows += _presidio_rows(synth / "templates.txt", identities, seed)
    rows += _pubmedqa_rows(datasets / "pubmedqa" / "ori_pqal.json", seed)
    return rows


def write(rows: list[dict], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
