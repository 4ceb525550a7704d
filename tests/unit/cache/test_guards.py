"""Hit guards: tables of pairs that must and must not be served from one another."""

from __future__ import annotations

import random

import pytest

from serve_app.cache.guards import GUARD_ORDER, analyse, check, rejections, stem
from serve_app.cache.keys import normalise_conversation
from serve_app.config.schema import CacheGuards
from serve_app.lab.bench import cache_pairs as pairfiles

ALL = CacheGuards()

MUST_REJECT = [
    # numbers
    ("what is 2+2", "what is 2+3", "numbers"),
    ("what is 2+2", "what is 2*2", "numbers"),
    ("What is 15% of 80?", "What is 15% of 90?", "numbers"),
    ("How do I prepare for CAT 2017?", "How do I prepare for CAT 2018?", "numbers"),
    ("Best phone under 20000 rupees", "Best phone under 30000 rupees", "numbers"),
    ("What are the seven wonders of the world?", "What are the eight wonders of the world?", "numbers"),
    ("what is 3.5 times 2", "what is 3.6 times 2", "numbers"),
    ("what is -5 squared", "what is 5 squared", "numbers"),
    ("What's new in IPv4?", "What's new in IPv6?", "numbers"),
    ("what is ten divided by two", "what is ten times two", "numbers"),
    # negation
    ("Is it safe to take aspirin while pregnant?", "Is it not safe to take aspirin while pregnant?", "negation"),
    ("Why do people like Trump?", "Why don't people like Trump?", "negation"),
    ("Which fruits can dogs eat?", "Which fruits can dogs never eat?", "negation"),
    ("Name some fruits", "Name some fruits except apples", "negation"),
    ("How can I travel with a pet?", "How can I travel without a pet?", "negation"),
    # entities
    ("What is the capital of France?", "What is the capital of Spain?", "entities"),
    ("How do I learn Python?", "How do I learn Java?", "entities"),
    ("What is the population of New York?", "What is the population of Los Angeles?", "entities"),
    ("Is Google a good company to work for?", "Is Microsoft a good company to work for?", "entities"),
    ("What do cats eat?", "What do horses eat?", "entities"),
    ("How long does it take to learn guitar?", "How long does it take to learn piano?", "entities"),
    ("What is the capital of France?", "What is the capital of France and Germany?", "entities"),
    ("How do you cure strep throat without going to the doctor?",
     "How do you cure strep throat without going to the dentist?", "entities"),
    ("Should I buy a used car with high mileage?", "Should I buy a used truck with high mileage?", "entities"),
    ("When was the first temple built in Jerusalem?", "Who built the first temple in Jerusalem?", "entities"),
    ("Where does Half-Life 2 take place?", "Why does Half-Life 2 take place there?", "entities"),
    # relations
    ("How do I enable 2FA?", "How do I disable 2FA?", "relations"),
    ("convert 100 USD to EUR", "convert 100 EUR to USD", "relations"),
    ("How to increase my credit score?", "How to decrease my credit score?", "relations"),
    ("Should I buy Tesla stock now?", "Should I sell Tesla stock now?", "relations"),
    ("How do I upload files to Google Drive?", "How do I download files from Google Drive?", "relations"),
    ("What to eat before a workout?", "What to eat after a workout?", "relations"),
    ("How do I install numpy?", "How do I uninstall numpy?", "relations"),
    ("sort the list in ascending order", "sort the list in descending order", "relations"),
    ("Is London bigger than Paris?", "Is Paris bigger than London?", "relations"),
    ("How do I get from Mumbai to Pune?", "How do I get from Pune to Mumbai?", "relations"),
    ("How do I turn on dark mode?", "How do I turn off dark mode?", "relations"),
    ("How can I gain weight fast?", "How can I lose weight fast?", "relations"),
    ("Is the statement true?", "Is the statement false?", "relations"),
    ("Flights to London", "Flights from London", "relations"),
    ("How can I get more followers?", "How can I decrease my followers?", "relations"),
    ("What are the pros and cons of nuclear power?", "What are the cons and cons of nuclear power?", "relations"),
    ("What makes a person attractive?", "What makes a person less attractive?", "relations"),
    ("Which is the best book for JEE maths?", "Which is a bad book for JEE maths?", "relations"),
]

MUST_PASS = [
    ("How do I learn Python quickly?", "What is the fastest way to learn Python?"),
    ("What's the capital of France?", "what is the capital city of France"),
    ("What is 2+2?", "what is 2 + 2"),
    ("How can I lose weight?", "What is the best way to lose weight?"),
    ("Why don't people like Trump?", "Why do people not like Trump?"),
    ("How do I improve my English?", "How can I improve my English?"),
    ("What are the best books on Indian history?", "Which are some good books on the history of India?"),
    ("How do I increase confidence?", "How can we boost our confidence?"),
    ("What is the best marketing automation tool for small and mid-size companies?",
     "What is the best marketing automation tool for small and mid-sized companies?"),
    ("How can I get pregnant faster?", "What can I do to get pregnant faster?"),
    ("Convert USD to EUR", "How do I convert dollars to euros?"),
    ("What is two hundred and fifty plus five?", "what is 250 + 5"),
    ("What is the difference between Python and Java?", "How is Java different from Python?"),
    ("According to Dante, what are the seven levels of hell?", "According to Dante, what are the 7 levels of hell?"),
    ("What is the meaning of life in two words?", "What is the meaning of life in 2 words?"),
    ("How do I reduce stress and improve focus?", "How can I improve my focus by reducing stress?"),
    ("What are the benefits of cold showers?", "What are the advantages of taking cold showers?"),
    ("What is it like to live in Mumbai?", "What is it like to live in Mumbai, India?"),
    ("Do you believe in God? Why or why not?", "Do you believe that there is a God?"),
    ("Is Python better than Java or not?", "Is Python better than Java?"),
    ("When did the Eagles last win the Super Bowl?", "When was the last time the Eagles won the Super Bowl?"),
    ("Who wrote Hamlet, and when?", "Who wrote the play Hamlet?"),
]


