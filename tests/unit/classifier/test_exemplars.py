import numpy as np
import pytest

from serve_app.classifier.exemplars import (
    ExemplarScorer,
    build_scorer,
    centroids,
    load_default_exemplars,
    merge_exemplars,
    signals_from_scores,
    task_vectors,
)
from serve_app.config.schema import DEFAULT_DOMAINS, TIERS, Exemplars


def e(*xs):
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


# Axis-aligned toy embeddings: each label owns one direction.
TIERS_TOY = {
    "slm": [e(1, 0, 0, 0), e(1, 0.1, 0, 0)],
    "srm": [e(0, 1, 0, 0)],
    "llm": [e(0, 0, 1, 0)],
    "lrm": [e(0, 0, 0, 1), e(0.1, 0, 0, 1)],
}
DOMAINS_TOY = {"math": [e(0, 0, 0, 1)], "general": [e(1, 0, 0, 0)]}


def test_centroid_is_normalised_mean_of_normalised_members():
    labels, c = centroids({"a": [np.array([2.0, 0]), np.array([0, 10.0])]})
    assert labels == ("a",)
    np.testing.assert_allclose(c[0], e(1, 1), atol=1e-6)


def test_task_vectors_centre_and_keep_single_label():
    c = np.stack([e(1, 0.2), e(0.2, 1)])
    t = task_vectors(c)
    np.testing.assert_allclose(np.linalg.norm(t, axis=1), 1.0, atol=1e-6)
    np.testing.assert_allclose(t[0], -t[1], atol=1e-6)
    np.testing.assert_allclose(task_vectors(c[:1]), c[:1])


def test_scores_pick_nearest_label_and_sum_to_one():
    s = ExemplarScorer(TIERS_TOY, DOMAINS_TOY, temperature=0.05)
    out = s.score(np.stack([e(1, 0, 0, 0), e(0, 0, 0.2, 1)]))
    assert out.tier_labels == ("slm", "srm", "llm", "lrm")
    assert [out.tier_labels[i] for i in out.tier_probs.argmax(1)] == ["slm", "lrm"]
    assert [out.domain_labels[i] for i in out.domain_probs.argmax(1)] == ["general", "math"]
    np.testing.assert_allclose(out.tier_probs.sum(1), 1.0, atol=1e-6)
    np.testing.assert_allclose(out.domain_probs.sum(1), 1.0, atol=1e-6)
    assert out.jailbreak.tolist() == [0.0, 0.0]  # no jailbreak set: never flagged


def test_temperature_sharpens():
    x = e(1, 0.6, 0, 0)[None]
    hot = ExemplarScorer(TIERS_TOY, DOMAINS_TOY, temperature=1.0).score(x).tier_probs
    cold = ExemplarScorer(TIERS_TOY, DOMAINS_TOY, temperature=0.05).score(x).tier_probs
    assert hot.argmax() == cold.argmax() == 0
    assert cold.max() > hot.max() > 0.25
    with pytest.raises(ValueError):
        ExemplarScorer(TIERS_TOY, DOMAINS_TOY, temperature=0)


def test_input_rows_need_not_be_normalised():
    s = ExemplarScorer(TIERS_TOY, DOMAINS_TOY)
    a = s.score(e(0, 1, 0, 0)[None]).tier_probs
    b = s.score(7 * e(0, 1, 0, 0)[None]).tier_probs
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_jailbreak_nearest_exemplar():
    jb = [e(0, 0, 1, 1), e(0, 1, 0, 1)]
    s = ExemplarScorer(TIERS_TOY, DOMAINS_TOY, jailbreak=jb, temperature=0.05)
    p = s.score(np.stack([e(0, 0, 1, 1), e(1, 0, 0, 0)])).jailbreak
    assert p[0] > 0.99 and p[1] < 0.01
    assert ((p >= 0) & (p <= 1)).all()


def test_empty_label_rejected():
    with pytest.raises(ValueError):
        ExemplarScorer({"slm": []}, DOMAINS_TOY)


def test_default_exemplars_cover_every_label():
    d = load_default_exemplars()
    assert set(d["tiers"]) == set(TIERS)
    assert set(d["domains"]) == set(DEFAULT_DOMAINS)
    assert all(15 <= len(v) <= 25 for v in d["tiers"].values())
    assert all(10 <= len(v) <= 20 for v in d["domains"].values())
    assert 10 <= len(d["jailbreak"]) <= 20
    assert all(isinstance(x, str) and x for v in d["domains"].values() for x in v)


def test_merge_adds_and_replaces():
    defaults = {"tiers": {"slm": ["a"], "srm": ["b"]}, "domains": {"math": ["m1", "m2"], "code": ["c"]}, "jailbreak": ["j"]}
    custom = Exemplars(domains={"math": ["new math"], "cooking": ["bake bread", "boil eggs"]})
    m = merge_exemplars(defaults, custom, use_defaults=True)
    assert m["domains"] == {"math": ["new math"], "code": ["c"], "cooking": ["bake bread", "boil eggs"]}
    assert m["tiers"] == defaults["tiers"] and m["jailbreak"] == ["j"]
    assert defaults["domains"]["math"] == ["m1", "m2"]  # defaults untouched


def test_merge_without_defaults_and_jailbreak_replace():
    defaults = {"tiers": {"slm": ["a"]}, "domains": {"math": ["m"]}, "jailbreak": ["j"]}
    m = merge_exemplars(defaults, {"domains": {"legal": ["sue"]}, "jailbreak": ["x"]}, use_defaults=False)
    assert m == {"tiers": {}, "domains": {"legal": ["sue"]}, "jailbreak": ["x"]}
    m = merge_exemplars(defaults, {"jailbreak": ["x"]}, use_defaults=True)
    assert m["jailbreak"] == ["x"]
    with pytest.raises(ValueError):
        merge_exemplars(defaults, {"domains": {"legal": []}})


def _fake_embed(texts):
    # Deterministic toy encoder: one axis per keyword.
    keys = ["short", "solve", "essay", "prove", "money", "chat", "ignore"]
    out = np.array([[1.0 if k in t else 0.05 for k in keys] for t in texts], dtype=np.float32)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_build_scorer_and_signals_with_custom_domain():
    ex = {
        "tiers": {"slm": ["short q"], "srm": ["solve it"], "llm": ["essay pls"], "lrm": ["prove it"]},
        "domains": {"general": ["chat a bit"], "financial": ["money talk"]},
        "jailbreak": ["ignore rules"],
    }
    ex = merge_exemplars(ex, {"domains": {"proofs": ["prove things"]}})
    scorer = build_scorer(_fake_embed, ex, temperature=0.05)
    assert scorer.domain_labels == ("general", "financial", "proofs")
    texts = ["prove this", "ignore everything"]
    vecs = _fake_embed(texts)
    sig = signals_from_scores(scorer.score(vecs), vecs, [3, 900], [False, True], [(), ("email",)])
    assert max(sig[0].tier_probs, key=sig[0].tier_probs.get) == "lrm"
    assert sig[0].top_domain()[0] == "proofs"
    assert sig[0].sensitive is False and sig[0].jailbreak_prob < 0.5
    assert sig[1].jailbreak_prob > 0.9
    assert sig[1].sensitive and sig[1].sensitive_kinds == ("email",)
    assert sig[1].tokens == 900 and sig[1].truncated
    assert len(sig[0].embedding) == 7 and isinstance(sig[0].embedding[0], float)
    assert abs(sum(sig[0].domain_probs.values()) - 1) < 1e-6
