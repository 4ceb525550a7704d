import pytest

from serve_app.errors import ClientError, NotFound, PolicyRefusal
from serve_app.policy import RequestFacts, decide
from serve_app.policy.decide import possible_targets
from tests.unit.factories import config, model, signals

AUTO = RequestFacts()


@pytest.mark.parametrize(
    "sig, facts, targets, tier, source",
    [
        # Classifier tier; cheapest model of the tier first, then larger tiers, then smaller.
        (signals("slm"), AUTO, ("small-a", "small-b", "coder"), "slm", "classifier"),
        (signals("srm"), AUTO, ("small-b", "coder", "cloud-llm"), "srm", "classifier"),
        (signals("lrm"), AUTO, ("cloud-lrm", "local-lrm", "coder"), "lrm", "classifier"),
        # Forced tier beats the classifier.
        (signals("slm"), RequestFacts(forced_tier="lrm"), ("cloud-lrm", "local-lrm", "coder"), "lrm", "header"),
        # Explicit model first, then its tier's neighbours; tier from the model.
        (signals("slm"), RequestFacts(model="local-lrm"), ("local-lrm", "cloud-lrm", "coder"), "lrm", "model"),
        # Domain capability makes a specialist: "coder" leads llm for code.
        (signals("llm", domain="code"), AUTO, ("coder", "cloud-llm", "cloud-lrm"), "llm", "classifier"),
        # Sensitive: cloud models are dropped everywhere, including the fallbacks.
        (signals("lrm", sensitive=True, kinds=["email"]), AUTO, ("local-lrm", "coder", "small-b"), "lrm", "classifier"),
        # Image input: only vision models.
        (signals("slm"), RequestFacts(features=frozenset({"image"})), ("cloud-llm",), "slm", "classifier"),
        # Budget drops the expensive ones.
        (signals("lrm"), RequestFacts(max_cost_per_mtok=0.6), ("coder", "small-b", "small-a"), "lrm", "classifier"),
    ],
)
def test_candidate_order(sig, facts, targets, tier, source):
    d = decide(sig, facts, config())
    assert (d.targets, d.tier, d.tier_source) == (targets, tier, source)


def test_reason_says_what_happened():
    d = decide(signals("lrm", sensitive=True, kinds=["card"]), AUTO, config())
    assert "tier=lrm" in d.reason and "sensitive (card)" in d.reason and "local-lrm" in d.reason


def test_explicit_cloud_model_never_gets_sensitive_data():
    d = decide(signals("slm", sensitive=True, kinds=["ssn"]), RequestFacts(model="cloud-lrm"), config())
    assert "cloud-lrm" not in d.targets and d.targets[0] == "local-lrm"
    assert "explicit model cloud-lrm is cloud" in d.reason


def test_sensitive_without_local_model_is_refused():
    cfg = config([model("c1", ["slm", "srm", "llm", "lrm"], locality="cloud")])
    with pytest.raises(PolicyRefusal) as exc:
        decide(signals(sensitive=True, kinds=["iban"]), AUTO, cfg)
    assert exc.value.status == 403 and exc.value.code == "sensitive_requires_local_model"


def test_privacy_rule_can_be_turned_off_explicitly():
    cfg = config([model("c1", ["slm", "srm", "llm", "lrm"], locality="cloud")],
                 policy={"sensitive_local_only": False})
    assert decide(signals(sensitive=True), AUTO, cfg).targets == ("c1",)


def test_domain_preferences_order_specialists():
    cfg = config(policy={"domain_preferences": {"code": ["cloud-llm", "coder"]}})
    assert decide(signals("llm", domain="code"), AUTO, cfg).targets[:2] == ("cloud-llm", "coder")


def test_low_domain_probability_means_general():
    d = decide(signals("slm", domain="legal", p=0.2), AUTO, config())
    assert d.domain == "general"


def test_tier_bias_shifts_the_choice():
    sig = signals("slm", p=0.4)  # others get 0.2 each
    assert decide(sig, AUTO, config()).tier == "slm"
    assert decide(sig, AUTO, config(policy={"tier_bias": {"llm": 1.0}})).tier == "llm"


def test_fallback_limits_and_directions():
    cfg = config(policy={"fallback": {"max_attempts": 5, "escalate": False, "downgrade": True}})
    assert decide(signals("srm"), AUTO, cfg).targets == ("small-b", "coder", "small-a")
    cfg = config(policy={"fallback": {"max_attempts": 1}})
    assert decide(signals("srm"), AUTO, cfg).targets == ("small-b",)


def test_unknown_explicit_model_and_bad_tier_header_are_client_errors():
    with pytest.raises(NotFound) as exc:
        decide(signals(), RequestFacts(model="gpt-9"), config())
    assert exc.value.param == "model" and exc.value.status == 404
    with pytest.raises(ClientError) as exc:
        decide(signals(), RequestFacts(forced_tier="xl"), config())
    assert exc.value.param == "x-triage-tier"


def test_jailbreak_flag_and_block():
    jb = signals(jailbreak=0.95)
    assert decide(jb, AUTO, config()).jailbreak is True
    with pytest.raises(PolicyRefusal) as exc:
        decide(jb, AUTO, config(policy={"jailbreak_action": "block"}))
    assert exc.value.code == "jailbreak_detected"


def test_interactive_latency_class_moves_batch_models_back():
    models = [model("slow-cheap", ["slm", "srm", "llm", "lrm"], cost=0.1, latency_class="batch"),
              model("fast", ["slm", "srm", "llm", "lrm"], cost=1.0)]
    d = decide(signals(), RequestFacts(latency_class="interactive"), config(models))
    assert d.targets == ("fast", "slow-cheap")
    assert decide(signals(), AUTO, config(models)).targets == ("slow-cheap", "fast")


def test_possible_targets_without_a_tier_is_every_model():
    assert possible_targets(RequestFacts(), config()) == [m.name for m in config().models]


def test_possible_targets_of_a_forced_tier_stop_once_enough_local_models_are_in():
    # srm: small-b (local), coder (local), then llm's cloud-llm; then lrm, where
    # local-lrm is the third local model of max_attempts 3.
    assert possible_targets(RequestFacts(forced_tier="srm"), config()) == [
        "small-b", "coder", "cloud-llm", "local-lrm", "cloud-lrm"]
    assert possible_targets(RequestFacts(forced_tier="slm"), config()) == ["small-a", "small-b", "coder"]


def test_possible_targets_always_hold_the_decided_candidates():
    cfg = config()
    for facts in (RequestFacts(forced_tier="srm"), RequestFacts(model="coder"),
                  RequestFacts(forced_tier="llm", features=frozenset({"image"}))):
        for sig in (signals("slm"), signals("lrm", sensitive=True, kinds=["email"]), signals("llm", domain="code")):
            try:
                d = decide(sig, facts, cfg)
            except PolicyRefusal:
                continue
            assert set(d.targets) <= set(possible_targets(facts, cfg)), (facts, d.targets)


def test_a_domain_rule_that_needs_a_capability_makes_every_model_possible():
    cfg = config(capabilities={"rules": [{"domain": "legal", "needs": ["code"]}]})
    assert len(possible_targets(RequestFacts(forced_tier="slm"), cfg)) == len(cfg.models)
