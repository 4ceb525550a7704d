"""The same Locust load against Triage and against its models called directly, in one run.

    triage load side-by-side [--users 8] [--duration 20s] [--mix simple] \
        [--model-latency-ms 0] [--throughput-optimized] [--out loadtest/out/side_by_side]

One local Ray instance, one HTTP proxy, two Serve apps (the same pair as
`triage bench overhead`, built with its helpers):
- "/"       the router: build_app on serve_app/lab/bench/overhead_router.yaml
            (dry_run models of fixed latency, one per tier, the shipped classifier);
- "/direct" the baseline: DirectIngress -> its own dry_run ModelServer (bench-slm),
            HTTP straight to a model with no classifier, policy or headers.

Each target gets a short warm-up, then the same bounded load (ChatUser:
non-stream POST /v1/chat/completions, the one route the baseline has), one
after the other, through loadtest.run (Locust in a subprocess). The router is
sent `x-triage-cache: no-store`, as in the overhead benchmark, so every request
takes the full path. Writes DIR/side_by_side.json, each target's full run in
DIR/router and DIR/direct, and prints a table: throughput ratio and the added
p50/p99 latency.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import yaml

from serve_app.lab.bench import overhead
from serve_app.lab.load import run as loadrun
from serve_app.lab.load.mixes import MIXES

WARMUP_REQUESTS = 20
CHAT = "/v1/chat/completions"


def progress(msg: str) -> None:
    print(f"[side-by-side] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--spawn-rate", type=float, default=None, help="default: all users at once")
    p.add_argument("--duration", type=loadrun.parse_duration, default=20, help="per target, e.g. 20s")
    p.add_argument("--mix", choices=MIXES, default="simple")
    p.add_argument("--datasets", default="")
    p.add_argument("--model-latency-ms", type=float, default=None,
                   help="set every dry_run model's latency (default: the config's, 0 ms)")
    p.add_argument("--throughput-optimized", action="store_true", help=f"set {overhead.ENV_FLAG}=1")
    p.add_argument("--out", default="loadtest/out/side_by_side")
    args = p.parse_args(argv)
    if not 1 <= args.users <= loadrun.MAX_USERS or not 1 <= args.duration <= 600:
        p.error(f"--users must be 1..{loadrun.MAX_USERS} and --duration 1..600 s")
    return args


def config_path(args: argparse.Namespace, out: Path) -> Path:
    if args.model_latency_ms is None:
        return overhead.CONFIG
    cfg = yaml.safe_load(overhead.CONFIG.read_text())
    for model in cfg["models"]:
        if model["engine"]["type"] == "dry_run":
            model["engine"]["latency_ms"] = args.model_latency_ms
    path = out / "router_config.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


def deploy(serve, config: Path) -> str:
    import httpx

    from serve_app.app import build_app
    from serve_app.lab.bench.direct import build_direct_app

    port = overhead._free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    t = time.perf_counter()
    serve.run(build_app({"config": str(config)}), name=overhead.ROUTER_APP, route_prefix="/")
    serve.run(build_direct_app(str(config), overhead.DIRECT_MODEL), name=overhead.DIRECT_APP,
              route_prefix="/direct")
    base = f"http://127.0.0.1:{port}"
    health = httpx.get(f"{base}/health", timeout=30)
    progress(f"both apps up in {time.perf_counter() - t:.1f}s; router /health -> {health.status_code}")
    return base


def warm_up(url: str) -> None:
    import httpx

    body = {"model": "auto", "messages": [{"role": "user", "content": "What is the capital of France?"}]}
    with httpx.Client(timeout=60) as client:
        for _ in range(WARMUP_REQUESTS):
            client.post(url + CHAT, json=body, headers=overhead.HEADERS).raise_for_status()


def load(args: argparse.Namespace, host: str, out: Path) -> dict:
    argv = ["--host", host, "--users", str(args.users), "--duration", f"{args.duration}s", "--mix", args.mix,
            "--out", str(out), "--user-class", "ChatUser", "--datasets", args.datasets]
    argv += ["--spawn-rate", f"{args.spawn_rate:g}"] if args.spawn_rate else []
    for name, value in overhead.HEADERS.items():
        argv += ["--header", f"{name}={value}"]
    rc, summary = loadrun.execute(loadrun.parse_args(argv))
    if rc != 0 or summary is None:
        raise RuntimeError(f"Locust did not run against {host} (exit {rc}); see {out / 'locust.log'}")
    return summary


KEYS = ("requests", "failures", "rps", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
        "router_overhead_p50_ms", "router_overhead_p99_ms", "tier_mix", "model_mix", "duration_s")


def compare(router: dict, direct: dict) -> dict:
    def diff(key):
        a, b = router.get(key), direct.get(key)
        return None if a is None or b is None else round(a - b, 2)

    return {
        "throughput_ratio": round(router["rps"] / direct["rps"], 3) if direct["rps"] else None,
        "added_p50_ms": diff("latency_p50_ms"),
        "added_p95_ms": diff("latency_p95_ms"),
        "added_p99_ms": diff("latency_p99_ms"),
    }


def table(result: dict) -> str:
    rows = [f"{'target':<8}{'requests':>10}{'failures':>10}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"]
    for name in ("router", "direct"):
        s = result[name]
        rows.append(f"{name:<8}{s['requests']:>10}{s['failures']:>10}{s['rps']:>9.1f}"
                    f"{_f(s['latency_p50_ms']):>9}{_f(s['latency_p95_ms']):>9}{_f(s['latency_p99_ms']):>9}")
    c, r = result["comparison"], result["router"]
    rows.append(f"throughput ratio router/direct {c['throughput_ratio']}; added latency p50 {_f(c['added_p50_ms'], '+')} ms, "
                f"p99 {_f(c['added_p99_ms'], '+')} ms; x-triage-overhead-ms p50 {_f(r['router_overhead_p50_ms'])} "
                f"p99 {_f(r['router_overhead_p99_ms'])}")
    s = result["settings"]
    rows.append(f"({s['users']} users, {s['duration_s']} s per target, mix {s['mix']}, ChatUser non-stream, "
                f"{result['machine']['cores']} cores, {overhead.ENV_FLAG}={s['throughput_optimized']})")
    return "\n".join(rows)


def _f(v, sign: str = "") -> str:
    return "-" if v is None else f"{v:{sign}.0f}" if abs(v) >= 10 else f"{v:{sign}.1f}"


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    overhead._prepare_env(args.throughput_optimized)
    config = config_path(args, out)
    import ray
    from ray import serve

    started, load_at_start = time.perf_counter(), [round(x, 2) for x in os.getloadavg()]
    progress("starting Ray + Serve")
    ray.init(address="local", num_cpus=max(4, os.cpu_count() or 1), include_dashboard=False, log_to_driver=False)
    try:
        base = deploy(serve, config)
        summaries = {}
        for name, host in (("router", base), ("direct", base + "/direct")):
            warm_up(host)
            progress(f"{name}: warmed up with {WARMUP_REQUESTS} requests; loading {host}")
            summaries[name] = load(args, host, out / name)
    finally:
        serve.shutdown()
        ray.shutdown()
    result = {
        "benchmark": "loadtest side_by_side",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"users": args.users, "spawn_rate": args.spawn_rate or args.users, "duration_s": args.duration,
                     "mix": args.mix, "config": str(config), "model_latency_ms": args.model_latency_ms,
                     "throughput_optimized": args.throughput_optimized, "router_headers": overhead.HEADERS,
                     "user_class": "ChatUser"},
        "machine": {"cores": os.cpu_count(), "loadavg_at_start": load_at_start, "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        **{name: {k: s.get(k) for k in KEYS} for name, s in summaries.items()},
        "comparison": compare(summaries["router"], summaries["direct"]),
        "wall_s": round(time.perf_counter() - started, 1),
    }
    (out / "side_by_side.json").write_text(json.dumps(result, indent=1) + "\n")
    print(table(result), flush=True)
    progress(f"wrote {out / 'side_by_side.json'}")
    return 0
