import pytest

from serve_app.auth import AdminKey, TenantResolver, bearer_token
from serve_app.config.files import duplicate_keys
from serve_app.config.schema import AuthConfig
from serve_app.errors import AuthError, ConfigError
from serve_app.health import health_report
from tests.unit.factories import config


def test_no_tenants_means_no_auth():
    assert TenantResolver(AuthConfig(), environ={}).tenant(None) == "default"


def test_keys_map_to_tenants():
    r = TenantResolver(AuthConfig(tenants={"acme": "ACME_KEY", "globex": "GLOBEX_KEY"}),
                       environ={"ACME_KEY": "k-acme", "GLOBEX_KEY": "k-globex"})
    assert r.tenant("Bearer k-acme") == "acme" and r.tenant("Bearer k-globex") == "globex"
    for bad in (None, "", "Bearer nope", "k-acme-x", "k-acme", "Basic k-acme", "Bearer ", "Bearer k-acmé"):
        with pytest.raises(AuthError) as exc:
            r.tenant(bad)
        assert exc.value.status == 401 and exc.value.param == "authorization"


def test_missing_key_variables_do_not_open_the_router():
    r = TenantResolver(AuthConfig(tenants={"acme": "UNSET_VAR"}), environ={})
    with pytest.raises(AuthError):
        r.tenant("Bearer anything")


def test_health_needs_classifier_and_every_tier():
    cfg = config()
    all_up = {m.name for m in cfg.models}
    assert health_report(cfg, True, all_up)[0] == 200
    assert health_report(cfg, False, all_up)[0] == 503
    # lrm is served by local-lrm and cloud-lrm: one of them is enough.
    status, body = health_report(cfg, True, all_up - {"cloud-lrm"})
    assert status == 200 and body["models_down"] == ["cloud-lrm"]
    status, body = health_report(cfg, True, all_up - {"cloud-lrm", "local-lrm"})
    assert status == 503 and body["tiers"]["lrm"] == [] and body["status"] == "not_ready"


def test_only_the_bearer_scheme_carries_a_key():
    """A raw key in the header worked by accident before: now it is refused."""
    assert bearer_token("Bearer k1") == b"k1" and bearer_token("bearer  k1 ") == b"k1"
    for value in (None, "", "k1", "Token k1", "Bearer", "Bearer   "):
        assert bearer_token(value) is None


def test_non_ascii_keys_are_compared_as_bytes_not_a_500():
    """hmac.compare_digest raises TypeError on non-ASCII str; bytes never do."""
    r = TenantResolver(AuthConfig(tenants={"acme": "K"}), environ={"K": "k-acme"})
    with pytest.raises(AuthError):
        r.tenant("Bearer k-\u00e9\u00e8-acme")
    admin = AdminKey("ADMIN", environ={"ADMIN": "adm-1"})
    assert admin.allows("Bearer adm-1") and not admin.allows("Bearer \u00e9") and not admin.allows("adm-1")
    assert not AdminKey("UNSET", environ={}).allows("Bearer ")


def test_tenants_sharing_a_key_are_a_config_error():
    auth = AuthConfig(tenants={"acme": "A", "globex": "B"})
    env = {"A": "same-key", "B": "same-key"}
    (problem,) = duplicate_keys(auth, env)
    assert problem.path == "auth.tenants.globex" and "acme" in problem.message
    with pytest.raises(ConfigError):
        TenantResolver(auth, environ=env)
    assert duplicate_keys(auth, {"A": "k1", "B": "k2"}) == []


def test_triage_validate_refuses_tenants_sharing_a_key(tmp_path, monkeypatch, capsys):
    from serve_app.cli import main

    path = tmp_path / "router.yaml"
    path.write_text("models:\n  - {name: m, tiers: [slm, srm, llm, lrm], engine: {type: dry_run}}\n"
                    "auth:\n  tenants: {acme: KEY_A, globex: KEY_B}\n")
    monkeypatch.setenv("KEY_A", "dup")
    monkeypatch.setenv("KEY_B", "dup")
    assert main(["validate", str(path)]) == 1
    assert "auth.tenants.globex: $KEY_B holds the same key as tenant 'acme'" in capsys.readouterr().err
    monkeypatch.setenv("KEY_B", "other")
    assert main(["validate", str(path)]) == 0


def test_two_tenants_naming_one_variable_is_a_config_error():
    from serve_app.config import parse_config

    with pytest.raises(ConfigError) as exc:
        parse_config({"models": [{"name": "m", "tiers": ["slm", "srm", "llm", "lrm"], "engine": {"type": "dry_run"}}],
                      "auth": {"tenants": {"acme": "KEY", "globex": "KEY"}}})
    assert any(p.path == "auth.tenants.acme" for p in exc.value.problems)
