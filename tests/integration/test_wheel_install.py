"""The cluster image's install path, as an operator takes it.

The wheel (not an editable install) goes into a fresh venv outside the
repository; `deployments/` is copied to another directory; `serve run
deployments/local.yaml` runs there and answers a request. This is what
cluster/kuberay/Dockerfile does, and what failed when the shipped model was
found through the checkout's layout.

The venv reuses this environment's installed dependencies
(--system-site-packages; torch and Ray are GBs) but the package itself comes
only from the wheel: the test checks where `serve_app` is imported from.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import yaml

from tests.integration.conftest import stop_group

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _source_tree(dest: Path) -> Path:
    """The files a clean checkout has (tracked + new, not ignored): the build
    must not write build/ or egg-info into the repository under test."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.splitlines()
    for name in files:
        src = REPO / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def wheel_venv(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    src = _source_tree(work / "src")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(work / "dist"), str(src)], check=True, timeout=300)
    (wheel,) = (work / "dist").glob("triage_router-*.whl")
    venv = work / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True, timeout=120)
    subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
                   check=True, timeout=300)
    return venv


def test_wheel_ships_the_model_and_finds_it_from_anywhere(wheel_venv, tmp_path):
    probe = ("import serve_app, serve_app.models as m; from serve_app.classifier.heads import resolve_model_dir; "
             "from serve_app.classifier.encoder import serving_encoder; "
             "from serve_app.config.schema import ClassifierConfig; "
             "print(serve_app.__file__); print(resolve_model_dir('triage-router-v1')); "
             "print(serving_encoder(ClassifierConfig()))")
    out = subprocess.run([str(wheel_venv / "bin" / "python"), "-c", probe], cwd=tmp_path, check=True,
                         capture_output=True, text=True).stdout.splitlines()
    assert out[0].startswith(str(wheel_venv)), f"serve_app imported from {out[0]}, not the wheel"
    model_dir = Path(out[1])
    assert model_dir.is_relative_to(wheel_venv) and (model_dir / "model.json").is_file()
    # The default model's fine-tuned encoder ships inside the wheel too.
    encoder = Path(out[2])
    assert encoder.is_relative_to(wheel_venv)
    assert {"model.onnx", "encoder.json", "tokenizer.json"} <= {p.name for p in encoder.iterdir()}


def test_serve_run_from_another_directory_answers(wheel_venv, tmp_path):
    site = tmp_path / "site"
    shutil.copytree(REPO / "deployments", site / "deployments")
    serve_cfg = site / "deployments" / "local.yaml"
    cfg = yaml.safe_load(serve_cfg.read_text())
    port = _free_port()
    cfg["http_options"]["port"] = port
    serve_cfg.write_text(yaml.safe_dump(cfg))
    env = dict(os.environ, RAY_ADDRESS="local", RAY_AUTH_MODE="disabled", RAY_SERVE_THROUGHPUT_OPTIMIZED="1",
               PYTHONPATH="")
    # `serve` is Ray's console script; run it with the venv's interpreter so
    # the driver and every replica import the wheel.
    cmd = [str(wheel_venv / "bin" / "python"), "-c", "from ray.serve.scripts import cli; cli()",
           "run", "deployments/local.yaml"]
    log = (tmp_path / "serve.log").open("w")
    proc = subprocess.Popen(cmd, cwd=site, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, proc, tmp_path / "serve.log", timeout_s=420)
        r = httpx.post(f"{base}/v1/chat/completions", timeout=120, json={
            "model": "auto", "messages": [{"role": "user", "content": "What is the capital of France?"}]})
        assert r.status_code == 200, r.text
        assert r.headers["x-triage-model"] == "smollm2-135m"
        assert r.json()["choices"][0]["message"]["content"].strip()
    finally:
        stop_group(proc)
        log.close()


def _wait_healthy(base: str, proc: subprocess.Popen, log: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"serve run exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{base}/health/live", timeout=5).status_code == 200 and \
                    httpx.get(f"{base}/health", timeout=10).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(2)
    pytest.fail(f"not healthy after {timeout_s:.0f}s:\n{log.read_text()[-4000:]}")
