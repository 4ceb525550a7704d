"""`triage bench cache-e2e`: a cache hit through the router versus a miss.

The router of `triage bench overhead` (dry_run models of zero latency; or
--config) with the embedded semantic cache turned on, in a temporary
directory, placed by --cache-placement (the SemanticCache deployment, or
inside the Ingress replica). Over real HTTP, at concurrency 1 and 16:
- miss: every request looks the cache up and finds nothing (unique prompts,
  `x-triage-cache: no-store` so nothing is written): classify + lookup +
  model call;
- hit: the same prompts again after one priming pass each: classify +
  lookup, no model call.
Prints a table and writes JSON; judges nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
from pathlib import Path

import yaml

from serve_app.lab.bench.figure import saved_figure
from serve_app.lab.bench.measure import encode_bodies, http_load
from serve_app.lab.bench.overhead import CHAT, CONFIG, _free_port, _prepare_env
from serve_app.lab.bench.prompts import SHORT, chat_body

APP = "triage-bench-cache"
CONCURRENCY = 16
CONCURRENT_ROUNDS = 2  # the c=16 rows send this many times --requests


def run(requests: int = 200, out: str = "loadtest/results/cache_e2e.json", config: Path = CONFIG,
        cache_placement: str = "deployment", throughput_optimized: bool = False) -> int:
    _prepare_env(throughput_optimized)
    import ray
    from ray import serve

    from serve_app.app import build_app

    with tempfile.TemporaryDirectory() as tmp:
        cfg = yaml.safe_load(Path(config).read_text())
        cfg["cache"] = {"enabled": True, "placement": cache_placement, "path": f"{tmp}/cache",
                        "lookup_timeout_s": 1.0}
        router = Path(tmp) / "router.yaml"
        router.write_text(yaml.safe_dump(cfg))
        ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False)
        try:
            port = _free_port()
            serve.start(http_options={"host": "127.0.0.1", "port": port})
            serve.run(build_app({"config": str(router)}), name=APP, route_prefix="/")
            result = asyncio.run(_measure(f"http://127.0.0.1:{port}", requests))
        finally:
            serve.shutdown()
            ray.shutdown()
    result["benchmark"] = "triage bench cache-e2e"
    result["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["settings"] = {"config": str(config), "classifier_placement": cfg.get("classifier", {}).get("placement",
                                                                                                 "deployment"),
                          "cache_placement": cache_placement, "throughput_optimized": throughput_optimized}
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    plot(result, str(path.with_suffix(".png")))
    print(_table(result))
    print(f"\nJSON written to {path}, chart to {path.with_suffix('.png')}")
    return 0


ROWS = ("miss", "hit", "miss_c16", "hit_c16")


def is_result(result: dict) -> bool:
    """A JSON this bench wrote (the first ones carry no "benchmark" key)."""
    return result.get("benchmark") == "triage bench cache-e2e" or {"miss", "hit", "requests"} <= set(result)


def plot(result: dict, path: str) -> None:
    """Router time (x-triage-overhead-ms) p50 and req/s for each row: miss and hit, c=1 and c=16."""
    rows = [r for r in ROWS if r in result]
    names = [f"{r.split('_')[0]}, c={result[r].get('concurrency', 1)}" for r in rows]
    s = result.get("settings", {})
    where = (f"classifier {s.get('classifier_placement')}, cache {s.get('cache_placement')}" if s
             else "default placements")
    title = f"triage bench cache-e2e: {where} ({result.get('timestamp', '')})"
    with saved_figure(path, title, ncols=2, figsize=(10, 4)) as (_, axes):
        for ax, key, label in ((axes[0], "header_overhead_p50_ms", "router time p50 (ms)"),
                               (axes[1], "throughput_rps", "requests/s")):
            ax.bar(names, [result[r].get(key) or 0 for r in rows],
                   color=["#1f77b4" if "miss" in r else "#2ca02c" for r in rows])
            ax.set_ylabel(label)
            ax.grid(axis="y", alpha=0.3)


async def _measure(base_url: str, n: int) -> dict:
    import httpx

    # Distinct prompts for misses: a run id keeps them unseen by earlier runs.
    run_id = os.urandom(3).hex()
    misses = encode_bodies([chat_body(f"{SHORT[i % len(SHORT)]} [{run_id}-{i}]") for i in range(n)])
    hits = encode_bodies([chat_body(c) for c in SHORT])
    no_store = {"x-triage-cache": "no-store"}  # http_load counts each answer's x-triage-cache as a label
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await http_load(client, CHAT, misses[:10], 10, 1, no_store)  # warm-up
        miss = await http_load(client, CHAT, misses, n, 1, no_store)
        miss16 = await http_load(client, CHAT, misses, n * CONCURRENT_ROUNDS, CONCURRENCY, no_store)
        await http_load(client, CHAT, hits, len(hits), 1)  # prime: one stored answer per prompt
        await asyncio.sleep(1.0)  # writes land after the answer is sent
        hit = await http_load(client, CHAT, hits, n, 1)
        hit16 = await http_load(client, CHAT, hits, n * CONCURRENT_ROUNDS, CONCURRENCY)
    return {"requests": n, "miss": miss.summary(1, samples=False), "hit": hit.summary(1, samples=False),
            "miss_c16": miss16.summary(CONCURRENCY, samples=False), "hit_c16": hit16.summary(CONCURRENCY, samples=False)}


def _table(r: dict) -> str:
    lines = ["cache end to end        p50 ms   p99 ms   hdr p50    req/s   labels"]
    for name in ROWS:
        if name not in r:  # runs before the c=16 rows
            continue
        row = r[name]
        label = f"{name.split('_')[0]}, c={row.get('concurrency', 1)}"
        lines.append(f"  {label:<20} {row['p50_ms']:>7.1f}  {row['p99_ms']:>7.1f}  "
                     f"{row.get('header_overhead_p50_ms', float('nan')):>7.1f}  {row.get('throughput_rps') or 0:>7.1f}"
                     f"   {row.get('labels', {})}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--out", default="loadtest/results/cache_e2e.json")
    p.add_argument("--config", type=Path, default=CONFIG,
                   help="router config (default: overhead_router.yaml; overhead_ingress_router.yaml puts the "
                        "classifier in the Ingress); its cache section is replaced")
    p.add_argument("--cache-placement", choices=("deployment", "ingress"), default="deployment",
                   help="cache.placement: the SemanticCache deployment, or inside the Ingress replica")
    p.add_argument("--throughput-optimized", action="store_true",
                   help="RAY_SERVE_THROUGHPUT_OPTIMIZED=1 before Ray starts, as `triage bench overhead` can")
    a = p.parse_args(argv)
    return run(requests=a.requests, out=a.out, config=a.config, cache_placement=a.cache_placement,
               throughput_optimized=a.throughput_optimized)
