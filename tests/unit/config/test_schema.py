import pytest

from serve_app.config import load_config, parse_config
from serve_app.config.files import validate_file
from serve_app.config.loader import load_config_text
from serve_app.errors import ConfigError
from tests.unit.factories import model, pool


def problems(data):
    with pytest.raises(ConfigError) as exc:
        parse_config(data)
    return {p.path: p.message for p in exc.value.problems}


def test_shipped_configs_are_valid():
    for path in ["deployments/router/local.yaml", "deployments/router/hybrid.yaml", "deployments/router/judgement.yaml"]:
        cfg = load_config(path)
        assert {t for m in cfg.models for t in m.tiers} == {"slm", "srm", "llm", "lrm"}


def test_serve_configs_point_at_valid_router_configs():
    assert "deployments/router/local.yaml" in validate_file("deployments/local.yaml")
    assert "deployments/router/hybrid.yaml" in validate_file("deployments/hybrid.yaml")
    assert "deployments/router/judgement.yaml" in validate_file("deployments/judgement.yaml")


def test_unknown_key_is_reported_with_its_path():
    bad = pool()
    bad[2]["engine"] = {"type": "dry_run", "latency": 5}
    assert problems({"models": bad, "policy": {"fallbak": {}}}) == {
        "models.2.engine.latency": "unknown key",
        "policy.fallbak": "unknown key",
    }


def test_bad_values_name_the_key():
    bad = pool()
    bad[0]["tiers"] = ["huge"]
    bad[1]["deployment"] = {"max_ongoing_requests": 0}
    found = problems({"models": bad})
    assert set(found) == {"models.0.tiers.0", "models.1.deployment.max_ongoing_requests"}
    assert "huge" in found["models.0.tiers.0"]


def test_missing_required_keys():
    found = problems({"models": [{"name": "x", "tiers": ["slm"]}]})
    assert found == {"models.0.engine": "required key is missing"}


def test_cross_references_are_checked():
    models = [model("a", ["slm", "srm", "llm"]), model("a", ["slm"])]
    found = problems({"models": models, "policy": {"domain_preferences": {"code": ["nope"], "astrology": ["a"]}}})
    assert found["models.1.name"].startswith("duplicate model name")
    assert found["models"] == "no model serves tier 'lrm'"
    assert found["policy.domain_preferences.code.0"] == "unknown model 'nope'"
    assert "unknown domain" in found["policy.domain_preferences.astrology"]


def test_custom_domain_from_exemplars_can_be_preferred():
    cfg = parse_config({
        "models": pool(),
        "classifier": {"exemplars": {"domains": {"astrology": ["what does my horoscope say"]}}},
        "policy": {"domain_preferences": {"astrology": ["small-a"]}},
    })
    assert "astrology" in cfg.domains()


