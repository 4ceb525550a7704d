"""Trained-head inference and how the deployment combines it (tiny synthetic weights)."""

import numpy as np
import pytest

from serve_app.classifier.exemplars import ExemplarScorer
from serve_app.classifier.heads import RouterHeads, features
from serve_app.classifier.trained import TrainedScorer
from serve_app.config.schema import DEFAULT_DOMAINS, TIERS

DIM = 4


def _heads(sensitive_bias=-5.0, hidden=False) -> RouterHeads:
    rng = np.random.default_rng(0)
    w = {}
    width = DIM + 1
    if hidden:
        w["hidden.W"], w["hidden.b"] = rng.normal(size=(width, 6)), np.zeros(6)
        width = 6
    for name, n in (("tier", len(TIERS)), ("domain", len(DEFAULT_DOMAINS)), ("sensitive", 1), ("jailbreak", 1),
                    ("difficulty", 1)):
        w[f"{name}.W"], w[f"{name}.b"] = rng.normal(size=(width, n)) * 0.1, np.zeros(n)
    w["sensitive.b"] = np.array([sensitive_bias])
    # Tier follows the first embedding axis: positive -> lrm, negative -> slm.
    w["tier.W"] = np.zeros((width, 4))
    if not hidden:
        w["tier.W"][0] = [-5, 0, 0, 5]
    meta = {"name": "tiny", "labels": {"tier": list(TIERS), "domain": list(DEFAULT_DOMAINS)},
            "encoder": {"backend": "onnx-int8", "max_tokens": 256}, "temperature": {"tier": 2.0},
            "thresholds": {"sensitive": 0.5, "jailbreak": 0.5}}
    return RouterHeads(meta, w)


def _unit(rows):
    x = np.asarray(rows, np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_save_load_roundtrip_gives_identical_outputs(tmp_path):
    heads = _heads(hidden=True)
    x = features(_unit([[1, 0, 0, 0], [0, 1, 0, 0]]), [10, 300])
    heads.save(tmp_path)
    again = RouterHeads.load(tmp_path)
    a, b = heads.predict(x), again.predict(x)
    np.testing.assert_allclose(a.tier, b.tier, rtol=1e-6)
    np.testing.assert_allclose(a.difficulty, b.difficulty, rtol=1e-6)
    assert np.allclose(a.tier.sum(1), 1) and np.allclose(a.domain.sum(1), 1)


def test_temperature_softens_without_changing_the_argmax():
    heads = _heads()
    x = features(_unit([[1, 0, 0, 0]]), [10])
    hot = heads.predict(x).tier
    heads.temperature["tier"] = 1.0
    cold = heads.predict(x).tier
    assert hot.argmax() == cold.argmax() == 3 and hot.max() < cold.max()


def test_trained_scorer_signals_and_validator_first_sensitivity():
    scorer = TrainedScorer(_heads(sensitive_bias=-5.0))
    emb = _unit([[1, 0, 0, 0], [-1, 0, 0, 0]])
    sig = scorer.signals(emb, [12, 12], [False, False], [("card",), ()])
    assert max(sig[0].tier_probs, key=sig[0].tier_probs.get) == "lrm"
    assert max(sig[1].tier_probs, key=sig[1].tier_probs.get) == "slm"
    assert sig[0].sensitive and sig[0].sensitive_kinds == ("card",)
    assert not sig[1].sensitive and 0 <= sig[1].difficulty <= 1


def test_learned_head_reports_its_score_and_leaves_the_verdict_to_policy():
    from serve_app.policy import RequestFacts, decide
    from tests.unit.factories import config

    sig = TrainedScorer(_heads(sensitive_bias=+8.0)).signals(_unit([[0, 1, 0, 0]]), [12], [False], [()])[0]
    assert not sig.sensitive and sig.sensitive_kinds == () and sig.sensitive_score > 0.999
    d = decide(sig, RequestFacts(forced_tier="lrm"), config())
    assert d.sensitive and "cloud-lrm" not in d.targets and "learned score" in d.reason


def test_operator_domain_takes_its_share_from_the_exemplars():
    base = {"general": [np.array([0, 0, 1, 0], np.float32)]}
    custom = {"hr": [np.array([0, 1, 0, 0], np.float32)]}
    ex = ExemplarScorer({"slm": [np.ones(DIM, np.float32)]}, {**base, **custom}, temperature=0.05)
    scorer = TrainedScorer(_heads(), ex, custom_domains=["hr"])
    sig = scorer.signals(_unit([[0, 1, 0, 0], [0, 0, 1, 0]]), [8, 8], [False, False], [(), ()])
    assert scorer.domain_labels[-1] == "hr"
    assert sig[0].top_domain()[0] == "hr"
    assert sig[1].domain_probs["hr"] < 0.01
    for s in sig:
        assert sum(s.domain_probs.values()) == pytest.approx(1.0, abs=1e-5)
