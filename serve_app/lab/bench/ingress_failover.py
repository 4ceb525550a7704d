"""`triage bench ingress-failover`: what clients see when an Ingress replica dies mid-request.

One local Ray instance serves the overhead router (dry_run models that take
`--model-latency-ms`, so requests are in flight when the kill lands) with two
Ingress replicas. `--users` clients send requests in a closed loop (a third
streamed); after `--kill-after` seconds one Ingress replica's actor is killed
(`ray.kill`, like a node or process loss). Every request's start time,
status, body kind (JSON, SSE or other) and any connection error are
recorded; the JSON and the table say what each phase (before, within 5 s of
the kill, after) looked like and when every request succeeded again. It
judges nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import yaml

from serve_app.lab.bench.overhead import CHAT, CONFIG, _free_port, _prepare_env

APP = "triage-failover"


def progress(msg: str) -> None:
    print(f"[failover] {msg}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    p.add_argument("--kill-after", type=float, default=10.0, help="seconds into the load")
    p.add_argument("--model-latency-ms", type=float, default=300.0)
    p.add_argument("--throughput-optimized", action=argparse.BooleanOptionalAction, default=True)
    p.add_argument("--out", default="loadtest/results/ingress_failover.json")
    a = p.parse_args(argv)
    _prepare_env(a.throughput_optimized)
    import ray
    from ray import serve

    from serve_app.app import build_app

    with tempfile.TemporaryDirectory() as tmp:
        cfg = yaml.safe_load(CONFIG.read_text())
        for m in cfg["models"]:
            m["engine"]["latency_ms"] = a.model_latency_ms
            m["deployment"] = {"max_ongoing_requests": 64, "num_cpus": 0}
        cfg["ingress"] = {"deployment": {"num_replicas": 2, "num_cpus": 0, "max_ongoing_requests": 64}}
        router = Path(tmp) / "router.yaml"
        router.write_text(yaml.safe_dump(cfg))
        ray.init(address="local", num_cpus=4, include_dashboard=False, log_to_driver=False)
        try:
            port = _free_port()
            serve.start(http_options={"host": "127.0.0.1", "port": port})
            serve.run(build_app({"config": str(router)}), name=APP, route_prefix="/")
            progress(f"2 Ingress replicas up; {a.users} users for {a.duration:.0f}s, kill at {a.kill_after:.0f}s")
            records, killed, killed_at = asyncio.run(_load(f"http://127.0.0.1:{port}", a, ray))
        finally:
            serve.shutdown()
            ray.shutdown()
    result = summarize(records, killed_at, a)
    result.update(killed_replica=killed, timestamp=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                  command=" ".join(["triage bench ingress-failover", *(argv or [])]),
                  throughput_optimized=a.throughput_optimized)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2) + "\n")
    print(table(result))
    print(f"wrote {a.out}")
    return 0


async def _load(base: str, a, ray) -> tuple[list[dict], str, float]:
    import httpx

    records: list[dict] = []
    start = time.monotonic()
    stop_at = start + a.duration
    body = {"model": "auto", "messages": [{"role": "user", "content": "What is the capital of France?"}]}

    async def user(i: int, client: httpx.AsyncClient) -> None:
        n = 0
        while time.monotonic() < stop_at:
            stream = n % 3 == 2
            n += 1
            t0 = time.monotonic()
            rec = {"t": round(t0 - start, 3), "stream": stream}
            try:
                async with client.stream("POST", f"{base}{CHAT}", json={**body, "stream": stream},
                                         headers={"x-triage-tier": "slm"}) as r:
                    text = (await r.aread()).decode("utf-8", "replace")
                rec["status"] = r.status_code
                rec["kind"] = _kind(r.headers.get("content-type", ""), text, stream)
            except httpx.HTTPError as exc:
                rec["status"], rec["kind"] = None, type(exc).__name__
            rec["ms"] = round((time.monotonic() - t0) * 1000, 1)
            records.append(rec)

    async def killer() -> tuple[str, float]:
        await asyncio.sleep(a.kill_after)
        name = next(n["name"] for n in ray.util.list_named_actors(all_namespaces=True)
                    if "Ingress" in n["name"] and APP in n["name"])
        ray.kill(ray.get_actor(name, namespace="serve"), no_restart=False)
        progress(f"killed {name}")
        return name, time.monotonic() - start

    async with httpx.AsyncClient(timeout=30) as client:
        done = await asyncio.gather(killer(), *(user(i, client) for i in range(a.users)))
    killed, killed_at = done[0]
    return records, killed, killed_at


def _kind(content_type: str, text: str, stream: bool) -> str:
    if content_type.startswith("application/json"):
        return "json"
    if content_type.startswith("text/event-stream"):
        return "sse_done" if "data: [DONE]" in text else "sse_cut"
    return f"other:{content_type.split(';')[0] or 'none'}"


def summarize(records: list[dict], killed_at: float, a) -> dict:
    phases = {"before": lambda r: r["t"] < killed_at,
              "kill_to_5s": lambda r: killed_at <= r["t"] < killed_at + 5,
              "after_5s": lambda r: r["t"] >= killed_at + 5}
    out: dict = {"users": a.users, "duration_s": a.duration, "kill_at_s": round(killed_at, 2),
                 "model_latency_ms": a.model_latency_ms, "phases": {}}
    for name, keep in phases.items():
        rows = [r for r in records if keep(r)]
        out["phases"][name] = {"requests": len(rows),
                               "outcomes": dict(Counter(f"{r['status']} {r['kind']}" for r in rows))}
    failed = [r for r in records if r["status"] != 200 or r["kind"] not in ("json", "sse_done")]
    out["failed"] = len(failed)
    out["failed_requests"] = failed[:50]
    late = [r["t"] + r["ms"] / 1000 for r in failed if r["t"] >= killed_at - 1]
    out["last_failure_s_after_kill"] = round(max(late) - killed_at, 2) if late else None
    return out


def table(r: dict) -> str:
    lines = [f"Ingress replica killed at {r['kill_at_s']} s ({r['users']} users, model {r['model_latency_ms']} ms)",
             f"{'phase':<12} {'requests':>8}  outcomes (status kind: count)"]
    for name, ph in r["phases"].items():
        lines.append(f"{name:<12} {ph['requests']:>8}  {ph['outcomes']}")
    lines.append(f"failed: {r['failed']}; last failure {r['last_failure_s_after_kill']} s after the kill")
    return "\n".join(lines)
