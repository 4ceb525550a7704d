"""cache.placement: ingress. The Ingress replica holds the store: the app has
no SemanticCache deployment, a repeat is served from the cache, the admin
endpoints reach this replica's store, and entries survive the replica."""

import time

import httpx
import pytest
from ray import serve

from tests.integration.conftest import kill_replica
from tests.integration.test_cache import ask, check_admin_endpoints, unique, until_cached

APP = "triage-cache-in-ingress"


@pytest.fixture
def client(cache_in_ingress_url):
    with httpx.Client(base_url=cache_in_ingress_url, timeout=60) as c:
        yield c


def test_the_app_has_no_cache_or_classifier_deployment(client):
    assert set(serve.status().applications[APP].deployments) == {"Ingress", "Model:answerer"}


def test_repeat_and_paraphrase_hit_in_the_ingress(client):
    q = unique("What is the capital of France?")
    first = ask(client, q)
    assert first.status_code == 200 and first.headers["x-triage-cache"] == "miss"
    again = until_cached(client, q)
    assert again.headers["x-triage-cache"] == "hit" and float(again.headers["x-triage-cache-similarity"]) == 1.0
    assert again.json()["choices"][0]["message"]["content"] == first.json()["choices"][0]["message"]["content"]
    assert ask(client, q, tenant="globex").headers["x-triage-cache"] == "miss"


def test_admin_endpoints_reach_the_ingress_store(client):
    check_admin_endpoints(client)


def test_entries_survive_an_ingress_replica_restart(client):
    q = unique("Who wrote the novel Moby-Dick?")
    assert until_cached(client, q).headers["x-triage-cache"] == "hit"
    kill_replica(APP, "Ingress")
    # Serve starts a new Ingress replica, which reopens the shard the dead one
    # held; until it answers, requests fail at the proxy.
    deadline, status = time.monotonic() + 120, None
    while time.monotonic() < deadline:
        try:
            status = ask(client, q).headers.get("x-triage-cache")
        except httpx.HTTPError:
            status = None
        if status == "hit":
            break
        time.sleep(1)
    assert status == "hit"
