"""Locust users for Triage's OpenAI API.

    locust -f loadtest/locustfile.py --headless -H http://127.0.0.1:8000 -u 8 -r 8 -t 30s \
        --mix simple --stream-share 0.3 --completions-share 0.1 OpenAIUser

User classes (name one on the command line):
- OpenAIUser: chat and completions, streaming or not, by --stream-share and
  --completions-share (each request draws its kind).
- ChatUser: non-stream chat only (the one route the side-by-side baseline has).

Locust entries (Type / Name): `POST chat`, `POST completions` for whole
non-stream requests; for streams `TTFT <kind>` (time to the first content
chunk) and `STREAM <kind>` (time to `data: [DONE]`; its "content size" is the
number of content chunks, i.e. output tokens). Streams are read with requests
(HttpUser), not FastHttpUser: geventhttpclient buffers a streamed body until
its read size fills, which hides the first token.

The x-triage-* headers (tier, model, domain, cache, fallbacks, overhead) are
tallied per logical request; when the test stops, the tallies and latency
percentiles merged across entries are written as JSON to --triage-out (default:
<csv prefix>_triage.json), which serve_app/lab/load/run.py turns into summary.json.
Tallies are per process: run it with the local runner, not master/workers.
"""

from __future__ import annotations

import itertools
import json
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import gevent
import requests
from locust import HttpUser, events, task
from locust.runners import STATE_INIT, STATE_RUNNING, STATE_SPAWNING, WorkerRunner
from locust.stats import StatsEntry

from serve_app.lab.load.mixes import MIXES, load_mix
from serve_app.lab.load.tally import Tally

ROUTES = {"chat": "/v1/chat/completions", "completions": "/v1/completions"}
STREAM, TTFT, POST = "STREAM", "TTFT", "POST"

TALLY = Tally()
STATE: dict = {"prompts": None, "source": None, "options": None, "progress": None}
_USER_IDS = itertools.count()


class LoadTestError(Exception):
    """A response that arrived but is not a good answer (status, body or stream)."""


@dataclass
class Options:
    mix: str = "simple"
    datasets: str = ""
    stream_share: float = 0.0
    completions_share: float = 0.0
    extra_headers: dict = field(default_factory=dict)
    model: str = "auto"
    max_tokens: int = 64
    think_time: float = 0.0
    seed: int = 0
    request_timeout: float = 60.0
    triage_out: str = ""
    progress_every: float = 5.0


def parse_headers(text: str) -> dict:
    """`{"k": "v"}` (JSON) or `k=v,k2=v2`."""
    text = (text or "").strip()
    if not text:
        return {}
    if text.startswith("{"):
        return {str(k): str(v) for k, v in json.loads(text).items()}
    pairs = [item.split("=", 1) for item in text.split(",") if item.strip()]
    bad = [p[0] for p in pairs if len(p) != 2]
    if bad:
        raise ValueError(f"--extra-headers wants name=value pairs, got {bad}")
    return {k.strip(): v.strip() for k, v in pairs}


