"""Run a bounded, headless Locust load against a Triage (or any OpenAI) URL and summarise it.

    triage load run --host http://127.0.0.1:8000 --users 8 --spawn-rate 8 --duration 30s \
        --mix simple --out loadtest/out/simple [--stream-share 0.3] [--completions-share 0.1] \
        [--header x-triage-tier=lrm] [--user-class OpenAIUser|ChatUser] [--think-time 0]

Locust runs as a subprocess (gevent patches the process it runs in; this one
may be a Ray driver), with its output in DIR/locust.log. DIR gets Locust's CSV
files (locust_stats.csv, locust_stats_history.csv with every entry, locust_failures.csv,
locust_exceptions.csv), report.html, locust_triage.json (the locustfile's tallies),
summary.json and the charts latency.png, tiers.png, cache.png.

Exit status: 0 when Locust ran (whatever the failures it counted), non-zero
only when Locust itself did not run or produced no results.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from serve_app.lab.load.mixes import MIXES, default_datasets

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
PREFIX = "locust"
MAX_USERS = 1000
MAX_DURATION_S = 4 * 3600
STOP_TIMEOUT_S = 5  # default: seconds users get at the end to finish the request in flight
GRACE_S = 60  # Locust start-up, stop and report writing, beyond --duration
USER_CLASSES = ("OpenAIUser", "ChatUser")


def progress(msg: str) -> None:
    print(f"[loadtest] {msg}", file=sys.stderr, flush=True)


def parse_duration(text: str) -> int:
    """'30s', '2m', '1h30m', '45' (seconds) -> seconds."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not parts or not any(parts.groups()):
        raise argparse.ArgumentTypeError(f"bad duration {text!r}: use e.g. 30s, 2m, 1h30m")
    h, m, s = (int(g or 0) for g in parts.groups())
    return h * 3600 + m * 60 + s


