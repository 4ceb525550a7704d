"""`triage bench cache-speed`: insert throughput and lookup latency of the cache store.

Workload: 384-dim unit vectors around 2,000 topic centres (cosine ~0.86 to
their centre, ~0.74 between two points of a topic), ~100 tenants, 4
fingerprints per tenant (one carries 70% of its entries, as default sampling
settings do). Lookups are what the cache sends: tenant + fingerprint + expiry
filter, threshold 0.92, limit 3; 80% are a stored entry's tenant/fingerprint
with a vector at cosine ~0.98 from it (a hit), 20% a fresh vector (a miss).

Per size: a fresh store in a temporary directory; the first entries go in
batches of 1,000, the last ones one at a time through `store.upsert` (the
production path: thread hop, lock, bound check); then lookups on the
unoptimised shard, optimize() (timed: the replica is frozen meanwhile), lookups
again; then 2% more one-by-one inserts past the bound, to time evictions.
Latencies are of the async store API, thread hop included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import sys
import tempfile
import time

import numpy as np

from serve_app.lab.bench.measure import percentile

DIM = 384
TOPICS = 2000
FP_WEIGHTS = (0.7, 0.1, 0.1, 0.1)
ANSWER = {"id": "chatcmpl-bench", "object": "chat.completion", "model": "bench",
          "choices": [{"index": 0, "finish_reason": "stop",
                       "message": {"role": "assistant", "content": "An answer of a few sentences. " * 8}}],
          "usage": {"prompt_tokens": 40, "completion_tokens": 60, "total_tokens": 100}}


class Workload:
    """Deterministic entries and queries; vectors are made in chunks, never all at once."""

    def __init__(self, tenants: int, seed: int = 0):
        rng = np.random.default_rng(seed)
        self.tenants = tenants
        self.centres = _normalise(rng.standard_normal((TOPICS, DIM)).astype(np.float32))
        self.seed = seed

    def chunk(self, start: int, n: int):
        """Entries start..start+n as (vectors, tenants, fingerprints)."""
        rng = np.random.default_rng((self.seed, start))
        topic = rng.integers(TOPICS, size=n)
        noise = rng.standard_normal((n, DIM)).astype(np.float32) * (0.6 / np.sqrt(DIM))
        vecs = _normalise(self.centres[topic] + noise)
        tenant = rng.integers(self.tenants, size=n)
        fp = rng.choice(len(FP_WEIGHTS), size=n, p=FP_WEIGHTS)
        return vecs, tenant, fp

    def entries(self, start: int, n: int, now: float):
        from serve_app.cache.types import CacheEntry

        vecs, tenant, fp = self.chunk(start, n)
        for j in range(n):
            i = start + j
            yield CacheEntry(
                id=f"{i:064x}", vector=tuple(vecs[j].tolist()), tenant=f"tenant-{tenant[j]}",
                fingerprint=f"fp-{tenant[j]}-{fp[j]}", model="bench-model", domain="general",
                text=f"user: question number {i} about topic, with some context words", response=ANSWER,
                created_at=now + i * 1e-3, expires_at=now + 86_400,
            )

    def queries(self, size: int, n: int, seed: int = 1):
        """(vector, tenant, fingerprint) lookups over the first `size` entries.

        Stored entries are drawn from up to 50 random chunks, so only those
        chunks are regenerated (each chunk is itself a random sample)."""
        rng = np.random.default_rng(seed)
        n_chunks = max(size // CHUNK, 1)
        picked = rng.choice(n_chunks, size=min(50, n_chunks), replace=False)
        made = {int(c): self.chunk(int(c) * CHUNK, CHUNK) for c in picked}
        out = []
        for k in range(n):
            vecs, tenant, fp = made[int(picked[k % len(picked)])]
            j = int(rng.integers(len(vecs)))
            if k % 5 == 4:  # a miss: a fresh vector of some topic
                vec = self.chunk(10**9 + k, 1)[0][0]
            else:  # a paraphrase: cosine ~0.98 to the stored entry
                vec = _normalise(vecs[j] + rng.standard_normal(DIM).astype(np.float32) * (0.2 / np.sqrt(DIM)))
            out.append((tuple(vec.tolist()), f"tenant-{tenant[j]}", f"fp-{tenant[j]}-{fp[j]}"))
        return out


CHUNK = 1000


def _normalise(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def _say(msg: str) -> None:
    print(f"[cache-speed {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def _lat(values_ms: list[float]) -> dict:
    return {"n": len(values_ms), "p50_ms": round(percentile(values_ms, 50), 3),
            "p99_ms": round(percentile(values_ms, 99), 3),
            "max_ms": round(max(values_ms), 3) if values_ms else None}


def _rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _du_mb(path: str) -> float:
    total = 0
    for root, _, files in os.walk(path):
        total += sum(os.path.getsize(os.path.join(root, f)) for f in files if not os.path.islink(os.path.join(root, f)))
    return round(total / 2**20, 1)


async def _lookups(store, queries, now: float) -> dict:
    from serve_app.cache.types import CacheFilter

    lat, hits = [], 0
    for vec, tenant, fp in queries:
        t0 = time.perf_counter()
        res = await store.query(vec, CacheFilter(tenant=tenant, fingerprint=fp), 0.92, 3, now)
        lat.append((time.perf_counter() - t0) * 1000)
        hits += bool(res)
    return {**_lat(lat), "hit_rate": round(hits / len(queries), 3)}


async def _fill(store, wl: Workload, size: int, single: int, now: float) -> dict:
    batched = size - single
    batched_s = 0.0  # time in upsert_many only, not in making the entries
    for start in range(0, batched, CHUNK):
        entries = list(wl.entries(start, min(CHUNK, batched - start), now))
        t0 = time.perf_counter()
        await store.upsert_many(entries)
        batched_s += time.perf_counter() - t0
        if (start // CHUNK) % 100 == 99:
            _say(f"  {start + CHUNK:,}/{size:,} inserted (batched, {(start + CHUNK) / batched_s:,.0f}/s)")
    lat = []
    for start in range(batched, size, CHUNK):
        for e in wl.entries(start, min(CHUNK, size - start), now):
            t1 = time.perf_counter()
            await store.upsert(e)
            lat.append((time.perf_counter() - t1) * 1000)
    return {
        "batched": {"n": batched, "per_s": round(batched / batched_s) if batched else None, "batch": CHUNK},
        "one_by_one": {"n": single, "per_s": round(single / (sum(lat) / 1000)) if lat else None,
                       "at_entries": f"{batched:,}..{size:,}", **_lat(lat)},
    }


async def _measure_size(size: int, backend: str, wl: Workload, n_queries: int, hnsw: str,
                        optimize: bool, workdir: str) -> dict:
    now = time.time()
    path = tempfile.mkdtemp(prefix=f"cache-{size}-", dir=workdir)
    store = _make(backend, path, size, hnsw)
    await store.start()
    try:
        single = min(10_000, size // 2)
        _say(f"size {size:,}: inserting ({size - single:,} batched, {single:,} one by one)")
        out = {"size": size, "backend": backend, "hnsw": hnsw if backend == "embedded" else None,
               "insert": await _fill(store, wl, size, single, now)}
        _say(f"size {size:,}: {n_queries} lookups")
        queries = wl.queries(size, n_queries)
        await _lookups(store, queries[:20], now)  # warm-up
        out["lookup"] = await _lookups(store, queries, now)
        if backend == "embedded" and optimize:
            _say(f"size {size:,}: optimize (HNSW build; freezes the process)")
            out["optimize_s"] = round(await store.optimize(), 2)
            await _lookups(store, queries[:20], now)
            out["lookup_optimized"] = await _lookups(store, queries, now)
        gets = []
        for i in range(0, min(size, 1000)):
            t0 = time.perf_counter()
            await store.get(f"{(i * 7919) % size:064x}", now)
            gets.append((time.perf_counter() - t0) * 1000)
        out["get"] = _lat(gets)
        extra = max(size // 50, 10)
        _say(f"size {size:,}: {extra:,} inserts past the bound (eviction of 1% per batch)")
        lat = []
        for e in wl.entries(size, extra, now):
            t0 = time.perf_counter()
            await store.upsert(e)
            lat.append((time.perf_counter() - t0) * 1000)
        stats = await store.stats()
        out["insert_past_bound"] = {**_lat(lat), "evictions": stats.evictions, "entries_after": stats.entries}
        out["rss_peak_mb"] = _rss_mb()
        if backend == "embedded":
            out["disk_mb"] = _du_mb(path)
        return out
    finally:
        await store.close()
        shutil.rmtree(path, ignore_errors=True)


def _make(backend: str, path: str, max_entries: int, hnsw: str):
    if backend == "embedded":
        from serve_app.cache.stores.embedded import EmbeddedStore

        # The layout string is "tenant+int8" (the store's default), "off", ...
        return EmbeddedStore(path, dim=DIM, max_entries=max_entries, hnsw=hnsw.split("+")[0],
                             quantize=hnsw.endswith("+int8"), optimize_on_start=False,
                             purge_interval_s=None, flush_interval_s=None, optimize_interval_s=None)
    from qdrant_client import AsyncQdrantClient

    from serve_app.cache.stores.server import ServerStore

    return ServerStore(client=AsyncQdrantClient(location=":memory:"), dim=DIM,
                       max_entries=max_entries, purge_interval_s=None)


def _estimate_fill_s(results: list[dict], size: int) -> float | None:
    done = [r for r in results if r.get("insert", {}).get("batched", {}).get("per_s")]
    if not done:
        return None
    return size / done[-1]["insert"]["batched"]["per_s"]


def _table(results: list[dict]) -> str:
    head = (f"{'backend':9} {'entries':>9} {'batched/s':>10} {'1-by-1/s':>9} {'lookup p50':>10} {'p99':>8} "
            f"{'hit':>5} {'optimize s':>10} {'opt p50':>8} {'opt p99':>8} {'get p50':>8} "
            f"{'evict max':>9} {'RSS MB':>7}")
    rows = [head, "-" * len(head)]
    for r in results:
        if not r.get("measured", True):
            rows.append(f"{r['backend']:9} {r['size']:>9,} not measured: {r['reason']}")
            continue
        ins, lk, lo = r["insert"], r["lookup"], r.get("lookup_optimized", {})
        rows.append(
            f"{r['backend']:9} {r['size']:>9,} {ins['batched']['per_s'] or '-':>10} "
            f"{ins['one_by_one']['per_s'] or '-':>9} {lk['p50_ms']:>10.2f} {lk['p99_ms']:>8.2f} "
            f"{lk['hit_rate']:>5.2f} {r.get('optimize_s', '-'):>10} {lo.get('p50_ms', '-'):>8} "
            f"{lo.get('p99_ms', '-'):>8} {r['get']['p50_ms']:>8.2f} "
            f"{r['insert_past_bound']['max_ms']:>9.2f} {r['rss_peak_mb']:>7}")
    return "\n".join(rows)


def _plot(results: list[dict], path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    done = [r for r in results if r.get("measured", True)]
    if not done:
        return
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for key, label, style in (("lookup", "unoptimised", "-"), ("lookup_optimized", "after optimize", "--")):
        pts = [(r["size"], r[key]) for r in done if key in r]
        if pts:
            xs = [p[0] for p in pts]
            ax.plot(xs, [p[1]["p50_ms"] for p in pts], "o" + style, label=f"p50 {label}")
            ax.plot(xs, [p[1]["p99_ms"] for p in pts], "s" + style, label=f"p99 {label}")
    ax.axhline(5, color="grey", lw=0.8, ls=":", label="target p50 5 ms")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("entries in the store")
    ax.set_ylabel("filtered lookup latency (ms)")
    ax.set_title(f"Cache store lookup ({done[0]['backend']}, {os.cpu_count()} CPUs)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(sizes: list[int], out: str, backend: str = "embedded", queries: int = 1000,
        tenants: int = 100, hnsw: str = "tenant+int8", optimize: bool = True,
        budget_min: float = 15.0, workdir: str | None = None) -> int:
    if backend == "server":
        sizes = [10_000]  # local mode is brute force in Python: 10k shows the point
        queries = min(queries, 200)
    wl = Workload(tenants)
    results: list[dict] = []
    started = time.time()
    for size in sizes:
        est = _estimate_fill_s(results, size)
        if est is not None and est > budget_min * 60:
            _say(f"size {size:,}: skipped, filling would take ~{est / 60:.0f} min (> {budget_min} min)")
            results.append({"size": size, "backend": backend, "measured": False,
                            "reason": f"fill estimated at {est / 60:.0f} min from the previous size's rate"})
            continue
        results.append(asyncio.run(_measure_size(size, backend, wl, queries, hnsw, optimize, workdir)))
        r = results[-1]
        _say(f"size {size:,}: lookup p50 {r['lookup']['p50_ms']} ms, p99 {r['lookup']['p99_ms']} ms")
    report = {
        "command": " ".join(["triage", *sys.argv[1:]]),
        "machine": {"cpus": os.cpu_count()}, "dim": DIM, "tenants": tenants, "topics": TOPICS,
        "fingerprint_weights": FP_WEIGHTS, "query": "tenant+fingerprint+expires_at>now, threshold 0.92, limit 3",
        "wall_s": round(time.time() - started, 1), "results": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    png = os.path.splitext(out)[0] + ".png"
    _plot(results, png)
    print(_table(results))
    print(f"wrote {out} and {png}")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Cache store: insert rate and filtered lookup latency by size.")
    p.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated entry counts")
    p.add_argument("--backend", choices=["embedded", "server"], default="embedded")
    p.add_argument("--out", default="loadtest/results/cache_speed.json")
    p.add_argument("--queries", type=int, default=1000, help="lookups per size")
    a = p.parse_args(argv)
    sizes = [int(s.replace("_", "")) for s in a.sizes.split(",") if s.strip()]
    return run(sizes, a.out, backend=a.backend, queries=a.queries)