@pytest.mark.parametrize("a, b, guard", MUST_REJECT)
def test_meaning_changes_are_rejected(a, b, guard):
    assert check(b, a, ALL) == guard
    assert check(a, b, ALL) == guard  # symmetric: either side may be the cached one


@pytest.mark.parametrize("a, b", MUST_PASS)
def test_paraphrases_pass_every_guard(a, b):
    assert rejections(a, b) == ()
    assert check(a, b, ALL) is None


def test_guards_see_role_tagged_conversations():
    def conv(text):
        return normalise_conversation([{"role": "system", "content": "Be brief."},
                                       {"role": "user", "content": text}])
    assert check(conv("How do I enable 2FA?"), conv("How do I disable 2FA?"), ALL) == "relations"
    assert check(conv("What's the capital of France?"), conv("what is the capital city of France"), ALL) is None


@pytest.mark.parametrize("guard", GUARD_ORDER)
def test_a_disabled_guard_does_not_reject(guard):
    a, b, name = next(row for row in MUST_REJECT if row[2] == guard)
    off = CacheGuards(**{guard: False})
    assert check(a, b, off) != guard


def test_first_rejecting_guard_in_order_is_named():
    # Both a number and a relation change: numbers comes first.
    a, b = "increase the limit to 10", "decrease the limit to 20"
    assert set(rejections(a, b)) >= {"numbers", "relations"}
    assert check(a, b, ALL) == "numbers"
    assert check(a, b, CacheGuards(numbers=False)) == "relations"


def test_no_guards_accepts_anything():
    none = CacheGuards(numbers=False, negation=False, entities=False, relations=False)
    assert all(check(a, b, none) is None for a, b, _ in MUST_REJECT)


@pytest.mark.parametrize("text, numbers", [
    ("two hundred and fifty", (250.0,)),
    ("twenty one pilots", (21.0,)),
    ("3 million people", (3_000_000.0,)),
    ("1,000.5 dollars", (1000.5,)),
    ("30k salary", (30000.0,)),
    ("which one is better", ()),  # a pronoun, not a number
    ("covid-19", (19.0,)),  # a hyphen, not a sign
])
def test_number_reading(text, numbers):
    assert analyse(text).numbers == tuple(sorted(numbers))


def test_stemming_matches_word_forms():
    assert stem("enable") == stem("enabled") == stem("enabling") == stem("enables")
    assert stem("stopped") == stem("stop")


# ------------------------------------------------------------- generated pairs


def test_generated_edits_are_reproducible_and_rejected():
    same = [{"a": "How do I learn Python quickly?", "b": "What is the fastest way to learn Python?",
             "label": "same"},
            {"a": "Is it safe to take 2 aspirin a day?", "b": "Can I safely take two aspirin daily?",
             "label": "same"},
            {"a": "How can I increase my confidence?", "b": "How do I boost my confidence?", "label": "same"},
            {"a": "What do cats eat?", "b": "What food do cats like?", "label": "same"}] * 4
    one = pairfiles.different_pairs(same, seed=3)
    assert one == pairfiles.different_pairs(same, seed=3)
    assert one and all(p["label"] == "different" and p["kind"] in pairfiles.KINDS for p in one)
    for p in one:
        assert normalise_conversation(p["a"]) != normalise_conversation(p["b"])


@pytest.mark.parametrize("kind, text", [
    ("numbers", "Is it safe to take 2 aspirin a day?"),
    ("negation", "Is it safe to take aspirin?"),
    ("entity", "How do I learn Python?"),
    ("keynoun", "What do cats eat?"),
    ("relation", "How can I increase my confidence?"),
    ("order", "How do I convert USD to EUR?"),
])
def test_each_edit_applies_and_is_caught(kind, text):
    edited = pairfiles.edit(kind, text, random.Random(0))
    assert edited and edited != text
    assert check(text, edited, ALL) is not None


def test_split_keeps_groups_together():
    rows = [{"a": f"q{i}", "b": f"q{i + 1}", "label": "same"} for i in range(0, 40, 2)]
    rows += [{"a": "q1", "b": "q3", "label": "same"}]  # joins two groups
    tune, held = pairfiles.split_pairs(rows)
    assert len(tune) + len(held) == len(rows)
    t_texts = {t for p in tune for t in (p["a"], p["b"])}
    h_texts = {t for p in held for t in (p["a"], p["b"])}
    assert not t_texts & h_texts
    assert pairfiles.split_pairs(list(reversed(rows)))[1] == list(reversed(held))


def test_write_pairs_format(tmp_path):
    path = tmp_path / "p.jsonl"
    n = pairfiles.write_pairs(path, [{"a": "x", "b": "y", "label": "same"},
                                     {"a": "x", "b": "z", "label": "different", "kind": "numbers"}])
    assert n == 2
    assert pairfiles.load_pairs(path) == [{"a": "x", "b": "y", "label": "same"},
                                          {"a": "x", "b": "z", "label": "different", "kind": "numbers"}]
