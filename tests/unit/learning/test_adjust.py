"""Learned adjustments: applied per tenant, loaded from user_config, checked."""

from __future__ import annotations

import numpy as np
import pytest

from serve_app.learning.adjust import Adjustments, logit, sigmoid
from serve_app.policy.signals import Signals

DIM = 4
E = (1.0, 0.0, 0.0, 0.0)


def cfg(version=3, w0=1.0, bias=0.0, tier="slm"):
    return {"version": version, "tiers": {tier: {"weights": [w0, 0, 0, 0], "bias": bias}}}


def sig(prior=None, success=None, embedding=E):
    return Signals(tier_probs={}, domain_probs={}, embedding=embedding,
                   success_prior=prior or {"slm": 0.5, "llm": 0.8}, tier_success=success)


def test_adjusts_the_tier_by_its_weights_and_keeps_the_base():
    a = Adjustments.from_config({"*": cfg(w0=2.0, bias=-1.0)}, DIM)
    (out,) = a.apply([sig(success={"slm": 0.5, "llm": 0.8})], ["acme"])
    assert out.success_prior["slm"] == pytest.approx(sigmoid(logit(0.5) + 2.0 - 1.0))
    assert out.success_prior["llm"] == pytest.approx(0.8, abs=1e-6)  # no adjustment for that tier
    assert out.tier_success["slm"] == pytest.approx(out.success_prior["slm"])
    assert out.success_base == {"slm": 0.5, "llm": 0.8} and out.adjustment == 3


def test_a_tenants_own_version_beats_the_shared_one_and_others_get_the_shared():
    a = Adjustments.from_config({"*": cfg(version=1, w0=-3.0), "acme": cfg(version=2, w0=3.0)}, DIM)
    acme, other = a.apply([sig(), sig()], ["acme", "globex"])
    assert acme.success_prior["slm"] > 0.9 and acme.adjustment == 2
    assert other.success_prior["slm"] < 0.1 and other.adjustment == 1


def test_unsupported_prompts_stay_unsupported_and_no_version_changes_nothing():
    a = Adjustments.from_config({"acme": cfg()}, DIM)
    (out,) = a.apply([sig()], ["acme"])
    assert out.tier_success is None and out.success_prior["slm"] != 0.5
    s = sig()
    assert Adjustments().apply([s], ["acme"]) == [s]
    assert a.apply([s], ["globex"]) == [s]  # no version for globex, none shared


def test_weights_of_the_wrong_size_are_refused():
    with pytest.raises(ValueError, match="4-dim"):
        Adjustments.from_config({"*": {"version": 1, "tiers": {"slm": {"weights": [1.0, 2.0], "bias": 0}}}}, DIM)
    assert np.isfinite(logit(0.0)) and np.isfinite(logit(1.0))
