"""What the x-triage-* response headers and the streams said, counted per Locust process.

Pure Python (no Locust import): the locustfile feeds it one call per logical
request and writes `as_dict()` when the test stops; the runner turns that into
summary.json and charts.
"""

from __future__ import annotations

import math
import time
from collections import Counter, defaultdict

MAX_SAMPLES = 200_000  # per list: bounded memory on long runs


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
        self.status: Counter = Counter()
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

    def record(self, kind: str, status: int | None, headers=None) -> None:
        """One logical request (whatever its outcome) and its x-triage-* headers."""
        self.requests[kind] += 1
        self.status[str(status) if status is not None else "none"] += 1
        second = int(time.time() - self.started)
        self.per_second[second]["requests"] += 1
        if not headers:
            return
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
        overhead = _float(headers.get("x-triage-overhead-ms"))
        if overhead is not None and len(self.overhead_ms) < MAX_SAMPLES:
            self.overhead_ms.append(overhead)

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
        rates = self.stream_rates
        return {
            "started": self.started,
            "stopped": stopped,
            "duration_s": round(duration, 3),
            "requests_by_kind": dict(self.requests),
            "status_codes": dict(self.status),
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
