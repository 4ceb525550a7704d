"""`triage bench profile`: where each millisecond of CPU per routed request goes, by replica and stage.

One local Ray instance runs the router app from --config (zero-latency dry_run
models by default), with RAY_SERVE_THROUGHPUT_OPTIMIZED=1 as `triage bench
overhead --throughput-optimized` runs it. A closed loop of --concurrency HTTP
clients posts chat requests (~200-token prompts by default, never cached);
after a warm-up, for --duration seconds:
- each process's CPU (utime + stime of all its threads, /proc/<pid>/stat and
  /proc/<pid>/task/*/stat) is read at both ends of the window: the Serve HTTP
  proxy, every replica (Ingress, Classifier where it is a deployment, each
  Model:*), with --haproxy the haproxy process and its manager, Ray's
  background processes, this load generator, py-spy itself, and the whole
  machine (so CPU spent by anything else shows as "unaccounted");
- py-spy samples every replica and the Python proxies (--nonblocking, raw stacks with
  thread ids); each sampled stack is put in a stage by profile_stages.STAGE_RULES,
  and each thread's CPU is split by its samples' stages.

CPU ms per routed request = CPU seconds in the window x 1000 / requests answered
200 in it. It writes JSON, one flame graph SVG per profiled process, and a PNG
bar chart (by process and stage); it judges nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from serve_app.lab.bench import overhead
from serve_app.lab.bench import profile_stages as ps
from serve_app.lab.bench.profile_flame import bar_chart
from serve_app.lab.bench.profile_report import summarise, table
from serve_app.lab.bench.profile_run import find_processes, measure, sampled

APP = "triage-bench"
OUT = "loadtest/results/profile.json"


def progress(msg: str) -> None:
    print(f"[profile] {msg}", file=sys.stderr, flush=True)


def outputs(out: str, tag: str | None) -> tuple[Path, str]:
    """(JSON path, stem for the SVG/PNG files beside it): profile.json -> profile_<tag>.json."""
    path = Path(out)
    if tag:
        path = path.with_name(f"{path.stem}_{ps.safe_name(tag)}{path.suffix or '.json'}")
    return path, path.stem


def prompt_bodies(size: str) -> tuple[list[bytes], dict]:
    from serve_app.lab.bench.measure import encode_bodies
    from serve_app.lab.bench.prompts import SHORT, TokenCounter, chat_body, classified_text, long_prompts

    count = TokenCounter()
    contents = SHORT if size == "~20" else long_prompts(int(size[1:]), count, overhead.LONG_POOL)
    tokens = [count(classified_text(c)) for c in contents]
    info = {"size": size, "pool": len(contents), "tokens_mean": round(sum(tokens) / len(tokens), 1),
            "tokens_max": max(tokens)}
    return encode_bodies([chat_body(c) for c in contents]), info


def run(a: argparse.Namespace, command: str) -> int:
    started = time.perf_counter()
    if a.rate and not shutil.which("py-spy"):
        progress("py-spy not found on PATH: pip install py-spy")
        return 2
    overhead._prepare_env(a.throughput_optimized, a.haproxy)
    json_path, stem = outputs(a.out, a.tag)
    progress(f"building {a.prompt}-token prompts")
    bodies, prompt = prompt_bodies(a.prompt)
    cfg = overhead._load(a.config)

    import ray
    from ray import serve

    result: dict = {
        "benchmark": "triage bench profile",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command,
        "settings": {"config": str(a.config), "placement": cfg.classifier.placement, "duration_s": a.duration,
                     "concurrency": a.concurrency, "prompt": prompt, "warmup_s": a.warmup, "rate_hz": a.rate,
                     "request_headers": overhead.HEADERS, "throughput_optimized": a.throughput_optimized,
                     "haproxy": a.haproxy},
        "machine": _machine(ray),
    }
    progress(f"starting Ray + Serve ({overhead.ENV_FLAG}={os.environ.get(overhead.ENV_FLAG) or 'unset'})")
    ray.init(address="local", num_cpus=max(4, os.cpu_count() or 1), include_dashboard=False, log_to_driver=False)
    try:
        base_url = _deploy(serve, a.config)
        deployments = list(serve.status().applications[APP].deployments)
        procs = find_processes(APP, deployments)
        targets = sampled(procs)
        progress("profiling " + ", ".join(f"{p.name} ({p.pid})" for p in targets))
        with tempfile.TemporaryDirectory(prefix="triage-profile-") as tmp:
            window = asyncio.run(measure(base_url, overhead.CHAT, bodies, overhead.HEADERS, targets,
                                         [p.pid for p in procs], a.concurrency, a.warmup, a.duration, a.rate,
                                         Path(tmp), progress))
            result.update(summarise(window, procs, json_path.parent, stem, a.raw))
    finally:
        progress("shutting down Serve and Ray")
        try:
            serve.shutdown()
        finally:
            ray.shutdown()

    result["wall_s"] = round(time.perf_counter() - started, 1)
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    json_path.parent.mkdir(parents=True, exist_ok=True)
    rows = [{"name": r["name"], "ms": r["cpu_ms_per_request"],
             "stages": {s: v["ms_per_request"] for s, v in r["stages"].items()}} for r in result["processes"]]
    rows += [{"name": name, "ms": v["cpu_ms_per_request"]} for name, v in result["unprofiled"].items()]
    png = json_path.with_name(f"{stem}.png")
    bar_chart(png, rows, _title(result))
    result["chart"] = str(png)
    json_path.write_text(json.dumps(result, indent=1) + "\n")
    print(table(result), flush=True)
    flames = f", flame graphs {json_path.parent}/{stem}_*.svg" if a.rate else ""
    print(f"\nJSON {json_path}, chart {png}{flames}; wall time {result['wall_s']:.0f} s", flush=True)
    return 0


def _title(r: dict) -> str:
    s, ld = r["settings"], r["load"]
    front = ", HAProxy" if s.get("haproxy") else ""
    return (f"CPU ms per routed request: {Path(s['config']).name} (classifier: {s['placement']}{front}), "
            f"c={s['concurrency']}, {s['prompt']['size']}-token prompts, {ld['req_per_s']:.1f} req/s, "
            f"{r['machine']['cores']} cores")


def _deploy(serve, config: Path) -> str:
    import httpx

    from serve_app.app import build_app

    port = overhead._free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    t = time.perf_counter()
    serve.run(build_app({"config": str(config)}), name=APP, route_prefix="/")
    base_url = f"http://127.0.0.1:{port}"
    health = httpx.get(f"{base_url}/health", timeout=30)
    progress(f"app deployed in {time.perf_counter() - t:.1f}s; /health -> {health.status_code}")
    return base_url


def _machine(ray) -> dict:
    try:
        spy = subprocess.run(["py-spy", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        spy = None
    return {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "ray": ray.__version__, "py_spy": spy, overhead.ENV_FLAG: os.environ.get(overhead.ENV_FLAG),
            "clock_ticks_per_s": os.sysconf("SC_CLK_TCK"), "git_head": _git_head(),
            "loadavg_at_start": [round(x, 2) for x in os.getloadavg()]}


def _git_head() -> str | None:
    """HEAD's commit, read from .git without running git (None outside a checkout)."""
    git = Path.cwd() / ".git"
    try:
        head = (git / "HEAD").read_text().strip()
        if not head.startswith("ref: "):
            return head
        ref = head[5:]
        if (git / ref).is_file():
            return (git / ref).read_text().strip()
        for line in (git / "packed-refs").read_text().splitlines():
            if line.endswith(" " + ref):
                return line.split()[0]
    except OSError:
        pass
    return None


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, default=overhead.CONFIG,
                   help="router config (default: overhead_router.yaml; overhead_ingress_router.yaml puts the "
                        "classifier in the Ingress)")
    p.add_argument("--duration", type=float, default=30.0, help="seconds measured and sampled (default 30)")
    p.add_argument("--concurrency", type=int, default=16, help="closed-loop HTTP clients (default 16)")
    p.add_argument("--prompt", choices=("~20", "~200"), default="~200", help="prompt size in MiniLM tokens")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds of the same load before the window")
    p.add_argument("--rate", type=int, default=100,
                   help="py-spy samples per second per process (default 100); 0: no py-spy, CPU counters only "
                        "(to see what sampling costs the router)")
    p.add_argument("--throughput-optimized", action=argparse.BooleanOptionalAction, default=True,
                   help=f"{overhead.ENV_FLAG}=1 before Ray starts (default on)")
    p.add_argument("--haproxy", action="store_true",
                   help=f"{overhead.HAPROXY_FLAG}=1: Serve's HAProxy mode in place of its Python proxy (the haproxy "
                        "process's CPU is counted, not sampled)")
    p.add_argument("--out", default=OUT, help=f"JSON result (default {OUT}); SVGs and the PNG go beside it")
    p.add_argument("--raw", action="store_true",
                   help="also keep py-spy's raw stacks beside the SVGs (<stem>_<replica>.raw.txt)")
    p.add_argument("--tag", help="suffix for every output file (profile_TAG.json, profile_TAG_<replica>.svg, ...)")
    a = p.parse_args(argv)
    if a.duration <= 0 or a.concurrency < 1 or not 0 <= a.rate <= 1000:
        p.error("--duration must be > 0, --concurrency >= 1 and --rate 0..1000")
    return run(a, f"{prog or 'triage bench profile'} {shlex.join(argv)}".strip())