@events.init_command_line_parser.add_listener
def _arguments(parser) -> None:
    group = parser.add_argument_group("Triage load test")
    group.add_argument("--mix", choices=MIXES, default="simple", env_var="TRIAGE_LT_MIX",
                       help="prompt mix: simple | reasoning | repeated | builtin")
    group.add_argument("--datasets", default="", env_var="TRIAGE_DATASETS",
                       help="shared datasets folder (default: ../shared/datasets from the working directory)")
    group.add_argument("--stream-share", type=float, default=0.0, env_var="TRIAGE_LT_STREAM_SHARE",
                       help="share of requests sent with stream=true (0..1)")
    group.add_argument("--completions-share", type=float, default=0.0, env_var="TRIAGE_LT_COMPLETIONS_SHARE",
                       help="share of requests sent to /v1/completions instead of chat (0..1)")
    group.add_argument("--extra-headers", default="", env_var="TRIAGE_LT_HEADERS",
                       help='headers added to every request: JSON object or "name=value,name=value"')
    group.add_argument("--model-name", default="auto", env_var="TRIAGE_LT_MODEL", help='"model" field sent')
    group.add_argument("--max-tokens", type=int, default=64, env_var="TRIAGE_LT_MAX_TOKENS")
    group.add_argument("--think-time", type=float, default=0.0, env_var="TRIAGE_LT_THINK_TIME",
                       help="mean seconds a user waits between requests (uniform 0..2x); 0 = closed loop")
    group.add_argument("--prompt-seed", type=int, default=0, env_var="TRIAGE_LT_SEED")
    group.add_argument("--request-timeout", type=float, default=60.0, env_var="TRIAGE_LT_TIMEOUT",
                       help="seconds before a request counts as failed")
    group.add_argument("--progress-every", type=float, default=5.0, env_var="TRIAGE_LT_PROGRESS",
                       help="seconds between [progress] lines on stderr (0 = none)")
    group.add_argument("--triage-out", default="", env_var="TRIAGE_LT_OUT",
                       help="where to write tallies + merged percentiles (default <csv prefix>_triage.json)")


def options(environment) -> Options:
    if STATE["options"] is None:
        p = environment.parsed_options
        get = (lambda name, default: getattr(p, name, default)) if p is not None else (lambda n, d: d)
        opts = Options(
            mix=get("mix", "simple"), datasets=get("datasets", ""),
            stream_share=float(get("stream_share", 0.0)), completions_share=float(get("completions_share", 0.0)),
            extra_headers=parse_headers(get("extra_headers", "")), model=get("model_name", "auto"),
            max_tokens=int(get("max_tokens", 64)), think_time=float(get("think_time", 0.0)),
            seed=int(get("prompt_seed", 0)), request_timeout=float(get("request_timeout", 60.0)),
            triage_out=get("triage_out", "") or "", progress_every=float(get("progress_every", 5.0)),
        )
        if not opts.triage_out and p is not None and getattr(p, "csv_prefix", None):
            opts.triage_out = f"{p.csv_prefix}_triage.json"
        STATE["options"] = opts
    return STATE["options"]


@events.init.add_listener
def _load_prompts(environment, **_kw) -> None:
    opts = options(environment)
    prompts, source = load_mix(opts.mix, opts.datasets or None, opts.seed)
    STATE["prompts"], STATE["source"] = prompts, source
    print(f"[locustfile] mix {opts.mix}: {len(prompts)} prompts from {source}", file=sys.stderr, flush=True)


@events.test_start.add_listener
def _start(environment, **_kw) -> None:
    TALLY.start()
    every = options(environment).progress_every
    if every > 0 and not isinstance(environment.runner, WorkerRunner):
        STATE["progress"] = gevent.spawn(_progress_loop, environment, every)


@events.test_stop.add_listener
def _stop(environment, **_kw) -> None:
    TALLY.stop()
    if STATE["progress"] is not None:
        STATE["progress"].kill(block=False)
    if isinstance(environment.runner, WorkerRunner):
        return
    opts = options(environment)
    report = {"tally": TALLY.as_dict(), "stats": stats_summary(environment), "mix": opts.mix,
              "prompt_source": STATE["source"], "prompts": len(STATE["prompts"] or ())}
    if opts.triage_out:
        Path(opts.triage_out).write_text(json.dumps(report, indent=1) + "\n")


def _progress_loop(environment, every: float) -> None:
    started = time.time()
    while True:
        gevent.sleep(every)
        logical, non_stream, ttft = (_merged(environment, k) for k in ((POST, STREAM), (POST,), (TTFT,)))
        rps = sum(e.current_rps for e in environment.stats.entries.values() if e.method != TTFT)
        p50 = {name: (f"{e.get_response_time_percentile(0.5):.0f}ms" if e.num_requests else "-")
               for name, e in (("non-stream", non_stream), ("ttft", ttft))}
        users = environment.runner.user_count if environment.runner is not None else 0
        print(f"[progress] {time.time() - started:4.0f}s users {users} requests {logical.num_requests} "
              f"failures {logical.num_failures} rps {rps:.1f} p50 non-stream {p50['non-stream']} "
              f"ttft {p50['ttft']}", file=sys.stderr, flush=True)


