"""`triage bench overhead`: what the router costs on top of a direct model call.

One local Ray instance, two Serve apps on one HTTP proxy:
- the router (`build_app` on overhead_router.yaml, route_prefix "/"): dry_run
  models of zero latency, one per tier, and the shipped classifier;
- the baseline (direct.py, route_prefix "/direct"): HTTP -> DirectIngress ->
  ModelServer.chat, the same dry_run deployment the router calls.

Each app gets its OWN dry_run ModelServer rather than sharing one. Serve
scopes deployments to their app, so sharing would mean looking a handle up by
name across apps (the design binds handles through constructors), and it buys
nothing here: the phases run one after another, so the idle copy costs memory
only, and both copies take the same config and Serve options.

It measures over real HTTP with an async httpx client (the client shares the
machine's cores, as a local load generator does): router and baseline with
~20-token prompts at concurrency 1 and 16 and with ~200-token prompts at 16
(HTTP_LOADS), the router alone at c=1 by prompt size; then the classifier
alone through a Serve handle. It writes a table and a JSON file and judges
nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

from serve_app.lab.bench.measure import encode_bodies, handle_calls, http_load
from serve_app.lab.bench.prompts import SHORT, TokenCounter, chat_body, classified_text, long_prompts
from serve_app.lab.bench.triage_gateway import HAPROXY_ENV, HAPROXY_FLAG

CONFIG = Path(__file__).with_name("overhead_router.yaml")
ROUTER_APP, DIRECT_APP = "triage-bench", "direct-bench"
DIRECT_MODEL = "bench-slm"  # its settings are those of every bench model
CHAT = "/v1/chat/completions"
CONCURRENCY = (1, 16)
SIZES = (200, 500)  # pools of long prompts, besides the ~20-token pool
LONG_POOL = 8  # prompts per long size, each from another part of the document
# (prompt size, concurrency) of the router-versus-direct HTTP loads; issue #6
# sets targets for ~20 tokens at c=1 and ~200 tokens at c=16.
HTTP_LOADS = (("~20", 1), ("~20", 16), ("~200", 16))
WARMUP = 20
CLASSIFIER_WARMUP = 10
# Nothing is written to a semantic cache (where one is configured), so every
# request is a lookup miss and reaches a model: the full hot path, every time.
HEADERS = {"x-triage-cache": "no-store"}
ENV_FLAG = "RAY_SERVE_THROUGHPUT_OPTIMIZED"
DRAIN_FLAG = "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S"


def progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def run(requests: int = 200, out: str = "loadtest/results/overhead.json", throughput_optimized: bool = False,
        warmup: int = WARMUP, config: Path = CONFIG, haproxy: bool = False) -> int:
    started = time.perf_counter()
    _prepare_env(throughput_optimized, haproxy)
    progress("building prompts and counting MiniLM tokens")
    prompts = _build_prompts()
    result: dict = {
        "benchmark": "triage bench overhead",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {
            "requests": requests, "warmup": warmup, "classifier_warmup": CLASSIFIER_WARMUP,
            "concurrency": list(CONCURRENCY), "http_loads": [list(x) for x in HTTP_LOADS],
            "config": str(config), "request_headers": HEADERS, "haproxy": haproxy,
        },
        "prompts": {k: {key: v for key, v in p.items() if key != "contents"} for k, p in prompts.items()},
    }

    import ray
    from ray import serve

    result["machine"] = _machine(ray)
    progress(f"starting Ray + Serve ({ENV_FLAG}={os.environ.get(ENV_FLAG) or 'unset'})")
    ray.init(address="local", num_cpus=max(4, os.cpu_count() or 1), include_dashboard=False,
             log_to_driver=False)
    state = {"serve_down": False}
    try:
        base_url = _deploy(serve, config)
        result["machine"]["env_seen_by_ray_workers"] = ray.get(_probe_env(ray).remote())
        result["settings"]["classifier_token_budget"] = _token_budget(config)
        result["settings"]["classifier_placement"] = _load(config).classifier.placement
        asyncio.run(_measure_then_stop(serve, base_url, prompts, requests, warmup, result, state))
    finally:
        if not state["serve_down"]:
            serve.shutdown()
        progress("shutting down Ray")
        ray.shutdown()

    result["duration_s"] = round(time.perf_counter() - started, 1)
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    from serve_app.lab.bench.report import plot, table

    plot(result, str(path.with_suffix(".png")))
    print(table(result), flush=True)
    print(f"\nJSON written to {path}, chart to {path.with_suffix('.png')}", flush=True)
    return 0


# ------------------------------------------------------------------ set-up


def _prepare_env(throughput_optimized: bool, haproxy: bool = False) -> None:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if haproxy:
        # Serve's HAProxy mode (triage_gateway.HAPROXY_ENV); a readiness
        # timeout already in the environment is kept.
        for name, value in HAPROXY_ENV.items():
            os.environ[name] = value if name == HAPROXY_FLAG else os.environ.get(name, value)
    if throughput_optimized:
        # Serve reads it when ray.serve is first imported (in this process and
        # in every Ray worker, which inherit this environment), so before Ray.
        if "ray.serve" in sys.modules:
            progress(f"warning: ray.serve already imported; {ENV_FLAG} may not apply in this process")
        os.environ[ENV_FLAG] = "1"
        # That mode turns on Serve's direct ingress, whose replicas drain for
        # 30 s when stopped; nothing is in flight at the end of a benchmark.
        os.environ.setdefault(DRAIN_FLAG, "1")


def _build_prompts() -> dict:
    count = TokenCounter()
    sized = {"~20": SHORT}
    for size in SIZES:
        sized[f"~{size}"] = long_prompts(size, count, LONG_POOL)
    out = {}
    for key, contents in sized.items():
        tokens = [count(classified_text(c)) for c in contents]
        out[key] = {"contents": contents, "tokens": tokens, "tokens_mean": round(sum(tokens) / len(tokens), 1),
                    "max_tokens": max(tokens), "chars_mean": round(sum(map(len, contents)) / len(contents))}
    return out


def _load(config: Path):
    from serve_app.config import load_config

    return load_config(str(config))


def _token_budget(config: Path) -> int:
    """Content tokens the classifier keeps (max_tokens minus [CLS] and [SEP])."""
    return _load(config).classifier.max_tokens - 2


def _machine(ray) -> dict:
    import torch

    return {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "ray": ray.__version__,
        "torch": torch.__version__,
        ENV_FLAG: os.environ.get(ENV_FLAG),
        DRAIN_FLAG: os.environ.get(DRAIN_FLAG),
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
        "git": _git_state(),
    }


def _git_state() -> dict | None:
    """The code measured: HEAD and the files changed on top of it, when run
    from a checkout (None from an installed wheel)."""
    root = Path.cwd()
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=root, capture_output=True,
                                text=True, timeout=10, check=True).stdout.splitlines()
    except (OSError, subprocess.SubprocessError):
        return None
    return {"head": head, "changed": [line[3:] for line in status]}


def _probe_env(ray):
    @ray.remote(num_cpus=0)
    def probe() -> str | None:
        return os.environ.get(ENV_FLAG)

    return probe


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _deploy(serve, config: Path) -> str:
    import httpx

    from serve_app.app import build_app
    from serve_app.lab.bench.direct import build_direct_app

    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    t = time.perf_counter()
    serve.run(build_app({"config": str(config)}), name=ROUTER_APP, route_prefix="/")
    serve.run(build_direct_app(str(config), DIRECT_MODEL), name=DIRECT_APP, route_prefix="/direct")
    base_url = f"http://127.0.0.1:{port}"
    health = httpx.get(f"{base_url}/health", timeout=30)
    progress(f"both apps deployed in {time.perf_counter() - t:.1f}s; router /health -> {health.status_code}")
    return base_url


# ------------------------------------------------------------- measuring


async def _measure_then_stop(serve, base_url: str, prompts: dict, n: int, warmup: int, result: dict,
                             state: dict) -> None:
    """Measure, then shut Serve down on this same event loop.

    With RAY_SERVE_THROUGHPUT_OPTIMIZED=1 a handle's router runs on the loop
    that first used it (not on a loop of its own), so the handles made here
    must be shut down before asyncio.run closes this loop.
    """
    try:
        await _measure(serve, base_url, prompts, n, warmup, result)
    finally:
        progress("shutting down Serve")
        await serve.shutdown_async()
        state["serve_down"] = True


async def _measure(serve, base_url: str, prompts: dict, n: int, warmup: int, result: dict) -> None:
    import httpx

    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        result["http"] = await _http_phase(client, prompts, n, warmup)
        if result["settings"]["classifier_placement"] == "deployment":
            handle = serve.get_deployment_handle("Classifier", app_name=ROUTER_APP)
            result["handle_roundtrip"] = await _roundtrip(handle, n)
            result["classifier"] = await _classifier_phase(handle, prompts, n)
            result["classifier_concurrent"] = await _classifier_concurrent(handle, prompts["~20"], n)
        else:  # inside the Ingress: no handle to time it through
            result["classifier"] = []
        result["router_by_size"] = await _size_phase(client, prompts, n, warmup)


async def _http_phase(client, prompts: dict, n: int, warmup: int) -> list[dict]:
    rows = []
    for size, conc in HTTP_LOADS:
        bodies = encode_bodies([chat_body(c) for c in prompts[size]["contents"]])
        for target, path in (("router", CHAT), ("direct", "/direct" + CHAT)):
            await http_load(client, path, bodies, warmup, conc, HEADERS)
            series = await http_load(client, path, bodies, n, conc, HEADERS)
            row = {"target": target, "prompt": size, **series.summary(concurrency=conc)}
            rows.append(row)
            progress(f"http {target:<6} {size:<5} c={conc:<3} p50 {row['p50_ms']:.1f} ms  "
                     f"p99 {row['p99_ms']:.1f} ms  {row['throughput_rps']:.1f} req/s  errors {row['errors'] or 0}")
    return rows


async def _roundtrip(handle, n: int) -> dict:
    """A bare handle hop (no model work) from this process, for scale."""
    call = lambda _: handle.ready.remote()  # noqa: E731
    await handle_calls(call, [None], CLASSIFIER_WARMUP)
    series, _ = await handle_calls(call, [None], n)
    row = series.summary(samples=False)
    progress(f"handle round trip p50 {row['p50_ms']:.2f} ms  p99 {row['p99_ms']:.2f} ms")
    return row


async def _classifier_phase(handle, prompts: dict, n: int) -> list[dict]:
    call = lambda text: handle.classify.remote(text)  # noqa: E731
    rows = []
    for size, p in prompts.items():
        texts = [classified_text(c) for c in p["contents"]]
        await handle_calls(call, texts, CLASSIFIER_WARMUP)
        series, signals = await handle_calls(call, texts, n)
        row = {"size": size, "tokens": p["tokens"], **series.summary()}
        row["classifier_reported_tokens"] = sorted({s.tokens for s in signals})
        row["truncated"] = any(s.truncated for s in signals)
        rows.append(row)
        progress(f"classify {size:<5} ({p['tokens_mean']:.0f} tok) p50 {row['p50_ms']:.1f} ms  "
                 f"p99 {row['p99_ms']:.1f} ms  truncated={row['truncated']}")
    return rows


async def _classifier_concurrent(handle, prompt: dict, n: int) -> dict:
    """~20-token classify calls from 16 closed-loop callers, as the ingress makes them under load.

    Shows whether @serve.batch forms batches when calls arrive staggered
    rather than all at once.
    """
    conc = max(CONCURRENCY)
    call = lambda text: handle.classify.remote(text)  # noqa: E731
    texts = [classified_text(c) for c in prompt["contents"]]
    await handle_calls(call, texts, CLASSIFIER_WARMUP * 2, conc)
    series, _ = await handle_calls(call, texts, n, conc)
    row = {"size": "~20", **series.summary(concurrency=conc)}
    progress(f"classify ~20   c={conc} p50 {row['p50_ms']:.1f} ms  p99 {row['p99_ms']:.1f} ms  "
             f"{row['throughput_rps']:.1f} calls/s")
    return row


async def _size_phase(client, prompts: dict, n: int, warmup: int) -> list[dict]:
    rows = []
    for size, p in prompts.items():
        bodies = encode_bodies([chat_body(c) for c in p["contents"]])
        await http_load(client, CHAT, bodies, warmup, 1, HEADERS)
        series = await http_load(client, CHAT, bodies, n, 1, HEADERS)
        row = {"size": size, "target": "router", **series.summary(concurrency=1)}
        rows.append(row)
        progress(f"router {size:<5} c=1 p50 {row['p50_ms']:.1f} ms  p99 {row['p99_ms']:.1f} ms  "
                 f"hdr p50 {row.get('header_overhead_p50_ms', float('nan')):.1f} ms")
    return rows


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200, help="requests per measurement")
    p.add_argument("--out", default="loadtest/results/overhead.json")
    p.add_argument("--warmup", type=int, default=WARMUP, help="warm-up requests before each measurement")
    p.add_argument("--throughput-optimized", action="store_true", help=f"set {ENV_FLAG}=1 before Ray starts")
    p.add_argument("--haproxy", action="store_true", help=f"set {HAPROXY_FLAG}=1: HAProxy in place of Serve's proxy")
    p.add_argument("--config", type=Path, default=CONFIG,
                   help="router config (default: overhead_router.yaml; overhead_learning_router.yaml adds learning, "
                        "overhead_ingress_router.yaml puts the classifier in the Ingress)")
    a = p.parse_args(argv)
    return run(requests=a.requests, out=a.out, warmup=a.warmup, throughput_optimized=a.throughput_optimized,
               config=a.config, haproxy=a.haproxy)
