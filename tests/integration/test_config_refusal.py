"""`serve run` and `triage validate` refuse a bad config with the same message."""

import os
import subprocess
import sys
import time

import pytest

from serve_app.app import build_app
from serve_app.errors import ConfigError
from tests.integration.conftest import stop_group

BAD = "models:\n  - name: m\n    tiers: [slm]\n    engine: {type: dry_run, latency: 3}\n"


def test_build_app_and_validate_print_the_same_problems(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(BAD)
    with pytest.raises(ConfigError) as exc:
        build_app({"config": str(path)})
    cli = subprocess.run([sys.executable, "-m", "serve_app", "validate", str(path)],
                         capture_output=True, text=True)
    assert cli.returncode == 1
    assert cli.stderr.strip() == exc.value.message.strip()
    assert "models.0.engine.latency: unknown key" in cli.stderr
    assert "models: no model serves tier 'srm'" not in cli.stderr  # field errors come first


def test_serve_run_refuses_a_bad_config(tmp_path):
    """With a config file, `serve run` builds the app inside Ray and stays up
    after a failed build (Ray's behaviour), so the test reads its output for
    the message and then stops it."""
    router = tmp_path / "bad.yaml"
    router.write_text(BAD)
    serve_cfg = tmp_path / "serve.yaml"
    serve_cfg.write_text(
        "http_options: {host: 127.0.0.1, port: 8399}\n"
        "applications:\n  - name: bad-config\n    route_prefix: /bad\n"
        f"    import_path: serve_app.app:build_app\n    args: {{config: {router}}}\n")
    # RAY_ADDRESS=local: a cluster of its own, never the test session's.
    env = {**os.environ, "RAY_AUTH_MODE": "disabled", "RAY_ADDRESS": "local"}
    proc = subprocess.Popen(["serve", "run", str(serve_cfg)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True)
    found = False
    deadline = time.monotonic() + 180
    try:
        for line in proc.stdout:
            if "models.0.engine.latency: unknown key" in line:
                found = True
                break
            if time.monotonic() > deadline:
                break
    finally:
        stop_group(proc)
    assert found