def _merged(environment, kinds: tuple[str, ...]) -> StatsEntry:
    """One entry holding every entry of the given types (their response-time histograms added)."""
    out = StatsEntry(environment.stats, "merged", "", use_response_times_cache=False)
    for entry in list(environment.stats.entries.values()):
        if entry.method in kinds:
            out.extend(entry)
    return out


def stats_summary(environment) -> dict:
    """Counts and percentiles over logical requests, merged across Locust entries."""

    def merged(kinds: tuple[str, ...]) -> StatsEntry:
        return _merged(environment, kinds)

    def pct(entry: StatsEntry, *qs: float) -> dict:
        if not entry.num_requests:
            return {f"p{q:g}": None for q in qs}
        return {f"p{q:g}": entry.get_response_time_percentile(q / 100) for q in qs}

    logical, non_stream, streams, ttft = merged((POST, STREAM)), merged((POST,)), merged((STREAM,)), merged((TTFT,))
    errors = sorted(environment.stats.errors.values(), key=lambda e: -e.occurrences)[:10]
    runner = environment.runner
    return {
        "requests": logical.num_requests,
        "failures": logical.num_failures,
        "non_stream": {"requests": non_stream.num_requests, "failures": non_stream.num_failures,
                       "mean_ms": round(non_stream.avg_response_time, 2), **pct(non_stream, 50, 95, 99)},
        "stream": {"requests": streams.num_requests, "failures": streams.num_failures,
                   "total_ms": pct(streams, 50, 99), "ttft_ms": pct(ttft, 50, 99),
                   "mean_tokens": round(streams.avg_content_length, 2) if streams.num_requests else None},
        "errors": [{"type": e.method, "name": e.name, "error": str(e.error)[:300], "count": e.occurrences}
                   for e in errors],
        "exceptions": len(runner.exceptions) if runner is not None else 0,
    }