def parse_args(argv: list[str] | None = None, prog: str | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--host", required=True, help="base URL, e.g. http://127.0.0.1:8000 (a path prefix is kept)")
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--spawn-rate", type=float, default=None, help="users started per second (default: all at once)")
    p.add_argument("--duration", type=parse_duration, default=parse_duration("30s"), help="e.g. 30s, 2m")
    p.add_argument("--mix", choices=MIXES, default="simple")
    p.add_argument("--datasets", default="", help="shared datasets folder (default ../shared/datasets)")
    p.add_argument("--out", required=True, help="folder for CSV, HTML, summary.json and charts")
    p.add_argument("--stream-share", type=float, default=0.0)
    p.add_argument("--completions-share", type=float, default=0.0)
    p.add_argument("--header", action="append", default=[], metavar="NAME=VALUE",
                   help="extra request header, repeatable (e.g. x-triage-tier=lrm)")
    p.add_argument("--user-class", choices=USER_CLASSES, default="OpenAIUser")
    p.add_argument("--model", default="auto", help='the "model" field sent')
    p.add_argument("--max-tokens", type=int, default=64)
    p.add_argument("--think-time", type=float, default=0.0, help="mean seconds between a user's requests")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--request-timeout", type=float, default=60.0)
    p.add_argument("--stop-timeout", type=float, default=STOP_TIMEOUT_S,
                   help="seconds users get at the end to finish the request in flight (then killed: unfinished)")
    p.add_argument("--no-charts", action="store_true")
    args = p.parse_args(argv)
    if not 1 <= args.users <= MAX_USERS:
        p.error(f"--users must be 1..{MAX_USERS}")
    if not 1 <= args.duration <= MAX_DURATION_S:
        p.error(f"--duration must be 1 s .. {MAX_DURATION_S} s")
    for share in ("stream_share", "completions_share"):
        if not 0.0 <= getattr(args, share) <= 1.0:
            p.error(f"--{share.replace('_', '-')} must be within 0..1")
    args.headers = {}
    for item in args.header:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            p.error(f"--header wants NAME=VALUE, got {item!r}")
        args.headers[name.strip()] = value.strip()
    if args.spawn_rate is None:
        args.spawn_rate = float(args.users)
    return args


def locust_command(args: argparse.Namespace, out: Path) -> list[str]:
    return [
        sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
        "--host", args.host, "--users", str(args.users), "--spawn-rate", f"{args.spawn_rate:g}",
        "--run-time", f"{args.duration}s", "--stop-timeout", f"{args.stop_timeout:g}",
        "--csv", str(out / PREFIX), "--csv-full-history", "--html", str(out / "report.html"),
        "--exit-code-on-error", "0", "--loglevel", "INFO",
        "--mix", args.mix, "--datasets", args.datasets, "--stream-share", f"{args.stream_share:g}",
        "--completions-share", f"{args.completions_share:g}", "--extra-headers", json.dumps(args.headers),
        "--model-name", args.model, "--max-tokens", str(args.max_tokens), "--think-time", f"{args.think_time:g}",
        "--prompt-seed", str(args.seed), "--request-timeout", f"{args.request_timeout:g}",
        "--triage-out", str(out / f"{PREFIX}_triage.json"),
        args.user_class,
    ]


def run_locust(cmd: list[str], out: Path, timeout_s: float) -> int:
    """Run Locust with its output in DIR/locust.log, echoing its [progress] lines; kill it if it overruns."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(out / "locust.log", "w") as log:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                                cwd=str(HERE.parent), env=env, start_new_session=True)
        reader = threading.Thread(target=_relay, args=(proc.stdout, log), daemon=True)
        reader.start()
        try:
            rc = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            progress(f"Locust overran {timeout_s:.0f}s; stopping it")
            _stop(proc)
            rc = 124
        except BaseException:
            _stop(proc)
            raise
        reader.join(timeout=10)
    return rc


def _relay(stream, log) -> None:
    for line in stream:
        log.write(line)
        if line.startswith("[progress]"):
            progress(line[len("[progress]"):].strip())


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def build_summary(args: argparse.Namespace, report: dict, rc: int) -> dict:
    tally, stats = report["tally"], report["stats"]
    duration = tally["duration_s"]
    ns, st = stats["non_stream"], stats["stream"]
    return {
        "timestamp": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "host": args.host,
        "mix": args.mix,
        "prompt_source": report.get("prompt_source"),
        "prompts": report.get("prompts"),
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "user_class": args.user_class,
        "requested_duration_s": args.duration,
        "duration_s": duration,
        "stream_share": args.stream_share,
        "completions_share": args.completions_share,
        "extra_headers": args.headers,
        "requests": stats["requests"],
        "failures": stats["failures"],
        "failure_rate": round(stats["failures"] / stats["requests"], 4) if stats["requests"] else 0.0,
        "rps": round(stats["requests"] / duration, 2) if duration else 0.0,
        "requests_by_kind": tally["requests_by_kind"],
        "latency_p50_ms": ns["p50"], "latency_p95_ms": ns["p95"], "latency_p99_ms": ns["p99"],
        "latency_mean_ms": ns["mean_ms"] if ns["requests"] else None,
        "non_stream_requests": ns["requests"],
        "stream_requests": st["requests"],
        "ttft_p50_ms": st["ttft_ms"]["p50"], "ttft_p99_ms": st["ttft_ms"]["p99"],
        "stream_total_p50_ms": st["total_ms"]["p50"], "stream_total_p99_ms": st["total_ms"]["p99"],
        "tokens_per_s": tally["tokens_per_s"]["mean_per_stream"],
        "tokens_per_s_aggregate": tally["tokens_per_s"]["aggregate"],
        "stream_output_tokens": tally["stream_output_tokens"],
        "tier_mix": tally["tier_mix"],
        "model_mix": tally["model_mix"],
        "domain_mix": tally["domain_mix"],
        "cache": tally["cache"],
        "cache_hit_rate": tally["cache_hit_rate"],
        "cache_lookup_hit_rate": tally["cache_lookup_hit_rate"],
        "fallback_count": tally["fallback_count"],
        "requests_with_fallback": tally["requests_with_fallback"],
        "router_overhead_p50_ms": tally["router_overhead_ms"]["p50"],
        "router_overhead_p99_ms": tally["router_overhead_ms"]["p99"],
        "status_codes": tally["status_codes"],
        # Every request started is recorded once when it ends: sent == recorded
        # unless some were still in flight after --stop-timeout (unfinished).
        "sent": tally["sent"],
        "recorded": tally["recorded"],
        "unfinished": tally["unfinished"],
        "no_response": tally["no_response"],
        "retry_after": tally["retry_after"],
        "error_bodies": tally["error_bodies"],
        "stream_failures": tally["stream_failures"],
        "fallback_hist": tally["fallback_hist"],
        "latency_by_status_ms": tally["latency_by_status_ms"],
        "stop_timeout_s": args.stop_timeout,
        "request_timeout_s": args.request_timeout,
        "errors": stats["errors"],
        "exceptions": stats["exceptions"],
        "locust_exit_code": rc,
        "machine": {"cores": os.cpu_count(), "loadavg_at_end": [round(x, 2) for x in os.getloadavg()]},
    }


def print_summary(s: dict) -> None:
    def ms(v):
        return "-" if v is None else f"{v:.0f} ms"

    lines = [
        f"host {s['host']}  mix {s['mix']}  users {s['users']}  {s['duration_s']:.1f}s  ({s['user_class']})",
        f"requests {s['requests']}  failures {s['failures']}  rps {s['rps']:.1f}",
        f"non-stream p50 {ms(s['latency_p50_ms'])}  p95 {ms(s['latency_p95_ms'])}  p99 {ms(s['latency_p99_ms'])}",
        f"streams {s['stream_requests']}  ttft p50 {ms(s['ttft_p50_ms'])}  p99 {ms(s['ttft_p99_ms'])}  "
        f"tokens/s per stream {s['tokens_per_s'] if s['tokens_per_s'] is not None else '-'}",
        f"tiers {s['tier_mix']}  models {s['model_mix']}",
        f"cache {s['cache']} hit rate {s['cache_hit_rate']:.1%}  fallbacks {s['fallback_count']}  "
        f"router overhead p50 {ms(s['router_overhead_p50_ms'])}",
        f"status {s['status_codes']}  sent {s['sent']}  unfinished {s['unfinished']}  "
        f"no response {s['no_response'] or 0}",
    ]
    if s["errors"]:
        lines.append("top errors: " + "; ".join(f"{e['count']}x {e['type']} {e['name']}: {e['error'][:80]}"
                                                for e in s["errors"][:3]))
    print("\n".join(lines), flush=True)


def execute(args: argparse.Namespace) -> tuple[int, dict | None]:
    """Run one load; (exit status, summary or None)."""
    # Locust runs from this package's folder: relative paths are the caller's.
    out = Path(args.out).resolve()
    args.datasets = str(Path(args.datasets or default_datasets()).resolve())
    out.mkdir(parents=True, exist_ok=True)
    report_path = out / f"{PREFIX}_triage.json"
    report_path.unlink(missing_ok=True)
    cmd = locust_command(args, out)
    progress(f"{args.users} users ({args.user_class}, spawn {args.spawn_rate:g}/s) for {args.duration}s "
             f"against {args.host}, mix {args.mix}; log in {out / 'locust.log'}")
    rc = run_locust(cmd, out, args.duration + args.stop_timeout + GRACE_S)
    if rc != 0 or not report_path.exists():
        tail = (out / "locust.log").read_text(errors="replace").splitlines()[-25:]
        progress(f"Locust did not complete (exit {rc}); last lines of its log:\n" + "\n".join(tail))
        return (rc or 2), None
    summary = build_summary(args, json.loads(report_path.read_text()), rc)
    summary["files"] = sorted(p.name for p in out.iterdir())
    if not args.no_charts:
        try:
            from serve_app.lab.load.charts import write_charts

            charts = write_charts(out, out / f"{PREFIX}_stats_history.csv", summary,
                                  json.loads(report_path.read_text())["tally"])
            summary["files"] = sorted(set(summary["files"]) | set(charts))
        except Exception as exc:  # charts are a convenience: never fail a run on them
            progress(f"charts skipped: {type(exc).__name__}: {exc}")
    summary["files"] = sorted(set(summary["files"]) | {"summary.json"})
    (out / "summary.json").write_text(json.dumps(summary, indent=1) + "\n")
    print_summary(summary)
    progress(f"wrote {out / 'summary.json'}")
    return 0, summary


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    return execute(parse_args(argv, prog))[0]
