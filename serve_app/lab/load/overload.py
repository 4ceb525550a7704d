"""Overload run: more load than the models can take, through the router, with Locust.

    triage bench overload [--users 32] [--duration 40s] [--out loadtest/results/overload.json]
    triage bench overload ...                      (the same, from a checkout)

One local Ray instance serves Triage on serve_app/lab/load/overload_router.yaml: every
request is forced to tier slm (x-triage-tier), whose only model (ol-slow,
200 ms, 2 in flight, 4 queued) falls back to ol-backup in tier srm (100 ms,
2 in flight, 4 queued); beyond that Serve rejects and the router must answer
503 with Retry-After. A bounded headless Locust run (serve_app/lab/load/run.py, closed
loop, no think time, chat and completions, some streamed) then checks what
a client saw:

- every response is a good 200 answer (counting those that carried
  x-triage-fallbacks > 0) or a 503 all_models_overloaded with Retry-After;
- no timeouts, connection errors or broken streams (client timeout 30 s);
- requests sent == responses received: users get the client timeout plus
  5 s at the end to finish what they have in flight, so a request that never
  came back shows up as unfinished.

Writes the JSON result (default loadtest/results/overload.json), a status-per-second
chart beside it (overload.png), Locust's files under --run-dir, prints a table
and exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

from serve_app.lab.bench import overhead
from serve_app.lab.load import run as loadrun
from serve_app.lab.load.mixes import MIXES

HERE = Path(__file__).resolve().parent
CONFIG = HERE / "overload_router.yaml"
APP = "triage-overload"
WARMUP_REQUESTS = 10
CHAT = "/v1/chat/completions"
ENV_FLAG = overhead.ENV_FLAG
OK, SHED = "200", "503"
SHED_CODE = "all_models_overloaded"


def progress(msg: str) -> None:
    print(f"[overload] {msg}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=32)
    p.add_argument("--duration", type=loadrun.parse_duration, default=40, help="e.g. 40s")
    p.add_argument("--tier", default="slm", help="x-triage-tier sent with every request")
    p.add_argument("--config", default=str(CONFIG), help="router config (default: serve_app/lab/load/overload_router.yaml)")
    p.add_argument("--mix", choices=MIXES, default="simple")
    p.add_argument("--datasets", default="")
    p.add_argument("--stream-share", type=float, default=0.25)
    p.add_argument("--completions-share", type=float, default=0.1)
    p.add_argument("--think-time", type=float, default=0.0, help="mean seconds between a user's requests")
    p.add_argument("--request-timeout", type=float, default=30.0, help="client timeout, seconds")
    p.add_argument("--throughput-optimized", action=argparse.BooleanOptionalAction, default=True,
                   help=f"{ENV_FLAG}=1, the README's way to run (default on)")
    p.add_argument("--out", default="loadtest/results/overload.json", help="JSON result; overload.png goes beside it")
    p.add_argument("--run-dir", default="loadtest/out/overload", help="Locust's CSV/HTML/charts")
    args = p.parse_args(argv)
    if not 1 <= args.users <= loadrun.MAX_USERS or not 1 <= args.duration <= 3600:
        p.error(f"--users must be 1..{loadrun.MAX_USERS} and --duration 1..3600 s")
    return args


# ------------------------------------------------------------------ set-up


def deploy(serve, config: str) -> str:
    import httpx

    from serve_app.app import build_app

    port = overhead._free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    t = time.perf_counter()
    serve.run(build_app({"config": config}), name=APP, route_prefix="/")
    base = f"http://127.0.0.1:{port}"
    health = httpx.get(f"{base}/health", timeout=30)
    progress(f"app up in {time.perf_counter() - t:.1f}s; /health -> {health.status_code}")
    return base


def warm_up(base: str, headers: dict) -> None:
    """One request at a time: well within capacity, so every one must be a 200."""
    import httpx

    body = {"model": "auto", "messages": [{"role": "user", "content": "What is the capital of France?"}]}
    with httpx.Client(timeout=60) as client:
        for _ in range(WARMUP_REQUESTS):
            client.post(base + CHAT, json=body, headers=headers).raise_for_status()


def load(args: argparse.Namespace, host: str) -> dict:
    argv = ["--host", host, "--users", str(args.users), "--duration", f"{args.duration}s", "--mix", args.mix,
            "--datasets", args.datasets, "--out", args.run_dir, "--user-class", "OpenAIUser",
            "--stream-share", f"{args.stream_share:g}", "--completions-share", f"{args.completions_share:g}",
            "--think-time", f"{args.think_time:g}", "--request-timeout", f"{args.request_timeout:g}",
            # Long enough for anything in flight at the end to answer or time out.
            "--stop-timeout", f"{args.request_timeout + 5:g}", "--header", f"x-triage-tier={args.tier}"]
    rc, summary = loadrun.execute(loadrun.parse_args(argv))
    if rc != 0 or summary is None:
        raise RuntimeError(f"Locust did not run against {host} (exit {rc}); see {args.run_dir}/locust.log")
    return summary


# ---------------------------------------------------------------- judging


def outcome(s: dict) -> dict:
    """The counts the checks and the table read, from a loadtest summary."""
    status = s["status_codes"]
    received = sum(n for k, n in status.items() if k != "none")
    ok = status.get(OK, 0)
    with_fallback = sum(n for k, n in s["fallback_hist"].items() if k != "0")
    non_ok = received - ok
    # Locust fails every non-200, every request without a response and every
    # stream that broke after its 200; anything beyond those is a bad 200 body.
    bad_200 = s["failures"] - non_ok - status.get("none", 0) - sum(s["stream_failures"].values())
    shed_bodies = sum(n for k, n in s["error_bodies"].items() if k.startswith(f"{SHED} {SHED_CODE}:"))
    return {
        "sent": s["sent"], "received": received, "unfinished": s["unfinished"],
        "no_response": s["no_response"], "status_codes": status,
        "ok": ok, "ok_with_fallback": with_fallback, "ok_first_choice": ok - with_fallback,
        "shed_503": status.get(SHED, 0), "shed_with_retry_after": s["retry_after"].get(SHED, 0),
        "shed_all_models_overloaded": shed_bodies, "other_status": non_ok - status.get(SHED, 0),
        "stream_failures": s["stream_failures"], "bad_200": bad_200, "locust_exceptions": s["exceptions"],
    }


def checks(o: dict) -> list[dict]:
    def check(name: str, passed: bool, detail: str) -> dict:
        return {"check": name, "passed": bool(passed), "detail": detail}

    return [
        check("only 200 or 503", o["other_status"] == 0 and set(o["status_codes"]) <= {OK, SHED, "none"},
              f"statuses {o['status_codes']}"),
        check("every 503 has Retry-After", o["shed_with_retry_after"] == o["shed_503"],
              f"{o['shed_with_retry_after']} of {o['shed_503']}"),
        check(f"every 503 is {SHED_CODE}", o["shed_all_models_overloaded"] == o["shed_503"],
              f"{o['shed_all_models_overloaded']} of {o['shed_503']}"),
        check("every 200 is a good answer", o["bad_200"] == 0 and not o["stream_failures"],
              f"bad bodies {o['bad_200']}, broken streams {o['stream_failures'] or 0}"),
        check("no timeout or connection error", not o["no_response"], f"{o['no_response'] or 0}"),
        check("sent == received", o["unfinished"] == 0 and o["sent"] == o["received"],
              f"sent {o['sent']}, received {o['received']}, unfinished {o['unfinished']}"),
        check("load went past the first choice", o["ok_with_fallback"] > 0 and o["shed_503"] > 0,
              f"200 after fallback {o['ok_with_fallback']}, 503 {o['shed_503']}"),
        check("locustfile raised nothing", o["locust_exceptions"] == 0, f"{o['locust_exceptions']}"),
    ]


# --------------------------------------------------------------- reporting


def table(result: dict) -> str:
    o, s, st = result["outcome"], result["summary"], result["settings"]
    lat = s["latency_by_status_ms"]
    sent = o["sent"] or 1

    def row(label: str, n: int, key: str | None) -> str:
        la = lat.get(key, {}) if key else {}
        return (f"  {label:<30}{n:>8}{n / sent:>8.1%}{_ms(la.get('p50')):>9}{_ms(la.get('p99')):>9}"
                f"{_ms(la.get('max')):>9}")

    lines = [
        f"Overload: {st['users']} users, {s['duration_s']:.0f} s, tier {st['tier']} forced, "
        f"closed loop (think {st['think_time']:g} s), {st['stream_share']:.0%} streams, "
        f"client timeout {st['request_timeout_s']:g} s, {ENV_FLAG}={st['throughput_optimized'] and 1 or 'unset'}",
        f"{'outcome':<32}{'count':>8}{'share':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}",
        row("sent", o["sent"], None),
        row("200 (all)", o["ok"], OK),
        row("  answered by first choice", o["ok_first_choice"], None),
        row("  after fallback (hdr > 0)", o["ok_with_fallback"], None),
        row("503 + Retry-After", o["shed_with_retry_after"], SHED),
        row("other status", o["other_status"], None),
        row("no response (timeout/conn)", sum(o["no_response"].values()), "none"),
        row("unfinished at stop", o["unfinished"], None),
        f"throughput {s['rps']:.1f} responses/s ({s['rps'] * o['ok'] / sent:.1f} answers/s); "
        f"answered by {s['model_mix']}; x-triage-overhead-ms p50 {_ms(s['router_overhead_p50_ms'])} "
        f"p99 {_ms(s['router_overhead_p99_ms'])} (200s)",
        "",
    ]
    lines += [f"  [{'PASS' if c['passed'] else 'FAIL'}] {c['check']}: {c['detail']}" for c in result["checks"]]
    lines.append(f"overload run {'PASSED' if result['passed'] else 'FAILED'}")
    return "\n".join(lines)


def _ms(v) -> str:
    return "-" if v is None else f"{v:.0f}" if v >= 10 else f"{v:.1f}"


SUMMARY_KEYS = ("requests", "failures", "rps", "duration_s", "status_codes", "sent", "recorded", "unfinished",
                "no_response", "retry_after", "error_bodies", "stream_failures", "fallback_hist",
                "fallback_count", "requests_with_fallback", "latency_by_status_ms", "latency_p50_ms",
                "latency_p99_ms", "ttft_p50_ms", "ttft_p99_ms", "router_overhead_p50_ms", "router_overhead_p99_ms",
                "tier_mix", "model_mix", "requests_by_kind", "errors", "exceptions", "prompt_source")


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    args = parse_args(argv, prog)
    overhead._prepare_env(args.throughput_optimized)
    import ray
    from ray import serve

    started, load_at_start = time.perf_counter(), [round(x, 2) for x in os.getloadavg()]
    headers = {"x-triage-tier": args.tier}
    progress(f"starting Ray + Serve ({ENV_FLAG}={os.environ.get(ENV_FLAG) or 'unset'})")
    ray.init(address="local", num_cpus=max(4, os.cpu_count() or 1), include_dashboard=False, log_to_driver=False)
    try:
        base = deploy(serve, args.config)
        warm_up(base, headers)
        progress(f"warmed up with {WARMUP_REQUESTS} requests; {args.users} users for {args.duration}s")
        summary = load(args, base)
    finally:
        serve.shutdown()
        ray.shutdown()
    o = outcome(summary)
    result = {
        "benchmark": "loadtest overload",
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "settings": {"users": args.users, "duration_s": args.duration, "tier": args.tier, "config": args.config,
                     "mix": args.mix, "stream_share": args.stream_share,
                     "completions_share": args.completions_share, "think_time": args.think_time,
                     "request_timeout_s": args.request_timeout, "stop_timeout_s": args.request_timeout + 5,
                     "throughput_optimized": args.throughput_optimized, "run_dir": args.run_dir},
        "machine": {"cores": os.cpu_count(), "loadavg_at_start": load_at_start,
                    "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "outcome": o,
        "checks": checks(o),
        "summary": {k: summary.get(k) for k in SUMMARY_KEYS},
        "wall_s": round(time.perf_counter() - started, 1),
    }
    result["passed"] = all(c["passed"] for c in result["checks"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    chart = Path(args.run_dir) / "status.png"
    if chart.exists():
        shutil.copyfile(chart, out.with_suffix(".png"))
        result["chart"] = str(out.with_suffix(".png"))
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(table(result), flush=True)
    progress(f"wrote {out}" + (f" and {result['chart']}" if "chart" in result else ""))
    return 0 if result["passed"] else 1
