"""Capability routes in the pure policy: needs filter, prefers reorder, privacy stays absolute."""

import pytest

from serve_app.errors import ClientError, PolicyRefusal
from serve_app.policy import RequestFacts, decide
from tests.unit.factories import config, model, signals

ALL = ["slm", "srm", "llm", "lrm"]


def with_features(*features, **kw):
    return RequestFacts(features=frozenset(features), **kw)


def pool():
    return [
        model("small", ALL, cost=0.1),
        model("coder", ["slm", "srm"], cost=0.5, capabilities=["code"]),
        model("local-vision", ["llm"], cost=2.0, capabilities=["vision"]),
        model("cloud-vision", ["slm", "llm"], locality="cloud", cost=1.0, capabilities=["vision", "ocr"]),
        model("extractor", ["slm"], cost=0.3, capabilities=["ner"]),
    ]


def test_images_go_to_vision_models_only_cheapest_first():
    d = decide(signals("slm"), with_features("image"), config(pool()))
    assert d.targets == ("cloud-vision", "local-vision")
    assert "image needs vision: capable models only" in d.reason


def test_a_sensitive_image_goes_to_the_local_vision_model():
    d = decide(signals("slm", sensitive=True, kinds=["person"]), with_features("image"), config(pool()))
    assert d.targets == ("local-vision",)


def test_a_sensitive_scan_with_only_cloud_ocr_is_refused_not_leaked():
    # Documents need ocr or vision; only the cloud model has ocr, and the
    # local vision model does not exist in this pool.
    models = [m for m in pool() if m["name"] != "local-vision"]
    with pytest.raises(PolicyRefusal) as exc:
        decide(signals("slm", sensitive=True, kinds=["person"]), with_features("document"), config(models))
    assert exc.value.status == 403 and exc.value.code == "sensitive_requires_local_model"
    assert "document needs ocr|vision" in exc.value.message


def test_no_capable_model_at_all_is_a_client_error_naming_the_need():
    models = [model("small", ALL)]
    with pytest.raises(ClientError) as exc:
        decide(signals("slm"), with_features("image"), config(models))
    assert (exc.value.status, exc.value.code, exc.value.param) == (400, "no_vision_model", "messages")
    with pytest.raises(ClientError) as exc:
        decide(signals("slm"), with_features("document"), config(models))
    assert exc.value.code == "no_capable_model"


def test_code_blocks_prefer_the_coding_model_within_the_tier_only():
    cfg = config(pool())
    plain = decide(signals("slm"), RequestFacts(), cfg)
    code = decide(signals("slm"), with_features("code"), cfg)
    assert plain.targets[0] == "small" and code.targets[0] == "coder"
    # Preference never crosses tiers: for an llm prompt the coder (slm/srm) stays behind llm models.
    assert decide(signals("llm"), with_features("code"), cfg).targets == ("small", "cloud-vision", "local-vision")


def test_operator_domain_rule_prefers_the_specialist():
    cfg = config(pool(), capabilities={"rules": [{"domain": "legal", "prefers": ["ner"]}]})
    d = decide(signals("slm", domain="legal"), RequestFacts(), cfg)
    assert d.targets[0] == "extractor"
    # The default rules are replaced: images now pass to any model.
    assert decide(signals("slm"), with_features("image"), cfg).targets[0] == "small"


def test_a_needs_rule_on_a_domain_filters():
    cfg = config(pool(), capabilities={"rules": [{"domain": "legal", "needs": ["ner"]}]})
    assert decide(signals("llm", domain="legal"), RequestFacts(), cfg).targets == ("extractor",)


@pytest.mark.parametrize("rule, message", [
    ({"needs": ["vision"]}, "exactly one of feature or domain"),
    ({"feature": "image", "domain": "legal", "needs": ["x"]}, "exactly one of feature or domain"),
    ({"feature": "image"}, "needs `needs` or `prefers`"),
])
def test_rules_are_checked(rule, message):
    from serve_app.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        config(pool(), capabilities={"rules": [rule]})


def test_unknown_rule_domain_is_a_config_error():
    from serve_app.errors import ConfigError

    with pytest.raises(ConfigError, match="unknown domain 'bridges'"):
        config(pool(), capabilities={"rules": [{"domain": "bridges", "needs": ["x"]}]})
