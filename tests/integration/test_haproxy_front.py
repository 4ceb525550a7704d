"""The HAProxy front the README documents ("Router overhead"): `serve run`
with Serve's HAProxy mode (RAY_SERVE_ENABLE_HA_PROXY=1; the binary comes
with ray[serve] on Linux) answers chat, streams and JSON errors, and it is
HAProxy, not Serve's Python proxy, that holds the HTTP port.

Runs its own `serve run` (a Ray instance of its own), because the mode is
read when Serve starts."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
import yaml

from tests.integration.conftest import _free_port, stop_group
from tests.integration.test_wheel_install import _wait_healthy

pytestmark = pytest.mark.slow
ROUTER = Path(__file__).parents[2] / "serve_app" / "lab" / "bench" / "overhead_ingress_router.yaml"
ENV = {"RAY_ADDRESS": "local", "RAY_AUTH_MODE": "disabled", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
       "RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S": "60",
       "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "1"}


def _listener(port: int, tries: int = 50) -> psutil.Process | None:
    """The live process listening on `port`. HAProxy's manager reloads haproxy
    when Serve's routes change (a new process takes the port, the old one
    exits), so a listener seen a moment ago may be gone: look again."""
    for _ in range(tries):
        for c in psutil.net_connections("tcp"):
            if c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN and c.pid:
                try:
                    proc = psutil.Process(c.pid)
                    proc.name()
                    return proc
                except psutil.NoSuchProcess:
                    continue
        time.sleep(0.2)
    return None


def test_the_router_answers_behind_haproxy(tmp_path):
    port = _free_port()
    serve_cfg = tmp_path / "serve.yaml"
    serve_cfg.write_text(yaml.safe_dump({
        "proxy_location": "HeadOnly", "http_options": {"host": "127.0.0.1", "port": port},
        "applications": [{"name": "triage", "route_prefix": "/", "import_path": "serve_app.app:build_app",
                          "args": {"config": str(ROUTER)}}]}))
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen([sys.executable, "-c", "from ray.serve.scripts import cli; cli()", "run", str(serve_cfg)],
                            env=dict(os.environ, **ENV), stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    haproxy = None
    try:
        _wait_healthy(base, proc, tmp_path / "serve.log", timeout_s=300)
        haproxy = _listener(port)
        assert haproxy is not None and haproxy.name() == "haproxy", haproxy
        body = {"model": "auto", "messages": [{"role": "user", "content": "What is the capital of France?"}]}
        r = httpx.post(f"{base}/v1/chat/completions", json=body, timeout=60)
        assert r.status_code == 200, r.text
        assert r.headers["x-triage-model"].startswith("bench-") and r.json()["choices"][0]["message"]["content"]
        with httpx.stream("POST", f"{base}/v1/chat/completions", json={**body, "stream": True}, timeout=60) as s:
            text = "".join(s.iter_text())
        assert s.status_code == 200 and text.rstrip().endswith("data: [DONE]")
        bad = httpx.post(f"{base}/v1/chat/completions", json={"model": "auto"}, timeout=30)
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "messages"
    finally:
        stop_group(proc)
        log.close()
        if haproxy is not None and haproxy.is_running():  # Serve stops it; make sure
            haproxy.kill()
