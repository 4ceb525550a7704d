"""`triage bench gateways`: Triage and LiteLLM's proxy side by side, in front of one fast upstream.

One run starts a fake OpenAI-compatible upstream (upstream.py: well under a
millisecond of its own time per answer) and then, one at a time, each gateway
in front of it, measures it and stops it before the next:

- direct: the upstream itself, the baseline every "added" number is against
  (measured again at the end, to show how much the machine drifted);
- LiteLLM's proxy as shipped (litellm_proxy.py: its own cached venv, no
  database), with 1 and 2 uvicorn workers, each without and with its
  complexity router (`auto_router/complexity_router`, default "heuristic"
  classifier), and with 1 worker and its "heuristic_v2" classifier;
- Triage as shipped (triage_gateway.py: `serve run` in Serve's
  throughput-optimized mode, one `openai` engine model per tier at the
  upstream, the trained classifier on every request), with the classifier
  in the Ingress (classifier.placement: ingress), and that with Serve's
  HAProxy mode in place of its Python proxy (triage_gateway.HAPROXY_ENV).

Every gateway gets the same bodies (`model: "auto"`, ~20- and ~200-token
prompts), the same bearer key and the same async httpx client on this
machine. Per load: warm-up, then a closed loop of N requests; p50/p99, req/s,
errors, and CPU per request of the gateway's process tree, the upstream, this
client and the whole machine (psutil: user + system seconds before and after
the measured requests). Writes one JSON and one PNG and judges nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import platform
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from serve_app.lab.bench import litellm_proxy, procs, triage_gateway
from serve_app.lab.bench.gateways_report import load_key

LOADS = (("~20", 1), ("~200", 1), ("~20", 16), ("~200", 16))  # (prompt pool, concurrency)
LONG_SIZE, LONG_POOL = 200, 8
REQUESTS, WARMUP = 300, 32
CHAT = "/v1/chat/completions"
# Nothing is cached by any gateway: Triage's cache is off by default, and this
# makes sure of it (every request is a full classify + model call).
EXTRA_HEADERS = {"x-triage-cache": "no-store"}
STARTUP_TIMEOUT_S = {"litellm": 180.0, "triage": 420.0}


@dataclass(frozen=True)
class Spec:
    name: str
    label: str
    kind: str  # direct | litellm | triage
    params: dict = field(default_factory=dict)


GATEWAYS = (
    Spec("direct", "direct (upstream)", "direct"),
    Spec("litellm-1w", "LiteLLM 1 worker", "litellm", {"workers": 1, "classifier": None}),
    Spec("litellm-1w-complexity", "LiteLLM 1w + complexity", "litellm", {"workers": 1, "classifier": "heuristic"}),
    Spec("litellm-2w", "LiteLLM 2 workers", "litellm", {"workers": 2, "classifier": None}),
    Spec("litellm-2w-complexity", "LiteLLM 2w + complexity", "litellm", {"workers": 2, "classifier": "heuristic"}),
    Spec("litellm-1w-complexity-v2", "LiteLLM 1w + compl. v2", "litellm", {"workers": 1, "classifier": "heuristic_v2"}),
    Spec("triage", "Triage", "triage"),
    Spec("triage-ingress", "Triage, clf in ingress", "triage", {"placement": "ingress"}),
    Spec("triage-ingress-haproxy", "Triage, ingress, HAProxy", "triage", {"placement": "ingress", "haproxy": True}),
    Spec("direct-end", "direct, again at end", "direct"),
)


def progress(msg: str) -> None:
    print(f"[gateways] {msg}", file=sys.stderr, flush=True)


@dataclass
class Context:
    work: Path
    key: str
    upstream: procs.Gateway
    upstream_url: str
    prompts: dict
    requests: int
    warmup: int
    venv: Path | None


def run(argv: list[str], only: list[str] | None, requests: int, warmup: int, out: str,
        venv: str | None, work: str | None) -> int:
    started = time.perf_counter()
    signal.signal(signal.SIGTERM, _raise_interrupt)  # so that `finally` stops what was started
    specs = _select(only)
    work_dir = Path(work) if work else Path(tempfile.mkdtemp(prefix="triage-gateways-"))
    work_dir.mkdir(parents=True, exist_ok=True)
    progress(f"gateways: {', '.join(s.name for s in specs)}; configs and logs in {work_dir}")
    result: dict = {
        "benchmark": "triage bench gateways",
        "command": "triage bench gateways " + " ".join(argv),
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": _machine(),
        "settings": {"requests": requests, "warmup": warmup, "loads": [list(x) for x in LOADS],
                     "request_headers": {**EXTRA_HEADERS, "authorization": "Bearer <random, per run>"},
                     "client": f"httpx {importlib.metadata.version('httpx')} AsyncClient, one per gateway",
                     "work_dir": str(work_dir)},
    }
    progress("building prompts and counting MiniLM tokens")
    prompts = _build_prompts()
    result["prompts"] = {k: {key: v for key, v in p.items() if key != "contents"} for k, p in prompts.items()}
    venv_path = None
    if any(s.kind == "litellm" for s in specs):
        venv_path = Path(venv) if venv else litellm_proxy.default_venv()
        result["litellm"] = {"venv": str(venv_path), "packages": litellm_proxy.ensure_venv(venv_path, log=progress),
                             **litellm_proxy.SETTINGS_NOTE}
    result["gateways"] = []
    upstream, upstream_url = _start_upstream(work_dir)
    try:
        ctx = Context(work_dir, "sk-bench-" + secrets.token_hex(24), upstream, upstream_url, prompts,
                      requests, warmup, venv_path)
        result["upstream"] = {"url": upstream_url, "command": upstream.popen.args}
        for spec in specs:
            result["gateways"].append(_run_gateway(spec, ctx))
    finally:
        result["upstream_stop"] = procs.stop(upstream)
    result["duration_s"] = round(time.perf_counter() - started, 1)
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    _write(result, Path(out))
    return 0 if all(not g.get("error") for g in result["gateways"]) else 1


def _raise_interrupt(signum, frame):  # noqa: ARG001
    raise KeyboardInterrupt


def _select(only: list[str] | None) -> list[Spec]:
    if not only:
        return list(GATEWAYS)
    unknown = set(only) - {s.name for s in GATEWAYS}
    if unknown:
        raise SystemExit(f"unknown gateway(s) {sorted(unknown)}; known: {[s.name for s in GATEWAYS]}")
    # The baseline always runs first: every "added" number needs it.
    return [s for s in GATEWAYS if s.name in only or s.name == "direct"]


def _build_prompts() -> dict:
    from serve_app.lab.bench.prompts import SHORT, TokenCounter, classified_text, long_prompts

    count = TokenCounter()
    out = {}
    for key, contents in (("~20", SHORT), (f"~{LONG_SIZE}", long_prompts(LONG_SIZE, count, LONG_POOL))):
        tokens = [count(classified_text(c)) for c in contents]
        out[key] = {"contents": contents, "tokens": tokens, "tokens_mean": round(sum(tokens) / len(tokens), 1),
                    "chars_mean": round(sum(map(len, contents)) / len(contents))}
    return out


def _machine() -> dict:
    from serve_app.lab.bench.overhead import _git_state

    return {"cores": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
            "ray": importlib.metadata.version("ray"), "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
            "git": _git_state()}


def _code_root() -> Path:
    import serve_app

    return Path(serve_app.__file__).resolve().parent.parent


def _start_upstream(work: Path) -> tuple[procs.Gateway, str]:
    port = procs.free_port()
    env = dict(os.environ, PYTHONPATH=str(_code_root()))
    gw = procs.start("upstream", [sys.executable, "-m", "serve_app", "bench", "upstream", "--port", str(port)],
                     work / "upstream.log", env)
    url = f"http://127.0.0.1:{port}"
    took = procs.wait_http(gw, f"{url}/health", 60)
    progress(f"upstream up on {url} in {took:.1f}s")
    return gw, url


# ---------------------------------------------------------------- one gateway


def _run_gateway(spec: Spec, ctx: Context) -> dict:
    entry: dict = {"name": spec.name, "label": spec.label, "kind": spec.kind, "params": spec.params}
    gw = None
    try:
        if spec.kind == "direct":
            url, labels = ctx.upstream_url, ()
        else:
            gw, url, labels = _start_gateway(spec, ctx, entry)
        entry["check"] = asyncio.run(_check(url, ctx.key, labels))
        if gw is not None:
            entry["idle_cpu_pct_of_core"] = _idle_cpu(gw)
        entry["loads"] = asyncio.run(_measure(url, gw, ctx, labels, spec.name))
    except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on to the next gateway
        entry["error"] = f"{type(exc).__name__}: {exc}"
        progress(f"{spec.name} FAILED: {entry['error']}")
    finally:
        if gw is not None:
            entry["stop"] = procs.stop(gw, first=signal.SIGINT if spec.kind == "triage" else signal.SIGTERM,
                                       grace_s=60)
            progress(f"{spec.name} stopped in {entry['stop']['stop_s']}s")
    return entry


def _start_gateway(spec: Spec, ctx: Context, entry: dict) -> tuple[procs.Gateway, str, tuple]:
    port = procs.free_port()
    url = f"http://127.0.0.1:{port}"
    auth = {"authorization": f"Bearer {ctx.key}", "content-type": "application/json"}
    probe = json.dumps({"model": "auto", "messages": [{"role": "user", "content": "hello"}]}).encode()
    progress(f"starting {spec.name}")
    t = time.perf_counter()
    if spec.kind == "litellm":
        workers, classifier = spec.params["workers"], spec.params["classifier"]
        cfg = litellm_proxy.write_config(ctx.work / f"{spec.name}.yaml", ctx.upstream_url, classifier)
        argv = litellm_proxy.command(ctx.venv, cfg, port, workers)
        entry["settings"] = {"config": litellm_proxy.config(ctx.upstream_url, classifier), "command": argv}
        gw = procs.start(spec.name, argv, ctx.work / f"{spec.name}.log", litellm_proxy.environment(ctx.key))
        # One "startup complete" per uvicorn worker, so that no worker is still booting under load.
        procs.wait_log(gw, "Application startup complete.", workers, STARTUP_TIMEOUT_S["litellm"])
        labels = litellm_proxy.LABEL_HEADERS
    else:
        placement, haproxy = spec.params.get("placement", "deployment"), spec.params.get("haproxy", False)
        router, serve_cfg = triage_gateway.write_configs(ctx.work, ctx.upstream_url, port, spec.name, placement)
        argv = triage_gateway.command(serve_cfg)
        from serve_app.config import load_config

        entry["settings"] = {"router_config": triage_gateway.router_config(ctx.upstream_url, placement),
                             "serve_config": triage_gateway.serve_config(router, port), "command": argv,
                             "env": {**triage_gateway.ENV, **(triage_gateway.HAPROXY_ENV if haproxy else {})},
                             "classifier_in_effect": load_config(str(router)).classifier.model_dump(mode="json")}
        gw = procs.start(spec.name, argv, ctx.work / f"{spec.name}.log",
                         triage_gateway.environment(ctx.key, _code_root(), haproxy), cwd=str(_code_root()))
        labels = ()  # http_load counts x-triage-tier by itself
    procs.wait_http(gw, f"{url}{CHAT}", STARTUP_TIMEOUT_S[spec.kind], headers=auth, method="POST", body=probe)
    entry["startup_s"] = round(time.perf_counter() - t, 1)
    entry["processes_at_start"] = len(gw.tree())
    progress(f"{spec.name} answering on {url} after {entry['startup_s']}s ({entry['processes_at_start']} processes)")
    return gw, url, labels


async def _check(url: str, key: str, labels: tuple) -> dict:
    """One JSON and one streamed answer: the gateway speaks the OpenAI shapes end to end."""
    import httpx

    from serve_app.lab.bench.prompts import SHORT, chat_body

    headers = {"authorization": f"Bearer {key}", **EXTRA_HEADERS}
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        r = await client.post(CHAT, json=chat_body(SHORT[0]), headers=headers)
        out = {"json_status": r.status_code,
               "json_answer": _answer(r), "headers": {h: r.headers[h] for h in (*labels, "x-triage-tier",
                                                                             "x-triage-model") if h in r.headers}}
        events, done = 0, False
        async with client.stream("POST", CHAT, json={**chat_body(SHORT[0]), "stream": True},
                                 headers=headers) as s:
            out["stream_status"] = s.status_code
            async for line in s.aiter_lines():
                if line.startswith("data:"):
                    done = line[5:].strip() == "[DONE]"
                    events += 0 if done else 1
        out.update(stream_events=events, stream_ended_with_done=done)
    return out


def _answer(r) -> str | None:
    try:
        return r.json()["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def _idle_cpu(gw: procs.Gateway, seconds: float = 2.0) -> float:
    """CPU the gateway burns doing nothing (health checks, controllers), % of one core."""
    before = gw.cpu_seconds()
    time.sleep(seconds)
    return round((gw.cpu_seconds() - before) / seconds * 100, 1)


async def _measure(url: str, gw: procs.Gateway | None, ctx: Context, labels: tuple, name: str) -> list[dict]:
    import httpx

    from serve_app.lab.bench.measure import encode_bodies, http_load
    from serve_app.lab.bench.prompts import chat_body

    headers = {"authorization": f"Bearer {ctx.key}", **EXTRA_HEADERS}
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    rows = []
    async with httpx.AsyncClient(base_url=url, timeout=120, limits=limits) as client:
        for prompt, conc in LOADS:
            bodies = encode_bodies([chat_body(c) for c in ctx.prompts[prompt]["contents"]])
            await http_load(client, CHAT, bodies, ctx.warmup, conc, headers, labels)
            before = _cpu_snapshot(gw, ctx.upstream)
            series = await http_load(client, CHAT, bodies, ctx.requests, conc, headers, labels)
            cpu = _cpu_per_request(before, _cpu_snapshot(gw, ctx.upstream), ctx.requests, series.wall_s)
            row = {"prompt": prompt, **series.summary(concurrency=conc), "cpu": cpu}
            rows.append(row)
            progress(f"{name:<25} {load_key(prompt, conc):<9} p50 {row['p50_ms']:7.1f} ms  p99 {row['p99_ms']:7.1f} ms"
                     f"  {row['throughput_rps']:6.1f} req/s  gw CPU {_ms(cpu['gateway_ms_per_request'])} ms/req"
                     f"  errors {sum(row['errors'].values())}")
    return rows


def _ms(x) -> str:
    return "-" if x is None else f"{x:.1f}"


def _cpu_snapshot(gw: procs.Gateway | None, upstream: procs.Gateway) -> dict:
    import psutil

    m = psutil.cpu_times()
    return {"gateway": gw.cpu_seconds() if gw is not None else None, "upstream": upstream.cpu_seconds(),
            "client": time.process_time(),
            "machine": m.user + m.nice + m.system + getattr(m, "irq", 0.0) + getattr(m, "softirq", 0.0)}


def _cpu_per_request(before: dict, after: dict, n: int, wall_s: float) -> dict:
    """Milliseconds of CPU per request by whom, and what the rest of the machine did meanwhile."""
    per = {k: None if before[k] is None else round((after[k] - before[k]) * 1000 / n, 3) for k in before}
    ours = sum(v for k, v in per.items() if k != "machine" and v is not None)
    cores = os.cpu_count() or 1
    return {"gateway_ms_per_request": per["gateway"], "upstream_ms_per_request": per["upstream"],
            "client_ms_per_request": per["client"], "machine_ms_per_request": per["machine"],
            "others_ms_per_request": round(per["machine"] - ours, 3),
            "machine_busy_share": round((after["machine"] - before["machine"]) / (wall_s * cores), 3)
            if wall_s else None}


def _write(result: dict, path: Path) -> None:
    from serve_app.lab.bench.gateways_report import compare, plot, summarize, table

    rows = summarize(result)
    result["summary"] = rows
    result["triage_against_litellm"] = compare(rows)
    result["triage_ingress_against_litellm"] = compare(rows, subject="triage-ingress")
    result["triage_haproxy_against_litellm"] = compare(rows, subject="triage-ingress-haproxy")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    png = path.with_suffix(".png")
    plot(result, str(png))
    print(table(result), flush=True)
    print(f"\nmachine load avg {result['machine']['loadavg_at_start']} at start, "
          f"{result['machine']['loadavg_at_end']} at end; {result['duration_s']} s in all", flush=True)
    print(f"JSON written to {path}, chart to {png}", flush=True)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--requests", type=int, default=REQUESTS, help="measured requests per load")
    p.add_argument("--warmup", type=int, default=WARMUP, help="warm-up requests before each load")
    p.add_argument("--out", default="loadtest/results/gateways.json", help="JSON path; the PNG goes beside it")
    p.add_argument("--only", help="comma-separated gateways to run (direct always runs): "
                   + ", ".join(s.name for s in GATEWAYS))
    p.add_argument("--litellm-venv", help=f"venv for LiteLLM (default: {litellm_proxy.default_venv()})")
    p.add_argument("--work-dir", help="where configs and gateway logs go (default: a new temp folder)")
    a = p.parse_args(argv)
    only = [x.strip() for x in a.only.split(",") if x.strip()] if a.only else None
    return run(argv, only, a.requests, a.warmup, a.out, a.litellm_venv, a.work_dir)
