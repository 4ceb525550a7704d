"""`triage bench cache-e2e`: a cache hit through the router versus a miss.

The router of `triage bench overhead` (dry_run models of zero latency) with
the embedded semantic cache turned on, in a temporary directory. At
concurrency 1, over real HTTP:
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

from serve_app.lab.bench.measure import Series, encode_bodies, http_load
from serve_app.lab.bench.overhead import CHAT, CONFIG, _free_port
from serve_app.lab.bench.prompts import SHORT, chat_body

APP = "triage-bench-cache"


def run(requests: int = 200, out: str = "loadtest/results/cache_e2e.json") -> int:
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    import ray
    from ray import serve

    from serve_app.app import build_app

    with tempfile.TemporaryDirectory() as tmp:
        cfg = yaml.safe_load(CONFIG.read_text())
        cfg["cache"] = {"enabled": True, "path": f"{tmp}/cache", "lookup_timeout_s": 1.0}
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
    result["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(_table(result))
    print(f"\nJSON written to {path}")
    return 0


async def _measure(base_url: str, n: int) -> dict:
    import httpx

    # Distinct prompts for misses: a run id keeps them unseen by earlier runs.
    run_id = os.urandom(3).hex()
    misses = encode_bodies([chat_body(f"{SHORT[i % len(SHORT)]} [{run_id}-{i}]") for i in range(n)])
    hits = encode_bodies([chat_body(c) for c in SHORT])
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        await http_load(client, CHAT, misses[:10], 10, 1, {"x-triage-cache": "no-store"})  # warm-up
        miss = await http_load(client, CHAT, misses, n, 1, {"x-triage-cache": "no-store"})
        await http_load(client, CHAT, hits, len(hits), 1)  # prime: one stored answer per prompt
        await asyncio.sleep(1.0)  # writes land after the answer is sent
        hit = await http_load(client, CHAT, hits, n, 1)
    return {"requests": n, "miss": _row(miss), "hit": _row(hit)}


def _row(series: Series) -> dict:
    return series.summary(concurrency=1, samples=False)


def _table(r: dict) -> str:
    lines = ["cache end to end, c=1     p50 ms   p99 ms   hdr p50   labels"]
    for name in ("miss", "hit"):
        row = r[name]
        lines.append(f"  {name:<22} {row['p50_ms']:>7.1f}  {row['p99_ms']:>7.1f}  "
                     f"{row.get('header_overhead_p50_ms', float('nan')):>7.1f}   {row.get('labels', {})}")
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--out", default="loadtest/results/cache_e2e.json")
    a = p.parse_args(argv)
    return run(requests=a.requests, out=a.out)
