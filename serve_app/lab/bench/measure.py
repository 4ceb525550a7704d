"""Timing loops for the overhead benchmark: HTTP load and sequential handle calls.

Pure asyncio + httpx; nothing here starts Ray or Serve.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field


def percentile(values: list[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


@dataclass
class Series:
    """One measurement: latencies in ms, plus what the responses said."""

    latencies_ms: list[float] = field(default_factory=list)
    overhead_ms: list[float] = field(default_factory=list)  # x-triage-overhead-ms
    errors: Counter = field(default_factory=Counter)  # status code (or exception) -> count
    labels: Counter = field(default_factory=Counter)  # e.g. tier/model/cache headers
    wall_s: float = 0.0

    def summary(self, concurrency: int | None = None, samples: bool = True) -> dict:
        n = len(self.latencies_ms)
        out = {
            "n": n,
            "errors": dict(self.errors),
            "p50_ms": _r(percentile(self.latencies_ms, 50)),
            "p90_ms": _r(percentile(self.latencies_ms, 90)),
            "p99_ms": _r(percentile(self.latencies_ms, 99)),
            "mean_ms": _r(sum(self.latencies_ms) / n) if n else None,
            "max_ms": _r(max(self.latencies_ms)) if n else None,
        }
        if concurrency is not None:
            out["concurrency"] = concurrency
            out["wall_s"] = _r(self.wall_s)
            out["throughput_rps"] = _r(n / self.wall_s) if self.wall_s else None
        if self.overhead_ms:
            out["header_overhead_p50_ms"] = _r(percentile(self.overhead_ms, 50))
            out["header_overhead_p99_ms"] = _r(percentile(self.overhead_ms, 99))
        if self.labels:
            out["labels"] = dict(self.labels)
        if samples:
            out["samples_ms"] = [_r(x) for x in self.latencies_ms]
            if self.overhead_ms:
                out["header_overhead_samples_ms"] = [_r(x) for x in self.overhead_ms]
        return out


def _r(x: float) -> float:
    return round(x, 3)


def encode_bodies(bodies: list[dict]) -> list[bytes]:
    """Bodies are serialised once, up front, so the client spends less CPU per request."""
    return [json.dumps(b).encode() for b in bodies]


async def http_load(client, path: str, bodies: list[bytes], n: int, concurrency: int,
                    headers: dict[str, str] | None = None, label_headers: tuple[str, ...] = ()) -> Series:
    """POST `n` requests to `path` from `concurrency` workers in a closed loop.

    Bodies are used round-robin. Throughput is `n` over the wall time of the
    whole run; only 200 answers count towards the latencies. The values of
    `label_headers` in the 200 answers are counted (as "name=value").
    """
    headers = {"content-type": "application/json", **(headers or {})}
    series = Series()
    next_index = iter(range(n))

    async def worker() -> None:
        for i in next_index:
            started = time.perf_counter()
            try:
                resp = await client.post(path, content=bodies[i % len(bodies)], headers=headers)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
                series.errors[type(exc).__name__] += 1
                continue
            elapsed = (time.perf_counter() - started) * 1000
            if resp.status_code != 200:
                series.errors[str(resp.status_code)] += 1
                continue
            series.latencies_ms.append(elapsed)
            h = resp.headers
            if "x-triage-overhead-ms" in h:
                series.overhead_ms.append(float(h["x-triage-overhead-ms"]))
                series.labels[f"tier={h.get('x-triage-tier')}"] += 1
                series.labels[f"cache={h.get('x-triage-cache')}"] += 1
            for name in label_headers:
                if name in h:
                    series.labels[f"{name}={h[name]}"] += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    series.wall_s = time.perf_counter() - started
    return series


async def handle_calls(call, args: list, n: int, concurrency: int = 1) -> tuple[Series, list]:
    """Await `call(arg)` `n` times from `concurrency` closed-loop workers (args round-robin).

    Also returns the results of the last `len(args)` calls, one per argument.
    """
    series = Series()
    results: dict[int, object] = {}
    next_index = iter(range(n))

    async def worker() -> None:
        for i in next_index:
            started = time.perf_counter()
            try:
                result = await call(args[i % len(args)])
            except Exception as exc:  # noqa: BLE001
                series.errors[type(exc).__name__] += 1
                continue
            series.latencies_ms.append((time.perf_counter() - started) * 1000)
            if i >= n - len(args):
                results[i] = result

    started_all = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    series.wall_s = time.perf_counter() - started_all
    return series, [results[i] for i in sorted(results)]
