"""Attack families, the held-out-family head, and the comparison summary on hand-made rows."""

from __future__ import annotations

import numpy as np

from serve_app.lab.training.compare import attack_family, summarise
from serve_app.lab.training.family_holdout import family_key, fit_logistic, score


def _row(source, rule, jailbreak=True, **kw):
    return {"source": source, "label_rule": rule, "jailbreak": jailbreak, "prompt": "x", **kw}


def test_attack_family_names_the_method_or_generator():
    assert attack_family(_row("jailbreakbench", "jailbreakbench:PAIR:prompt->jailbreak=true")) == "jbb:PAIR"
    assert attack_family(_row("attack_synth", "attack_synth:suffix:gcg->jailbreak=true")) == "synth:suffix"
    assert attack_family(_row("attack_synth", "attack_synth:encoding:negative:b64->jailbreak=false")) == "synth:encoding"
    assert attack_family(_row("promptshield", "promptshield:label->jailbreak;attack_type=roleplay")) == "promptshield:roleplay"
    assert attack_family(_row("verazuo_jailbreak", "verazuo:in-the-wild-prompt->jailbreak=true")) == "verazuo:in-the-wild"
    assert attack_family(_row("gsm8k", "gsm8k:srm/math", jailbreak=False)) is None
    # JailbreakBench is held out of all training, so it is never a left-out family of the head.
    assert family_key(_row("jailbreakbench", "jailbreakbench:PAIR:prompt->jailbreak=true")) is None


def test_logistic_head_separates_a_learnable_signal():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5)).astype(np.float32)
    y = x[:, 0] + 0.3 * rng.normal(size=600) > 0.8  # imbalanced: about a fifth positive
    w = fit_logistic(x, y)
    s = score(w, x)
    assert s[y].mean() > 0.7 and s[~y].mean() < 0.3


def test_summary_counts_each_family_and_the_no_identifier_recall():
    rows = [_row("attack_synth", "attack_synth:suffix:gcg->jailbreak=true"),
            _row("attack_synth", "attack_synth:suffix:gcg->jailbreak=true"),
            _row("attack_synth", "attack_synth:suffix:negative:ids->jailbreak=false", jailbreak=False),
            {"source": "private_synth", "label_rule": "private_synth:x", "prompt": "y", "sensitive": True, "jailbreak": False},
            {"source": "private_synth", "label_rule": "private_synth:x", "prompt": "y", "sensitive": False, "jailbreak": False}]
    preds = [{"jailbreak": 0.9, "sensitive": 0.0}, {"jailbreak": 0.2, "sensitive": 0.0},
             {"jailbreak": 0.95, "sensitive": 0.0}, {"jailbreak": 0.0, "sensitive": 0.7},
             {"jailbreak": 0.0, "sensitive": 0.1}]
    s = summarise(rows, preds, {"jailbreak": 0.5, "sensitive": 0.5}, {"tier": [], "domain": []})
    fams = s["jailbreak_by_family"]
    assert fams["synth:suffix (attacks: recall)"] == {"n": 2, "share": 0.5}
    assert fams["synth:suffix (benign: flagged)"] == {"n": 1, "share": 1.0}
    assert s["sensitive_no_identifier_recall"] == {"n": 1, "recall": 1.0}
    assert s["jailbreak"]["recall"] == 0.5 and s["sensitive"]["precision"] == 1.0
