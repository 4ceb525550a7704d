"""Tiny hand-written outcome sources (two or three models each) and the mapping for them."""

from __future__ import annotations

import json

import pytest

from serve_app.lab.outcomes import tiers

M = tiers.ModelInfo


@pytest.fixture
def small_mapping(monkeypatch):
    mapping = {
        "mmlu_pro": {"small-a": M(7, "test", "slm"), "small-b": M(8, "test", "slm", eval_only=True),
                     "math-s": M(7, "test", "srm"), "big": M(70, "test", "llm"), "top": M(None, "test", "lrm")},
        "routing_outcomes": {"s": M(7, "test", "slm"), "l": M(50, "test", "llm"), "odd": M(8, "test", None)},
        "alpaca_eval": {"s": M(7, "test", "slm"), "l": M(70, "test", "llm"), "ref": M(None, "test", None)},
    }
    for k, v in mapping.items():
        monkeypatch.setitem(tiers.SOURCES, k, v)
    return mapping


def _write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def datasets(tmp_path):
    root = tmp_path / "datasets"
    mm = root / "mmlu_pro_derived"
    qs = [
        {"question_id": 1, "category": "math", "src": "ori_mmlu-x", "question": "What is 2+2?", "options": ["3", "4"], "answer": "B"},
        {"question_id": 2, "category": "psychology", "src": "ori_mmlu-y", "question": "Who wrote on dreams?", "options": ["Freud", "Kant"], "answer": "A"},
        {"question_id": 3, "category": "physics", "src": "scibench-z", "question": "Speed of light?", "options": ["c", "g"], "answer": "A"},
        {"question_id": 4, "category": "law", "src": "stemez-w", "question": "What is 2 + 2 ?", "options": ["3", "4"], "answer": "B"},
    ]
    _write(mm / "mmlu_pro_test_questions.jsonl", "\n".join(json.dumps(q) for q in qs) + "\n")
    cols = ["small-a", "small-b", "math-s", "big", "top"]
    head = "question_id,category," + ",".join(f"{c}_5shots" for c in cols) + ",n_models,frac_correct\n"
    body = "1,math,1,0,1,1,1,5,0.8\n2,psychology,0,0,1,1,,5,0.5\n3,physics,0,1,0,0,1,5,0.4\n4,law,1,1,1,1,1,5,1\n"
    _write(mm / "mmlu_pro_per_model_correct.csv", "\ufeff" + head + body)
    ro = root / "routing_outcomes" / "llmrouter_graphrouter"
    rows = [
        {"id": "g1", "prompt": "Tom has 3 apples and buys 2. How many?", "subtask": "gsm8k", "outcomes": {"s": 1, "l": 1, "odd": 0}},
        {"id": "c1", "prompt": "dog, frisbee, catch", "subtask": "commongen", "outcomes": {"s": 0.69, "l": 0.7, "odd": 1.0}},
        {"id": "t1", "prompt": "Capital of Peru?", "subtask": "trivia_qa", "outcomes": {"s": 0, "l": 1, "odd": 0}},
    ]
    _write(ro / "outcomes.jsonl", "\n".join(json.dumps(r) for r in rows) + "\n")
    al = root / "alpaca_eval_derived"
    _write(al / "alpaca_eval_instructions.jsonl",
           "\n".join(json.dumps({"idx": i, "instruction": t, "dataset": "oasst"}) for i, t in
                     enumerate(["Write a haiku about rain.", "Plan a trip to Rome."])) + "\n")
    _write(al / "alpaca_eval_per_model_preference_vs_gpt4turbo.csv", "idx,s,l,ref\n0,1.5,1.2,1.5\n1,,1.9,1.5\n")
    return root
