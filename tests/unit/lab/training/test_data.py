"""Training-data pipeline on tiny hand-written fixtures (no real data, no network)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from serve_app.lab.training import build, dataset, rules, sources
from serve_app.privacy.validators import detect_sensitive, iban_ok, luhn_ok

FIX = Path(__file__).parent / "fixtures"


def _by_id(rows):
    return {r["id"]: r for r in rows}


# ------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    ("small", "large", "cat", "src", "tier"),
    [
        (0.67, 0.0, "math", "x", "slm"),
        (0.34, 0.0, "history", "x", "srm"),
        (0.0, 0.8, "law", "x", "srm"),
        (0.1, 0.5, "physics", "ori", "lrm"),
        (0.1, 0.5, "history", "theoremQA-x", "lrm"),
        (0.1, 0.5, "law", "ori", "llm"),
    ],
)
def test_mmlu_tier_rule(small, large, cat, src, tier):
    assert rules.mmlu_tier(small, large, cat, src) == tier


def test_small_rules():
    assert rules.bbh_tier("web_of_lies") == "lrm" and rules.bbh_tier("navigate") == "srm"
    assert rules.arena_labels("coding") == ("lrm", "code")
    assert rules.arena_labels("creative_writing") == ("llm", "creative")
    assert rules.arena_labels("unknown") == (None, None)
    assert rules.legal_tier("x" * 10) == "srm" and rules.legal_tier("x" * 5000) == "llm"
    assert [rules.licence_is_noncommercial(h) for h in ("CC BY-NC", "CC BY-NC-SA", "unknown", "CC by", "mit", "CC BY-SA")] == [
        True, True, True, False, False, False]
    assert rules.template_sensitive({"iban", "name"}) and not rules.template_sensitive({"first_name", "city"})
    assert set(rules.MMLU_DOMAIN.values()) <= {"math", "code", "reasoning", "creative", "legal", "medical",
                                               "financial", "science", "engineering", "humanities", "general"}


# ---------------------------------------------------------------- loaders


def test_mmlu_loader_labels_and_rule():
    rows = _by_id(sources.load_mmlu_pro(FIX))
    assert [rows[f"mmlu_pro:{i}"]["tier"] for i in (1, 2, 4)] == ["slm", "srm", "llm"]
    assert rows["mmlu_pro:2"]["domain"] == "financial" and rows["mmlu_pro:4"]["domain"] == "legal"
    assert "A. " in rows["mmlu_pro:1"]["prompt"] and rows["mmlu_pro:1"]["label_rule"].startswith("mmlu_pro:")
    # Outcomes: difficulty = share of the small group failing; weak/strong from two named models.
    assert rows["mmlu_pro:2"]["difficulty"] == pytest.approx(0.556)
    assert (rows["mmlu_pro:2"]["weak_correct"], rows["mmlu_pro:2"]["strong_correct"]) == (0, 1)
    assert rows["mmlu_pro:5"]["weak_correct"] is None  # no per-model row: no outcome, not a guess
    # SciBench questions form the held-out MMLU-Pro source.
    held = _by_id(sources.load_mmlu_pro_heldout(FIX))
    assert list(held) == ["mmlu_pro_scibench:3"] and held["mmlu_pro_scibench:3"]["tier"] == "lrm"


def test_heldout_only_loaders():
    sqa = _by_id(sources.load_strategyqa(FIX))
    assert (sqa["strategyqa:s1"]["tier"], sqa["strategyqa:s2"]["tier"]) == ("srm", "lrm")
    assert sqa["strategyqa:s2"]["label_rule"] == "strategyqa:decomposition=4->lrm/reasoning"
    jbb = list(sources.load_jailbreakbench(FIX))
    assert len(jbb) == 1 and jbb[0]["jailbreak"] is True and jbb[0]["group"] == "jailbreakbench:goal-0"
    mbpp = list(sources.load_mbpp(FIX))
    assert mbpp[0]["domain"] == "code" and mbpp[0]["noncommercial"]


def test_simple_loaders():
    g = next(sources.load_gsm8k(FIX))
    assert (g["tier"], g["domain"], g["sensitive"]) == ("srm", "math", False)
    assert {r["tier"] for r in sources.load_nq_open(FIX)} == {"slm"}
    bbh = list(sources.load_bbh(FIX))
    assert {(r["group"], r["tier"]) for r in bbh} == {("bbh:navigate", "srm"), ("bbh:web_of_lies", "lrm")}
    arena = _by_id(sources.load_arena_hard(FIX))
    assert arena["arena_hard:a1"]["domain"] == "creative" and arena["arena_hard:a4"]["tier"] is None
    pm = list(sources.load_pubmedqa(FIX))
    assert {(r["domain"], r["sensitive"]) for r in pm} == {("medical", False)}


def test_legal_and_jailbreak_loaders():
    legal = {r["group"].split(":")[1].rsplit("-", 1)[0]: r for r in sources.load_legalbench(FIX)}
    assert legal["fixture_nc"]["noncommercial"] and legal["fixture_unknown"]["noncommercial"]
    assert not legal["fixture_terms"]["noncommercial"]
    assert legal["fixture_long"]["tier"] == "llm" and legal["fixture_terms"]["tier"] == "srm"
    assert legal["fixture_long"]["prompt"].startswith("Does this agreement")
    assert "Citation: Fixture v. Test" in legal["fixture_cols"]["prompt"]
    ps = [r["jailbreak"] for r in sources.load_promptshield(FIX)]
    assert ps == [False, True, False]
    vz = list(sources.load_verazuo(FIX))
    assert [r["jailbreak"] for r in vz] == [True, True, False]


# ------------------------------------------------------- sensitive generator


def test_fake_values_pass_checksums_and_detector():
    rng = random.Random(0)
    for _ in range(300):
        card = sources.fake_card(rng)
        assert luhn_ok(card.replace(" ", "")) and "card" in detect_sensitive(f"my card is {card}")
        iban = sources.fake_iban(rng)
        assert iban_ok(iban) and "iban" in detect_sensitive(f"pay to {iban} please")
        assert "ssn" in detect_sensitive(f"SSN {sources.fake_ssn(rng)}")
        assert "phone" in detect_sensitive(f"call {sources.fake_phone(rng)}")
        assert "api_key" in detect_sensitive(sources.fake_key(rng))


def test_sensitive_synth_rows():
    rows = list(sources.load_sensitive_synth(FIX, per_template=5))
    assert not any("{{" in r["prompt"] for r in rows)
    presidio = [r for r in rows if "presidio-tpl" in r["group"]]
    by_tpl = {r["group"]: r["sensitive"] for r in presidio}
    assert by_tpl == {"sensitive_synth:presidio-tpl0": True, "sensitive_synth:presidio-tpl1": True,
                      "sensitive_synth:presidio-tpl2": False, "sensitive_synth:presidio-tpl3": True}
    # The deterministic detector agrees on the checksum-bearing templates.
    for r in presidio:
        if r["group"].endswith(("tpl0", "tpl1", "tpl3")):
            assert detect_sensitive(r["prompt"]), r["prompt"]
    assert rows == list(sources.load_sensitive_synth(FIX, per_template=5))  # fixed seed
    negs = [r for r in rows if r["label_rule"].startswith("own_tpl:hard-negative")]
    assert negs and all(r["sensitive"] is False for r in negs)


# -------------------------------------------------------- dedup and split


def _row(prompt, group="g", source="s"):
    return dataset.make_row(source, prompt[:8], prompt, group, "test")


def test_dedup_exact_and_near():
    rows = [_row("What is 2+2?"), _row("what  is 2+2?"), _row("What is 2 + 2 ?!"), _row("Как дела?"), _row("你好"),
            _row("...")]
    stats = {}
    kept = dataset.dedup(rows, stats)
    assert [r["prompt"] for r in kept] == ["What is 2+2?", "Как дела?", "你好"]
    assert stats["s"] == {"in": 6, "exact_dup": 1, "near_dup": 1, "empty": 1}
    assert dataset.near_key("a" * 300, prefix=200) == "a" * 200


def test_grouped_split_never_straddles():
    rows = [_row(f"p{i}", group=f"g{i % 37}") for i in range(2000)] + [_row("h", source="held")]
    out = dataset.split(rows, {"held"}, val_percent=30)
    train_g = {r["group"] for r in out["train"]}
    val_g = {r["group"] for r in out["val"]}
    assert train_g and val_g and not train_g & val_g
    assert [r["source"] for r in out["heldout"]] == ["held"]
    assert out == dataset.split(rows, {"held"}, val_percent=30)


# ------------------------------------------------------------------ build


def test_build_on_fixtures(tmp_path):
    rep = build.build(FIX, tmp_path, val_percent=50, log=lambda *_: None)
    splits = {n: [json.loads(x) for x in (tmp_path / f"{n}.jsonl").read_text().splitlines()]
              for n in ("train", "val", "heldout")}
    assert rep["split_sizes"] == {k: len(v) for k, v in splits.items()}
    for rows in splits.values():
        for r in rows:
            assert tuple(r) == dataset.FIELDS and r["label_rule"]
    # Held-out sources only in heldout.jsonl.
    heldout = {"pubmedqa", "mmlu_pro_scibench", "strategyqa", "mbpp", "jailbreakbench"}
    assert {r["source"] for r in splits["heldout"]} == heldout
    assert not heldout & {r["source"] for n in ("train", "val") for r in splits[n]}
    # Non-commercial held-out rows stay: they are evaluation only, never trained on.
    assert any(r["source"] == "mbpp" for r in splits["heldout"])
    # Outcome rows for `triage eval routing`, from the held-out MMLU-Pro source.
    routing = [json.loads(x) for x in (tmp_path / "routing_heldout.jsonl").read_text().splitlines()]
    assert routing == [{"id": "mmlu_pro_scibench:3", "prompt": splits["heldout"][[r["id"] for r in splits["heldout"]].index("mmlu_pro_scibench:3")]["prompt"],
                        "weak_correct": 0, "strong_correct": 0}]
    # Template-level split for generated sensitive rows.
    side = {}
    for n in ("train", "val"):
        for r in splits[n]:
            if r["source"] == "sensitive_synth":
                assert side.setdefault(r["group"], n) == n, r["group"]
    assert len(set(side.values())) == 2
    # Non-commercial rows excluded by default and reported.
    prompts = {r["prompt"] for rows in splits.values() for r in rows}
    assert "Leo had 9 marbles and lost 2. How many are left?" not in prompts
    assert "Is an invented clause enforceable?" not in prompts
    assert rep["excluded"]["legalbench (non-commercial rows)"]["rows"] == 2
    # The MMLU copy is dropped twice: with its options and as its question-only variant.
    assert rep["dedup"]["gsm8k"]["near_dup"] == 1 and rep["dedup"]["mmlu_pro"]["exact_dup"] == 2
    assert rep["labels"]["heldout"]["domain"]['"medical"'] == 2


def test_allow_noncommercial_and_cli(tmp_path, capsys):
    assert build.main(["--datasets", str(FIX), "--out", str(tmp_path), "--allow-noncommercial"]) == 0
    text = (tmp_path / "train.jsonl").read_text() + (tmp_path / "val.jsonl").read_text()
    assert "Leo had 9 marbles" in text and "Is an invented clause enforceable?" in text
    assert "tier:" in capsys.readouterr().out
    rep = json.loads((tmp_path / "report.json").read_text())
    assert not any("non-commercial rows" in k for k in rep["excluded"])