def test_load_config_reports_unreadable_and_non_yaml_files(tmp_path):
    with pytest.raises(ConfigError, match="cannot read file"):
        load_config(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("models: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_path / "bad.yaml")


def test_serve_config_with_bad_router_config_names_both(tmp_path):
    router = tmp_path / "router.yaml"
    router.write_text("models: []\n")
    serve = tmp_path / "serve.yaml"
    serve.write_text(f"applications:\n  - import_path: serve_app.app:build_app\n    args: {{config: {router}}}\n")
    with pytest.raises(ConfigError) as exc:
        validate_file(str(serve))
    assert exc.value.problems[0].path.startswith("applications.0.args.config")


def test_deployment_options_map_to_serve():
    opts = parse_config({"models": pool()}).models[0].deployment.serve_options()
    assert opts["num_replicas"] == 1 and "autoscaling_config" not in opts
    m = model("auto", ["slm", "srm", "llm", "lrm"],
              deployment={"autoscaling": {"min_replicas": 0, "max_replicas": 4}, "max_queued_requests": 8})
    opts = parse_config({"models": [m]}).models[0].deployment.serve_options()
    assert opts["autoscaling_config"]["max_replicas"] == 4 and "num_replicas" not in opts
    assert opts["max_queued_requests"] == 8


def test_env_references_are_interpolated(tmp_path, monkeypatch):
    path = tmp_path / "r.yaml"
    path.write_text(
        "models:\n  - name: m\n    tiers: [slm, srm, llm, lrm]\n"
        "    engine: {type: dry_run, record_prompts_to: '${REC_DIR}/p.jsonl', latency_ms: ${LAT:-7}}\n"
    )
    monkeypatch.setenv("REC_DIR", "/tmp/x")
    engine = load_config(path).models[0].engine
    assert engine.record_prompts_to == "/tmp/x/p.jsonl" and engine.latency_ms == 7
    monkeypatch.delenv("REC_DIR")
    with pytest.raises(ConfigError, match="environment variable REC_DIR is not set"):
        load_config(path)


def test_env_references_in_comment_lines_are_not_required(tmp_path):
    text = ("# point url at ${QDRANT_URL_NOT_SET} for a server\n"
            "models:\n  - name: m\n    tiers: [slm, srm, llm, lrm]\n    engine: {type: dry_run}\n")
    assert load_config_text(text, "inline").models[0].name == "m"
    with pytest.raises(ConfigError, match="inline"):
        load_config_text(text.replace("dry_run", "nope"), "inline")


def test_classifier_concurrency_must_allow_full_batches():
    found = problems({"models": pool(), "classifier": {"batching": {"max_batch_size": 32},
                                                       "deployment": {"max_ongoing_requests": 8}}})
    assert "classifier.deployment.max_ongoing_requests" in found


def test_reasoning_domains_must_exist():
    found = problems({"models": pool(), "policy": {"reasoning": {"domains": ["math", "astrology"]}}})
    assert "policy.reasoning.domains.1" in found
    assert parse_config({"models": pool(), "policy": {"reasoning": {"domains": ["math"]}}})


def test_ingress_placement_takes_learning():
    cfg = parse_config({"models": pool(), "classifier": {"placement": "ingress"}, "learning": {"enabled": True}})
    assert cfg.classifier.placement == "ingress" and cfg.learning.enabled


def test_an_embedded_cache_deployment_may_not_scale_past_one_replica():
    """The embedded store is one process's files: a second replica, fixed or
    autoscaled, would open another store and miss every entry of the first."""
    for deployment in ({"num_replicas": 2}, {"autoscaling": {"min_replicas": 1, "max_replicas": 3}}):
        found = problems({"models": pool(), "cache": {"enabled": True, "deployment": deployment}})
        assert "one process's store" in found["cache"]
    one = {"autoscaling": {"min_replicas": 1, "max_replicas": 1}}
    assert parse_config({"models": pool(), "cache": {"enabled": True, "deployment": one}}).cache.deployment.replica_ceiling == 1
    server = {"enabled": True, "backend": "server", "url": "http://qdrant:6333", "deployment": {"num_replicas": 2}}
    assert parse_config({"models": pool(), "cache": server}).cache.deployment.replica_ceiling == 2


def test_embedded_cache_in_the_ingress_needs_one_ingress_replica():
    cache = {"enabled": True, "placement": "ingress"}
    two = {"deployment": {"num_replicas": 2}}
    scaling = {"deployment": {"autoscaling": {"min_replicas": 1, "max_replicas": 3}}}
    for ingress in (two, scaling):
        assert set(problems({"models": pool(), "cache": cache, "ingress": ingress})) == {"cache.placement"}
    # One Ingress replica, or a Qdrant server that every replica reaches: fine.
    assert parse_config({"models": pool(), "cache": cache}).cache.placement == "ingress"
    server = {**cache, "backend": "server", "url": "http://qdrant:6333"}
    assert parse_config({"models": pool(), "cache": server, "ingress": two}).cache.placement == "ingress"
    # The cache's own deployment is the default placement.
    assert parse_config({"models": pool(), "cache": {"enabled": True}}).cache.placement == "deployment"
