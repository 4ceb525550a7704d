"""`triage learn`'s parts: reading outcome logs, fitting, judging, versions, the Serve config."""

from __future__ import annotations

import json

import numpy as np
import pytest

from serve_app.lab.learning.cli import with_versions
from serve_app.lab.learning.fit import Outcomes, fit, log_loss
from serve_app.lab.learning.learn import FixedSet, propose, read_logs, scopes
from serve_app.lab.learning.versions import Versions
from serve_app.learning.records import OutcomeRecord

DIM = 8


def outcomes(n=600, seed=0, signal=3.0, tenant="acme", invert=False, t0=0.0):
    """Outcomes that depend on the first embedding coordinate, which the
    model's estimate (always 0.5) does not know about."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, DIM)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    p = 1 / (1 + np.exp(-signal * x[:, 0] * 3))
    y = (rng.random(n) < p).astype(float)
    if invert:
        y = 1 - y
    return Outcomes(np.array([tenant] * n), np.array(["slm"] * n), x, np.full(n, 0.5), y, t0 + np.arange(n, dtype=float))


def fixed(seed=1):
    o = outcomes(400, seed)
    return FixedSet(o.tier, o.vector, o.base, o.outcome)


def test_a_learnable_signal_is_fitted_and_promoted():
    p = propose(outcomes(), "acme", None, 1, fixed())
    assert p.promoted, p.reason
    assert p.adjustment["version"] == 1 and set(p.adjustment["tiers"]) == {"slm"}
    assert p.adjustment["tiers"]["slm"]["weights"][0] > 1  # it found the coordinate
    assert p.report["recent_log_loss"]["candidate"] < p.report["recent_log_loss"]["current"]
    assert p.report["fitted_on"] == 480 and p.report["recent"] == 120


def test_noise_is_refused_and_so_is_what_breaks_the_fixed_set():
    rng = np.random.default_rng(3)
    noise = outcomes()
    noise.outcome = (rng.random(len(noise)) < 0.5).astype(float)
    assert not propose(noise, "acme", None, 1, fixed()).promoted
    poisoned = propose(outcomes(invert=True), "mallory", None, 1, fixed())
    assert not poisoned.promoted and "fixed evaluation set" in poisoned.reason


def test_too_few_outcomes_are_refused():
    p = propose(outcomes(50), "acme", None, 1, fixed())
    assert not p.promoted and "at least" in p.reason


def test_a_candidate_must_beat_the_version_in_force():
    data = outcomes()
    current = fit(data.split_recent(0.2)[0], 1)
    p = propose(data, "acme", current, 2, fixed())
    assert not p.promoted and "no better on recent outcomes" in p.reason


def test_scopes_split_by_tenant_unless_shared():
    a, b = outcomes(100, tenant="acme"), outcomes(100, tenant="globex")
    both = Outcomes(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in
                      ("tenant", "tier", "vector", "base", "outcome", "at")))
    assert {k: len(v) for k, v in scopes(both, "tenant").items()} == {"acme": 100, "globex": 100}
    assert {k: len(v) for k, v in scopes(both, "shared").items()} == {"*": 200}


def test_read_logs_keeps_the_latest_rating_and_skips_what_cannot_be_fitted(tmp_path):
    def line(rid, outcome, at, vector=(1.0,) + (0.0,) * (DIM - 1), base=0.4):
        r = OutcomeRecord(request_id=rid, tenant="acme", tier="slm", model="m", domain="general", created_at=0,
                          expires_at=0, vector=vector, base=base, outcome=outcome, source="explicit")
        return json.dumps({**r.log_json(), "at": at})

    log = tmp_path / "outcomes-1.jsonl"
    log.write_text("\n".join([line("a", 1.0, 1), line("a", 0.0, 2), line("b", 1.0, 3, vector=None),
                              line("c", 1.0, 4, base=None), line("d", 1.0, 5)]) + "\n" + '{"cut by a cra')
    data = read_logs([log])
    assert len(data) == 2 and data.outcome.tolist() == [0.0, 1.0] and data.vector.shape == (2, DIM)


def test_versions_promote_roll_back_and_keep_history(tmp_path):
    v = Versions(tmp_path)
    assert v.current("acme") is None and v.next_version("acme") == 1
    v.promote("acme", {"version": 1, "tiers": {}}, {"n": 1})
    v.promote("acme", {"version": 2, "tiers": {}}, {"n": 2})
    v.promote("*", {"version": 1, "tiers": {}}, {})
    assert v.current("acme")["version"] == 2 and set(v.in_force()) == {"acme", "*"}
    assert v.rollback("acme") == 1 and v.current("acme")["version"] == 1
    assert v.rollback("acme") == 0 and v.current("acme") is None and set(v.in_force()) == {"*"}
    with pytest.raises(ValueError):
        v.rollback("acme")
    assert v.next_version("acme") == 3  # versions are never reused
    events = [json.loads(x)["event"] for x in (tmp_path / "versions" / "history.jsonl").read_text().splitlines()]
    assert events == ["promoted", "promoted", "promoted", "rollback", "rollback"]


def test_the_serve_config_gets_the_versions_and_keeps_its_batching():
    cfg = {"applications": [{"name": "triage", "import_path": "serve_app.app:build_app", "args": {"config": "r.yaml"},
                             "deployments": [{"name": "Classifier", "user_config": {"max_batch_size": 8}}]}]}
    out = with_versions(cfg, {"max_batch_size": 16, "batch_wait_timeout_s": 0.0}, {"acme": {"version": 2}})
    (clf,) = out["applications"][0]["deployments"]
    assert clf["user_config"] == {"max_batch_size": 8, "batch_wait_timeout_s": 0.0, "adjustments": {"acme": {"version": 2}}}
    rolled_back = with_versions(out, {"max_batch_size": 16, "batch_wait_timeout_s": 0.0}, {})
    assert "adjustments" not in rolled_back["applications"][0]["deployments"][0]["user_config"]


def test_log_loss_of_no_adjustment_is_the_models():
    o = outcomes(100)
    assert log_loss(None, o.tier, o.vector, o.base, o.outcome) == pytest.approx(np.log(2))


def test_with_the_classifier_in_the_ingress_the_versions_go_to_the_ingress():
    cfg = {"applications": [{"name": "triage", "import_path": "serve_app.app:build_app", "args": {"config": "r.yaml"},
                             "deployments": [{"name": "Ingress", "num_replicas": 2}]}]}
    out = with_versions(cfg, {"max_batch_size": 16, "batch_wait_timeout_s": 0.0}, {"acme": {"version": 2}}, "ingress")
    (ingress,) = out["applications"][0]["deployments"]
    assert ingress == {"name": "Ingress", "num_replicas": 2, "user_config": {"adjustments": {"acme": {"version": 2}}}}
    rolled_back = with_versions(out, {"max_batch_size": 16, "batch_wait_timeout_s": 0.0}, {}, "ingress")
    assert rolled_back["applications"][0]["deployments"][0]["user_config"] == {}
