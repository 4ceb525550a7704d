"""`triage learn` against a running app: outcomes from real traffic and
feedback become a promoted version that the deployment running the
classifier (the Classifier, or the Ingress with classifier.placement:
ingress) takes through its user_config without restarting, then
`--rollback` takes it back.

Runs in a Ray cluster of its own (`ray start --head` with a dashboard, as on
a real cluster; `serve deploy`), because `--apply` deploys a Serve config
through the dashboard, which would replace the session app's imperatively
deployed applications."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration.conftest import TENANT_KEYS, _free_port, stop_group

pytestmark = pytest.mark.slow
HERE = Path(__file__).parent
COOKING = ["How long should I boil an egg for a runny yolk?", "What herbs go well with roast chicken?",
           "How do I keep pasta from sticking together?", "What can I use instead of buttermilk in pancakes?",
           "How do I know when bread dough has risen enough?", "How should I season a cast iron pan?"]
TAX = ["How is depreciation recaptured when a rental property is sold?", "What is the wash sale rule for capital losses?",
       "How are stock options taxed when exercised early?", "When does a foreign trust need to file Form 3520?",
       "How is the alternative minimum tax credit carried forward?", "What is the kiddie tax on unearned income?"]


@pytest.fixture(scope="module", params=["deployment", "ingress"])
def cluster(tmp_path_factory, request):
    work = tmp_path_factory.mktemp("learn-apply")
    router = work / "router.yaml"
    router.write_text((HERE / "learning_apply_router.yaml").read_text()
                      + f"\nclassifier:\n  placement: {request.param}\n")
    dash, gcs, http_port = _free_port(), _free_port(), _free_port()
    env = dict(os.environ, RAY_AUTH_MODE="disabled", TRIAGE_LEARN_TEST_DIR=str(work),
               TRIAGE_TEST_KEY_ACME=TENANT_KEYS["acme"], TRIAGE_TEST_KEY_GLOBEX=TENANT_KEYS["globex"],
               RAY_SERVE_THROUGHPUT_OPTIMIZED="1")
    env.pop("RAY_ADDRESS", None)
    log = (work / "ray.log").open("w")
    head = subprocess.Popen(["ray", "start", "--head", "--block", f"--port={gcs}", f"--dashboard-port={dash}",
                             "--include-dashboard=true", "--num-cpus=4", "--disable-usage-stats"],
                            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    address = f"http://127.0.0.1:{dash}"
    serve_cfg = work / "serve.yaml"
    serve_cfg.write_text(yaml.safe_dump({
        "proxy_location": "HeadOnly", "http_options": {"host": "127.0.0.1", "port": http_port},
        "applications": [{"name": "triage", "route_prefix": "/", "import_path": "serve_app.app:build_app",
                          "args": {"config": str(router)}}]}))
    try:
        _wait(lambda: httpx.get(f"{address}/api/version", timeout=5).status_code == 200, 120, work / "ray.log")
        subprocess.run([sys.executable, "-c", "from ray.serve.scripts import cli; cli()", "deploy", str(serve_cfg),
                        "--address", address], env=env, check=True, capture_output=True)
        base = f"http://127.0.0.1:{http_port}"
        acme = {"authorization": f"Bearer {TENANT_KEYS['acme']}"}  # /health is behind the tenant keys
        _wait(lambda: httpx.get(f"{base}/health", headers=acme, timeout=10).status_code == 200, 300, work / "ray.log")
        yield {"base": base, "address": address, "serve_cfg": serve_cfg, "work": work, "env": env,
               "holder": "Classifier" if request.param == "deployment" else "Ingress"}
    finally:
        stop_group(head, signal.SIGTERM)  # `ray start --block` stops what it started
        log.close()
        # `ray start` names itself the machine's current cluster; a later
        # `serve run` would try to join the stopped one.
        current = Path("/tmp/ray/ray_current_cluster")
        if current.exists() and current.read_text().strip().endswith(f":{gcs}"):
            current.unlink()


def _wait(ok, timeout_s, log: Path):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if ok():
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    pytest.fail(f"not ready after {timeout_s}s:\n{log.read_text()[-3000:]}")


def ask(base, text, tenant="acme", tier=None):
    h = {"authorization": f"Bearer {TENANT_KEYS[tenant]}", **({"x-triage-tier": tier} if tier else {})}
    r = httpx.post(f"{base}/v1/chat/completions", headers=h, timeout=60,
                   json={"model": "auto", "messages": [{"role": "user", "content": text}]})
    assert r.status_code == 200, r.text
    return r


def triage_learn(cluster, *extra) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "serve_app", "learn", "--config", str(cluster["serve_cfg"]),
                           "--fixed", str(cluster["work"] / "fixed.jsonl"), "--apply", "--address",
                           cluster["address"], *extra], env=cluster["env"], cwd=cluster["work"],
                          capture_output=True, text=True, timeout=600)


def classifier_replicas(cluster) -> set[str]:
    """The replicas of the deployment that runs the classifier."""
    apps = httpx.get(f"{cluster['address']}/api/serve/applications/", timeout=30).json()["applications"]
    return {r["replica_id"] for r in apps["triage"]["deployments"][cluster["holder"]]["replicas"]}


def test_learn_promotes_applies_without_restart_and_rolls_back(cluster):
    base = cluster["base"]
    # Outcomes that the shipped model's estimate does not know: on the small
    # tier, cooking questions go well and tax questions badly.
    for i in range(14):
        for text, outcome in [(q, "good") for q in COOKING] + [(q, "bad") for q in TAX]:
            r = ask(base, f"{text} (case {i})", tier="slm")
            fb = httpx.post(f"{base}/v1/feedback", timeout=30, headers={"authorization": f"Bearer {TENANT_KEYS['acme']}"},
                            json={"request_id": r.headers["x-triage-request-id"], "outcome": outcome})
            assert fb.status_code == 200, fb.text
    rows = [{"prompt": q, "pair": "w -> s", "benchmark": "t", "weak_tier": "slm", "strong_tier": "llm",
             "weak_correct": int(q in COOKING), "strong_correct": 1} for q in COOKING + TAX]
    (cluster["work"] / "fixed.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    before = classifier_replicas(cluster)
    assert "x-triage-learned-version" not in ask(base, COOKING[0]).headers

    done = triage_learn(cluster)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "acme: promoted v1" in done.stdout and f"the {cluster['holder']} reconfigures" in done.stdout
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "x-triage-learned-version" not in ask(base, COOKING[1]).headers:
        time.sleep(1)
    r = ask(base, COOKING[1])
    assert r.headers["x-triage-learned-version"] == "1"
    assert "x-triage-learned-version" not in ask(base, COOKING[1], tenant="globex").headers  # acme's own
    assert classifier_replicas(cluster) == before  # reconfigured, not restarted

    back = triage_learn(cluster, "--rollback")
    assert back.returncode == 0 and "rolled back to no learned version" in back.stdout, back.stdout + back.stderr
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and "x-triage-learned-version" in ask(base, COOKING[1]).headers:
        time.sleep(1)
    assert "x-triage-learned-version" not in ask(base, COOKING[1]).headers
