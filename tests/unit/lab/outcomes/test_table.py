"""The tier mapping, the three loaders and the outcome table, on hand-written fixtures."""

from __future__ import annotations

import math

import numpy as np
import pytest

from serve_app.lab.outcomes import loaders, table, tiers


def test_shipped_mapping_is_complete_and_sourced():
    for source, models in tiers.SOURCES.items():
        for name, info in models.items():
            assert info.tier in (*tiers.TIERS, None), (source, name)
            assert info.params_source, (source, name)
    # every tier a source offers keeps at least one training model
    for source in tiers.SOURCES:
        offered = {i.tier for i in tiers.SOURCES[source].values() if i.tier}
        assert all(tiers.tier_models(source, t) for t in offered), source
    assert "| mmlu_pro | mathstral-7B | 7.3 |" in tiers.markdown_table()


def test_tier_models_leave_out_eval_only(small_mapping):
    assert tiers.tier_models("mmlu_pro", "slm") == ["small-a"]
    assert tiers.tier_models("mmlu_pro", "slm", include_eval_only=True) == ["small-a", "small-b"]
    assert tiers.tier_of("routing_outcomes", "odd") is None


def test_unmapped_or_missing_model_is_an_error(small_mapping):
    with pytest.raises(ValueError, match="unmapped models \\['new'\\]"):
        tiers.check_columns("routing_outcomes", ["s", "l", "odd", "new"])
    with pytest.raises(ValueError, match="absent \\['odd'\\]"):
        tiers.check_columns("routing_outcomes", ["s", "l"])


def test_rescaling_rules():
    assert loaders.routing_score("commongen", 0.7) == 1.0
    assert loaders.routing_score("commongen", 0.69) == 0.0
    assert loaders.routing_score("gsm8k", 1) == 1.0
    assert loaders.alpaca_score(1.5) == 1.0 and loaders.alpaca_score(1.49) == 0.0
    assert loaders.alpaca_score(None) is None


def test_build_table(small_mapping, datasets):
    rows, rep = table.build(datasets)
    by_id = {r["id"]: r for r in rows}
    # question 4 is a near duplicate of question 1 (spacing, punctuation): dropped
    assert "mmlu_pro:4" not in by_id and rep["near_duplicates_dropped"] == {"mmlu_pro:stemez": 1}
    q1 = by_id["mmlu_pro:1"]
    assert q1["prompt"] == "What is 2+2?\nA. 3\nB. 4"
    assert q1["benchmark"] == "mmlu_pro:ori_mmlu" and q1["domain"] == "math"
    # slm target: the training model only (small-b is eval-only); success_all: both
    assert q1["success"] == {"slm": 1.0, "srm": 1.0, "llm": 1.0, "lrm": 1.0}
    assert q1["success_all"]["slm"] == 0.5
    # held out whole: a benchmark (scibench) and a category (psychology)
    assert by_id["mmlu_pro:3"]["split"] == "heldout" and by_id["mmlu_pro:3"]["eval_set"] == "mmlu_pro:scibench"
    assert by_id["mmlu_pro:2"]["split"] == "heldout" and by_id["mmlu_pro:2"]["eval_set"] == "mmlu_pro:psychology"
    assert by_id["mmlu_pro:2"]["success_all"]["lrm"] is None  # 'top' did not score it
    # routing: gsm8k held out; untiered model never counts; commongen coverage rescaled
    g = by_id["routing:g1"]
    assert g["split"] == "heldout" and g["success_all"] == {"slm": 1.0, "srm": None, "llm": 1.0, "lrm": None}
    c = by_id["routing:c1"]
    assert c["scores"] == {"s": 0.0, "l": 1.0, "odd": 1.0}
    # missing tiers are imputed from the next weaker one, for training targets only
    assert c["success"] == {"slm": 0.0, "srm": 0.0, "llm": 1.0, "lrm": 1.0} and c["imputed"] == ["srm", "lrm"]
    a1 = by_id["alpaca_eval:1"]
    assert a1["success_all"] == {"slm": None, "srm": None, "llm": 1.0, "lrm": None}
    assert a1["success"]["lrm"] == 1.0 and a1["success"]["srm"] is None
    assert rep["splits"]["heldout"] == 3


def test_success_matrix_and_roundtrip(small_mapping, datasets, tmp_path):
    rows, rep = table.build(datasets)
    table.write(rows, rep, tmp_path / "t")
    back = table.read(tmp_path / "t")
    assert [r["id"] for r in back] == [r["id"] for r in rows]
    m = np.load(tmp_path / "t" / "tier_success_all.npy")
    assert m.shape == (len(rows), 4)
    i = [r["id"] for r in rows].index("routing:g1")
    assert m[i, 0] == 1.0 and math.isnan(m[i, 1])


def test_val_split_is_by_group_and_stable():
    groups = [f"g{i}" for i in range(2000)]
    share = np.mean([table.is_val(g) for g in groups])
    assert 0.12 < share < 0.18
    assert table.is_val("g7") == table.is_val("g7")
