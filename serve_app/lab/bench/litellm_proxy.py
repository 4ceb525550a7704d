"""LiteLLM's proxy for `triage bench gateways`: its own venv, its config, its command.

The proxy is installed once into a venv of its own (never into the project's
environment), cached under ~/.cache/triage (TRIAGE_CACHE_DIR moves it) and
named by the pinned version, and checked not to have pulled torch.

It runs as shipped: `litellm --config ... --num_workers N`, uvicorn, no
database, no Redis, no callbacks. Two settings are not defaults, because the
proxy needs them to run here at all:
- a master key (LITELLM_MASTER_KEY): 1.108.7 refuses to start without one;
  every gateway in the benchmark gets the same bearer key, and Triage checks
  it too (one tenant);
- LITELLM_LOCAL_MODEL_COST_MAP=True: use the bundled price map instead of
  fetching it from GitHub at start (no internet here; the fetch would only
  retry for ~8 s and then fall back to the same bundled copy).

With a `classifier` the config adds LiteLLM's complexity router (`model:
auto_router/complexity_router`) as the model `auto`, over four tier models
that all point at the upstream; without one, `auto` is the upstream model
itself. Clients send `model: "auto"` either way. Two of its classifiers run
locally, with no model and no provider call:
- "heuristic" (its default): weighted keyword/regex scoring over 7 dimensions;
- "heuristic_v2": a bundled calibrated model that estimates the chance of
  success at every tier and takes the first that reaches a threshold (the
  closest in kind to Triage's classifier).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LITELLM_VERSION = "1.108.7"
MODEL = "auto"  # what the benchmark's clients ask for, from every gateway
UPSTREAM_MODEL = "bench-upstream"
# LiteLLM's four complexity tiers -> one model entry each (all the same upstream).
TIER_MODELS = {"SIMPLE": "bench-simple", "MEDIUM": "bench-medium", "COMPLEX": "bench-complex",
               "REASONING": "bench-reasoning"}
DEFAULT_TIER_MODEL = "bench-medium"
# Response headers that say which model / tier answered (counted per load).
LABEL_HEADERS = ("x-litellm-complexity-router-tier", "x-litellm-model-group")
# Packages of the venv worth recording beside the numbers.
RECORDED = ("litellm", "uvicorn", "fastapi", "starlette", "httpx", "openai", "aiohttp", "uvloop",
            "httptools", "pydantic", "orjson")


def default_venv(version: str = LITELLM_VERSION) -> Path:
    base = Path(os.environ.get("TRIAGE_CACHE_DIR") or Path.home() / ".cache" / "triage")
    return base / f"litellm-venv-{version}"


def venv_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def ensure_venv(venv: Path, version: str = LITELLM_VERSION, log=print) -> dict:
    """Create the venv and install `litellm[proxy]==version` unless it is there already.

    Returns the versions of the recorded packages. Raises if torch got in.
    """
    python = venv_python(venv)
    installed = _versions(python) if python.exists() else {}
    if installed.get("litellm") != version:
        log(f"installing litellm[proxy]=={version} into {venv} (once; a few minutes)")
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        f"litellm[proxy]=={version}"], check=True)
        installed = _versions(python)
    if installed.get("litellm") != version:
        raise RuntimeError(f"{venv} holds litellm {installed.get('litellm')}, not {version}")
    if installed.get("torch"):
        raise RuntimeError(f"{venv} has torch {installed['torch']}: the proxy must not pull it in")
    return installed


def _versions(python: Path) -> dict:
    """Versions of RECORDED (and torch, which must be absent) in that interpreter."""
    code = ("import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for name in sys.argv[1:]:\n"
            "    try: out[name] = m.version(name)\n"
            "    except m.PackageNotFoundError: out[name] = None\n"
            "print(json.dumps(out))")
    res = subprocess.run([str(python), "-c", code, *RECORDED, "torch"], capture_output=True, text=True)
    if res.returncode != 0:
        return {}
    return json.loads(res.stdout)


def config(upstream_url: str, classifier: str | None) -> dict:
    """The proxy's config.yaml, as a dict (upstream_url without /v1); `classifier`
    is the complexity router's classifier_type, None for no router."""
    def entry(name: str) -> dict:
        return {"model_name": name, "litellm_params": {
            "model": f"openai/{UPSTREAM_MODEL}", "api_base": f"{upstream_url}/v1", "api_key": "unused"}}

    if not classifier:
        return {"model_list": [entry(MODEL)]}
    models = [entry(name) for name in TIER_MODELS.values()]
    models.append({"model_name": MODEL, "litellm_params": {
        "model": "auto_router/complexity_router",
        "complexity_router_config": {"classifier_type": classifier, "tiers": dict(TIER_MODELS)},
        "complexity_router_default_model": DEFAULT_TIER_MODEL,
    }})
    return {"model_list": models}


def write_config(path: Path, upstream_url: str, classifier: str | None) -> Path:
    import yaml

    path.write_text(yaml.safe_dump(config(upstream_url, classifier), sort_keys=False))
    return path


def command(venv: Path, config_path: Path, port: int, workers: int) -> list[str]:
    return [str(venv / "bin" / "litellm"), "--config", str(config_path), "--host", "127.0.0.1",
            "--port", str(port), "--num_workers", str(workers)]


def environment(master_key: str) -> dict[str, str]:
    """This process's environment without anything LiteLLM would read as settings
    (a database, Redis, other LITELLM_* values) or that points Python elsewhere."""
    drop = ("DATABASE_URL", "DIRECT_URL", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
    env = {k: v for k, v in os.environ.items()
           if k not in drop and not k.startswith(("LITELLM_", "REDIS_"))}
    env["LITELLM_MASTER_KEY"] = master_key
    env["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    return env


SETTINGS_NOTE = {
    "server": "uvicorn (LiteLLM's default), --num_workers as named",
    "database": None, "redis": None, "callbacks": None,
    "env": {"LITELLM_MASTER_KEY": "<random, per run>", "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
}
