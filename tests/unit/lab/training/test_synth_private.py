"""private_synth on a five-person fake CSV (no shared data, no models)."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import pytest

from serve_app.config.base import TIERS
from serve_app.config.schema import DEFAULT_DOMAINS
from serve_app.lab.training import dataset
from serve_app.lab.training.synth_private import (
    NEG_RULE,
    NEGATIVE,
    POS_RULE,
    POSITIVE,
    TEMPLATE_GROUPS,
    load_private_synth,
)
from serve_app.privacy.validators import detect_sensitive

COLUMNS = ["GivenName", "Surname", "StreetAddress", "City", "State", "ZipCode", "CountryFull", "Birthday",
           "Occupation", "Company", "Age", "EmailAddress", "TelephoneNumber"]
PEOPLE = [
    ["Jane", "Roe", "12 Elm St", "Springfield", "IL", "62704", "United States", "3/29/1982", "Nurse", "Acme", "42"],
    ["Luca", "Bianchi", "Via Roma 8", "Torino", "TO", "10121", "Italy", "11/2/1975", "Chef", "Trattoria Sole", "49"],
    ["Aiko", "Tanaka", "4 Sakura Lane", "Osaka", "OS", "530-0001", "Japan", "6/14/1990", "Engineer", "Kumo", "34"],
    ["Omar", "Haddad", "27 Rue Jaber", "Sfax", "SF", "3000", "Tunisia", "1/23/1962", "Teacher", "Ecole Nord", "62"],
    ["Sofie", "Berg", "Algade 60", "Hammel", "MJ", "8450", "Denmark", "9/5/2001", "Student", "DTU", "23"],
]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    d = tmp_path / "presidio_synth"
    d.mkdir()
    # utf-8-sig: the upstream file starts with a BOM; the loader must still see "GivenName".
    with (d / "FakeNameGenerator.com_3000.csv").open("w", newline="", encoding="utf-8-sig") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for p in PEOPLE:
            # The file's email and phone columns exist but must never reach a prompt.
            w.writerow([*p, f"{p[0]}{p[1]}@example.com", "(415) 555-0132"])
    return tmp_path


@pytest.fixture
def rows(root):
    return list(load_private_synth(root, per_template=6))


def test_missing_file_raises(tmp_path):
    with pytest.raises(FileNotFoundError):
        list(load_private_synth(tmp_path))


def test_deterministic(root, rows):
    assert rows == list(load_private_synth(root, per_template=6))
    assert rows != list(load_private_synth(root, per_template=6, seed=20))


def test_template_counts():
    assert len(POSITIVE) >= 30 and len(NEGATIVE) >= 12
    assert len(TEMPLATE_GROUPS) == len(POSITIVE) + len(NEGATIVE)


def test_rows_are_make_row_rows(rows):
    for r in rows:
        assert r["source"] == "private_synth"
        rebuilt = dataset.make_row("private_synth", r["id"].split(":", 1)[1], r["prompt"],
                                   r["group"].split(":", 1)[1], r["label_rule"],
                                   **{h: r[h] for h in (*dataset.HEADS, *dataset.OUTCOMES)})
        assert rebuilt == r
        assert r["tier"] in TIERS and r["domain"] in DEFAULT_DOMAINS and r["jailbreak"] is False
    assert len({r["id"] for r in rows}) == len(rows) == len({r["prompt"] for r in rows})


def test_labels_and_template_groups(rows):
    groups = defaultdict(list)
    for r in rows:
        name = r["group"].split(":", 1)[1]
        assert re.fullmatch(r"private-(tpl|neg)\d+", name)
        assert r["sensitive"] is TEMPLATE_GROUPS[name]
        assert r["label_rule"] == (POS_RULE if r["sensitive"] else NEG_RULE)
        groups[name].append(r)
    # Every template is present, each group is one template with one label and
    # per_template rows: a template never straddles the train/val split.
    assert set(groups) == set(TEMPLATE_GROUPS)
    for name, members in groups.items():
        assert len({m["sensitive"] for m in members}) == 1 and len(members) == 6, name
        assert len({m["id"].split(":")[1].split("-")[0] for m in members}) == 1, name
    assert sum(r["sensitive"] for r in rows) == 6 * len(POSITIVE)


def test_no_validator_shaped_identifier(rows):
    hits = [(r["id"], detect_sensitive(r["prompt"])) for r in rows if detect_sensitive(r["prompt"])]
    assert hits == []
    text = "\n".join(r["prompt"] for r in rows)
    assert "@" not in text and "555-0132" not in text


def test_positives_name_a_person_negatives_do_not_give_their_data(rows):
    full_names = [f"{p[0]} {p[1]}" for p in PEOPLE]
    surnames = [p[1] for p in PEOPLE]
    streets = [p[2] for p in PEOPLE]
    for r in rows:
        if r["sensitive"]:
            assert any(s in r["prompt"] for s in surnames), r["prompt"]
        else:
            # A first name in a word problem is allowed (names-not-pii, as gsm8k);
            # a full name or a home address is not.
            assert not any(n in r["prompt"] for n in full_names + streets), r["prompt"]
