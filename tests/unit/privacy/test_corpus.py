"""The privacy corpus: deterministic, split by template, big enough, labels point at values."""

import json
from collections import Counter, defaultdict

import pytest

from serve_app.lab.privacy import corpus, evaluate
from serve_app.lab.privacy.clean_templates import CLEAN
from serve_app.lab.privacy.sensitive_templates import SENSITIVE


@pytest.fixture(scope="module")
def rows(datasets):
    return corpus.build(datasets)


def test_deterministic(rows, datasets):
    assert corpus.build(datasets) == rows
    assert corpus.build(datasets, seed=1) != rows


def test_sizes(rows):
    counts = Counter(r["sensitive"] for r in rows)
    assert counts[True] >= 500 and counts[False] >= 300
    assert len({r["id"] for r in rows}) == len(rows)
    bench = Counter(r["sensitive"] for r in rows if r["split"] == "bench")
    assert bench[True] >= 200 and bench[False] >= 150


def test_split_by_template(rows):
    split_of = defaultdict(set)
    for r in rows:
        split_of[r["template"]].add(r["split"])
    assert all(len(s) == 1 for s in split_of.values())  # a template never feeds both splits
    forms = defaultdict(set)
    for r in rows:
        forms[r["form"]].add(r["split"])
    for form, templates in {**SENSITIVE, **CLEAN}.items():
        if len(templates) >= 2:
            assert forms[form] == {"train", "bench"}, form


def test_bench_values_are_not_training_values(rows):
    persons = defaultdict(set)
    for r in rows:
        if r["form"] in SENSITIVE:
            for e in r["entities"]:
                if e["type"] == "PERSON":
                    persons[r["split"]].add(r["prompt"][e["start"]:e["end"]])
    assert persons["train"] and persons["bench"] and not persons["train"] & persons["bench"]


def test_entity_spans_and_forms(rows):
    assert {r["form"] for r in rows} >= {"phi_patient", "salary", "dob_words", "driver_licence", "password",
                                         "card_words", "email_obfuscated", "order_number", "time_room",
                                         "network_question", "public_figure", "code_constants",
                                         "math_long_numbers", "version_string", "event_date"}
    for r in rows:
        assert set(r) == {"id", "prompt", "sensitive", "form", "template", "split", "entities"}
        assert r["sensitive"] or {e["type"] for e in r["entities"]} <= {"PERSON"}  # names in clean prompts
        for e in r["entities"]:
            assert 0 <= e["start"] < e["end"] <= len(r["prompt"])
    issue = [r["prompt"] for r in rows if r["template"] == "network_question.00"]
    assert issue == ["What are IPv4 private address ranges?"]


def test_write_and_evaluate_round_trip(rows, tmp_path):
    corpus.write(rows[:40], tmp_path / "c.jsonl")
    loaded = evaluate.load(tmp_path / "c.jsonl")
    assert loaded == rows[:40]

    class Always:
        def analyze(self, text):
            from serve_app.privacy.findings import Finding, Findings
            return Findings((Finding("US_SSN", 0, 1, 1.0, "x"),))

    report = evaluate.evaluate(Always(), loaded, split=None)
    sens = sum(r["sensitive"] for r in loaded)
    assert report["sensitive"] == {"count": sens, "detected": sens, "missed": 0, "recall": 1.0 if sens else None}
    assert report["clean"]["false_alarms"] == len(loaded) - sens
    json.dumps(report)
