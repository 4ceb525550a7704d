"""What the gateways bench writes for LiteLLM's proxy and for Triage, and how it starts them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from serve_app.config import load_config
from serve_app.config.schema import TIERS
from serve_app.lab.bench import litellm_proxy, triage_gateway

UP = "http://127.0.0.1:9999"


def test_litellm_plain_config_is_the_upstream_as_model_auto():
    cfg = litellm_proxy.config(UP, None)
    assert cfg == {"model_list": [{"model_name": "auto", "litellm_params": {
        "model": "openai/bench-upstream", "api_base": f"{UP}/v1", "api_key": "unused"}}]}


@pytest.mark.parametrize("classifier", ["heuristic", "heuristic_v2"])
def test_litellm_complexity_config_routes_auto_over_four_tier_models(classifier):
    models = litellm_proxy.config(UP, classifier)["model_list"]
    by_name = {m["model_name"]: m["litellm_params"] for m in models}
    router = by_name.pop("auto")
    assert router["model"] == "auto_router/complexity_router"
    assert router["complexity_router_config"]["classifier_type"] == classifier
    tiers = router["complexity_router_config"]["tiers"]
    assert set(tiers) == {"SIMPLE", "MEDIUM", "COMPLEX", "REASONING"}
    # Every tier and the default name a deployment of the config, all at the upstream.
    assert set(tiers.values()) == set(by_name) and router["complexity_router_default_model"] in by_name
    assert all(p == {"model": "openai/bench-upstream", "api_base": f"{UP}/v1", "api_key": "unused"}
               for p in by_name.values())


def test_litellm_config_file_round_trips(tmp_path):
    path = litellm_proxy.write_config(tmp_path / "c.yaml", UP, "heuristic")
    assert yaml.safe_load(path.read_text()) == litellm_proxy.config(UP, "heuristic")


def test_litellm_command_and_environment(monkeypatch, tmp_path):
    argv = litellm_proxy.command(tmp_path / "venv", Path("c.yaml"), 1234, 2)
    assert argv[0] == str(tmp_path / "venv" / "bin" / "litellm")
    assert argv[argv.index("--num_workers") + 1] == "2" and argv[argv.index("--port") + 1] == "1234"
    assert argv[argv.index("--config") + 1] == "c.yaml"
    monkeypatch.setenv("DATABASE_URL", "postgres://x")
    monkeypatch.setenv("LITELLM_LOG", "DEBUG")
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    env = litellm_proxy.environment("sk-test")
    assert "DATABASE_URL" not in env and "LITELLM_LOG" not in env and "PYTHONPATH" not in env
    assert env["LITELLM_MASTER_KEY"] == "sk-test" and env["LITELLM_LOCAL_MODEL_COST_MAP"] == "True"


def test_litellm_venv_is_cached_by_version(monkeypatch, tmp_path):
    monkeypatch.setenv("TRIAGE_CACHE_DIR", str(tmp_path))
    assert litellm_proxy.default_venv("1.2.3") == tmp_path / "litellm-venv-1.2.3"


def test_triage_configs_are_valid_and_point_every_tier_at_the_upstream(tmp_path):
    router_path, serve_path = triage_gateway.write_configs(tmp_path, UP, 8123)
    cfg = load_config(str(router_path))
    assert sorted(t for m in cfg.models for t in m.tiers) == sorted(TIERS)
    assert {(m.engine.type, m.engine.base_url, m.engine.remote_model) for m in cfg.models} == {
        ("openai", f"{UP}/v1", "bench-upstream")}
    assert cfg.auth.tenants == {triage_gateway.TENANT: triage_gateway.KEY_ENV}
    assert not cfg.cache.enabled  # shipped default: every request reaches a model
    serve = yaml.safe_load(serve_path.read_text())
    assert serve["http_options"] == {"host": "127.0.0.1", "port": 8123}
    (app,) = serve["applications"]
    assert app["import_path"] == "serve_app.app:build_app" and app["args"] == {"config": str(router_path)}


def test_triage_command_and_environment(monkeypatch, tmp_path):
    argv = triage_gateway.command(tmp_path / "serve.yaml")
    assert argv[1:] == ["-m", "ray.serve.scripts", "run", "--address", "local", str(tmp_path / "serve.yaml")]
    monkeypatch.setenv("RAY_ADDRESS", "auto")
    monkeypatch.delenv("PYTHONPATH", raising=False)
    env = triage_gateway.environment("sk-test", tmp_path)
    assert "RAY_ADDRESS" not in env and env["PYTHONPATH"] == str(tmp_path)
    assert env[triage_gateway.KEY_ENV] == "sk-test" and env["RAY_SERVE_THROUGHPUT_OPTIMIZED"] == "1"
    # Ray's token auth stays on, as shipped, with a token of its own (not ~/.ray/auth_token).
    assert env["RAY_AUTH_MODE"] == "token" and len(env["RAY_AUTH_TOKEN"]) == 64
    monkeypatch.delenv("RAY_SERVE_ENABLE_HA_PROXY", raising=False)
    assert "RAY_SERVE_ENABLE_HA_PROXY" not in env
    assert triage_gateway.environment("sk-test", tmp_path, haproxy=True)["RAY_SERVE_ENABLE_HA_PROXY"] == "1"


def test_the_ingress_variant_places_the_classifier_in_the_ingress(tmp_path):
    from serve_app.config import load_config

    router_path, _ = triage_gateway.write_configs(tmp_path, UP, 8123, "triage-ingress", "ingress")
    assert router_path.name == "triage-ingress-router.yaml"
    assert load_config(str(router_path)).classifier.placement == "ingress"
    default_path, _ = triage_gateway.write_configs(tmp_path, UP, 8124)
    assert load_config(str(default_path)).classifier.placement == "deployment"
