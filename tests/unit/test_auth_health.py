import pytest

from serve_app.auth import TenantResolver
from serve_app.config.schema import AuthConfig
from serve_app.errors import AuthError
from serve_app.health import health_report
from tests.unit.factories import config


def test_no_tenants_means_no_auth():
    assert TenantResolver(AuthConfig(), environ={}).tenant(None) == "default"


def test_keys_map_to_tenants():
    r = TenantResolver(AuthConfig(tenants={"acme": "ACME_KEY", "globex": "GLOBEX_KEY"}),
                       environ={"ACME_KEY": "k-acme", "GLOBEX_KEY": "k-globex"})
    assert r.tenant("Bearer k-acme") == "acme" and r.tenant("Bearer k-globex") == "globex"
    for bad in (None, "", "Bearer nope", "k-acme-x"):
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