class _OpenAIBase(HttpUser):
    abstract = True

    def on_start(self) -> None:
        self.opts = options(self.environment)
        self.rng = random.Random(self.opts.seed * 100_003 + next(_USER_IDS))
        self.headers = dict(self.opts.extra_headers)
        # Streams go through a plain requests session: HttpSession.request would fire
        # its own entry, and its prepare_request needs state that only request() sets
        # (a user whose first request was a stream crashed on it).
        self.stream_session = requests.Session()

    def on_stop(self) -> None:
        self.stream_session.close()

    def wait_time(self) -> float:
        t = self.opts.think_time
        return self.rng.uniform(0, 2 * t) if t > 0 else 0.0

    def body(self, kind: str, stream: bool) -> dict:
        prompt = self.rng.choice(STATE["prompts"])
        body = {"model": self.opts.model, "max_tokens": self.opts.max_tokens}
        if kind == "chat":
            body["messages"] = [{"role": "user", "content": prompt}]
        else:
            body["prompt"] = prompt
        if stream:
            body["stream"] = True
        return body

    def call(self, kind: str, stream: bool) -> None:
        if _stopping(self.environment):
            # Locust kills a user it finds waiting between requests; the kill can land
            # after the wait ended, inside the next request. Sending none once the
            # test is stopping keeps every request sent answered (sent == recorded).
            return
        body = self.body(kind, stream)
        if stream:
            self.streamed(kind, body)
        else:
            self.whole(kind, body)

    def whole(self, kind: str, body: dict) -> None:
        TALLY.send()
        t0 = time.perf_counter()
        with self.client.post(ROUTES[kind], json=body, headers=self.headers, name=kind, catch_response=True,
                              timeout=self.opts.request_timeout) as resp:
            elapsed_ms = (time.perf_counter() - t0) * 1000
            status = resp.status_code or None
            if status is not None and status != 200:
                resp.failure(f"HTTP {status}: {(resp.text or '')[:200]}")
            elif status == 200:
                try:
                    if not resp.json().get("choices"):
                        resp.failure("200 without choices")
                except ValueError:
                    resp.failure("200 with a body that is not JSON")
            error = type(resp.error).__name__ if status is None and resp.error is not None else None
            TALLY.record(kind, status, resp.headers if status else None, latency_ms=elapsed_ms, error=error,
                         body=resp.text if status not in (None, 200) else None)

    def streamed(self, kind: str, body: dict) -> None:
        """Read an SSE stream; fire TTFT and STREAM entries (not Locust's own, which would time headers only)."""
        url = self.host.rstrip("/") + ROUTES[kind]
        TALLY.send()
        start_time, t0 = time.time(), time.perf_counter()
        resp, ttft, tokens, error, error_body, exc_name = None, None, 0, None, None, None
        try:
            resp = self.stream_session.post(url, json=body, headers=self.headers, stream=True,
                                            timeout=self.opts.request_timeout)
            if resp.status_code != 200:
                error_body = resp.text
                error = f"HTTP {resp.status_code}: {error_body[:200]}"
            else:
                ttft, tokens, error = _read_sse(resp, kind, t0)
        except (requests.RequestException, ValueError) as exc:
            error, exc_name = f"{type(exc).__name__}: {exc}"[:300], type(exc).__name__
        finally:
            if resp is not None:
                resp.close()
        total = time.perf_counter() - t0
        fire = self.environment.events.request.fire
        if ttft is not None:
            fire(request_type=TTFT, name=kind, response_time=ttft * 1000, response_length=0, exception=None,
                 context={}, response=None, start_time=start_time, url=url)
        fire(request_type=STREAM, name=kind, response_time=total * 1000, response_length=tokens,
             exception=LoadTestError(error) if error else None, context={}, response=resp,
             start_time=start_time, url=url)
        status = resp.status_code if resp is not None else None
        TALLY.record(f"{kind} stream", status, resp.headers if resp is not None else None, latency_ms=total * 1000,
                     error=exc_name, body=error_body)
        if error is None:
            TALLY.record_stream(tokens, total)
        elif status == 200:  # the stream started, then broke
            TALLY.record_stream_failure(exc_name or error.split(":", 1)[0])


def _stopping(environment) -> bool:
    runner = environment.runner
    return runner is not None and runner.state not in (STATE_INIT, STATE_SPAWNING, STATE_RUNNING)


def _read_sse(resp, kind: str, t0: float) -> tuple[float | None, int, str | None]:
    """(seconds to the first content chunk, content chunks, error or None)."""
    ttft, tokens = None, 0
    for line in resp.iter_lines(chunk_size=None):
        if not line.startswith(b"data:"):
            continue
        data = line[5:].strip()
        if data == b"[DONE]":
            return ttft, tokens, None
        chunk = json.loads(data)
        if "error" in chunk:
            err = chunk["error"]
            message = err.get("message", err) if isinstance(err, dict) else err
            return ttft, tokens, f"stream error: {str(message)[:200]}"
        if _has_content(chunk, kind):
            tokens += 1
            if ttft is None:
                ttft = time.perf_counter() - t0
    return ttft, tokens, "stream ended without data: [DONE]"


def _has_content(chunk: dict, kind: str) -> bool:
    for choice in chunk.get("choices") or ():
        text = (choice.get("delta") or {}).get("content") if kind == "chat" else choice.get("text")
        if text:
            return True
    return False


class OpenAIUser(_OpenAIBase):
    """Chat or completions, stream or not, drawn per request from the configured shares."""

    @task
    def request(self) -> None:
        kind = "completions" if self.rng.random() < self.opts.completions_share else "chat"
        self.call(kind, stream=self.rng.random() < self.opts.stream_share)


class ChatUser(_OpenAIBase):
    """Non-stream chat only: POST /v1/chat/completions."""

    @task
    def request(self) -> None:
        self.call("chat", stream=False)
