"""When every candidate is at capacity the client gets a 503 it may retry."""

from tests.integration.conftest import TENANT_KEYS


def test_all_candidates_overloaded_is_503_with_retry_after(http, cache_url):
    # The cache app allows one attempt, so the named model is the only candidate.
    r = http.post(f"{cache_url}/v1/chat/completions",
                  json={"model": "always-busy", "messages": [{"role": "user", "content": "hi"}]},
                  headers={"authorization": f"Bearer {TENANT_KEYS['acme']}"})
    assert r.status_code == 503
    assert r.headers["retry-after"] == "1"
    err = r.json()["error"]
    assert err["code"] == "all_models_overloaded" and "always-busy: overloaded" in err["message"]
