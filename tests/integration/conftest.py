"""One local Ray instance and one Triage app for the whole integration run.

Starting Ray + Serve costs 6-12 s on 2 cores, so the app is deployed once
from tests/integration/router.yaml; tests pick their scenario by forcing a
tier (x-triage-tier) or naming a model.
"""

import os
import signal
import socket
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGINT, grace_s: float = 60) -> None:
    """Stop a process started with start_new_session=True and everything it
    started: `sig` (SIGINT: `serve run` shuts Serve down), then SIGKILL."""
    os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def kill_replica(app: str, deployment: str) -> None:
    """Kill the one replica of an app's deployment, as a crash would; Serve starts another."""
    import ray

    replicas = [a for a in ray.util.list_named_actors(all_namespaces=True)
                if app in a["name"] and deployment in a["name"]]
    assert len(replicas) == 1, replicas
    ray.kill(ray.get_actor(replicas[0]["name"], namespace=replicas[0]["namespace"]), no_restart=True)


TENANT_KEYS = {"acme": "key-acme-123", "globex": "key-globex-456", "initech": "key-initech-789"}
ADMIN_KEY = "admin-key-789"
ESCALATION_SECRET = "escalation-secret-321"


@pytest.fixture(scope="session")
def ray_session(tmp_path_factory):
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    # The mode the README runs the router in (measured: hops 3 -> 1.5 ms);
    # its replicas drain 30 s on shutdown unless told otherwise.
    os.environ.setdefault("RAY_SERVE_THROUGHPUT_OPTIMIZED", "1")
    os.environ.setdefault("RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S", "1")
    # Replicas inherit the environment Ray starts with: set keys before init.
    os.environ["TRIAGE_TEST_KEY_ACME"] = TENANT_KEYS["acme"]
    os.environ["TRIAGE_TEST_KEY_GLOBEX"] = TENANT_KEYS["globex"]
    os.environ["TRIAGE_TEST_KEY_INITECH"] = TENANT_KEYS["initech"]
    os.environ["TRIAGE_ADMIN_KEY"] = ADMIN_KEY
    os.environ["TRIAGE_TEST_ESCALATION_SECRET"] = ESCALATION_SECRET
    os.environ["TRIAGE_TEST_CACHE_DIR"] = str(tmp_path_factory.mktemp("cache"))
    import ray

    ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    yield ray
    from ray import serve

    serve.shutdown()
    ray.shutdown()


@pytest.fixture(scope="session")
def record_file(tmp_path_factory) -> Path:
    """Where the dry_run model marked `cloud` writes every request it receives."""
    return tmp_path_factory.mktemp("records") / "lrm-cloud.jsonl"


@pytest.fixture(scope="session")
def base_url(ray_session, record_file) -> str:
    from ray import serve

    from serve_app.app import build_app

    os.environ["TRIAGE_TEST_RECORD"] = str(record_file)
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app({"config": str(HERE / "router.yaml")}), name="triage", route_prefix="/")
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def cache_url(base_url) -> str:
    """A second app in the same Serve instance, with the semantic cache on."""
    from ray import serve

    from serve_app.app import build_app

    serve.run(build_app({"config": str(HERE / "cache_router.yaml")}), name="triage-cache", route_prefix="/c")
    return f"{base_url}/c"


@pytest.fixture(scope="session")
def cache_in_ingress_url(base_url) -> str:
    """An app whose one Ingress replica holds the classifier and the cache (route prefix /ci)."""
    from ray import serve

    from serve_app.app import build_app

    serve.run(build_app({"config": str(HERE / "cache_ingress_router.yaml")}), name="triage-cache-in-ingress",
              route_prefix="/ci")
    return f"{base_url}/ci"


@pytest.fixture(scope="session")
def fuzz_url(base_url) -> str:
    """A third app of dry_run models only (route prefix /f): the fuzzing target."""
    from ray import serve

    from serve_app.app import build_app

    serve.run(build_app({"config": str(HERE / "fuzz_router.yaml")}), name="triage-fuzz", route_prefix="/f")
    return f"{base_url}/f"


@pytest.fixture(scope="session")
def recorder(tmp_path_factory):
    """A recording OpenAI-compatible upstream in its own process: the 'cloud'
    the privacy tests watch. Yields (url, record file)."""
    import sys

    from serve_app.lab.bench import procs

    work = tmp_path_factory.mktemp("recorder")
    port = procs.free_port()
    record = work / "cloud.jsonl"
    gw = procs.start("recorder", [sys.executable, "-m", "serve_app", "bench", "upstream", "--port", str(port),
                                  "--record", str(record), "--echo"], work / "recorder.log", None)
    try:
        procs.wait_http(gw, f"http://127.0.0.1:{port}/health", 60)
        yield f"http://127.0.0.1:{port}", record
    finally:
        procs.stop(gw, grace_s=10)


@pytest.fixture(scope="session")
def privacy_url(base_url, recorder) -> str:
    """A fourth app (route prefix /p): a local model and recorded cloud models."""
    from ray import serve

    from serve_app.app import build_app

    os.environ["TRIAGE_TEST_RECORDER"] = recorder[0]
    serve.run(build_app({"config": str(HERE / "privacy_router.yaml")}), name="triage-privacy", route_prefix="/p")
    return f"{base_url}/p"


@pytest.fixture(scope="session")
def learning_url(base_url) -> str:
    """A fifth app (route prefix /l): learning from outcomes on, dry_run models."""
    from ray import serve

    from serve_app.app import build_app

    serve.run(build_app({"config": str(HERE / "learning_router.yaml")}), name="triage-learning", route_prefix="/l")
    return f"{base_url}/l"


@pytest.fixture(scope="session")
def escalation_receiver():
    """A real HTTP receiver for the escalation webhook (tests/receiver.py), in this process."""
    from serve_app.lab.escalation_receiver import Receiver

    with Receiver() as rx:
        yield rx


def _judgement_app(name: str, prefix: str, receiver, **env: str) -> None:
    from ray import serve

    from serve_app.app import build_app

    os.environ["TRIAGE_TEST_ESCALATION_URL"] = receiver.url
    os.environ.update(env)
    try:
        serve.run(build_app({"config": str(HERE / "judgement_router.yaml")}), name=name, route_prefix=prefix)
    finally:
        for key in env:
            del os.environ[key]


@pytest.fixture(scope="session")
def judgement_url(base_url, escalation_receiver) -> str:
    """A sixth app (route prefix /j): meta-router, capability routes, escalation."""
    _judgement_app("triage-judgement", "/j", escalation_receiver)
    return f"{base_url}/j"


@pytest.fixture(scope="session")
def slow_meta_url(base_url, escalation_receiver) -> str:
    """A seventh app (route prefix /k): the same, with a meta-router slower than its timeout."""
    _judgement_app("triage-slow-meta", "/k", escalation_receiver,
                   TRIAGE_TEST_META_LATENCY_MS="3000", TRIAGE_TEST_META_TIMEOUT_S="0.3")
    return f"{base_url}/k"


@pytest.fixture
def http(base_url):
    import httpx

    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


@pytest.fixture
def openai_client(base_url):
    from openai import OpenAI

    return OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0, timeout=300)
