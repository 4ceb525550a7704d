"""What the x-triage-* response headers and the streams said, counted per Locust process.

Pure Python (no Locust import): the locustfile calls send() as each logical
request goes out and record() once when it ends (with its status, or the
exception that left it without one), and writes `as_dict()` when the test
stops; the runner turns that into summary.json and charts. sent - recorded
at the stop is what never finished (Locust killed it after --stop-timeout).
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter, defaultdict

MAX_SAMPLES = 200_000  # per list: bounded memory on long runs
MAX_ERROR_KINDS = 50  # distinct error messages kept; the rest count as "other"


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, math.ceil(q / 100 * len(ordered)) - 1))
    return round(ordered[rank], 3)


class Tally:
    def __init__(self) -> None:
        self.started = time.time()
        self.stopped: float | None = None
        self.requests: Counter = Counter()  # "chat", "chat stream", "completions", ...
        self.sent = 0  # requests started; each ends in exactly one record() unless it never finished
        self.status: Counter = Counter()
        self.no_response: Counter = Counter()  # exception type -> requests that got no HTTP status
        self.retry_after: Counter = Counter()  # status -> responses that carried a Retry-After header
        self.errors: Counter = Counter()  # "<status> <code>: <message>" of error bodies
        self.stream_failures: Counter = Counter()  # why a stream that got its 200 did not end with [DONE]
        self.fallback_hist: Counter = Counter()  # x-triage-fallbacks value -> 200 answers
        self.latency_ms: dict[str, list[float]] = defaultdict(list)  # status -> whole-request times
        self.tier: Counter = Counter()
        self.model: Counter = Counter()
        self.domain: Counter = Counter()
        self.cache: Counter = Counter()
        self.fallbacks = 0
        self.with_fallback = 0
        self.overhead_ms: list[float] = []
        self.stream_tokens = 0
        self.stream_seconds = 0.0
        self.stream_rates: list[float] = []
        self.per_second: dict[int, Counter] = defaultdict(Counter)

    def start(self) -> None:
        self.__init__()

    def stop(self) -> None:
        self.stopped = time.time()

    def send(self) -> None:
        """A logical request is about to go out (pairs with one record() when it ends)."""
        self.sent += 1

    def record(self, kind: str, status: int | None, headers=None, *, latency_ms: float | None = None,
               error: str | None = None, body: str | None = None) -> None:
        """One logical request (whatever its outcome) and its x-triage-* headers.

        `error`: why no status came back (an exception name); `body`: the
        body of a non-200 answer (its OpenAI error is counted).
        """
        self.requests[kind] += 1
        key = str(status) if status is not None else "none"
        self.status[key] += 1
        second = int(time.time() - self.started)
        self.per_second[second]["requests"] += 1
        self.per_second[second][f"status_{key}"] += 1
        if latency_ms is not None and len(self.latency_ms[key]) < MAX_SAMPLES:
            self.latency_ms[key].append(latency_ms)
        if status is None:
            self.no_response[error or "unknown"] += 1
        elif status != 200 and body is not None:
            self._error(status, body)
        if not headers:
            return
        if "retry-after" in headers:
            self.retry_after[key] += 1
        for counter, header in ((self.tier, "x-triage-tier"), (self.model, "x-triage-model"),
                                (self.domain, "x-triage-domain")):
            if header in headers:
                counter[headers[header]] += 1
        cache = headers.get("x-triage-cache")
        if cache:
            self.cache[cache] += 1
            self.per_second[second][f"cache_{cache}"] += 1
        fallbacks = _int(headers.get("x-triage-fallbacks"))
        self.fallbacks += fallbacks
        self.with_fallback += fallbacks > 0
        if status == 200:
            self.fallback_hist[str(fallbacks)] += 1
            if fallbacks:
                self.per_second[second]["ok_with_fallback"] += 1
        overhead = _float(headers.get("x-triage-overhead-ms"))
        if overhead is not None and len(self.overhead_ms) < MAX_SAMPLES:
            self.overhead_ms.append(overhead)

    def _error(self, status: int, body: str) -> None:
        try:
            err = json.loads(body).get("error") or {}
        except (ValueError, AttributeError):
            err = {}
        if not isinstance(err, dict):
            err = {"message": str(err)}
        key = f"{status} {err.get('code') or '-'}: {str(err.get('message') or body)[:160]}"
        if key not in self.errors and len(self.errors) >= MAX_ERROR_KINDS:
            key = f"{status} other"
        self.errors[key] += 1

    def record_stream_failure(self, reason: str) -> None:
        """A stream answered 200 but then broke (error event, exception, no [DONE])."""
        self.stream_failures[reason] += 1

    def record_stream(self, tokens: int, total_s: float) -> None:
        """A stream that ended normally: its output tokens (content chunks) and total time."""
        self.stream_tokens += tokens
        self.stream_seconds += total_s
        if total_s > 0 and len(self.stream_rates) < MAX_SAMPLES:
            self.stream_rates.append(tokens / total_s)

    def as_dict(self) -> dict:
        stopped = self.stopped or time.time()
        duration = max(stopped - self.started, 1e-9)
        answered = sum(self.cache.values())
        recorded = sum(self.requests.values())
        rates = self.stream_rates
        return {
            "started": self.started,
            "stopped": stopped,
            "duration_s": round(duration, 3),
            "requests_by_kind": dict(self.requests),
            "sent": self.sent,
            "recorded": recorded,
            "unfinished": self.sent - recorded,
            "status_codes": dict(self.status),
            "no_response": dict(self.no_response),
            "retry_after": dict(self.retry_after),
            "error_bodies": dict(self.errors.most_common()),
            "stream_failures": dict(self.stream_failures),
            "fallback_hist": dict(sorted(self.fallback_hist.items(), key=lambda kv: int(kv[0]))),
            "latency_by_status_ms": {k: {"n": len(v), "p50": percentile(v, 50), "p95": percentile(v, 95),
                                         "p99": percentile(v, 99), "max": round(max(v), 3) if v else None}
                                     for k, v in sorted(self.latency_ms.items())},
            "tier_mix": dict(self.tier),
            "model_mix": dict(self.model),
            "domain_mix": dict(self.domain),
            "cache": dict(self.cache),
            "cache_hit_rate": round(self.cache.get("hit", 0) / answered, 4) if answered else 0.0,
            "cache_lookup_hit_rate": _ratio(self.cache.get("hit", 0), self.cache.get("hit", 0) + self.cache.get("miss", 0)),
            "fallback_count": self.fallbacks,
            "requests_with_fallback": self.with_fallback,
            "router_overhead_ms": {"p50": percentile(self.overhead_ms, 50), "p99": percentile(self.overhead_ms, 99),
                                   "samples": len(self.overhead_ms)},
            "stream_output_tokens": self.stream_tokens,
            "tokens_per_s": {
                "mean_per_stream": round(sum(rates) / len(rates), 2) if rates else None,
                "p50_per_stream": percentile(rates, 50),
                "aggregate": round(self.stream_tokens / duration, 2),
            },
            "per_second": {str(k): dict(v) for k, v in sorted(self.per_second.items())},
        }


def _ratio(a: int, b: int) -> float | None:
    return round(a / b, 4) if b else None


def _int(value) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
